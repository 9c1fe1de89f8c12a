use std::future::Future;

use crate::domain::DeployTarget;
use crate::error::Result;

/// The deploy-targets table.
pub trait DeployTargets: Send + Sync {
    /// Every target of an ECR repository (enabled or not). Rows that do not parse
    /// are skipped with a log line, so one bad row cannot stop other services' deploys.
    fn for_repository(&self, repository: &str) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send;

    /// Every target of every repository (the reconciler's list), with the
    /// same skipping of rows that do not parse.
    fn all(&self) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send;

    /// Writes a target after validating it (`InvalidInput` when it is not valid).
    fn put(&self, target: &DeployTarget) -> impl Future<Output = Result<()>> + Send;
}
