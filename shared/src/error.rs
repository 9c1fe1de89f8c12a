//! The one error type of the pipeline. Each variant has a stable name
//! ([`DeployError::error_type`]) that Lambda reports as `errorType` and the
//! state machine matches in `Retry`/`Catch` `ErrorEquals`.

use crate::domain::DeploymentStatus;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DeployError {
    /// The incoming event is not what the function handles; nothing was written.
    #[error("malformed event: {0}")]
    MalformedEvent(String),
    /// The state machine passed an input the function cannot use.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("deployment {0} not found")]
    DeploymentNotFound(String),
    #[error("service {service} not found in cluster {cluster}")]
    ServiceNotFound { cluster: String, service: String },
    #[error("no container to update: {0}")]
    NoMatchingContainer(String),
    /// A status write refused because the record is elsewhere already: a late or
    /// repeated step must not move a deployment backwards.
    #[error("deployment {id} is {current}; refusing to move it to {wanted}")]
    StaleTransition { id: String, current: DeploymentStatus, wanted: DeploymentStatus },
    /// The waiter found a verdict already recorded: go and check instead of waiting.
    #[error("a verdict for {0} is already recorded")]
    VerdictReady(String),
    /// ECS refused the service update (bad parameters, service inactive, ...).
    #[error("ECS rejected the update: {0}")]
    UpdateRejected(String),
    /// Throttling, 5xx, timeouts: worth another try with backoff.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Any other AWS error that another try will not fix.
    #[error("AWS error: {0}")]
    Aws(String),
}

impl DeployError {
    /// The `errorType` Lambda reports; these names are the ASL `ErrorEquals` values.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MalformedEvent(_) => "MalformedEvent",
            Self::InvalidInput(_) => "InvalidInput",
            Self::DeploymentNotFound(_) => "DeploymentNotFound",
            Self::ServiceNotFound { .. } => "ServiceNotFound",
            Self::NoMatchingContainer(_) => "NoMatchingContainer",
            Self::StaleTransition { .. } => "StaleTransition",
            Self::VerdictReady(_) => "VerdictReady",
            Self::UpdateRejected(_) => "UpdateRejected",
            Self::Retryable(_) => "Retryable",
            Self::Aws(_) => "AwsError",
        }
    }

    /// Every name [`Self::error_type`] can return (the ASL test checks against it).
    pub const ERROR_TYPES: [&'static str; 10] = [
        "MalformedEvent",
        "InvalidInput",
        "DeploymentNotFound",
        "ServiceNotFound",
        "NoMatchingContainer",
        "StaleTransition",
        "VerdictReady",
        "UpdateRejected",
        "Retryable",
        "AwsError",
    ];

    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}

pub type Result<T, E = DeployError> = std::result::Result<T, E>;
