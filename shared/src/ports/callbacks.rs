use std::future::Future;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The token is no longer valid (timed out, already used, run stopped).
    Gone,
}

/// Resumes a run paused on a task token.
pub trait TaskCallbacks: Send + Sync {
    fn succeed(&self, task_token: &str, output: &serde_json::Value) -> impl Future<Output = Result<Delivery>> + Send;
}
