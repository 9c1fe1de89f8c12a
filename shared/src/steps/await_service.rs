//! Steps "Wait for the service" and "Wait for approval": a queued run parks
//! its task token until the deployment in flight finishes (or the poll runs
//! out and it claims again); a held one until it is decided (or times out).

use serde::{Deserialize, Serialize};

use super::{ForDeployment, Step};
use crate::DeployError;
use crate::domain::{DeploymentId, DeploymentStatus};
use crate::error::Result;
use crate::ports::DeploymentStore;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitServiceInput {
    pub deployment_id: DeploymentId,
    pub task_token: String,
    /// What the run waits for: the service (QUEUED, the default), the end
    /// of a freeze (HELD) or a decision (AWAITING_APPROVAL). A record that has left that status
    /// (approved meanwhile, say) is not parked on: the run goes on at once.
    #[serde(default = "queued")]
    pub waiting_in: DeploymentStatus,
}

fn queued() -> DeploymentStatus {
    DeploymentStatus::Queued
}

impl ForDeployment for AwaitServiceInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitServiceOutput {
    /// Always true: the token is parked and the run waits for the service.
    pub queued: bool,
}

/// `VerdictReady` when the record is no longer QUEUED: claim again now.
pub struct AwaitService<S> {
    pub store: S,
}

impl<S: DeploymentStore> Step for AwaitService<S> {
    const NAME: &'static str = "await-service";
    type Input = AwaitServiceInput;
    type Output = AwaitServiceOutput;

    async fn run(&self, input: AwaitServiceInput) -> Result<AwaitServiceOutput> {
        if input.task_token.is_empty() {
            return Err(DeployError::InvalidInput("taskToken is empty".into()));
        }
        if !matches!(
            input.waiting_in,
            DeploymentStatus::Queued | DeploymentStatus::Held | DeploymentStatus::AwaitingApproval
        ) {
            return Err(DeployError::InvalidInput(format!("a run does not wait in {}", input.waiting_in)));
        }
        self.store.store_queue_token(&input.deployment_id, &input.task_token, input.waiting_in).await?;
        Ok(AwaitServiceOutput { queued: true })
    }
}
