//! Glue between the steps and the Lambda runtime: the one generic entry
//! every function's `main` calls, and errors as Lambda reports them.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

use crate::DeployError;
use crate::aws::FromVars;
use crate::steps::{Step, handle};

/// A function's whole `main`: logs (`crate::logs`: `AWS_LAMBDA_LOG_FORMAT`;
/// the level from `RUST_LOG`, the template's `LogLevel`, which wins over
/// `AWS_LAMBDA_LOG_LEVEL`), the SDK configuration (`aws::lambda_sdk_config`)
/// and the step built once per process, then the runtime loop handing each
/// event to the step.
///
/// What the step counted goes out after each invocation, before Lambda
/// freezes the process, as embedded metric format lines (`crate::emf`).
pub async fn serve<S: Step + FromVars>() -> Result<(), lambda_runtime::Error> {
    crate::logs::init(&crate::logs::LogSettings::from_vars(&crate::config::ProcessEnv), std::io::stdout);
    let stack = crate::config::stack_name(&crate::config::ProcessEnv).unwrap_or_else(|| "unknown".to_owned());
    let collector = crate::emf::install(&stack)
        .inspect_err(|e| tracing::warn!(error = %e, "metrics not installed: none will be written"))
        .ok();
    let config = crate::aws::lambda_sdk_config(&crate::config::ProcessEnv)?;
    let step = S::from_env(&config)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        let result = handle(&step, event.payload).await;
        if let Some(c) = collector
            && let Err(e) = crate::emf::flush(c, &mut std::io::stdout().lock())
        {
            tracing::warn!(error = %e, "metrics not written");
        }
        result
    }))
    .await
}

impl From<DeployError> for Diagnostic {
    fn from(err: DeployError) -> Self {
        Diagnostic { error_type: err.error_type().to_owned(), error_message: err.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_error_type() {
        let id = crate::domain::DeploymentId::parse("d-000000000000000000000001").unwrap();
        let d: Diagnostic = DeployError::VerdictReady(id).into();
        assert_eq!(d.error_type, "VerdictReady");
        assert!(d.error_message.contains("d-000000000000000000000001"));
    }
}
