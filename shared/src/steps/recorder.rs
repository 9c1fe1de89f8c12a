//! Status writes and their announcements, always together.

use crate::domain::{
    Deployment, DeploymentId, DeploymentStateChange, DeploymentStatus, HumanMessage, RecordPatch, Transition,
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
        let t = Transition { to, at: self.clock.now(), detail: detail.into(), patch };
        let outcome = self.store.transition(id, &t).await?;
        if let TransitionOutcome::AlreadyThere(_) = &outcome {
            tracing::info!(deployment = %id, status = %to, "status already recorded; announcing again");
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
