//! ELBv2 listeners and their rules. A listener's default actions live in its default
//! rule (priority `default`), so DescribeListeners, DescribeRules and the weight API
//! read one place.

/// Weights are 0–999 and a forward action names at most five target groups (ELB User
/// Guide, "Action types for listener rules" > "Forward actions", and "Quotas for your
/// Application Load Balancers": target groups per action, 5).
pub const MAX_WEIGHT: u32 = 999;
pub const MAX_FORWARD_TARGET_GROUPS: usize = 5;

/// A listener on a load balancer port.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: i64,
    pub protocol: String,
    pub ssl_policy: Option<String>,
    pub certificates: Vec<String>,
    pub alpn_policy: Vec<String>,
    /// The rule holding the default actions.
    pub default_rule_arn: String,
}

/// A rule's priority: 1–50000, or the listener's default rule (evaluated last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Number(u32),
    Default,
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A listener rule (the default rule included).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub arn: String,
    pub listener_arn: String,
    pub priority: Priority,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

impl Rule {
    pub fn is_default(&self) -> bool {
        self.priority == Priority::Default
    }

    /// The forward action, if the rule's routing action is one.
    pub fn forward(&self) -> Option<&Forward> {
        self.actions.iter().find_map(|a| match &a.kind {
            ActionKind::Forward(f) => Some(f),
            _ => None,
        })
    }

    pub fn forward_mut(&mut self) -> Option<&mut Forward> {
        self.actions.iter_mut().find_map(|a| match &mut a.kind {
            ActionKind::Forward(f) => Some(f),
            _ => None,
        })
    }
}

/// One action of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub order: Option<i64>,
    pub kind: ActionKind,
}

/// The routing actions the simulator accepts (authentication actions are refused).
#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    Forward(Forward),
    FixedResponse { status_code: String, content_type: Option<String>, message_body: Option<String> },
    Redirect(Redirect),
}

impl ActionKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Forward(_) => "forward",
            Self::FixedResponse { .. } => "fixed-response",
            Self::Redirect(_) => "redirect",
        }
    }
}

/// `RedirectConfig`, echoed as given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redirect {
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub status_code: String,
}

/// A forward action: weighted target groups and the rule's target group stickiness.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub target_groups: Vec<WeightedTargetGroup>,
    pub stickiness_enabled: bool,
    pub stickiness_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedTargetGroup {
    pub arn: String,
    pub weight: u32,
}

/// Why a forward action's target groups are invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("a forward action must name at least one target group")]
    Empty,
    #[error("a forward action can name at most {MAX_FORWARD_TARGET_GROUPS} target groups, got {0}")]
    TooManyTargetGroups(usize),
    #[error("target group weight {weight} for '{arn}' must be between 0 and {MAX_WEIGHT}")]
    Weight { arn: String, weight: i64 },
    #[error("target group '{0}' appears more than once in the forward action")]
    Duplicate(String),
}

impl Forward {
    /// Validates the weighted list (count, weights, duplicates) into a forward with
    /// stickiness off.
    pub fn weighted(groups: &[(String, i64)]) -> Result<Self, ForwardError> {
        if groups.is_empty() {
            return Err(ForwardError::Empty);
        }
        if groups.len() > MAX_FORWARD_TARGET_GROUPS {
            return Err(ForwardError::TooManyTargetGroups(groups.len()));
        }
        let mut target_groups: Vec<WeightedTargetGroup> = Vec::with_capacity(groups.len());
        for (arn, weight) in groups {
            let w = u32::try_from(*weight)
                .ok()
                .filter(|w| *w <= MAX_WEIGHT)
                .ok_or_else(|| ForwardError::Weight { arn: arn.clone(), weight: *weight })?;
            if target_groups.iter().any(|t| &t.arn == arn) {
                return Err(ForwardError::Duplicate(arn.clone()));
            }
            target_groups.push(WeightedTargetGroup { arn: arn.clone(), weight: w });
        }
        Ok(Self { target_groups, stickiness_enabled: false, stickiness_seconds: None })
    }

    /// `(target group ARN, weight)` in the order given.
    pub fn weights(&self) -> Vec<(String, u32)> {
        self.target_groups.iter().map(|t| (t.arn.clone(), t.weight)).collect()
    }
}

/// A rule condition. Values are kept once; the wire form shows them both in `Values`
/// and in the `*Config` member, as AWS returns them.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    PathPattern(Vec<String>),
    HostHeader(Vec<String>),
    HttpHeader { name: String, values: Vec<String> },
}

impl Condition {
    pub fn field(&self) -> &'static str {
        match self {
            Self::PathPattern(_) => "path-pattern",
            Self::HostHeader(_) => "host-header",
            Self::HttpHeader { .. } => "http-header",
        }
    }

    pub fn values(&self) -> &[String] {
        match self {
            Self::PathPattern(v) | Self::HostHeader(v) | Self::HttpHeader { values: v, .. } => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_forward_limits() {
        let g = |n: usize, w: i64| (0..n).map(|i| (format!("tg{i}"), w)).collect::<Vec<_>>();
        assert_eq!(Forward::weighted(&g(2, 999)).map(|f| f.weights().len()), Ok(2));
        assert_eq!(Forward::weighted(&g(6, 1)), Err(ForwardError::TooManyTargetGroups(6)));
        assert!(matches!(Forward::weighted(&g(1, 1000)), Err(ForwardError::Weight { weight: 1000, .. })));
        assert!(matches!(Forward::weighted(&g(1, -1)), Err(ForwardError::Weight { .. })));
        assert_eq!(Forward::weighted(&[]), Err(ForwardError::Empty));
        let dup = vec![("a".to_string(), 1), ("a".to_string(), 2)];
        assert_eq!(Forward::weighted(&dup), Err(ForwardError::Duplicate("a".into())));
        assert!(Priority::Number(50_000) < Priority::Default);
    }
}
