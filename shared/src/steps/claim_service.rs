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

use super::{ForDeployment, NewestWins, Recorder, Step, lease, load};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentId, DeploymentStatus, RecordPatch};
use crate::error::Result;
use crate::ports::{
    Claim, Clock, DeploymentStore, FreezeRule, Notifier, Runs, ServiceLockState, ServiceLocks, TaskCallbacks,
};

/// The claim's input: the deployment, and the run's own execution (from the
/// state machine's context, `$$.Execution.Id`): the other runs of the same
/// state machine are named from it when one's liveness is in doubt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimInput {
    pub deployment_id: DeploymentId,
    #[serde(default)]
    pub execution_arn: Option<String>,
    /// The run's state (`$`): whether it has been through the approval gate.
    #[serde(default)]
    pub state: RunState,
}

/// What the claim reads of the run's state. A run goes straight from the
/// settle to the claim, and to "Ask for approval" only when its target
/// requires approval: two state transitions and an invocation fewer for
/// every other deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    /// The gate's answer (`$.approval`), once the run has asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<GateSeen>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateSeen {
    pub outcome: super::GateOutcome,
}

impl ForDeployment for ClaimInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

impl ClaimInput {
    /// The claim of a run that has been through the approval gate, which answered `outcome`.
    pub fn after_gate(deployment_id: DeploymentId, outcome: super::GateOutcome) -> Self {
        Self { deployment_id, execution_arn: None, state: RunState { approval: Some(GateSeen { outcome }) } }
    }
}

impl From<DeploymentId> for ClaimInput {
    fn from(deployment_id: DeploymentId) -> Self {
        Self { deployment_id, execution_arn: None, state: RunState::default() }
    }
}

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
    /// The target requires approval and the run has not asked yet: to the
    /// gate first (nothing taken, nothing written).
    NeedsApproval,
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
pub struct ClaimService<S, L, K, N, C, R> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
    /// Asked before a lease that ran out is taken from its holder.
    pub runs: R,
    /// How long a queued run waits before it claims again; the lease is derived from it.
    pub poll_interval: Duration,
}

impl<S, L, K, N, C, R> Step for ClaimService<S, L, K, N, C, R>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
    R: Runs,
{
    const NAME: &'static str = "claim-service";
    type Input = ClaimInput;
    type Output = ClaimOutput;

    async fn run(&self, input: ClaimInput) -> Result<ClaimOutput> {
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
        // Unless the lock is ours already: an attempt before this one was
        // granted the service and died before answering; a push that came
        // since queued behind it, and the retry answers as that attempt did.
        // One read of the lock serves every decision below; the acquire
        // itself is conditional, so a lock that changed since is caught there.
        let siblings = rule.siblings(&d).await?;
        let lock = rule.lock(&d).await?;
        let granted_before = lock.owner.as_ref() == Some(id);
        if !granted_before && let Some((n, why)) = rule.newer(&d, &siblings, &lock) {
            let d = rule.supersede(&d, n, why).await?;
            return Ok(out(ClaimOutcome::Closed, d.status));
        }

        if d.approval_policy.is_some() && input.state.approval.is_none() && !granted_before {
            return Ok(out(ClaimOutcome::NeedsApproval, d.status));
        }

        let now = self.clock.now();
        // A lease that ran out under a run that is alive (a slow step, retries
        // with backoff) is extended for it, not taken: it is not abandoned.
        if let Some(holder) = self.live_holder(&d, &siblings, &lock, input.execution_arn.as_deref(), now).await? {
            self.locks.renew(&d.service_key, &holder, now + lease(self.poll_interval)).await?;
            tracing::info!(%holder, "the holder's lease ran out but its run is alive: lease extended, waiting");
            return self.queue_behind(&recorder, &d, &holder, out).await;
        }
        let freeze = if d.passes_freeze() { FreezeRule::Pass } else { FreezeRule::Respect };
        let claim = self.locks.acquire(&d.service_key, id, now, now + lease(self.poll_interval), freeze).await?;
        // Older pushes still waiting for the service will never deploy now (the
        // holder itself may still be PENDING between its claim and its first step).
        let holder = match &claim {
            Claim::Busy { owner, .. } => Some(owner),
            Claim::Acquired { previous_owner } => previous_owner.as_ref(),
            Claim::Frozen(_) => None,
        };
        // (Only older ones: a newer one may have queued behind this run's
        // first attempt, and it deploys after this one.)
        let waiting = siblings
            .iter()
            .filter(|s| s.waits_before_rollout() && !s.is_newer_than(&d))
            .filter(|s| Some(&s.deployment_id) != holder);
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
            Claim::Busy { owner, .. } => self.queue_behind(&recorder, &d, &owner, out).await,
            Claim::Frozen(freeze) => {
                let d = if d.status == DeploymentStatus::Held {
                    announce_unparked(&recorder, &d).await?;
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

impl<S, L, K, N, C, R> ClaimService<S, L, K, N, C, R>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
    R: Runs,
{
    /// The holder of `d`'s service whose lease ran out while its run is
    /// still RUNNING (asked of Step Functions, by the holder's execution
    /// name beside this run's own `execution_arn`).
    async fn live_holder(
        &self,
        d: &Deployment,
        siblings: &[Deployment],
        lock: &ServiceLockState,
        execution_arn: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<DeploymentId>> {
        let Some((machine, _)) = execution_arn.and_then(|arn| arn.rsplit_once(':')) else { return Ok(None) };
        let (Some(owner), Some(until)) = (lock.owner.clone(), lock.lease_until) else { return Ok(None) };
        if owner == d.deployment_id || until >= now {
            return Ok(None);
        }
        let Some(holder) = siblings.iter().find(|s| s.deployment_id == owner && !s.status.is_terminal()) else {
            return Ok(None);
        };
        let arn = format!("{machine}:{}", owner.execution_name(&holder.service_ref()?));
        Ok(self.runs.is_running(&arn).await?.then_some(owner))
    }

    /// `d` waits QUEUED behind `owner`.
    async fn queue_behind(
        &self,
        recorder: &Recorder<'_, S, N, C>,
        d: &Deployment,
        owner: &DeploymentId,
        out: impl Fn(ClaimOutcome, DeploymentStatus) -> ClaimOutput,
    ) -> Result<ClaimOutput> {
        let d = if matches!(d.status, DeploymentStatus::Pending | DeploymentStatus::Held) {
            recorder
                .move_to(
                    &d.deployment_id,
                    DeploymentStatus::Queued,
                    format!("waiting for {owner} to finish on {}", d.service_key),
                    RecordPatch::default(),
                )
                .await?
        } else {
            announce_unparked(recorder, d).await?;
            d.clone()
        };
        Ok(out(ClaimOutcome::Queued, d.status))
    }
}

/// A record that waits (QUEUED, HELD) but whose run has not parked its token
/// yet was moved there by an attempt of this claim that died before its
/// answer, maybe before its announcement too: announce it again. A run that
/// claims again after a wait has parked its token, and is not announced anew.
async fn announce_unparked<S: DeploymentStore, N: Notifier, C: Clock>(
    recorder: &Recorder<'_, S, N, C>,
    d: &Deployment,
) -> Result<()> {
    if d.queue_token.is_none() { recorder.announce(d).await } else { Ok(()) }
}
