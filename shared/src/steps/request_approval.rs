//! Step "Ask for approval" (and "Close the approval"): the pipeline's own
//! gate, before the run takes the service.
//!
//! A deployment whose target requires approval waits AWAITING_APPROVAL here,
//! with nothing changed on the service, until a person decides through
//! `decide-approval` or the request times out (then as the target says). A
//! service whose deployment configuration has a PAUSE hook is not held
//! here: ECS holds it at that stage, and the pipeline asks for the decision
//! when ECS does. Newest wins at the gate as in the queue: a newer push
//! supersedes an older one that waits for approval.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ForDeployment, NewestWins, Recorder, Step, load};
use crate::domain::{
    Approval, ApprovalEndpoint, ApprovalGate, DecisionPlan, Deployment, DeploymentId, DeploymentStatus, RecordPatch,
    after_decision, plan_decision,
};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier, ServiceLocks, TaskCallbacks};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestInput {
    pub deployment_id: DeploymentId,
    /// The wait for the decision timed out: close the request as the target says.
    #[serde(default)]
    pub expired: bool,
}

impl ForDeployment for ApprovalRequestInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GateOutcome {
    /// Held: the run waits for the decision (at most `timeoutSeconds`).
    Awaiting,
    /// Nothing to wait for here (no approval required, ECS holds it at a
    /// PAUSE hook, or it was approved): take the service.
    Pass,
    /// The record is ended (rejected, superseded): nothing to roll out.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateOutput {
    pub outcome: GateOutcome,
    pub status: DeploymentStatus,
    /// How long the run waits for the decision; at least 1 (Step Functions
    /// refuses a zero timeout), whatever the outcome.
    pub timeout_seconds: i64,
}

/// Holds a deployment for approval, or closes its request on timeout.
pub struct RequestApproval<S, L, K, E, N, C> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
    /// Where a person decides; in the SNS message and on the record.
    pub endpoint: Option<ApprovalEndpoint>,
}

impl<S, L, K, E, N, C> Step for RequestApproval<S, L, K, E, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    E: Ecs,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "request-approval";
    type Input = ApprovalRequestInput;
    type Output = GateOutput;

    async fn run(&self, input: ApprovalRequestInput) -> Result<GateOutput> {
        let d = load(&self.store, &input.deployment_id).await?;
        let now = self.clock.now();
        if input.expired {
            return self.close(d, now).await;
        }
        match d.status {
            s if s.is_terminal() => Ok(self.out(GateOutcome::Closed, &d, now)),
            // A repeated step: the request stands. The attempt that made it
            // may have died before announcing it (the person's only word of
            // it) or before superseding the older pushes it holds back.
            DeploymentStatus::AwaitingApproval => {
                self.recorder().announce(&d).await?;
                self.supersede_older(&d).await?;
                Ok(self.out(GateOutcome::Awaiting, &d, now))
            }
            DeploymentStatus::Pending => self.ask(d, now).await,
            // Past the gate already (approved, or a repeated step after it).
            _ => Ok(self.out(GateOutcome::Pass, &d, now)),
        }
    }
}

