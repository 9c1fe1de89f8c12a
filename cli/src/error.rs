//! What goes wrong, said so that a person can act on it.

use autodeploy_shared::DeployError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(
        "no stack found: looked for --stack / AUTODEPLOY_STACK (a CloudFormation stack name) and \
         AUTODEPLOY_DEPLOYMENTS_TABLE (with AUTODEPLOY_DECISIONS_TABLE, AUTODEPLOY_TARGETS_TABLE, \
         AUTODEPLOY_APPROVAL_URL and AUTODEPLOY_OPERATOR_URL); give one of them"
    )]
    NoStack,
    #[error("stack {name}: {why}")]
    Stack { name: String, why: String },
    #[error("access denied: {action} on {resource} ({message})")]
    AccessDenied { action: &'static str, resource: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("deployment {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Aws(String),
}

impl From<DeployError> for CliError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::DeploymentNotFound(id) => Self::NotFound(id.to_string()),
            DeployError::InvalidInput(m) => Self::Invalid(m),
            other => Self::Aws(other.to_string()),
        }
    }
}
