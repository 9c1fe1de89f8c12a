//! Step "Take the service": one rollout per service at a time, newest wins.
//!
//! A run may roll out only while it holds the service's lock (a conditional
//! write with a lease). A push that finds the service busy waits QUEUED; a
//! push that is older than one queued, in flight or serving never deploys and
//! ends SUPERSEDED with a pointer to the newer one. Queued runs (and runs held
//! for approval before the rollout) that are superseded are resumed at once
//! so they end instead of waiting. While a person has frozen the service, a
//! push waits HELD (a rollback or a forced manual deploy passes).

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{DeploymentInput, NewestWins, Recorder, Step, lease, load};
use crate::DeployError;
use crate::domain::{DeploymentStatus, RecordPatch};
use crate::error::Result;
use crate::ports::{Claim, Clock, DeploymentStore, FreezeRule, Notifier, ServiceLocks, TaskCallbacks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClaimOutcome {
    /// The run holds the service: go on and register the revision.
    Granted,
    /// Another rollout is in flight, or the service is frozen (status
    /// HELD): wait to be woken (or poll).
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

/// How often a run held by a freeze claims again (when no unfreeze woke it):
/// about 5 history events per look, so a year-long execution stays well under
/// Step Functions' 25,000.
pub const HELD_POLL_SECONDS: i64 = 15 * 60;

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
        if d.status == DeploymentStatus::AwaitingApproval {
            // Only a decision moves it on (to QUEUED, or to an end).
            return Err(DeployError::InvalidInput(format!("deployment {id} is waiting for approval")));
        }
        let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };
        let rule = NewestWins {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        };

        // Never move the service backwards: something newer is serving, in flight or waiting.
        let siblings = rule.siblings(&d).await?;
        if let Some((n, why)) = rule.newer(&d, &siblings).await? {
            let d = rule.supersede(&d, n, why).await?;
            return Ok(out(ClaimOutcome::Closed, d.status));
        }

        let now = self.clock.now();
        let freeze = if d.passes_freeze() { FreezeRule::Pass } else { FreezeRule::Respect };
        let claim = self.locks.acquire(&d.service_key, id, now, now + lease(self.poll_interval), freeze).await?;
        // Older pushes still waiting for the service will never deploy now (the
        // holder itself may still be PENDING between its claim and its first step).
        let holder = match &claim {
            Claim::Busy { owner, .. } => Some(owner),
            Claim::Acquired { previous_owner } => previous_owner.as_ref(),
            Claim::Frozen(_) => None,
        };
        let waiting = siblings.iter().filter(|s| s.waits_before_rollout()).filter(|s| Some(&s.deployment_id) != holder);
        for older in waiting {
            rule.supersede(older, &d, "is newer").await?;
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
                let d = if matches!(d.status, DeploymentStatus::Pending | DeploymentStatus::Held) {
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
            Claim::Frozen(freeze) => {
                let d = if d.status == DeploymentStatus::Held {
                    d
                } else {
                    let line = freeze.held_line(&d.service_key);
                    recorder.move_to(id, DeploymentStatus::Held, line, RecordPatch::default()).await?
                };
                // A freeze may last days and the unfreeze wakes the run: its
                // poll only covers a lost wake-up, so it is slower (each loop
                // adds to the execution's history, which Step Functions caps
                // at 25,000 events).
                let poll = self.poll_interval.num_seconds().max(HELD_POLL_SECONDS);
                Ok(ClaimOutput { outcome: ClaimOutcome::Queued, status: d.status, poll_interval_seconds: poll })
            }
        }
    }
}
