//! Step Functions: starting deploy runs.

use aws_sdk_sfn::Client;

use super::errors::classify;
use crate::error::Result;
use crate::ports::{Executions, StartOutcome};

#[derive(Debug, Clone)]
pub struct SfnExecutions {
    client: Client,
    state_machine_arn: String,
}

impl SfnExecutions {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
        Self { client, state_machine_arn: state_machine_arn.into() }
    }
}

impl Executions for SfnExecutions {
    async fn start(&self, name: &str, input: &serde_json::Value) -> Result<StartOutcome> {
        // Same name and input as a running execution: Step Functions answers with
        // that execution (nothing new starts). Closed, or other input:
        // ExecutionAlreadyExists. Either way a name runs at most once.
        let sent = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(StartOutcome::Started { execution_arn: out.execution_arn }),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_execution_already_exists()) => {
                Ok(StartOutcome::AlreadyStarted)
            }
            Err(e) => Err(classify("StartExecution", e)),
        }
    }
}
