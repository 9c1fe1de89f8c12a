//! One function per pipeline step. Each takes the ports it needs and is what a
//! Lambda handler calls after parsing its input.

mod await_rollout;
mod await_service;
mod check_rollout;
mod claim_service;
mod observe;
mod on_ecs_event;
mod on_image_push;
mod record_outcome;
mod recorder;
mod register_revision;
mod release;
mod roll_back;
mod update_service;

pub use await_rollout::{AwaitInput, await_rollout};
pub use await_service::{AwaitServiceInput, await_service};
pub use check_rollout::{CheckInput, check_rollout};
pub use claim_service::{ClaimOutcome, ClaimOutput, claim_service, lease};
pub use observe::observe;
pub use on_ecs_event::{EcsSignal, SignalReport, on_ecs_event};
pub use on_image_push::{ImagePush, PushReport, on_image_push};
pub use record_outcome::{FinalOutcome, OutcomeInput, OutcomeOutput, StepError, record_outcome};
pub use recorder::Recorder;
pub use register_revision::{RegisterOutcome, RegisterOutput, register_revision};
pub use release::release_service;
pub use roll_back::{FailedVerdict, RollBackInput, RollBackOutput, roll_back};
pub use update_service::{Timing, UpdateOutput, update_service};

use crate::DeployError;
use crate::domain::{Deployment, DeploymentId};
use crate::ports::DeploymentStore;

/// Input of the steps that need nothing but the deployment id.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    pub deployment_id: DeploymentId,
}

async fn load(store: &impl DeploymentStore, id: &DeploymentId) -> Result<Deployment, DeployError> {
    store.get(id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.to_string()))
}
