//! Approvals: a person decides whether a deployment goes on.
//!
//! Two gates hold a deployment for a decision. ECS's own: a service whose
//! deployment configuration has a `PAUSE` lifecycle hook stops at that stage
//! until ContinueServiceDeployment (CONTINUE or ROLLBACK) or the hook's
//! timeout. The pipeline's: a deploy target that requires approval, on a
//! service without a PAUSE hook (rolling services have no hooks at all), is
//! held before anything changes on the service. Both record AWAITING_APPROVAL
//! and are decided through the same entry point.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{Display, EnumString};

use super::{Deployment, DeploymentStatus, HookAction, LifecycleStage, PausedAt};
use crate::DeployError;

/// ECS's default and maximum PAUSE hook timeout (1 day, 14 days): the
/// pipeline's own gate keeps to the same bounds.
pub const DEFAULT_APPROVAL_MINUTES: u32 = 1440;
pub const MAX_APPROVAL_MINUTES: u32 = 20_160;

/// A deploy target's `approval`: present means every deployment of the
/// target waits for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// How long a deployment waits for a decision (1 to 20160 minutes).
    #[serde(default = "default_minutes")]
    pub timeout_minutes: u32,
    /// What a deployment nobody decided on becomes.
    #[serde(default)]
    pub on_timeout: OnTimeout,
}

fn default_minutes() -> u32 {
    DEFAULT_APPROVAL_MINUTES
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self { timeout_minutes: DEFAULT_APPROVAL_MINUTES, on_timeout: OnTimeout::Reject }
    }
}

impl ApprovalPolicy {
    pub fn validate(&self) -> Result<(), DeployError> {
        if !(1..=MAX_APPROVAL_MINUTES).contains(&self.timeout_minutes) {
            return Err(DeployError::InvalidInput(format!(
                "approval.timeoutMinutes {} is not between 1 and {MAX_APPROVAL_MINUTES}",
                self.timeout_minutes
            )));
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::minutes(i64::from(self.timeout_minutes))
    }
}

/// What happens to a deployment when its approval times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum OnTimeout {
    /// Not deployed (REJECTED); for an ECS PAUSE hook, ECS rolls back.
    #[default]
    Reject,
    /// Goes on as if approved.
    Approve,
}

impl From<&HookAction> for OnTimeout {
    fn from(a: &HookAction) -> Self {
        match a {
            HookAction::Continue => Self::Approve,
            // ECS's default timeout action is ROLLBACK; an unknown one is
            // not assumed to deploy.
            _ => Self::Reject,
        }
    }
}

/// Who holds the deployment for the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalGate {
    /// The pipeline, before UpdateService (a task token).
    Pipeline,
    /// ECS, at a PAUSE lifecycle hook of the service deployment.
    EcsPauseHook,
}

/// What a person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approve,
    Reject,
}

/// What was decided, by a person or by the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalOutcome {
    Approved,
    Rejected,
}

impl From<Decision> for ApprovalOutcome {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Approve => Self::Approved,
            Decision::Reject => Self::Rejected,
        }
    }
}

impl From<OnTimeout> for ApprovalOutcome {
    fn from(t: OnTimeout) -> Self {
        match t {
            OnTimeout::Approve => Self::Approved,
            OnTimeout::Reject => Self::Rejected,
        }
    }
}

/// Where the approval entry point is: what a person calls to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalEndpoint {
    /// The function URL (AuthType AWS_IAM) of `decide-approval`.
    pub url: String,
    /// The region to sign requests for.
    pub region: String,
}

