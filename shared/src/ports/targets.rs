use std::future::Future;

use crate::domain::DeployTarget;
use crate::error::Result;

/// The deploy-targets table, keyed by (`repository`, `targetId`).
pub trait DeployTargets: Send + Sync {
    /// Every target of an ECR repository (enabled or not). Rows that do not parse
    /// are skipped with a log line, so one bad row cannot stop other services' deploys.
    fn for_repository(&self, repository: &str) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send;

    /// Every target of every repository (the reconciler's list), with the
    /// same skipping of rows that do not parse.
    fn all(&self) -> impl Future<Output = Result<Vec<DeployTarget>>> + Send;

    /// Writes a target after validating it (`InvalidInput` when it is not valid),
    /// replacing any target with its key.
    fn put(&self, target: &DeployTarget) -> impl Future<Output = Result<()>> + Send;

    /// Writes a target only if none has its key, in one conditional write:
    /// `true` when written, `false` when one exists (left as it was).
    /// `InvalidInput` when the target is not valid.
    fn create(&self, target: &DeployTarget) -> impl Future<Output = Result<bool>> + Send;

    /// Deletes a target: `true` when it existed, `false` when there was none.
    fn remove(&self, repository: &str, target_id: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Sets a target's `enabled` and nothing else: the target as it is now,
    /// or `None` when there is no such target (nothing is written then).
    fn set_enabled(
        &self,
        repository: &str,
        target_id: &str,
        enabled: bool,
    ) -> impl Future<Output = Result<Option<DeployTarget>>> + Send;
}
