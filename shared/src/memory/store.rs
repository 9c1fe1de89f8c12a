use std::collections::HashMap;
use std::sync::Mutex;

use crate::DeployError;
use chrono::{DateTime, Utc};

use crate::domain::{
    Approval, Deployment, DeploymentId, DeploymentStatus, HookVerdict, Phase, RolloutProgress, TimelineEntry,
    Transition, Verdict,
};
use crate::error::Result;
use crate::ports::{CreateOutcome, DeploymentStore, TransitionOutcome};

/// The deployments table in a map, with the adapter's conditional semantics.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<DeploymentId, Deployment>>);

impl MemoryStore {
    pub fn all(&self) -> Vec<Deployment> {
        let mut v: Vec<_> = super::lock(&self.0).values().cloned().collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.deployment_id.cmp(&a.deployment_id)));
        v
    }
}

impl DeploymentStore for MemoryStore {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome> {
        let mut map = super::lock(&self.0);
        if let Some(existing) = map.get(&d.deployment_id) {
            return Ok(CreateOutcome::Exists(Box::new(existing.clone())));
        }
        map.insert(d.deployment_id.clone(), d.clone());
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &DeploymentId) -> Result<Option<Deployment>> {
        Ok(super::lock(&self.0).get(id).cloned())
    }

    async fn transition(&self, id: &DeploymentId, t: &Transition) -> Result<TransitionOutcome> {
        let mut map = super::lock(&self.0);
        let d = map.get_mut(id).ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
        if d.status == t.to {
            return Ok(TransitionOutcome::AlreadyThere(d.clone()));
        }
        // As the table's condition: a deadline only for a watch that is there.
        let no_watch = t.patch.watch_deadline.is_some() && t.patch.watch.is_none() && d.watch.is_none();
        if !d.status.can_move_to(t.to) || no_watch {
            return Err(DeployError::StaleTransition { id: id.clone(), current: d.status, wanted: t.to });
        }
        d.apply(t);
        Ok(TransitionOutcome::Moved(d.clone()))
    }

    async fn store_task_token(
        &self,
        id: &DeploymentId,
        phase: Phase,
        ecs_deployment_id: &str,
        token: &str,
    ) -> Result<Deployment> {
        let mut map = super::lock(&self.0);
        let d = map.get_mut(id).ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
        let w =
            d.watch.as_mut().filter(|w| w.phase == phase && w.ecs_deployment_id == ecs_deployment_id).ok_or_else(
                || DeployError::InvalidInput(format!("deployment {id} does not watch {ecs_deployment_id}")),
            )?;
        if w.verdict.is_some() {
            return Err(DeployError::VerdictReady(id.clone()));
        }
        w.task_token = Some(token.to_owned());
        Ok(d.clone())
    }

    async fn record_verdict(&self, id: &DeploymentId, verdict: &Verdict) -> Result<Option<Deployment>> {
        let mut map = super::lock(&self.0);
        let Some(d) = map.get_mut(id) else { return Ok(None) };
        let Some(w) =
            d.watch.as_mut().filter(|w| w.ecs_deployment_id == verdict.ecs_deployment_id && w.phase == verdict.phase)
        else {
            return Ok(None);
        };
        if w.verdict.is_none() {
            w.verdict = Some(verdict.clone());
        }
        Ok(Some(d.clone()))
    }

    async fn record_progress(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        phase: Phase,
        ecs_deployment_id: &str,
        progress: &RolloutProgress,
        at: DateTime<Utc>,
    ) -> Result<Option<Deployment>> {
        let mut map = super::lock(&self.0);
        let Some(d) = map.get_mut(id).filter(|d| d.status == status) else { return Ok(None) };
        let key = progress.key();
        let Some(w) = d.watch.as_mut().filter(|w| {
            w.phase == phase
                && w.ecs_deployment_id == ecs_deployment_id
                && w.verdict.is_none()
                && w.progress.as_ref() != Some(&key)
                && match (w.progress_at, progress.updated_at) {
                    (Some(seen), Some(now)) => seen < now,
                    _ => true,
                }
        }) else {
            return Ok(None);
        };
        w.progress = Some(key);
        if progress.updated_at.is_some() {
            w.progress_at = progress.updated_at;
        }
        w.service_deployment_arn = Some(progress.service_deployment_arn.clone());
        d.progress = Some(progress.clone());
        d.updated_at = at;
        d.timeline.push(TimelineEntry { state: status, at, detail: progress.line() });
        Ok(Some(d.clone()))
    }

    async fn note(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        at: DateTime<Utc>,
        detail: &str,
    ) -> Result<Option<Deployment>> {
        let mut map = super::lock(&self.0);
        let Some(d) = map.get_mut(id).filter(|d| d.status == status) else { return Ok(None) };
        d.updated_at = at;
        d.timeline.push(TimelineEntry { state: status, at, detail: detail.to_owned() });
        Ok(Some(d.clone()))
    }

    async fn record_hook_verdict(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        verdict: &HookVerdict,
    ) -> Result<Option<Deployment>> {
        let mut map = super::lock(&self.0);
        let Some(d) = map.get_mut(id).filter(|d| d.status == status) else { return Ok(None) };
        d.updated_at = verdict.at;
        d.timeline.push(TimelineEntry { state: status, at: verdict.at, detail: verdict.line() });
        d.hook_verdict = Some(verdict.clone());
        Ok(Some(d.clone()))
    }

    async fn record_approval(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        approval: &Approval,
    ) -> Result<Option<Deployment>> {
        let mut map = super::lock(&self.0);
        let undecided = |d: &&mut Deployment| d.approval.as_ref().is_none_or(|a| a.outcome.is_none());
        let Some(d) = map.get_mut(id).filter(|d| d.status == status).filter(undecided) else { return Ok(None) };
        d.approval = Some(approval.clone());
        Ok(Some(d.clone()))
    }

    async fn store_queue_token(
        &self,
        id: &DeploymentId,
        token: &str,
        waiting_in: DeploymentStatus,
    ) -> Result<Deployment> {
        let mut map = super::lock(&self.0);
        let d = map.get_mut(id).ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
        if d.status != waiting_in {
            return Err(DeployError::VerdictReady(id.clone()));
        }
        d.queue_token = Some(token.to_owned());
        Ok(d.clone())
    }

    async fn active_watches(&self) -> Result<Vec<Deployment>> {
        Ok(self.all().into_iter().filter(|d| d.watch.is_some()).collect())
    }

    async fn history(&self, service_key: &str, limit: usize) -> Result<Vec<Deployment>> {
        Ok(self.all().into_iter().filter(|d| d.service_key == service_key).take(limit).collect())
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Deployment>> {
        Ok(self.all().into_iter().take(limit).collect())
    }
}
