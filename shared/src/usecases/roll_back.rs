//! Step "Roll back": put the previous revision back, or follow ECS's own rollback.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::register_revision::short_td;
use super::{load, Recorder};
use crate::domain::{DeploymentId, DeploymentStatus, Phase, RecordPatch, Watch};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier};
use crate::DeployError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollBackInput {
    pub deployment_id: DeploymentId,
    /// Why the rollout failed (the verdict's reason, or the step error).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollBackOutput {
    pub ecs_deployment_id: String,
    /// True when ECS (circuit breaker) had already started the rollback.
    pub adopted: bool,
}

pub async fn roll_back(
    input: &RollBackInput,
    rollback_timeout: Duration,
    store: &impl DeploymentStore,
    ecs: &impl Ecs,
    notifier: &impl Notifier,
    clock: &impl Clock,
) -> Result<RollBackOutput> {
    let id = &input.deployment_id;
    let d = load(store, id).await?;
    if d.status == DeploymentStatus::RollingBack {
        if let Some(w) = d.watch.filter(|w| w.phase == Phase::Rollback) {
            return Ok(RollBackOutput { ecs_deployment_id: w.ecs_deployment_id, adopted: false });
        }
    }
    if !d.status.can_move_to(DeploymentStatus::RollingBack) {
        return Err(DeployError::StaleTransition { id: id.to_string(), current: d.status, wanted: DeploymentStatus::RollingBack });
    }
    let previous = d
        .previous_task_definition
        .clone()
        .ok_or_else(|| DeployError::InvalidInput(format!("deployment {id} has no previous revision to roll back to")))?;
    let ours = d.ecs_deployment_id.clone().unwrap_or_default();
    let ours_td = d.new_task_definition.clone().unwrap_or_default();

    let service = ecs.describe_service(&d.cluster, &d.service).await?;
    let primary = service.primary().cloned();
    let (service, rollback_id, adopted) = match primary {
        // ECS's circuit breaker (or a person) already went back: follow it.
        Some(p) if p.task_definition == previous && p.id != ours => (service, p.id, true),
        // Ours is still in charge (alarm, timeout, breaker without rollback): go back.
        Some(p) if p.id == ours || p.task_definition == ours_td => {
            let updated = ecs.update_service(&d.cluster, &d.service, &previous).await?;
            let back = updated
                .deployments
                .iter()
                .find(|dep| dep.status == "PRIMARY" && dep.task_definition == previous)
                .map(|dep| dep.id.clone())
                .ok_or_else(|| DeployError::Aws(format!("UpdateService returned no PRIMARY deployment of {previous}")))?;
            (updated, back, false)
        }
        Some(p) => {
            return Err(DeployError::UpdateRejected(format!(
                "{}: the service was moved to {} by another deployment ({}); not rolling back over it",
                input.reason,
                short_td(&p.task_definition),
                p.id
            )));
        }
        None => return Err(DeployError::Aws(format!("service {}/{} has no PRIMARY deployment", d.cluster, d.service))),
    };

    let watch = Watch {
        phase: Phase::Rollback,
        ecs_deployment_id: rollback_id.clone(),
        service_arn: service.service_arn.clone(),
        target_group_arns: service.target_group_arns.clone(),
        deadline: clock.now() + rollback_timeout,
        task_token: None,
        verdict: None,
    };
    let how = if adopted { "ECS is rolling back" } else { "rolling back" };
    Recorder { store, notifier, clock }
        .move_to(
            id,
            DeploymentStatus::RollingBack,
            format!("{how} to {} (ECS deployment {rollback_id}): {}", short_td(&previous), input.reason),
            RecordPatch {
                rollback_ecs_deployment_id: Some(rollback_id.clone()),
                watch: Some(Some(watch)),
                failure_reason: Some(input.reason.clone()),
                ..Default::default()
            },
        )
        .await?;
    Ok(RollBackOutput { ecs_deployment_id: rollback_id, adopted })
}
