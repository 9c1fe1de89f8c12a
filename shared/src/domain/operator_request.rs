//! A deployment a person asked for (`autodeploy deploy` or `rollback`)
//! rather than a push: who asked, why, and what it may pass.

use serde::{Deserialize, Serialize};

use super::{DeploymentId, ServiceRef};
use crate::DeployError;

/// What the person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestKind {
    /// An image, by tag (resolved to its digest through ECR) or by digest.
    Deploy,
    /// A revision that ran before, run again as it was.
    Rollback,
}

/// The longest reason a request keeps.
pub const MAX_REQUEST_REASON_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorRequest {
    pub kind: RequestKind,
    /// The IAM identity that asked (as Lambda verified the signature).
    pub by: String,
    /// The caller's idempotency token: the same request sent again (a retry
    /// after a timeout) is the same deployment, never a second one.
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Deploy even while the service is frozen.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// A rollback's revision: the service is pointed at it as it is (nothing
    /// is registered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// A rollback's deployment whose revision it runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<DeploymentId>,
}

impl OperatorRequest {
    /// Checks what the caller controls: the token and the reason.
    pub fn validate(&self) -> Result<(), DeployError> {
        validate_token(&self.token)?;
        if let Some(r) = &self.reason
            && (r.chars().count() > MAX_REQUEST_REASON_CHARS || r.contains(['\n', '\r']))
        {
            return Err(DeployError::InvalidInput(format!(
                "a reason is one line of at most {MAX_REQUEST_REASON_CHARS} characters"
            )));
        }
        if self.by.is_empty() {
            return Err(DeployError::InvalidInput("a request needs the identity that sent it".into()));
        }
        Ok(())
    }

    /// A freeze stops pushes and plain manual deploys; a rollback (the way
    /// out of an incident) and a forced deploy go through it.
    pub fn passes_freeze(&self) -> bool {
        self.force || self.kind == RequestKind::Rollback
    }

    /// The deployment this request is: the same for the same service and
    /// token, whatever else a retry carries.
    pub fn deployment_id(&self, service: &ServiceRef) -> DeploymentId {
        DeploymentId::derive_from_seed(&format!("{}|request|{}", service.key(), self.token))
    }
}

/// 16 to 64 of `[A-Za-z0-9_-]`: long enough to be unique per request.
pub fn validate_token(token: &str) -> Result<(), DeployError> {
    let ok =
        (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DeployError::InvalidInput(
            "requestToken is 16 to 64 letters, digits, - and _ (one per request, the same on a retry)".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: RequestKind, token: &str) -> OperatorRequest {
        OperatorRequest {
            kind,
            by: "arn:aws:iam::123456789012:user/ops".into(),
            token: token.into(),
            reason: None,
            force: false,
            task_definition: None,
            rollback_to: None,
        }
    }

    #[test]
    fn the_token_makes_the_deployment() {
        let web = ServiceRef::new("demo", "web").unwrap();
        let api = ServiceRef::new("demo", "api").unwrap();
        let a = request(RequestKind::Deploy, "0123456789abcdef");
        assert_eq!(a.deployment_id(&web), a.deployment_id(&web), "a retry is the same deployment");
        assert_ne!(a.deployment_id(&web), a.deployment_id(&api));
        assert_ne!(a.deployment_id(&web), request(RequestKind::Deploy, "0123456789abcdeX").deployment_id(&web));
        assert!(DeploymentId::parse(a.deployment_id(&web).as_str()).is_ok());
    }

    #[test]
    fn bad_tokens_and_reasons_are_refused() {
        assert!(request(RequestKind::Deploy, "short").validate().is_err());
        assert!(request(RequestKind::Deploy, &"x".repeat(65)).validate().is_err());
        assert!(request(RequestKind::Deploy, "0123456789abcdef!").validate().is_err());
        let mut r = request(RequestKind::Deploy, "0123456789abcdef");
        assert!(r.validate().is_ok());
        r.reason = Some("two\nlines".into());
        assert!(r.validate().is_err());
    }

    #[test]
    fn rollbacks_and_forced_deploys_pass_a_freeze() {
        assert!(!request(RequestKind::Deploy, "0123456789abcdef").passes_freeze());
        assert!(request(RequestKind::Rollback, "0123456789abcdef").passes_freeze());
        let forced = OperatorRequest { force: true, ..request(RequestKind::Deploy, "0123456789abcdef") };
        assert!(forced.passes_freeze());
    }
}
