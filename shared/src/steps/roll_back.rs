//! Step "Roll back": put the previous revision back, or follow ECS's own rollback.

use serde::{Deserialize, Serialize};

use super::register_revision::short_td;
use super::{ForDeployment, Recorder, Step, StepError, Timing, load};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentId, DeploymentStatus, Phase, RecordPatch, Watch};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier, StopOutcome};

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

/// How the ROLLING_BACK line starts when ECS was rolling back already (the
/// step followed it rather than asking for a rollback itself).
const FOLLOWING: &str = "ECS is rolling back";
const FOLLOWING_IN_PLACE: &str = "following ECS's rollback of";

/// Whether the record's ROLLING_BACK move followed a rollback ECS had
/// started: a repeated step answers `adopted` as the first one did. (An
/// attempt that died between its ECS call and this write left no record;
/// its retry finds ECS rolling back and says it followed it.)
fn followed(d: &Deployment) -> bool {
    d.timeline
        .iter()
        .rev()
        .find(|e| e.state == DeploymentStatus::RollingBack)
        .is_some_and(|e| e.detail.starts_with(FOLLOWING) || e.detail.starts_with(FOLLOWING_IN_PLACE))
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
            && let Some(w) = d.watch.as_ref().filter(|w| w.phase == Phase::Rollback)
        {
            // A repeated step after the record was written: answer as the
            // attempt that wrote it did, and announce it again (that attempt
            // may have died before it could).
            Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }.announce(&d).await?;
            return Ok(RollBackOutput {
                ecs_deployment_id: w.ecs_deployment_id.clone(),
                adopted: followed(&d),
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
        // Where ECS keeps a service deployment, ECS rolls it back itself: traffic
        // goes back to the previous revision with no gap (and the blue fleet of
        // a blue/green deployment is still there to take it).
        if let Some(out) = self.roll_back_in_place(&d, &reason).await? {
            return Ok(out);
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
        let how = if adopted { FOLLOWING } else { "rolling back" };
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

impl<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock> RollBack<S, E, N, C> {
    /// Follows the rollback ECS runs on our service deployment, asking for one
    /// (StopServiceDeployment ROLLBACK) while it is still in progress. `None`
    /// when ECS keeps no service deployment or ours has finished: the
    /// previous revision is then deployed again.
    async fn roll_back_in_place(&self, d: &Deployment, reason: &str) -> Result<Option<RollBackOutput>> {
        let ours = d.ecs_deployment_id.clone().unwrap_or_default();
        let known =
            d.watch.as_ref().and_then(|w| w.service_deployment_arn.clone()).or(d.service_deployment_arn.clone());
        let sd = match known {
            Some(arn) => self.ecs.describe_service_deployment(&arn).await?,
            None => self.ecs.find_service_deployment(&d.cluster, &d.service, &ours).await?,
        };
        let Some(mut sd) = sd else { return Ok(None) };
        let mut adopted = sd.status.is_rollback();
        if !adopted {
            if !sd.status.is_running() {
                return Ok(None);
            }
            if self.ecs.roll_back_service_deployment(&sd.arn).await? == StopOutcome::Finished {
                // It finished meanwhile: ECS may have rolled it back on its own.
                match self.ecs.describe_service_deployment(&sd.arn).await? {
                    Some(now) if now.status.is_rollback() => {
                        sd = now;
                        adopted = true;
                    }
                    _ => return Ok(None),
                }
            }
        }
        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let previous = d.previous_task_definition.as_deref();
        let rollback_id = service
            .primary()
            .filter(|p| Some(p.task_definition.as_str()) == previous && p.id != ours)
            .map(|p| p.id.clone());
        // The watch names ECS's rollback deployment when `deployments[]` shows
        // one (its events carry that id), else ours.
        let watch_id = rollback_id.clone().unwrap_or_else(|| ours.clone());
        let mut watch =
            Watch::new(Phase::Rollback, &watch_id, &service, self.clock.now(), self.clock.now() + self.timing.timeout)
                .following(Some(sd.arn.clone()));
        watch.in_place_rollback = true;
        let how = if adopted { FOLLOWING_IN_PLACE } else { "rolling back (StopServiceDeployment ROLLBACK)" };
        let to = previous.map_or_else(|| "the previous revision".to_owned(), |td| short_td(td).to_owned());
        Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }
            .move_to(
                &d.deployment_id,
                DeploymentStatus::RollingBack,
                format!("{how} service deployment {} to {to}: {reason}", sd.short_id()),
                RecordPatch {
                    rollback_ecs_deployment_id: rollback_id,
                    watch: Some(Some(watch)),
                    failure_reason: Some(reason.to_owned()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(Some(RollBackOutput {
            ecs_deployment_id: watch_id,
            adopted,
            poll_interval_seconds: self.timing.poll_interval.num_seconds(),
        }))
    }
}
