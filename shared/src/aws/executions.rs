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
    async fn exists(&self, name: &str) -> Result<bool> {
        // An execution's ARN is its state machine's, `execution` for
        // `stateMachine`, with its name after.
        let arn = format!("{}:{name}", self.state_machine_arn.replacen(":stateMachine:", ":execution:", 1));
        match self.client.describe_execution().execution_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_execution_does_not_exist()) => Ok(false),
            Err(e) => Err(classify("DescribeExecution", e)),
        }
    }

    async fn start(&self, name: &str, input: &serde_json::Value) -> Result<StartOutcome> {
        // Same name and input as a running execution: Step Functions answers with
        // that execution (nothing new starts), its `startDate` from when it
        // really started. Closed, or other input: ExecutionAlreadyExists. Either
        // way a name runs at most once.
        let asked = std::time::SystemTime::now();
        let sent = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await;
        match sent {
            // Started before this call was made: an earlier call started it
            // (a second of leeway for the clocks of Lambda and Step Functions).
            Ok(out) if started_before(out.start_date, asked) => Ok(StartOutcome::AlreadyStarted),
            Ok(out) => Ok(StartOutcome::Started { execution_arn: out.execution_arn }),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_execution_already_exists()) => {
                Ok(StartOutcome::AlreadyStarted)
            }
            Err(e) => Err(classify("StartExecution", e)),
        }
    }
}

/// Whether `start_date` is more than a second before `asked`.
fn started_before(start_date: aws_smithy_types::DateTime, asked: std::time::SystemTime) -> bool {
    std::time::SystemTime::try_from(start_date)
        .ok()
        .and_then(|started| asked.duration_since(started).ok())
        .is_some_and(|ago| ago > std::time::Duration::from_secs(1))
}
