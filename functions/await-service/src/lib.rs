//! `await-service`: state "Wait for the service" (`lambda:invoke.waitForTaskToken`).
//! Parks a queued run's token; the deployment that frees the service resumes it.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{DynamoDeployments, SdkConfig, wiring};
use autodeploy_shared::config::Vars;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::DeploymentStore;
use autodeploy_shared::usecases::{AwaitServiceInput, await_service};
use serde_json::{Value, json};

pub struct Deps<S> {
    pub store: S,
}

impl FromVars for Deps<DynamoDeployments> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config, vars)? })
    }
}

pub async fn handler<S: DeploymentStore>(deps: &Deps<S>, payload: Value) -> Result<Value, DeployError> {
    let input: AwaitServiceInput = parse_input(payload)?;
    await_service(&input, &deps.store).await?;
    Ok(json!({ "queued": true }))
}
