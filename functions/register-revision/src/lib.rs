//! `register-revision`: state "Register new revision".

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, EcsClient, SdkConfig, wiring};
use autodeploy_shared::config::{ProcessEnv, Vars};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, Notifier, SystemClock};
use autodeploy_shared::usecases::{DeploymentInput, RegisterOutput, register_revision};
use serde_json::Value;

pub struct Deps<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
}

impl Deps<DynamoDeployments, EcsClient, AwsNotifier, SystemClock> {
    /// The deployed function: configuration from the process environment.
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Self::from_vars(config, &ProcessEnv)
    }

    /// Configuration from `vars` (the local cloud passes the template's variables).
    pub fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

pub async fn handler<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock>(
    deps: &Deps<S, E, N, C>,
    payload: Value,
) -> Result<RegisterOutput, DeployError> {
    let input: DeploymentInput = parse_input(payload)?;
    register_revision(&input.deployment_id, &deps.store, &deps.ecs, &deps.notifier, &deps.clock).await
}
