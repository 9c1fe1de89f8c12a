//! Step "Wait for …": park the run's task token where the event handler finds it.
//!
//! The run is resumed by `on_ecs_event` (or times out into a check); this step
//! never sends its own token back. If a verdict is already recorded (ECS was
//! faster than this step) it fails with `VerdictReady`, which the state
//! machine turns into an immediate check.

use serde::{Deserialize, Serialize};

use crate::DeployError;
use crate::domain::{DeploymentId, Phase};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, ServiceLocks};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitInput {
    pub deployment_id: DeploymentId,
    pub phase: Phase,
    pub task_token: String,
}

/// Also renews the service lease: a waiting run passes here at least once per poll.
pub async fn await_rollout(
    input: &AwaitInput,
    lease: chrono::Duration,
    store: &impl DeploymentStore,
    locks: &impl ServiceLocks,
    clock: &impl Clock,
) -> Result<()> {
    if input.task_token.is_empty() {
        return Err(DeployError::InvalidInput("taskToken is empty".into()));
    }
    let d = super::load(store, &input.deployment_id).await?;
    let watch = d.watch.filter(|w| w.phase == input.phase).ok_or_else(|| {
        DeployError::InvalidInput(format!("deployment {} has no {:?} watch", input.deployment_id, input.phase))
    })?;
    if !locks.renew(&d.service_key, &input.deployment_id, clock.now() + lease).await? {
        tracing::warn!(deployment = %input.deployment_id, "service lease lost: another deployment took the service over");
    }
    store.store_task_token(&input.deployment_id, input.phase, &watch.ecs_deployment_id, &input.task_token).await?;
    tracing::info!(deployment = %input.deployment_id, ecs_deployment = %watch.ecs_deployment_id, "waiting for ECS events");
    Ok(())
}
