//! Step "Wait for the service": a queued run parks its task token until the
//! deployment in flight finishes (or the poll runs out and it claims again).

use serde::{Deserialize, Serialize};

use crate::DeployError;
use crate::domain::DeploymentId;
use crate::error::Result;
use crate::ports::DeploymentStore;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitServiceInput {
    pub deployment_id: DeploymentId,
    pub task_token: String,
}

/// `VerdictReady` when the record is no longer QUEUED: claim again now.
pub async fn await_service(input: &AwaitServiceInput, store: &impl DeploymentStore) -> Result<()> {
    if input.task_token.is_empty() {
        return Err(DeployError::InvalidInput("taskToken is empty".into()));
    }
    store.store_queue_token(&input.deployment_id, &input.task_token).await?;
    Ok(())
}
