//! Step "Roll back": put the previous revision back, or follow ECS's own rollback.

use serde::{Deserialize, Serialize};

use super::register_revision::short_td;
use super::{ForDeployment, Recorder, Step, StepError, Timing, load};
use crate::DeployError;
use crate::domain::{DeploymentId, DeploymentStatus, Phase, RecordPatch, Watch};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollBackInput {
    pub deployment_id: DeploymentId,
    /// The verdict that failed the rollout (only its reason is used).
    #[serde(default)]
    pub verdict: Option<FailedVerdict>,
    /// The step error that ended the wait, when it was an error.
    #[serde(default)]
    pub error: Option<StepError>,
}

impl ForDeployment for RollBackInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedVerdict {
    #[serde(default)]
    pub reason: Option<String>,
}

impl RollBackInput {
    /// Why we roll back: the step error if the wait ended in one, else the verdict.
    pub fn reason(&self) -> String {
        self.error
            .as_ref()
            .map(StepError::message)
            .or_else(|| self.verdict.as_ref().and_then(|v| v.reason.clone()))
            .unwrap_or_else(|| "rollout failed".into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollBackOutput {
    pub ecs_deployment_id: String,
    /// True when ECS (circuit breaker) had already started the rollback.
    pub adopted: bool,
    pub poll_interval_seconds: i64,
}

/// Puts the previous revision back, or follows the rollback ECS started.
pub struct RollBack<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
    /// The rollback's deadline and poll interval.
    pub timing: Timing,
}

impl<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock> Step for RollBack<S, E, N, C> {
    const NAME: &'static str = "roll-back";
    type Input = RollBackInput;
    type Output = RollBackOutput;

    async fn run(&self, input: RollBackInput) -> Result<RollBackOutput> {
        let id = &input.deployment_id;
        let reason = input.reason();
        let d = load(&self.store, id).await?;
        if d.status == DeploymentStatus::RollingBack
            && let Some(w) = d.watch.filter(|w| w.phase == Phase::Rollback)
        {
            return Ok(RollBackOutput {
                ecs_deployment_id: w.ecs_deployment_id,
                adopted: false,
                poll_interval_seconds: self.timing.poll_interval.num_seconds(),
            });
        }
        if !d.status.can_move_to(DeploymentStatus::RollingBack) {
            return Err(DeployError::StaleTransition {
                id: id.clone(),
                current: d.status,
                wanted: DeploymentStatus::RollingBack,
            });
        }
        let previous = d.previous_task_definition.clone().ok_or_else(|| {
            DeployError::InvalidInput(format!("deployment {id} has no previous revision to roll back to"))
        })?;
        let ours = d.ecs_deployment_id.clone().unwrap_or_default();
        let ours_td = d.new_task_definition.clone().unwrap_or_default();

        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let primary = service.primary().cloned();
        let (service, rollback_id, adopted) = match primary {
            // ECS's circuit breaker (or a person) already went back: follow it.
            Some(p) if p.task_definition == previous && p.id != ours => (service, p.id, true),
            // Ours is still in charge (alarm, timeout, breaker without rollback): go back.
            Some(p) if p.id == ours || p.task_definition == ours_td => {
                let updated = self.ecs.update_service(&d.cluster, &d.service, &previous).await?;
                let back = updated.primary_of(&previous).map(|dep| dep.id.clone()).ok_or_else(|| {
                    DeployError::Aws(format!("UpdateService returned no PRIMARY deployment of {previous}"))
                })?;
                (updated, back, false)
            }
            Some(p) => {
                return Err(DeployError::UpdateRejected(format!(
                    "{}: the service was moved to {} by another deployment ({}); not rolling back over it",
                    reason,
                    short_td(&p.task_definition),
                    p.id
                )));
            }
            None => {
                return Err(DeployError::Aws(format!("service {}/{} has no PRIMARY deployment", d.cluster, d.service)));
            }
        };

        let watch = Watch::new(
            Phase::Rollback,
            &rollback_id,
            &service,
            self.clock.now(),
            self.clock.now() + self.timing.timeout,
        );
        let how = if adopted { "ECS is rolling back" } else { "rolling back" };
        Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }
            .move_to(
                id,
                DeploymentStatus::RollingBack,
                format!("{how} to {} (ECS deployment {rollback_id}): {reason}", short_td(&previous)),
                RecordPatch {
                    rollback_ecs_deployment_id: Some(rollback_id.clone()),
                    watch: Some(Some(watch)),
                    failure_reason: Some(reason.clone()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(RollBackOutput {
            ecs_deployment_id: rollback_id,
            adopted,
            poll_interval_seconds: self.timing.poll_interval.num_seconds(),
        })
    }
}
