//! `register-revision`: state "Register new revision".

use autodeploy_shared::aws::{wiring, AwsNotifier, DynamoDeployments, EcsClient, SdkConfig};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, Notifier, SystemClock};
use autodeploy_shared::usecases::{register_revision, DeploymentInput, RegisterOutput};
use autodeploy_shared::DeployError;
use serde_json::Value;

pub struct Deps<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
}

impl Deps<DynamoDeployments, EcsClient, AwsNotifier, SystemClock> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config)?, ecs: wiring::ecs(config), notifier: wiring::notifier(config)?, clock: SystemClock })
    }
}

pub async fn handler<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock>(
    deps: &Deps<S, E, N, C>,
    payload: Value,
) -> Result<RegisterOutput, DeployError> {
    let input: DeploymentInput = parse_input(payload)?;
    register_revision(&input.deployment_id, &deps.store, &deps.ecs, &deps.notifier, &deps.clock).await
}
