//! Status writes and their announcements, always together.

use crate::domain::{
    Deployment, DeploymentId, DeploymentStateChange, DeploymentStatus, HumanMessage, RecordPatch, Transition, Verdict,
    transition_metrics,
};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Notifier, TransitionOutcome};

/// Moves a record and announces the move: an EventBridge event for every
/// status, an SNS message as well for terminal ones and approval requests.
pub struct Recorder<'a, S, N, C> {
    pub store: &'a S,
    pub notifier: &'a N,
    pub clock: &'a C,
}

impl<S: DeploymentStore, N: Notifier, C: Clock> Recorder<'_, S, N, C> {
    /// A repeated step finds the record already moved and announces it again
    /// (announcements are at least once; the write happened at most once).
    pub async fn move_to(
        &self,
        id: &DeploymentId,
        to: DeploymentStatus,
        detail: impl Into<String>,
        patch: RecordPatch,
    ) -> Result<Deployment> {
        self.end_on(id, to, detail, patch, None).await
    }

    /// [`Self::move_to`] for the move that ends a run on `verdict` (which
    /// the move clears from the record): its metrics say how long the
    /// verdict took to see ECS's end.
    pub async fn end_on(
        &self,
        id: &DeploymentId,
        to: DeploymentStatus,
        detail: impl Into<String>,
        patch: RecordPatch,
        verdict: Option<&Verdict>,
    ) -> Result<Deployment> {
        let t = Transition { to, at: self.clock.now(), detail: detail.into(), patch };
        let outcome = self.store.transition(id, &t).await?;
        match &outcome {
            TransitionOutcome::AlreadyThere(_) => {
                tracing::info!(deployment = %id, status = %to, "status already recorded; announcing again");
            }
            // Counted once: only by the write that moved it.
            TransitionOutcome::Moved(d) => crate::emf::emit(&transition_metrics(d, to, verdict, t.at)),
        }
        let record = outcome.into_record();
        self.announce(&record).await?;
        Ok(record)
    }

    pub async fn announce(&self, record: &Deployment) -> Result<()> {
        let change = DeploymentStateChange::of(record);
        // People hear of ends, and of every wait that needs them.
        let human = (record.status.is_terminal() || record.status == DeploymentStatus::AwaitingApproval)
            .then(|| HumanMessage::of(record));
        self.notifier.publish(&change, human.as_ref()).await
    }
}
