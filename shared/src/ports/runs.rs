use std::future::Future;

use crate::error::Result;

/// Whether a deploy run is still alive: a service lock whose lease ran out
/// is taken from its holder only when the holder's run has really stopped.
pub trait Runs: Send + Sync {
    /// `true` while the execution `execution_arn` is RUNNING; `false` once it
    /// ended (any other status) or when Step Functions does not know it.
    fn is_running(&self, execution_arn: &str) -> impl Future<Output = Result<bool>> + Send;
}
