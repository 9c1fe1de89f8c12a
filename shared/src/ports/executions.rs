use std::future::Future;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        execution_arn: String,
    },
    /// An execution with this name exists already: nothing new was started.
    AlreadyStarted,
}

/// The deploy state machine.
pub trait Executions: Send + Sync {
    /// Starts a run named `name`. Starting the same name twice starts nothing
    /// new (`AlreadyStarted`), whatever the input.
    fn start(&self, name: &str, input: &serde_json::Value) -> impl Future<Output = Result<StartOutcome>> + Send;

    /// Whether a run named `name` exists, running or ended. Step Functions
    /// answers a second StartExecution of a running run like the first (same
    /// name and input: the same execution), so a caller that must know
    /// whether an earlier call started it asks this first.
    fn exists(&self, name: &str) -> impl Future<Output = Result<bool>> + Send;
}
