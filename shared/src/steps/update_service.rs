//! Step "Update the service": point it at the new revision and note *our* ECS deployment.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::register_revision::short_td;
use super::{DeploymentInput, Recorder, Step, Timing, load};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentStatus, EcsDeploymentView, Phase, RecordPatch, ServiceSnapshot, Watch, iso};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOutput {
    pub ecs_deployment_id: String,
    #[serde(with = "iso")]
    pub deadline: DateTime<Utc>,
    /// How long the run waits for an event before it looks for itself.
    pub poll_interval_seconds: i64,
}

/// Points the service at the registered revision, never twice.
pub struct UpdateService<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
    /// The rollout's deadline and poll interval.
    pub timing: Timing,
}

impl<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock> Step for UpdateService<S, E, N, C> {
    const NAME: &'static str = "update-service";
    type Input = DeploymentInput;
    type Output = UpdateOutput;

    async fn run(&self, input: DeploymentInput) -> Result<UpdateOutput> {
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };
        // A repeated step after the record was written: the service was updated
        // already; never update twice. ECS may have paused the rollout at a
        // PAUSE hook since (AWAITING_APPROVAL): still this step's rollout.
        let updated = d.status == DeploymentStatus::Waiting || d.is_paused_by_ecs();
        if let Some(w) = d.watch.as_ref().filter(|w| updated && w.phase == Phase::Rollout) {
            // The attempt that wrote it may have died before announcing it.
            recorder.announce(&d).await?;
            return Ok(UpdateOutput {
                ecs_deployment_id: w.ecs_deployment_id.clone(),
                deadline: w.deadline,
                poll_interval_seconds: self.timing.poll_interval.num_seconds(),
            });
        }
        if d.status != DeploymentStatus::Updating {
            return Err(DeployError::StaleTransition {
                id: id.clone(),
                current: d.status,
                wanted: DeploymentStatus::Waiting,
            });
        }
        let new_td = d
            .new_task_definition
            .clone()
            .ok_or_else(|| DeployError::InvalidInput(format!("deployment {id} has no registered revision")))?;

        // UPDATING still: an attempt before this one may have updated the
        // service and died before recording it. ECS's deployment of the new
        // revision is then the one it started: follow it, never start another
        // (a second UpdateService could restart a rollout ECS already rolled back).
        let current = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let (service, ours) = match started_before(&d, &current, &new_td).cloned() {
            Some(ours) => {
                tracing::info!(ecs_deployment = %ours.id, "the ECS deployment an earlier attempt started is ours");
                (current, ours)
            }
            None => {
                let service = self.ecs.update_service(&d.cluster, &d.service, &new_td).await?;
                let ours = service.primary_of(&new_td).cloned().ok_or_else(|| {
                    DeployError::Aws(format!("UpdateService returned no PRIMARY deployment of {new_td}"))
                })?;
                (service, ours)
            }
        };

        // ECS's own record of this rollout, when it keeps one: the run follows
        // its status (and, for blue/green, linear and canary, its stages and
        // traffic). Only a read, after the one call that must not be repeated:
        // if it fails (or ECS is slow to list it) the first look finds it.
        let sd = match self.ecs.find_service_deployment(&d.cluster, &d.service, &ours.id).await {
            Ok(sd) => sd,
            Err(e) => {
                tracing::warn!(error = %e, "service deployment not read yet; the first look finds it");
                None
            }
        };
        let sd_arn = sd.as_ref().map(|sd| sd.arn.clone());
        let strategy = sd.as_ref().and_then(|sd| sd.strategy.clone()).or_else(|| service.strategy.clone());
        let watch =
            Watch::new(Phase::Rollout, &ours.id, &service, self.clock.now(), self.clock.now() + self.timing.timeout)
                .following(sd_arn.clone());
        let mut detail = format!("service updated to {}; ECS deployment {}", short_td(&new_td), ours.id);
        if let Some(sd) = &sd {
            detail.push_str(&format!("; service deployment {}", sd.short_id()));
        }
        if let Some(strategy) = &strategy {
            detail.push_str(&format!(" ({strategy})"));
        }
        let output = UpdateOutput {
            ecs_deployment_id: ours.id.clone(),
            deadline: watch.deadline,
            poll_interval_seconds: self.timing.poll_interval.num_seconds(),
        };
        recorder
            .move_to(
                id,
                DeploymentStatus::Waiting,
                detail,
                RecordPatch {
                    ecs_deployment_id: Some(ours.id.clone()),
                    service_deployment_arn: sd_arn,
                    strategy,
                    watch: Some(Some(watch)),
                    ..Default::default()
                },
            )
            .await?;
        Ok(output)
    }
}

/// The service's ECS deployment of `new_td` that an earlier attempt of the
/// step started, if any. A revision registered for this deployment (tagged
/// with its id) runs in no deployment but ours, active or not; a revision
/// run again by a person's rollback ran before, so only ECS's PRIMARY
/// deployment of it counts (not a fleet of it still draining).
fn started_before<'s>(d: &Deployment, service: &'s ServiceSnapshot, new_td: &str) -> Option<&'s EcsDeploymentView> {
    let run_again = d.request.as_ref().is_some_and(|r| r.task_definition.is_some());
    if run_again {
        return service.primary_of(new_td);
    }
    service.primary_of(new_td).or_else(|| service.deployments.iter().find(|dep| dep.task_definition == new_td))
}
