use std::collections::HashSet;
use std::sync::Mutex;

use crate::error::Result;
use crate::ports::Runs;

/// The executions a test says are running; every other one has stopped.
#[derive(Debug, Default)]
pub struct MemoryRuns(Mutex<HashSet<String>>);

impl MemoryRuns {
    pub fn set_running(&self, execution_arn: &str, running: bool) {
        let mut runs = super::lock(&self.0);
        if running {
            runs.insert(execution_arn.to_owned());
        } else {
            runs.remove(execution_arn);
        }
    }
}

impl Runs for MemoryRuns {
    async fn is_running(&self, execution_arn: &str) -> Result<bool> {
        Ok(super::lock(&self.0).contains(execution_arn))
    }
}
