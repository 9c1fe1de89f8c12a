//! Step "Check …": the slow-poll fallback that covers lost events, and the
//! deadline.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{ForDeployment, Observer, ProgressLog, Step, load};
use crate::DeployError;
use crate::domain::{DeploymentId, Phase, Verdict};
use crate::error::Result;
use crate::ports::{Alarms, Clock, DeploymentStore, Ecs, Notifier, ServiceLocks, TargetHealth};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInput {
    pub deployment_id: DeploymentId,
    pub phase: Phase,
}

impl ForDeployment for CheckInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

/// Also renews the service lease (the poll passes here at least once per interval).
pub struct CheckRollout<S, E, H, A, L, N, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub alarms: A,
    pub locks: L,
    /// Announces each stage or traffic change it sees.
    pub notifier: N,
    pub clock: C,
    /// Where a person decides when ECS holds the rollout at a PAUSE hook.
    pub approval_endpoint: Option<crate::domain::ApprovalEndpoint>,
    /// How far each pass extends the service lease (see [`lease`](super::lease)).
    pub lease: Duration,
}

impl<S, E, H, A, L, N, C> Step for CheckRollout<S, E, H, A, L, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    L: ServiceLocks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "check-rollout";
    type Input = CheckInput;
    type Output = Verdict;

    async fn run(&self, input: CheckInput) -> Result<Verdict> {
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        if !self.locks.renew(&d.service_key, id, self.clock.now() + self.lease).await? {
            tracing::warn!("service lease lost: another deployment took the service over");
        }
        let watch = d
            .watch
            .clone()
            .filter(|w| w.phase == input.phase)
            .ok_or_else(|| DeployError::InvalidInput(format!("deployment {id} has no {:?} watch", input.phase)))?;
        // An event already decided: that verdict stands.
        if let Some(v) = watch.verdict.clone().filter(Verdict::is_final) {
            return Ok(v);
        }
        let verdict = Observer { ecs: &self.ecs, elb: &self.elb, alarms: &self.alarms, clock: &self.clock }
            .observe(&d, &watch)
            .await?;
        ProgressLog {
            store: &self.store,
            notifier: &self.notifier,
            clock: &self.clock,
            endpoint: self.approval_endpoint.as_ref(),
        }
        .note(&d, &watch, &verdict)
        .await?;
        if verdict.is_final() {
            // The first verdict recorded wins (an event may have decided meanwhile).
            let stored = self.store.record_verdict(id, &verdict).await?;
            if let Some(v) = stored.and_then(|d| d.watch).and_then(|w| w.verdict) {
                return Ok(v);
            }
        }
        Ok(verdict)
    }
}
