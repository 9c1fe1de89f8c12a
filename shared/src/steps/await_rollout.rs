//! Step "Wait for …": park the run's task token where the event handler finds it.
//!
//! The run is resumed by `on-ecs-event` (or times out into a check); this step
//! never sends its own token back. If a verdict is already recorded (ECS was
//! faster than this step) it fails with `VerdictReady`, which the state
//! machine turns into an immediate check.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{ForDeployment, Step, load};
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

impl ForDeployment for AwaitInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitOutput {
    /// Always true: the token is parked and the run is waiting.
    pub waiting: bool,
}

/// Also renews the service lease: a waiting run passes here at least once per poll.
pub struct AwaitRollout<S, L, C> {
    pub store: S,
    pub locks: L,
    pub clock: C,
    /// How far each pass extends the service lease (see [`lease`](super::lease)).
    pub lease: Duration,
}

impl<S: DeploymentStore, L: ServiceLocks, C: Clock> Step for AwaitRollout<S, L, C> {
    const NAME: &'static str = "await-rollout";
    type Input = AwaitInput;
    type Output = AwaitOutput;

    async fn run(&self, input: AwaitInput) -> Result<AwaitOutput> {
        if input.task_token.is_empty() {
            return Err(DeployError::InvalidInput("taskToken is empty".into()));
        }
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        let watch = d
            .watch
            .filter(|w| w.phase == input.phase)
            .ok_or_else(|| DeployError::InvalidInput(format!("deployment {id} has no {:?} watch", input.phase)))?;
        if !self.locks.renew(&d.service_key, id, self.clock.now() + self.lease).await? {
            tracing::warn!("service lease lost: another deployment took the service over");
        }
        self.store.store_task_token(id, input.phase, &watch.ecs_deployment_id, &input.task_token).await?;
        tracing::info!(ecs_deployment = %watch.ecs_deployment_id, "waiting for ECS events");
        Ok(AwaitOutput { waiting: true })
    }
}
