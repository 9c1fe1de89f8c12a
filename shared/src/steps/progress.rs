//! Where ECS's service deployment stands, written down as it moves, and
//! ECS's PAUSE hooks: the record waits AWAITING_APPROVAL while ECS does.

use super::Recorder;
use crate::domain::{
    Approval, ApprovalEndpoint, Deployment, DeploymentStatus, HookRunStatus, RecordPatch, RolloutProgress, Verdict,
    Watch, iso,
};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Notifier};

/// Turns what a look at a rollout saw (stage, traffic weights, a PAUSE hook
/// waiting) into timeline entries and bus events, once per change.
pub struct ProgressLog<'a, S, N, C> {
    pub store: &'a S,
    pub notifier: &'a N,
    pub clock: &'a C,
    /// Where a person decides, for the approval request's message.
    pub endpoint: Option<&'a ApprovalEndpoint>,
}

impl<S: DeploymentStore, N: Notifier, C: Clock> ProgressLog<'_, S, N, C> {
    /// Records `verdict`'s progress unless it is final (its own status change
    /// says it all), has no stage or weights, or the watch has it already;
    /// and moves the record to AWAITING_APPROVAL while ECS holds the rollout
    /// at a PAUSE hook (and back once ECS goes on).
    pub async fn note(&self, d: &Deployment, watch: &Watch, verdict: &Verdict) -> Result<()> {
        let d = match self.resumed(d, verdict).await? {
            Some(after) => after,
            None => d.clone(),
        };
        self.progress(&d, watch, verdict).await?;
        self.paused(&d, verdict).await
    }

    async fn progress(&self, d: &Deployment, watch: &Watch, verdict: &Verdict) -> Result<()> {
        // A rolling update has no stages or traffic weights: its progress is
        // the status change the verdict brings.
        let Some(progress) = verdict.progress.as_ref().filter(|p| !verdict.is_final() && p.shifts_traffic()) else {
            return Ok(());
        };
        if watch.progress.as_deref() == Some(progress.key().as_str()) {
            return Ok(());
        }
        let written = self
            .store
            .record_progress(
                &d.deployment_id,
                d.status,
                watch.phase,
                &watch.ecs_deployment_id,
                progress,
                verdict.observed_at,
            )
            .await?;
        if let Some(after) = written {
            tracing::info!(progress = %progress.line(), "service deployment moved");
            // Written already: a retry would find it and announce nothing, so
            // a failed announcement is logged, not retried.
            if let Err(e) = self.recorder().announce(&after).await {
                tracing::warn!(error = %e, "stage change recorded but not announced");
            }
        }
        Ok(())
    }

    fn recorder(&self) -> Recorder<'_, S, N, C> {
        Recorder { store: self.store, notifier: self.notifier, clock: self.clock }
    }

    /// ECS waits at a PAUSE hook the record does not wait at yet: ask.
    async fn paused(&self, d: &Deployment, verdict: &Verdict) -> Result<()> {
        let Some(paused) = verdict.progress.as_ref().and_then(|p| p.paused.as_ref()) else { return Ok(()) };
        if d.status != DeploymentStatus::Waiting || verdict.is_final() {
            return Ok(());
        }
        let approval = Approval::ecs_pause(paused, self.endpoint.cloned(), verdict.observed_at);
        let stage = paused.lifecycle_stage.as_ref().map_or_else(|| "its current stage".to_owned(), ToString::to_string);
        let until = paused.expires_at.map_or_else(String::new, |e| format!(" until {}", iso::format(&e)));
        let detail =
            format!("ECS holds the rollout at {stage} (PAUSE hook {}){until}: waiting for approval", paused.hook_id);
        let patch = RecordPatch { approval: Some(approval), ..Default::default() };
        match self.recorder().move_to(&d.deployment_id, DeploymentStatus::AwaitingApproval, detail, patch).await {
            Ok(_) => Ok(()),
            // Another look moved it first (or the run went on): theirs stands.
            Err(crate::DeployError::StaleTransition { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// ECS went on from the PAUSE hook the record waits at without a
    /// decision through the stack (its timeout, or someone continued it in
    /// the console or with another tool): back to WAITING, saying so.
    async fn resumed(&self, d: &Deployment, verdict: &Verdict) -> Result<Option<Deployment>> {
        let Some(approval) = d.approval.as_ref().filter(|_| d.is_paused_by_ecs()) else { return Ok(None) };
        let progress = verdict.progress.as_ref();
        let hook = approval.hook_id.as_deref().unwrap_or_default();
        if progress.and_then(|p| p.paused.as_ref()).is_some_and(|p| p.hook_id == hook) {
            return Ok(None);
        }
        let now = self.clock.now();
        // Decided through the stack (the entry point's own move may not be
        // written yet): the same line it writes; else how ECS ended the wait.
        let (decided, detail) = match approval.outcome {
            Some(_) => (approval.clone(), crate::domain::after_decision(approval).1),
            None => {
                let (outcome, detail) = ended_without_us(progress, hook, approval);
                (approval.clone().decided(outcome, None, None, now), detail)
            }
        };
        let held = now - approval.requested_at;
        let patch = RecordPatch {
            watch_deadline: d.watch.as_ref().map(|w| w.deadline + held.max(chrono::Duration::zero())),
            approval: Some(decided),
            ..Default::default()
        };
        match self.recorder().move_to(&d.deployment_id, DeploymentStatus::Waiting, detail, patch).await {
            Ok(after) => Ok(Some(after)),
            Err(crate::DeployError::StaleTransition { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How ECS's wait at `hook` ended, when nobody decided through the stack.
fn ended_without_us(
    progress: Option<&RolloutProgress>,
    hook: &str,
    approval: &Approval,
) -> (crate::domain::ApprovalOutcome, String) {
    use crate::domain::{ApprovalOutcome, OnTimeout};
    let rolling_back = progress.is_some_and(|p| p.status.is_rollback());
    match progress.and_then(|p| p.hook_status(hook)) {
        Some(HookRunStatus::TimedOut) => {
            let outcome = ApprovalOutcome::from(approval.on_timeout);
            let then = match approval.on_timeout {
                OnTimeout::Approve => "ECS continues the deployment",
                OnTimeout::Reject => "ECS rolls the deployment back",
            };
            (outcome, format!("nobody approved at PAUSE hook {hook} before it timed out; {then}"))
        }
        _ if rolling_back => (
            ApprovalOutcome::Rejected,
            format!("ECS stopped waiting at PAUSE hook {hook}: it rolls the deployment back"),
        ),
        _ => (
            ApprovalOutcome::Approved,
            format!("ECS went on from PAUSE hook {hook} without a decision through the stack (continued outside it)"),
        ),
    }
}
