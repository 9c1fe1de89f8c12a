use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{
    Approval, Deployment, DeploymentId, DeploymentStatus, HookVerdict, Phase, RolloutProgress, Transition, Verdict,
};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created,
    /// A record with this id exists already (a duplicate push); here it is.
    Exists(Box<Deployment>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransitionOutcome {
    Moved(Deployment),
    /// The record was already in the wanted status (a repeated step); unchanged.
    AlreadyThere(Deployment),
}

impl TransitionOutcome {
    pub fn record(&self) -> &Deployment {
        match self {
            Self::Moved(d) | Self::AlreadyThere(d) => d,
        }
    }

    pub fn into_record(self) -> Deployment {
        match self {
            Self::Moved(d) | Self::AlreadyThere(d) => d,
        }
    }
}

/// What [`DeploymentStore::begin_check`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckLease {
    /// The lease is this look's: here is the record as it is now.
    Taken(Deployment),
    /// Not taken: the record as it is (`None`: there is no such record). Its
    /// watch says why: there is none, it is settled, or another look holds it.
    Refused(Option<Deployment>),
}

/// The deployments table.
pub trait DeploymentStore: Send + Sync {
    /// Writes a new record unless one with its id exists (never overwrites).
    fn create(&self, d: &Deployment) -> impl Future<Output = Result<CreateOutcome>> + Send;

    fn get(&self, id: &DeploymentId) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Moves the record to `t.to` if its current status is one of
    /// `t.to.allowed_from()`, appending a timeline entry and applying the patch
    /// in one conditional write. `AlreadyThere` when it is in `t.to` already;
    /// `StaleTransition` when it is anywhere else; `DeploymentNotFound`.
    fn transition(&self, id: &DeploymentId, t: &Transition) -> impl Future<Output = Result<TransitionOutcome>> + Send;

    /// Stores the paused run's task token on the active watch, if the watch is
    /// for `phase` and `ecs_deployment_id` and has no verdict yet. `VerdictReady`
    /// when a verdict is there already; `StaleTransition`-free: `InvalidInput`
    /// when there is no such watch.
    fn store_task_token(
        &self,
        id: &DeploymentId,
        phase: Phase,
        ecs_deployment_id: &str,
        token: &str,
    ) -> impl Future<Output = Result<Deployment>> + Send;

    /// Records a final verdict on the watch of `verdict.ecs_deployment_id`
    /// unless one is recorded already, and returns the record as it is after
    /// (with the task token, if the run stored one). `None` when the record no
    /// longer watches that deployment.
    fn record_verdict(
        &self,
        id: &DeploymentId,
        verdict: &Verdict,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Records where ECS's service deployment stands: on the record, on the
    /// watch of `phase` and `ecs_deployment_id` (with the service deployment's
    /// ARN), and as a timeline entry in `status`, the record's status. Nothing
    /// is written (`None`) when the record is no longer in `status` or on that
    /// watch, the watch has a verdict, or it has this progress already (two
    /// events seeing the same stage write one entry).
    fn record_progress(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        phase: Phase,
        ecs_deployment_id: &str,
        progress: &RolloutProgress,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Appends a timeline entry `detail` in `status`, the record's status,
    /// unless the record has moved on; returns the record after (`None` when
    /// it is no longer in `status`).
    fn note(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        at: DateTime<Utc>,
        detail: &str,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Keeps the verification hook's answer on the record (the latest one)
    /// and as a timeline entry in `status`, the record's status; `None` when
    /// the record is no longer in `status`.
    fn record_hook_verdict(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        verdict: &HookVerdict,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Writes the decision of the record's approval request while the record
    /// is in `status` and no decision is recorded yet; the record after, or
    /// `None` (moved on, or decided already). No timeline entry: the move
    /// the decision brings writes it.
    fn record_approval(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        approval: &Approval,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;

    /// Stores the task token of a run waiting in `waiting_in` (QUEUED for the
    /// service, AWAITING_APPROVAL for a decision) if the record is still
    /// there; `VerdictReady` when it is not (the run should claim again).
    fn store_queue_token(
        &self,
        id: &DeploymentId,
        token: &str,
        waiting_in: DeploymentStatus,
    ) -> impl Future<Output = Result<Deployment>> + Send;

    /// Records with an active watch (WAITING or ROLLING_BACK), every service's:
    /// for what names no service (an alarm). Read from an index that lags the
    /// table by a moment.
    fn active_watches(&self) -> impl Future<Output = Result<Vec<Deployment>>> + Send;

    /// The ids of the records whose active watch is of the service `service_arn`
    /// (its ARN as ECS names it), whatever the number of other watches. Read
    /// from an index that lags the table by a moment: a watch that just began
    /// may be missing (the run's fallback check covers it), one that just ended
    /// may still be listed, so act on the record itself
    /// ([`begin_check`](Self::begin_check), [`get`](Self::get)).
    fn watches_of_service(&self, service_arn: &str) -> impl Future<Output = Result<Vec<DeploymentId>>> + Send;

    /// Takes the check lease of the record's watch until `until`, clearing its
    /// recheck request (the look that follows answers it), if the watch is not
    /// settled ([`Watch::is_settled`](crate::domain::Watch::is_settled)) and no
    /// other lease runs past `now`. `Taken` with the record after, `Refused`
    /// with the record as it is.
    fn begin_check(
        &self,
        id: &DeploymentId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<CheckLease>> + Send;

    /// Asks the look that holds the watch's check lease to look again once it
    /// is done (sets `recheck`). `false`, and nothing written, when no lease
    /// runs past `now`: that look is over, take the lease instead.
    fn ask_recheck(&self, id: &DeploymentId, now: DateTime<Utc>) -> impl Future<Output = Result<bool>> + Send;

    /// Ends the check lease taken until `until`: removes it and any recheck
    /// request in one write, marking the watch `delivered` if asked. Whether a
    /// recheck was asked meanwhile; `false`, and nothing written, when the
    /// lease is no longer that one (it ran out and another look took it, or the
    /// watch ended): the look that holds it now answers for it.
    fn end_check(
        &self,
        id: &DeploymentId,
        until: DateTime<Utc>,
        delivered: bool,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// A service's deployments, newest first.
    fn history(&self, service_key: &str, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send;

    /// Deployments across services, newest first.
    fn recent(&self, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send;
}
