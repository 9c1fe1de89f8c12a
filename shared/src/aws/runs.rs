//! Step Functions: is a deploy run still alive (DescribeExecution)?

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;

use super::errors::classify;
use crate::error::Result;
use crate::ports::Runs;

#[derive(Debug, Clone)]
pub struct SfnRuns {
    client: Client,
}

impl SfnRuns {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Runs for SfnRuns {
    async fn is_running(&self, execution_arn: &str) -> Result<bool> {
        match self.client.describe_execution().execution_arn(execution_arn).send().await {
            Ok(out) => Ok(out.status == ExecutionStatus::Running),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_execution_does_not_exist()) => Ok(false),
            Err(e) => Err(classify("DescribeExecution", e)),
        }
    }
}
