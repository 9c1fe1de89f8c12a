//! `await-service`: state "Wait for the service" (`lambda:invoke.waitForTaskToken`).
//! Parks a queued run's token; the deployment that frees the service resumes it.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{DynamoDeployments, SdkConfig, wiring};
use autodeploy_shared::config::{ProcessEnv, Vars};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::DeploymentStore;
use autodeploy_shared::usecases::{AwaitServiceInput, await_service};
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
    let input: AwaitServiceInput = parse_input(payload)?;
    await_service(&input, &deps.store).await?;
    Ok(json!({ "queued": true }))
}