impl<S, L, K, E, N, C> RequestApproval<S, L, K, E, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    E: Ecs,
    N: Notifier,
    C: Clock,
{
    fn recorder(&self) -> Recorder<'_, S, N, C> {
        Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }
    }

    fn out(&self, outcome: GateOutcome, d: &Deployment, now: DateTime<Utc>) -> GateOutput {
        let left = d
            .approval
            .as_ref()
            .filter(|_| outcome == GateOutcome::Awaiting)
            .and_then(|a| a.expires_at)
            .map_or(1, |e| (e - now).num_seconds());
        GateOutput { outcome, status: d.status, timeout_seconds: left.max(1) }
    }

    async fn ask(&self, d: Deployment, now: DateTime<Utc>) -> Result<GateOutput> {
        let Some(policy) = d.approval_policy.clone() else {
            return Ok(self.out(GateOutcome::Pass, &d, now));
        };
        let rule = NewestWins {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        };
        // Nobody is asked about a push that will never deploy.
        let siblings = rule.siblings(&d).await?;
        let lock = rule.lock(&d).await?;
        if let Some((n, why)) = rule.newer(&d, &siblings, &lock) {
            let d = rule.supersede(&d, n, why).await?;
            return Ok(self.out(GateOutcome::Closed, &d, now));
        }
        // ECS holds the rollout itself at its PAUSE hook: one decision, there.
        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        if !service.pause_hook_stages.is_empty() {
            let stages: Vec<String> = service.pause_hook_stages.iter().map(ToString::to_string).collect();
            let line = format!("approval required: ECS holds the rollout at its PAUSE hook ({})", stages.join(", "));
            // Once: a repeated step finds the line its first attempt wrote.
            if !d.timeline.iter().any(|e| e.state == d.status && e.detail == line) {
                self.store.note(&d.deployment_id, d.status, now, &line).await?;
            }
            return Ok(self.out(GateOutcome::Pass, &d, now));
        }
        let approval = Approval::pipeline(&policy, self.endpoint.clone(), now);
        let then = match policy.on_timeout {
            crate::domain::OnTimeout::Reject => "not deployed",
            crate::domain::OnTimeout::Approve => "deployed",
        };
        let until = approval.expires_at.map(|e| crate::domain::iso::format(&e)).unwrap_or_default();
        let detail = format!("waiting for approval until {until}; without a decision it is {then}");
        let patch = RecordPatch { approval: Some(approval), ..Default::default() };
        let held = self.recorder().move_to(&d.deployment_id, DeploymentStatus::AwaitingApproval, detail, patch).await?;
        self.supersede_older(&held).await?;
        Ok(self.out(GateOutcome::Awaiting, &held, now))
    }

    /// Older pushes held at the gate will never deploy now that `held` waits there.
    async fn supersede_older(&self, held: &Deployment) -> Result<()> {
        let rule = NewestWins {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        };
        let siblings = rule.siblings(held).await?;
        for older in siblings.iter().filter(|s| s.is_held_before_rollout() && !s.is_newer_than(held)) {
            rule.supersede(older, held, "is newer").await?;
        }
        Ok(())
    }

    /// The wait timed out: the request ends as the target says. A timer that
    /// fired early (the record's deadline is still ahead) waits again.
    async fn close(&self, d: Deployment, now: DateTime<Utc>) -> Result<GateOutput> {
        let held = d.approval.as_ref().filter(|a| a.gate == ApprovalGate::Pipeline && a.outcome.is_none());
        let Some(approval) = held.filter(|_| d.status == DeploymentStatus::AwaitingApproval) else {
            // Closed by the timeout already: a repeated step, whose first
            // attempt may have died before announcing it.
            if d.approval.as_ref().is_some_and(|a| timed_out_into(a, d.status)) {
                self.recorder().announce(&d).await?;
            }
            let outcome = if d.status.is_terminal() { GateOutcome::Closed } else { GateOutcome::Pass };
            return Ok(self.out(outcome, &d, now));
        };
        if approval.expires_at.is_some_and(|e| now < e) {
            return Ok(self.out(GateOutcome::Awaiting, &d, now));
        }
        let decided = match plan_decision(&d, approval.on_timeout.into(), None, None, now)? {
            DecisionPlan::Decide(a) | DecisionPlan::AlreadyDecided(a) => a,
        };
        let (to, detail) = after_decision(&decided);
        let failure_reason =
            (to == DeploymentStatus::Rejected).then(|| format!("not approved {}", decided.decided_how()));
        let patch = RecordPatch { approval: Some(decided), failure_reason, ..Default::default() };
        let d = self.recorder().move_to(&d.deployment_id, to, detail, patch).await?;
        let outcome = if d.status.is_terminal() { GateOutcome::Closed } else { GateOutcome::Pass };
        Ok(self.out(outcome, &d, now))
    }
}

/// Whether the pipeline's request `a` was decided by its timeout (nobody
/// decided it) and moved the record to `status`, where it still is.
fn timed_out_into(a: &Approval, status: DeploymentStatus) -> bool {
    a.gate == ApprovalGate::Pipeline && a.outcome.is_some() && a.decided_by.is_none() && after_decision(a).0 == status
}