/// A request for approval on the record, and its decision once made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub gate: ApprovalGate,
    #[serde(with = "super::iso")]
    pub requested_at: DateTime<Utc>,
    /// When the wait ends without a decision (ECS may not say, for its hooks).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub expires_at: Option<DateTime<Utc>>,
    /// What it then becomes (for an ECS hook, its `timeoutConfiguration.action`).
    pub on_timeout: OnTimeout,
    /// The PAUSE hook ECS waits at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<ApprovalEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ApprovalOutcome>,
    /// The caller's IAM identity (ARN); absent when the timeout decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Approval {
    /// The pipeline's own hold, from the target's policy.
    pub fn pipeline(policy: &ApprovalPolicy, endpoint: Option<ApprovalEndpoint>, now: DateTime<Utc>) -> Self {
        Self {
            gate: ApprovalGate::Pipeline,
            requested_at: now,
            expires_at: Some(now + policy.timeout()),
            on_timeout: policy.on_timeout,
            hook_id: None,
            lifecycle_stage: None,
            endpoint,
            outcome: None,
            decided_by: None,
            decided_at: None,
            reason: None,
        }
    }

    /// ECS holding the service deployment at a PAUSE hook.
    pub fn ecs_pause(paused: &PausedAt, endpoint: Option<ApprovalEndpoint>, now: DateTime<Utc>) -> Self {
        Self {
            gate: ApprovalGate::EcsPauseHook,
            requested_at: now,
            expires_at: paused.expires_at,
            on_timeout: paused.timeout_action.as_ref().map(OnTimeout::from).unwrap_or_default(),
            hook_id: Some(paused.hook_id.clone()),
            lifecycle_stage: paused.lifecycle_stage.clone(),
            endpoint,
            outcome: None,
            decided_by: None,
            decided_at: None,
            reason: None,
        }
    }

    /// The same request, decided.
    #[must_use]
    pub fn decided(
        mut self,
        outcome: ApprovalOutcome,
        by: Option<&str>,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Self {
        self.outcome = Some(outcome);
        self.decided_by = by.map(str::to_owned);
        self.decided_at = Some(at);
        self.reason = reason.map(str::to_owned);
        self
    }

    /// "by arn:aws:iam::1:user/alice" or "by its timeout", with the reason.
    pub fn decided_how(&self) -> String {
        let by = self.decided_by.as_deref().map_or_else(
            || {
                let minutes = self.expires_at.map(|e| (e - self.requested_at).num_minutes());
                minutes.map_or_else(|| "by its timeout".to_owned(), |m| format!("by its timeout ({m} min)"))
            },
            |who| format!("by {who}"),
        );
        match &self.reason {
            Some(r) => format!("{by}: {r}"),
            None => by,
        }
    }
}

/// A reason given with a decision: one line, at most this long.
pub const MAX_REASON_CHARS: usize = 512;

/// What a decision on `d` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionPlan {
    /// Decide the pending request: the record's approval as decided.
    Decide(Approval),
    /// This decision is recorded already (a repeated call): nothing to do.
    AlreadyDecided(Approval),
}

/// Whether `decision` by `by` (an IAM ARN; `None` for the timeout) applies
/// to `d` now. Refused (`ApprovalRefused`) when the deployment does not wait
/// for approval, was decided otherwise, or its request has expired.
pub fn plan_decision(
    d: &Deployment,
    outcome: ApprovalOutcome,
    by: Option<&str>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DecisionPlan, DeployError> {
    let refuse = |why: String| Err(DeployError::ApprovalRefused(format!("deployment {}: {why}", d.deployment_id)));
    if let Some(r) = reason
        && (r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control))
    {
        return Err(DeployError::InvalidInput(format!(
            "reason must be one line of at most {MAX_REASON_CHARS} characters"
        )));
    }
    let Some(approval) = d.approval.clone() else {
        return refuse(format!("it is {} and was never held for approval", d.status));
    };
    if let Some(done) = approval.outcome {
        if done == outcome && approval.decided_by.as_deref() == by {
            return Ok(DecisionPlan::AlreadyDecided(approval));
        }
        return refuse(format!("it was {} {} already", done, approval.decided_how()));
    }
    if d.status != DeploymentStatus::AwaitingApproval {
        return refuse(format!("it is {}, not waiting for approval", d.status));
    }
    // A person's decision after the deadline would race the timeout's; ECS
    // decides its own hooks' expiry, so only the pipeline's gate is checked.
    if by.is_some()
        && approval.gate == ApprovalGate::Pipeline
        && let Some(expired) = approval.expires_at.filter(|e| now >= *e)
    {
        return refuse(format!("its approval expired at {}", super::iso::format(&expired)));
    }
    Ok(DecisionPlan::Decide(approval.decided(outcome, by, reason, now)))
}

