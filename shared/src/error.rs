//! The one error type of the pipeline. Each variant has a stable name
//! ([`DeployError::error_type`]) that Lambda reports as `errorType` and the
//! state machine matches in `Retry`/`Catch` `ErrorEquals`.

use crate::domain::{DeploymentId, DeploymentStatus};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, strum::IntoStaticStr, strum::VariantNames)]
pub enum DeployError {
    /// The incoming event is not what the function handles; nothing was written.
    #[error("malformed event: {0}")]
    MalformedEvent(String),
    /// The state machine passed an input the function cannot use.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("deployment {0} not found")]
    DeploymentNotFound(DeploymentId),
    #[error("service {service} not found in cluster {cluster}")]
    ServiceNotFound { cluster: String, service: String },
    #[error("no container to update: {0}")]
    NoMatchingContainer(String),
    /// A status write refused because the record is elsewhere already: a late or
    /// repeated step must not move a deployment backwards.
    #[error("deployment {id} is {current}; refusing to move it to {wanted}")]
    StaleTransition { id: DeploymentId, current: DeploymentStatus, wanted: DeploymentStatus },
    /// The waiter found a verdict already recorded: go and check instead of waiting.
    #[error("a verdict for {0} is already recorded")]
    VerdictReady(DeploymentId),
    /// A decision on an approval that does not apply: the deployment does not
    /// wait for one, was decided otherwise already, or its request expired.
    #[error("approval refused: {0}")]
    ApprovalRefused(String),
    /// A person's request (deploy, rollback, freeze) the pipeline will not
    /// carry out: the service is frozen, no target deploys the image, …
    #[error("request refused: {0}")]
    RequestRefused(String),
    /// ECS refused the service update (bad parameters, service inactive, ...).
    #[error("ECS rejected the update: {0}")]
    UpdateRejected(String),
    /// Throttling, 5xx, timeouts: worth another try with backoff.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Any other AWS error that another try will not fix.
    #[error("AWS error: {0}")]
    #[strum(serialize = "AwsError")]
    Aws(String),
}

/// How much of an input an error message or log line quotes.
pub const QUOTE_LIMIT: usize = 1024;

/// `text` cut to at most [`QUOTE_LIMIT`] bytes (at a character boundary),
/// saying how much was left out: a 1 MB payload never comes back whole.
pub fn clip(text: &str) -> String {
    if text.len() <= QUOTE_LIMIT {
        return text.to_owned();
    }
    let mut end = QUOTE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// `{:?}` of an input value, clipped.
pub fn quote(value: &str) -> String {
    clip(&format!("{value:?}"))
}

impl DeployError {
    /// A `MalformedEvent` whose message (often a parser's, quoting the input) is clipped.
    pub fn malformed(why: impl std::fmt::Display) -> Self {
        Self::MalformedEvent(clip(&why.to_string()))
    }

    /// The `errorType` Lambda reports; these names are the ASL `ErrorEquals` values.
    pub fn error_type(&self) -> &'static str {
        self.into()
    }

    /// Every name [`Self::error_type`] can return, derived from the variants
    /// themselves (the state machine's `ErrorEquals` are checked against it).
    pub const ERROR_TYPES: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

pub type Result<T, E = DeployError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_reports_a_listed_name() {
        let id = DeploymentId::parse("d-000000000000000000000001").unwrap();
        let one_of_each = [
            DeployError::MalformedEvent(String::new()),
            DeployError::InvalidInput(String::new()),
            DeployError::DeploymentNotFound(id.clone()),
            DeployError::ServiceNotFound { cluster: String::new(), service: String::new() },
            DeployError::NoMatchingContainer(String::new()),
            DeployError::StaleTransition {
                id: id.clone(),
                current: DeploymentStatus::Pending,
                wanted: DeploymentStatus::Queued,
            },
            DeployError::VerdictReady(id),
            DeployError::ApprovalRefused(String::new()),
            DeployError::RequestRefused(String::new()),
            DeployError::UpdateRejected(String::new()),
            DeployError::Retryable(String::new()),
            DeployError::Aws(String::new()),
        ];
        let names: Vec<&str> = one_of_each.iter().map(DeployError::error_type).collect();
        assert_eq!(names, DeployError::ERROR_TYPES);
        assert_eq!(DeployError::Aws("x".into()).error_type(), "AwsError");
    }

    #[test]
    fn quoted_input_is_clipped_at_a_character_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(2000); // 4000 bytes
        let c = clip(&long);
        assert!(c.len() < QUOTE_LIMIT + 40, "{}", c.len());
        assert!(c.ends_with("… (2976 more bytes)"), "{}", &c[c.len() - 30..]);
        let m = DeployError::malformed(format!("bad: {long}")).to_string();
        assert!(m.len() < QUOTE_LIMIT + 80);
    }
}
