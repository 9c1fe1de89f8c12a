//! `await-rollout`: states "Wait for the rollout" / "Wait for the rollback"
//! (`lambda:invoke.waitForTaskToken`). Stores the token and returns; it never
//! sends the token back itself.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{DynamoDeployments, SdkConfig, wiring};
use autodeploy_shared::config::{ProcessEnv, Vars};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::DeploymentStore;
use autodeploy_shared::usecases::{AwaitInput, await_rollout};
use serde_json::{Value, json};

pub struct Deps<S> {
    pub store: S,
}

impl Deps<DynamoDeployments> {
    /// The deployed function: configuration from the process environment.
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Self::from_vars(config, &ProcessEnv)
    }

    /// Configuration from `vars` (the local cloud passes the template's variables).
    pub fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config, vars)? })
    }
}

pub async fn handler<S: DeploymentStore>(deps: &Deps<S>, payload: Value) -> Result<Value, DeployError> {
    let input: AwaitInput = parse_input(payload)?;
    await_rollout(&input, &deps.store).await?;
    Ok(json!({ "waiting": true }))
}