/// Where the record goes once its approval is decided, with the timeline line.
pub fn after_decision(approval: &Approval) -> (DeploymentStatus, String) {
    let how = approval.decided_how();
    match (approval.gate, approval.outcome) {
        (ApprovalGate::Pipeline, Some(ApprovalOutcome::Approved)) => {
            (DeploymentStatus::Queued, format!("approved {how}; taking the service"))
        }
        (ApprovalGate::Pipeline, _) => (DeploymentStatus::Rejected, format!("rejected {how}: not deployed")),
        (ApprovalGate::EcsPauseHook, Some(ApprovalOutcome::Approved)) => {
            (DeploymentStatus::Waiting, format!("approved {how}; ECS continues the deployment"))
        }
        (ApprovalGate::EcsPauseHook, _) => {
            (DeploymentStatus::Waiting, format!("rejected {how}; ECS rolls the deployment back"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn policy_defaults_and_bounds() {
        let p: ApprovalPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, ApprovalPolicy::default());
        assert_eq!(p.timeout(), Duration::days(1));
        assert_eq!(p.on_timeout, OnTimeout::Reject);
        let p: ApprovalPolicy = serde_json::from_str(r#"{"timeoutMinutes":30,"onTimeout":"APPROVE"}"#).unwrap();
        assert!(p.validate().is_ok());
        assert_eq!(p.on_timeout, OnTimeout::Approve);
        for bad in [0, MAX_APPROVAL_MINUTES + 1] {
            let p = ApprovalPolicy { timeout_minutes: bad, ..Default::default() };
            assert_eq!(p.validate().unwrap_err().error_type(), "InvalidInput");
        }
        assert!(serde_json::from_str::<ApprovalPolicy>(r#"{"onTimeout":"MAYBE"}"#).is_err());
        assert!(serde_json::from_str::<ApprovalPolicy>(r#"{"timeout":5}"#).is_err(), "a typo is not ignored");
    }

    #[test]
    fn an_ecs_hook_times_out_as_its_configuration_says() {
        let paused = PausedAt {
            hook_id: "h".into(),
            lifecycle_stage: Some(LifecycleStage::PostTestTrafficShift),
            expires_at: Some(at("2026-12-01T11:00:00Z")),
            timeout_action: Some(HookAction::Continue),
        };
        let a = Approval::ecs_pause(&paused, None, at("2026-12-01T10:00:00Z"));
        assert_eq!(a.on_timeout, OnTimeout::Approve);
        let a = Approval::ecs_pause(&PausedAt { timeout_action: None, ..paused }, None, a.requested_at);
        assert_eq!(a.on_timeout, OnTimeout::Reject, "ECS's default timeout action is ROLLBACK");
    }

    #[test]
    fn decisions_lead_where_their_gate_says() {
        let now = at("2026-12-01T10:00:00Z");
        let pipeline = Approval::pipeline(&ApprovalPolicy::default(), None, now);
        let ok = pipeline.clone().decided(ApprovalOutcome::Approved, Some("arn:aws:iam::1:user/a"), None, now);
        assert_eq!(after_decision(&ok).0, DeploymentStatus::Queued);
        assert!(after_decision(&ok).1.contains("by arn:aws:iam::1:user/a"));
        let no = pipeline.decided(ApprovalOutcome::Rejected, None, None, now);
        let (status, line) = after_decision(&no);
        assert_eq!(status, DeploymentStatus::Rejected);
        assert!(line.contains("by its timeout (1440 min)"), "{line}");
    }
}
