//! Steps "Record …": the terminal status, with what it is based on.

use serde::{Deserialize, Serialize};

use super::{ForDeployment, Recorder, ServiceQueue, Step, load};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentId, DeploymentStatus, Outcome, RecordPatch, Verdict};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Notifier, ServiceLocks, TaskCallbacks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinalOutcome {
    Succeeded,
    RolledBack,
    Failed,
}

/// A step error as a `Catch` puts it in the state (`ResultPath: $.error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

impl StepError {
    /// Lambda errors arrive as a JSON `Cause` with `errorMessage`; others as text.
    pub fn message(&self) -> String {
        let msg = serde_json::from_str::<serde_json::Value>(&self.cause)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| self.cause.clone());
        if msg.is_empty() { self.error.clone() } else { format!("{}: {msg}", self.error) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeInput {
    pub deployment_id: DeploymentId,
    pub outcome: FinalOutcome,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub error: Option<StepError>,
}

impl ForDeployment for OutcomeInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeOutput {
    pub deployment_id: DeploymentId,
    pub status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// Records the terminal status, then frees the service for the next queued push.
pub struct RecordOutcome<S, L, K, N, C> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
}

impl<S, L, K, N, C> Step for RecordOutcome<S, L, K, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "record-outcome";
    type Input = OutcomeInput;
    type Output = OutcomeOutput;

    async fn run(&self, input: OutcomeInput) -> Result<OutcomeOutput> {
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        if input.outcome == FinalOutcome::Failed && d.status.is_terminal() && d.status != DeploymentStatus::Failed {
            return self.ended_otherwise(d).await;
        }
        let verdict_reason = input.verdict.as_ref().map(|v| v.reason.clone());
        let health =
            input.verdict.as_ref().filter(|v| v.outcome == Outcome::Succeeded).map(|v| v.target_health.clone());

        let (to, detail, patch) = match input.outcome {
            FinalOutcome::Succeeded => {
                // Success needs a successful verdict on our rollout; anything else
                // reaching here is a wiring bug, and must not be reported as success.
                let v = input
                    .verdict
                    .as_ref()
                    .filter(|v| v.outcome == Outcome::Succeeded && v.phase == crate::domain::Phase::Rollout)
                    .ok_or_else(|| DeployError::InvalidInput("SUCCEEDED needs a successful rollout verdict".into()))?;
                (
                    DeploymentStatus::Succeeded,
                    v.reason.clone(),
                    RecordPatch { target_health: health, watch: Some(None), ..Default::default() },
                )
            }
            FinalOutcome::RolledBack => {
                let v = input
                    .verdict
                    .as_ref()
                    .filter(|v| v.outcome == Outcome::Succeeded && v.phase == crate::domain::Phase::Rollback)
                    .ok_or_else(|| {
                        DeployError::InvalidInput("ROLLED_BACK needs a successful rollback verdict".into())
                    })?;
                let why = d.failure_reason.clone().unwrap_or_default();
                (
                    DeploymentStatus::RolledBack,
                    format!("rolled back ({why}); {}", v.reason),
                    RecordPatch { target_health: health, watch: Some(None), ..Default::default() },
                )
            }
            FinalOutcome::Failed => {
                let mut reasons: Vec<String> = Vec::new();
                if let Some(r) = &d.failure_reason {
                    reasons.push(format!("rollout: {r}"));
                }
                let this =
                    input.error.as_ref().map(StepError::message).or(verdict_reason).unwrap_or_else(|| "failed".into());
                reasons.push(if d.status == DeploymentStatus::RollingBack {
                    format!("rollback: {this}")
                } else {
                    this
                });
                let reason = reasons.join("; ");
                (
                    DeploymentStatus::Failed,
                    reason.clone(),
                    RecordPatch { failure_reason: Some(reason), watch: Some(None), ..Default::default() },
                )
            }
        };
        let d = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }
            .end_on(id, to, detail, patch, input.verdict.as_ref())
            .await?;
        ServiceQueue { store: &self.store, locks: &self.locks, callbacks: &self.callbacks }.release(&d).await?;
        Ok(OutcomeOutput { deployment_id: id.clone(), status: d.status, failure_reason: d.failure_reason })
    }
}

impl<S, L, K, N, C> RecordOutcome<S, L, K, N, C>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    /// "Record failure" reached a record that ended otherwise: a "Record
    /// success" (or "rolled back", NOOP, ...) whose write went through and
    /// whose announcement or release then failed. The record stands (it never
    /// moves backwards) and the answer says what it is, so the run can end as
    /// the record did; what its step left undone is tried once more, and
    /// only logged if it fails again: the lease runs out on a lock not
    /// released, and a queued run polls.
    async fn ended_otherwise(&self, d: Deployment) -> Result<OutcomeOutput> {
        tracing::info!(status = %d.status, "the deployment ended otherwise: not recording it FAILED");
        let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };
        if let Err(e) = recorder.announce(&d).await {
            tracing::warn!(error = %e, "could not announce the outcome again");
        }
        let queue = ServiceQueue { store: &self.store, locks: &self.locks, callbacks: &self.callbacks };
        if let Err(e) = queue.release(&d).await {
            tracing::warn!(error = %e, "could not free the service again");
        }
        Ok(OutcomeOutput { deployment_id: d.deployment_id, status: d.status, failure_reason: d.failure_reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_error_message_from_lambda_cause() {
        let e = StepError {
            error: "UpdateRejected".into(),
            cause: r#"{"errorMessage":"ECS rejected the update: bad","errorType":"UpdateRejected"}"#.into(),
        };
        assert_eq!(e.message(), "UpdateRejected: ECS rejected the update: bad");
        let e = StepError { error: "States.Timeout".into(), cause: String::new() };
        assert_eq!(e.message(), "States.Timeout");
    }
}
