//! Step "Check …": the slow-poll fallback that covers lost events, and the
//! deadline.

use serde::{Deserialize, Serialize};

use super::{load, observe};
use crate::DeployError;
use crate::domain::{DeploymentId, Phase, Verdict};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, ServiceLocks, TargetHealth};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInput {
    pub deployment_id: DeploymentId,
    pub phase: Phase,
}

/// Also renews the service lease (the poll passes here at least once per interval).
#[allow(clippy::too_many_arguments)]
pub async fn check_rollout(
    input: &CheckInput,
    lease: chrono::Duration,
    store: &impl DeploymentStore,
    locks: &impl ServiceLocks,
    ecs: &impl Ecs,
    elb: &impl TargetHealth,
    clock: &impl Clock,
) -> Result<Verdict> {
    let d = load(store, &input.deployment_id).await?;
    if !locks.renew(&d.service_key, &input.deployment_id, clock.now() + lease).await? {
        tracing::warn!(deployment = %input.deployment_id, "service lease lost: another deployment took the service over");
    }
    let watch = d.watch.clone().filter(|w| w.phase == input.phase).ok_or_else(|| {
        DeployError::InvalidInput(format!("deployment {} has no {:?} watch", input.deployment_id, input.phase))
    })?;
    // An event already decided: that verdict stands (it may be an alarm, which
    // a look at ECS alone would not see).
    if let Some(v) = watch.verdict.clone().filter(Verdict::is_final) {
        return Ok(v);
    }
    let verdict = observe(&d, &watch, ecs, elb, clock).await?;
    if verdict.is_final() {
        // The first verdict recorded wins (an event may have decided meanwhile).
        let stored = store.record_verdict(&input.deployment_id, &verdict).await?;
        if let Some(v) = stored.and_then(|d| d.watch).and_then(|w| w.verdict) {
            return Ok(v);
        }
    }
    Ok(verdict)
}
