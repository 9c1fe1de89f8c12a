//! `await-rollout`: states "Wait for the rollout" / "Wait for the rollback"
//! (`lambda:invoke.waitForTaskToken`). Stores the token and returns; it never
//! sends the token back itself.

use autodeploy_shared::aws::{wiring, DynamoDeployments, SdkConfig};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::DeploymentStore;
use autodeploy_shared::usecases::{await_rollout, AwaitInput};
use autodeploy_shared::DeployError;
use serde_json::{json, Value};

pub struct Deps<S> {
    pub store: S,
}

impl Deps<DynamoDeployments> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config)? })
    }
}

pub async fn handler<S: DeploymentStore>(deps: &Deps<S>, payload: Value) -> Result<Value, DeployError> {
    let input: AwaitInput = parse_input(payload)?;
    await_rollout(&input, &deps.store).await?;
    Ok(json!({ "waiting": true }))
}
