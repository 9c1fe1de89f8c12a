use std::collections::HashMap;
use std::sync::Mutex;

use crate::DeployError;
use chrono::{DateTime, Utc};

use crate::domain::{
    Approval, Deployment, DeploymentId, DeploymentStatus, HookVerdict, Phase, RolloutProgress, TimelineEntry,
    Transition, Verdict,
};
use crate::error::Result;
use crate::ports::{CheckLease, CreateOutcome, DeploymentStore, TransitionOutcome};

/// The deployments table in a map, with the adapter's conditional semantics.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<DeploymentId, Deployment>>,
    /// The ids each index query answered, in order: the records an event
    /// handler read, as DynamoDB would bill them.
    queried: Mutex<Vec<DeploymentId>>,
}

impl MemoryStore {
    pub fn all(&self) -> Vec<Deployment> {
        let mut v: Vec<_> = super::lock(&self.records).values().cloned().collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.deployment_id.cmp(&a.deployment_id)));
        v
    }

    /// The ids the index queries answered so far (`active_watches`,
    /// `watches_of_service`, `history`, `recent`), in order.
    pub fn queried(&self) -> Vec<DeploymentId> {
        super::lock(&self.queried).clone()
    }

    fn answer(&self, records: Vec<Deployment>) -> Vec<Deployment> {
        super::lock(&self.queried).extend(records.iter().map(|d| d.deployment_id.clone()));
        records
    }
}

impl DeploymentStore for MemoryStore {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome> {
        let mut map = super::lock(&self.records);
        if let Some(existing) = map.get(&d.deployment_id) {
            return Ok(CreateOutcome::Exists(Box::new(existing.clone())));
        }
        map.insert(d.deployment_id.clone(), d.clone());
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &DeploymentId) -> Result<Option<Deployment>> {
        Ok(super::lock(&self.records).get(id).cloned())
    }

    async fn transition(&self, id: &DeploymentId, t: &Transition) -> Result<TransitionOutcome> {
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
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
        let mut map = super::lock(&self.records);
        let d = map.get_mut(id).ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
        if d.status != waiting_in {
            return Err(DeployError::VerdictReady(id.clone()));
        }
        d.queue_token = Some(token.to_owned());
        Ok(d.clone())
    }

    async fn active_watches(&self) -> Result<Vec<Deployment>> {
        Ok(self.answer(self.all().into_iter().filter(|d| d.watch.is_some()).collect()))
    }

    async fn watches_of_service(&self, service_arn: &str) -> Result<Vec<DeploymentId>> {
        let mut of: Vec<Deployment> = self
            .all()
            .into_iter()
            .filter(|d| d.watch.as_ref().is_some_and(|w| !w.service_arn.is_empty() && w.service_arn == service_arn))
            .collect();
        // The index's range key.
        of.sort_by(|a, b| a.deployment_id.cmp(&b.deployment_id));
        Ok(self.answer(of).into_iter().map(|d| d.deployment_id).collect())
    }

    async fn begin_check(&self, id: &DeploymentId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<CheckLease> {
        let mut map = super::lock(&self.records);
        let Some(d) = map.get_mut(id) else { return Ok(CheckLease::Refused(None)) };
        let Some(w) = d.watch.as_mut().filter(|w| !w.is_settled() && !w.is_being_checked(now)) else {
            return Ok(CheckLease::Refused(Some(d.clone())));
        };
        w.checking_until = Some(until);
        w.recheck = false;
        Ok(CheckLease::Taken(d.clone()))
    }

    async fn ask_recheck(&self, id: &DeploymentId, now: DateTime<Utc>) -> Result<bool> {
        let mut map = super::lock(&self.records);
        let Some(w) = map.get_mut(id).and_then(|d| d.watch.as_mut()).filter(|w| w.is_being_checked(now)) else {
            return Ok(false);
        };
        w.recheck = true;
        Ok(true)
    }

    async fn end_check(&self, id: &DeploymentId, until: DateTime<Utc>, delivered: bool) -> Result<bool> {
        let mut map = super::lock(&self.records);
        let Some(w) = map.get_mut(id).and_then(|d| d.watch.as_mut()).filter(|w| w.checking_until == Some(until)) else {
            return Ok(false);
        };
        w.checking_until = None;
        w.delivered |= delivered;
        Ok(std::mem::take(&mut w.recheck))
    }

    async fn history(&self, service_key: &str, limit: usize) -> Result<Vec<Deployment>> {
        Ok(self.answer(self.all().into_iter().filter(|d| d.service_key == service_key).take(limit).collect()))
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Deployment>> {
        Ok(self.answer(self.all().into_iter().take(limit).collect()))
    }
}
