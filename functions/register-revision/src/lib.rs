//! `register-revision`: state "Register new revision".

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, DynamoLocks, EcsClient, SdkConfig, SfnCallbacks, wiring};
use autodeploy_shared::config::Vars;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, Notifier, ServiceLocks, SystemClock, TaskCallbacks};
use autodeploy_shared::usecases::{DeploymentInput, RegisterOutput, register_revision};
use serde_json::Value;

pub struct Deps<S, E, L, K, N, C> {
    pub store: S,
    pub ecs: E,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
}

impl FromVars for Deps<DynamoDeployments, EcsClient, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

pub async fn handler<S, E, L, K, N, C>(
    deps: &Deps<S, E, L, K, N, C>,
    payload: Value,
) -> Result<RegisterOutput, DeployError>
where
    S: DeploymentStore,
    E: Ecs,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    let input: DeploymentInput = parse_input(payload)?;
    register_revision(
        &input.deployment_id,
        &deps.store,
        &deps.ecs,
        &deps.locks,
        &deps.callbacks,
        &deps.notifier,
        &deps.clock,
    )
    .await
}
