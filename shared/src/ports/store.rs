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

    /// Records with an active watch (WAITING or ROLLING_BACK): few at any time.
    fn active_watches(&self) -> impl Future<Output = Result<Vec<Deployment>>> + Send;

    /// A service's deployments, newest first.
    fn history(&self, service_key: &str, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send;

    /// Deployments across services, newest first.
    fn recent(&self, limit: usize) -> impl Future<Output = Result<Vec<Deployment>>> + Send;
}
