use std::future::Future;

use crate::domain::{DeploymentStateChange, HumanMessage};
use crate::error::Result;

/// Where status changes are announced.
pub trait Notifier: Send + Sync {
    /// Publishes the machine-readable event, and the human message if given
    /// (terminal outcomes). At least once: a repeated step may publish again.
    fn publish(
        &self,
        change: &DeploymentStateChange,
        human: Option<&HumanMessage>,
    ) -> impl Future<Output = Result<()>> + Send;
}
