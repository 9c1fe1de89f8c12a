//! One function per pipeline step. Each takes the ports it needs and is what a
//! Lambda handler calls after parsing its input.

mod await_rollout;
mod check_rollout;
mod observe;
mod on_ecs_event;
mod on_image_push;
mod record_outcome;
mod recorder;
mod register_revision;
mod roll_back;
mod update_service;

pub use await_rollout::{await_rollout, AwaitInput};
pub use check_rollout::{check_rollout, CheckInput};
pub use observe::observe;
pub use on_ecs_event::{on_ecs_event, EcsSignal, SignalReport};
pub use on_image_push::{on_image_push, ImagePush, PushReport};
pub use record_outcome::{record_outcome, FinalOutcome, OutcomeInput, OutcomeOutput, StepError};
pub use recorder::Recorder;
pub use register_revision::{register_revision, RegisterOutcome, RegisterOutput};
pub use roll_back::{roll_back, FailedVerdict, RollBackInput, RollBackOutput};
pub use update_service::{update_service, Timing, UpdateOutput};

use crate::domain::{Deployment, DeploymentId};
use crate::ports::DeploymentStore;
use crate::DeployError;

/// Input of the steps that need nothing but the deployment id.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub deployment_id: DeploymentId,
}

async fn load(store: &impl DeploymentStore, id: &DeploymentId) -> Result<Deployment, DeployError> {
    store.get(id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.to_string()))
}
