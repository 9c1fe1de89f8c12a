use std::sync::Mutex;

use crate::error::Result;
use crate::ports::{Delivery, TaskCallbacks};

/// Accepts each token once, like Step Functions.
#[derive(Debug, Default)]
pub struct RecordingCallbacks(Mutex<Vec<(String, serde_json::Value)>>);

impl RecordingCallbacks {
    pub fn sent(&self) -> Vec<(String, serde_json::Value)> {
        super::lock(&self.0).clone()
    }
}

impl TaskCallbacks for RecordingCallbacks {
    async fn succeed(&self, task_token: &str, output: &serde_json::Value) -> Result<Delivery> {
        let mut sent = super::lock(&self.0);
        if sent.iter().any(|(t, _)| t == task_token) {
            return Ok(Delivery::Gone);
        }
        sent.push((task_token.to_owned(), output.clone()));
        Ok(Delivery::Sent)
    }
}
