//! "Newest wins" on a service: a push older than one serving, in flight or
//! waiting never deploys, and the newest push supersedes the older ones that
//! wait (queued for the service, or held for approval before it).

use serde_json::json;

use super::{Recorder, load};
use crate::domain::{Deployment, DeploymentStatus, RecordPatch};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Notifier, ServiceLockState, ServiceLocks, TaskCallbacks};

/// The ports the rule needs.
pub struct NewestWins<'a, S, L, K, N, C> {
    pub store: &'a S,
    pub locks: &'a L,
    pub callbacks: &'a K,
    pub notifier: &'a N,
    pub clock: &'a C,
}

impl<S, L, K, N, C> NewestWins<'_, S, L, K, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    /// The service's other deployments, newest first.
    pub async fn siblings(&self, d: &Deployment) -> Result<Vec<Deployment>> {
        Ok(self
            .store
            .history(&d.service_key, 100)
            .await?
            .into_iter()
            .filter(|s| s.deployment_id != d.deployment_id)
            .collect())
    }

    /// The state of `d`'s service lock (what [`Self::newer`] weighs).
    pub async fn lock(&self, d: &Deployment) -> Result<ServiceLockState> {
        self.locks.state(&d.service_key).await
    }

    /// A push newer than `d` that is serving, in flight or waiting, with
    /// what it is doing: `d` must never deploy over it. `lock` is the
    /// service's lock as read for this decision.
    pub fn newer<'s>(
        &self,
        d: &Deployment,
        siblings: &'s [Deployment],
        lock: &ServiceLockState,
    ) -> Option<(&'s Deployment, &'static str)> {
        let serving = lock.serving.as_ref().and_then(|s| siblings.iter().find(|x| x.deployment_id == s.deployment_id));
        let newer = serving.filter(|s| s.is_newer_than(d)).or_else(|| {
            siblings.iter().filter(|s| !s.status.is_terminal() && s.is_newer_than(d)).max_by(|a, b| order(a, b))
        });
        newer.map(|n| {
            let why = if n.status.is_terminal() {
                "is serving"
            } else if n.holds_service() {
                "is rolling out"
            } else if n.status == DeploymentStatus::AwaitingApproval {
                "is waiting for approval"
            } else {
                "is waiting"
            };
            (n, why)
        })
    }

    /// Ends `old` as SUPERSEDED by `by`, and wakes its run if it is waiting
    /// (queued, or held for approval).
    pub async fn supersede(&self, old: &Deployment, by: &Deployment, why: &str) -> Result<Deployment> {
        let recorder = Recorder { store: self.store, notifier: self.notifier, clock: self.clock };
        let what = by.tag.as_deref().map_or_else(|| by.digest.to_string(), |t| format!("{}:{t}", by.repository));
        let detail = format!("superseded by {} ({what}), which {why}", by.deployment_id);
        let patch = RecordPatch { superseded_by: Some(by.deployment_id.clone()), ..Default::default() };
        let d = match recorder.move_to(&old.deployment_id, DeploymentStatus::Superseded, detail, patch).await {
            Ok(d) => d,
            // It moved on meanwhile (it may have been granted the service); leave it.
            Err(crate::DeployError::StaleTransition { .. }) => return load(self.store, &old.deployment_id).await,
            Err(e) => return Err(e),
        };
        if let Some(token) = &d.queue_token {
            self.callbacks.succeed(token, &json!({ "woken": "SUPERSEDED" })).await?;
        }
        Ok(d)
    }
}

fn order(a: &Deployment, b: &Deployment) -> std::cmp::Ordering {
    if a.is_newer_than(b) { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less }
}
