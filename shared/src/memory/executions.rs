use std::sync::Mutex;

use crate::error::Result;
use crate::ports::{Executions, StartOutcome};

/// Records started runs by name; a second start of a name starts nothing.
#[derive(Debug, Default)]
pub struct RecordingExecutions(Mutex<Vec<(String, serde_json::Value)>>);

impl RecordingExecutions {
    pub fn started(&self) -> Vec<(String, serde_json::Value)> {
        super::lock(&self.0).clone()
    }
}

impl Executions for RecordingExecutions {
    async fn exists(&self, name: &str) -> Result<bool> {
        Ok(super::lock(&self.0).iter().any(|(n, _)| n == name))
    }

    async fn start(&self, name: &str, input: &serde_json::Value) -> Result<StartOutcome> {
        let mut runs = super::lock(&self.0);
        if runs.iter().any(|(n, _)| n == name) {
            return Ok(StartOutcome::AlreadyStarted);
        }
        runs.push((name.to_owned(), input.clone()));
        Ok(StartOutcome::Started { execution_arn: format!("arn:aws:states:us-east-1:1:execution:deploy:{name}") })
    }
}
