//! After a deployment ends: free its service and wake the run queued for it.

use serde_json::json;

use crate::domain::{Deployment, DeploymentStatus};
use crate::error::Result;
use crate::ports::{DeploymentStore, ServiceLocks, Serving, TaskCallbacks};

/// Releases the lock if `d` holds it (recording it as serving if it
/// succeeded) and resumes the newest queued deployment of the service.
pub async fn release_service(
    d: &Deployment,
    store: &impl DeploymentStore,
    locks: &impl ServiceLocks,
    callbacks: &impl TaskCallbacks,
) -> Result<()> {
    let serving =
        (d.status == DeploymentStatus::Succeeded).then(|| Serving { deployment_id: d.deployment_id.to_string() });
    locks.release(&d.service_key, &d.deployment_id, serving.as_ref()).await?;
    let next = store
        .history(&d.service_key, 100)
        .await?
        .into_iter()
        .filter(|s| s.status == DeploymentStatus::Queued)
        .reduce(|a, b| if a.is_newer_than(&b) { a } else { b });
    // Without a token yet, the queued run finds the service free on its next claim.
    if let Some(token) = next.and_then(|n| n.queue_token) {
        callbacks.succeed(&token, &json!({ "woken": "SERVICE_FREE" })).await?;
    }
    Ok(())
}
