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
}
