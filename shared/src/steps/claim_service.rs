//! Step "Take the service": one rollout per service at a time, newest wins.
//!
//! A run may roll out only while it holds the service's lock (a conditional
//! write with a lease). A push that finds the service busy waits QUEUED; a
//! push that is older than one queued, in flight or serving never deploys and
//! ends SUPERSEDED with a pointer to the newer one. Queued runs that are
//! superseded are resumed at once so they end instead of waiting.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{DeploymentInput, Recorder, Step, lease, load};
use crate::domain::{Deployment, DeploymentStatus, RecordPatch};
use crate::error::Result;
use crate::ports::{Claim, Clock, DeploymentStore, Notifier, ServiceLocks, TaskCallbacks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClaimOutcome {
    /// The run holds the service: go on and register the revision.
    Granted,
    /// Another rollout is in flight: wait to be woken (or poll).
    Queued,
    /// Nothing to do: the record is terminal (superseded, failed, …).
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimOutput {
    pub outcome: ClaimOutcome,
    pub status: DeploymentStatus,
    /// How long a queued run waits before it claims again.
    pub poll_interval_seconds: i64,
}

/// Takes the service for the run, queues it, or closes it as SUPERSEDED.
pub struct ClaimService<S, L, K, N, C> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
    /// How long a queued run waits before it claims again; the lease is derived from it.
    pub poll_interval: Duration,
}

impl<S, L, K, N, C> Step for ClaimService<S, L, K, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "claim-service";
    type Input = DeploymentInput;
    type Output = ClaimOutput;

    async fn run(&self, input: DeploymentInput) -> Result<ClaimOutput> {
        let id = &input.deployment_id;
        let out =
            |outcome, status| ClaimOutput { outcome, status, poll_interval_seconds: self.poll_interval.num_seconds() };
        let d = load(&self.store, id).await?;
        if d.status.is_terminal() {
            return Ok(out(ClaimOutcome::Closed, d.status));
        }
        if d.status.holds_service() {
            // A repeated step: the lock is ours already.
            return Ok(out(ClaimOutcome::Granted, d.status));
        }
        let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };

        // Never move the service backwards: something newer is serving, in flight or queued.
        let lock = self.locks.state(&d.service_key).await?;
        let siblings: Vec<Deployment> = self
            .store
            .history(&d.service_key, 100)
            .await?
            .into_iter()
            .filter(|s| s.deployment_id != d.deployment_id)
            .collect();
        let serving = lock.serving.as_ref().and_then(|s| siblings.iter().find(|x| x.deployment_id == s.deployment_id));
        let newer = serving.filter(|s| s.is_newer_than(&d)).or_else(|| {
            siblings.iter().filter(|s| !s.status.is_terminal() && s.is_newer_than(&d)).max_by(|a, b| order(a, b))
        });
        if let Some(n) = newer {
            let why = if n.status.is_terminal() {
                "is serving"
            } else if n.status.holds_service() {
                "is rolling out"
            } else {
                "is waiting"
            };
            let d = self.supersede(&recorder, &d, n, why).await?;
            return Ok(out(ClaimOutcome::Closed, d.status));
        }

        let now = self.clock.now();
        let claim = self.locks.acquire(&d.service_key, id, now, now + lease(self.poll_interval)).await?;
        // Older pushes still waiting for the service will never deploy now (the
        // holder itself may still be PENDING between its claim and its first step).
        let holder = match &claim {
            Claim::Busy { owner, .. } => Some(owner),
            Claim::Acquired { previous_owner } => previous_owner.as_ref(),
        };
        let waiting = siblings
            .iter()
            .filter(|s| matches!(s.status, DeploymentStatus::Pending | DeploymentStatus::Queued))
            .filter(|s| Some(&s.deployment_id) != holder);
        for older in waiting {
            self.supersede(&recorder, older, &d, "is newer").await?;
        }
        match claim {
            Claim::Acquired { previous_owner } => {
                if let Some(prev) = previous_owner.and_then(|p| siblings.iter().find(|s| s.deployment_id == p))
                    && !prev.status.is_terminal()
                {
                    // Its run stopped renewing (stopped, timed out, crashed): say so.
                    let why = format!("its run stopped: the service lease ran out and {id} took over");
                    let patch =
                        RecordPatch { failure_reason: Some(why.clone()), watch: Some(None), ..Default::default() };
                    if let Err(e) = recorder.move_to(&prev.deployment_id, DeploymentStatus::Failed, why, patch).await {
                        tracing::warn!(abandoned = %prev.deployment_id, error = %e, "could not close the abandoned deployment");
                    }
                }
                Ok(out(ClaimOutcome::Granted, d.status))
            }
            Claim::Busy { owner, .. } => {
                let d = if d.status == DeploymentStatus::Pending {
                    recorder
                        .move_to(
                            id,
                            DeploymentStatus::Queued,
                            format!("waiting for {owner} to finish on {}", d.service_key),
                            RecordPatch::default(),
                        )
                        .await?
                } else {
                    d
                };
                Ok(out(ClaimOutcome::Queued, d.status))
            }
        }
    }
}

impl<S, L, K, N, C> ClaimService<S, L, K, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    /// Ends `old` as SUPERSEDED by `by`, and wakes its run if it is waiting.
    async fn supersede(
        &self,
        recorder: &Recorder<'_, S, N, C>,
        old: &Deployment,
        by: &Deployment,
        why: &str,
    ) -> Result<Deployment> {
        let what = by.tag.as_deref().map_or_else(|| by.digest.to_string(), |t| format!("{}:{t}", by.repository));
        let detail = format!("superseded by {} ({what}), which {why}", by.deployment_id);
        let patch = RecordPatch { superseded_by: Some(by.deployment_id.clone()), ..Default::default() };
        let d = match recorder.move_to(&old.deployment_id, DeploymentStatus::Superseded, detail, patch).await {
            Ok(d) => d,
            // It moved on meanwhile (it may have been granted the service); leave it.
            Err(crate::DeployError::StaleTransition { .. }) => return load(&self.store, &old.deployment_id).await,
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
