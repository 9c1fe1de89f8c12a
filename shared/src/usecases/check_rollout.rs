//! Step "Check …": the slow-poll fallback that covers lost events, and the
//! deadline.

use serde::{Deserialize, Serialize};

use super::{load, observe};
use crate::DeployError;
use crate::domain::{DeploymentId, Phase, Verdict};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, TargetHealth};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInput {
    pub deployment_id: DeploymentId,
    pub phase: Phase,
}

pub async fn check_rollout(
    input: &CheckInput,
    store: &impl DeploymentStore,
    ecs: &impl Ecs,
    elb: &impl TargetHealth,
    clock: &impl Clock,
) -> Result<Verdict> {
    let d = load(store, &input.deployment_id).await?;
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
