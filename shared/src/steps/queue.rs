//! After a deployment ends: free its service and wake the run queued for it.

use serde_json::json;

use crate::domain::{Deployment, DeploymentStatus};
use crate::error::Result;
use crate::ports::{DeploymentStore, ServiceLocks, Serving, TaskCallbacks};

/// The ports that hand a service from one deployment to the next.
pub struct ServiceQueue<'a, S, L, K> {
    pub store: &'a S,
    pub locks: &'a L,
    pub callbacks: &'a K,
}

impl<S: DeploymentStore, L: ServiceLocks, K: TaskCallbacks> ServiceQueue<'_, S, L, K> {
    /// Releases the lock if `d` holds it (recording it as serving if it
    /// succeeded) and resumes the newest queued deployment of the service.
    pub async fn release(&self, d: &Deployment) -> Result<()> {
        let serving =
            (d.status == DeploymentStatus::Succeeded).then(|| Serving { deployment_id: d.deployment_id.clone() });
        self.locks.release(&d.service_key, &d.deployment_id, serving.as_ref()).await?;
        let next = self
            .store
            .history(&d.service_key, 100)
            .await?
            .into_iter()
            .filter(|s| s.status == DeploymentStatus::Queued)
            .reduce(|a, b| if a.is_newer_than(&b) { a } else { b });
        // Without a token yet, the queued run finds the service free on its next claim.
        if let Some(token) = next.and_then(|n| n.queue_token) {
            self.callbacks.succeed(&token, &json!({ "woken": "SERVICE_FREE" })).await?;
        }
        Ok(())
    }
}
