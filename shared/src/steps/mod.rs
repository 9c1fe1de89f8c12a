//! The pipeline's steps. Each is a value that owns its ports (and the few
//! settings it needs) and implements [`Step`]: an input type, an output type
//! and `run(&self, input)`. Production builds them from the environment
//! (`crate::aws::FromVars`), tests from the in-memory twins
//! (`crate::memory::MemoryCloud`); Lambda serves any step through
//! `crate::lambda::serve`, the local cloud hosts it through [`handle`].

mod await_rollout;
mod await_service;
mod check_rollout;
mod claim_service;
mod decide_approval;
mod function_url;
mod launcher;
mod newest_wins;
mod observer;
mod on_ecs_event;
mod on_image_push;
mod operate;
mod progress;
mod queue;
mod reconcile;
mod record_outcome;
mod recorder;
mod register_revision;
mod request_approval;
mod roll_back;
mod settings;
mod update_service;
mod verify_hook;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::{Empty, display};

pub use await_rollout::{AwaitInput, AwaitOutput, AwaitRollout};
pub use await_service::{AwaitService, AwaitServiceInput, AwaitServiceOutput};
pub use check_rollout::{CheckInput, CheckOutput, CheckRollout, MAX_POLL_INTERVALS, next_poll};
pub use claim_service::{ClaimInput, ClaimOutcome, ClaimOutput, ClaimService, HELD_POLL_SECONDS};
pub use decide_approval::{ApprovalCall, DecideApproval};
pub use function_url::UrlCall;
pub use launcher::{CheckedPush, Launcher};
pub use newest_wins::NewestWins;
pub use observer::Observer;
pub use on_ecs_event::{CHECK_LEASE_SECONDS, EcsEvent, EcsSignal, OnEcsEvent, SignalReport};
pub use on_image_push::{ImagePush, OnImagePush, PushReport, Refusal};
pub use operate::Operate;
pub use progress::ProgressLog;
pub use queue::ServiceQueue;
pub use reconcile::{Reconcile, ReconcileInput, ReconcileReport};
pub use record_outcome::{FinalOutcome, OutcomeInput, OutcomeOutput, RecordOutcome, StepError};
pub use recorder::Recorder;
pub use register_revision::{RegisterOutcome, RegisterOutput, RegisterRevision};
pub use request_approval::{ApprovalRequestInput, GateOutcome, GateOutput, RequestApproval};
pub use roll_back::{FailedVerdict, RollBack, RollBackInput, RollBackOutput};
pub use settings::{Settings, Timing, lease};
pub use update_service::{UpdateOutput, UpdateService};
pub use verify_hook::VerifyHook;

use crate::DeployError;
use crate::domain::{Deployment, DeploymentId};
use crate::error::Result;
use crate::ports::DeploymentStore;

/// One step of the pipeline: what a Lambda function does.
pub trait Step: Send + Sync {
    /// The function that serves the step: its binary in `template.yaml`.
    const NAME: &'static str;
    type Input: StepInput;
    type Output: Serialize + Send;

    fn run(&self, input: Self::Input) -> impl Future<Output = Result<Self::Output>> + Send;
}

/// How a step's input is read from the payload its function receives.
pub trait StepInput: Sized + Send {
    /// `MalformedEvent` when the payload is not this input.
    fn parse(payload: Value) -> Result<Self>;

    /// The deployment the input names, for the step's span.
    fn deployment_id(&self) -> Option<&DeploymentId>;
}

/// A state machine payload that names one deployment.
pub trait ForDeployment: DeserializeOwned + Send {
    fn deployment_id(&self) -> &DeploymentId;
}

impl<T: ForDeployment> StepInput for T {
    fn parse(payload: Value) -> Result<Self> {
        crate::events::from_object(payload, "a step's input")
    }

    fn deployment_id(&self) -> Option<&DeploymentId> {
        Some(ForDeployment::deployment_id(self))
    }
}

/// Parses `payload` and runs `step` inside a span with the step's name and
/// the deployment id (cluster and service are added once the record is
/// read), so every log line of a run can be found by its id. The one path
/// Lambda and the local cloud's function host share.
pub async fn handle<S: Step>(step: &S, payload: Value) -> Result<S::Output> {
    let span = tracing::info_span!("step", step = S::NAME, deployment = Empty, cluster = Empty, service = Empty);
    async {
        let input = S::Input::parse(payload)?;
        if let Some(id) = input.deployment_id() {
            tracing::Span::current().record("deployment", display(id));
        }
        // Boxed: the steps' nested futures otherwise exceed the compiler's
        // layout depth in the binaries that nest them in the runtime's loop.
        Box::pin(step.run(input)).await
    }
    .instrument(span)
    .await
}

/// Input of the steps that need nothing but the deployment id.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub deployment_id: DeploymentId,
}

impl ForDeployment for DeploymentInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

impl From<DeploymentId> for DeploymentInput {
    fn from(deployment_id: DeploymentId) -> Self {
        Self { deployment_id }
    }
}

/// Reads the record a step works on, and names its service on the span.
async fn load(store: &impl DeploymentStore, id: &DeploymentId) -> Result<Deployment> {
    let d = store.get(id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
    let span = tracing::Span::current();
    span.record("cluster", display(&d.cluster));
    span.record("service", display(&d.service));
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_payload_is_a_malformed_event() {
        let err = DeploymentInput::parse(serde_json::json!({"nope": 1})).unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent");
        let err = DeploymentInput::parse(serde_json::json!({"deploymentId": "x"})).unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent");
    }
}
