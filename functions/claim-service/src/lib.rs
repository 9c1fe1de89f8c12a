//! `claim-service`: state "Take the service".

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, DynamoLocks, SdkConfig, SfnCallbacks, wiring};
use autodeploy_shared::config::{DEFAULT_POLL_INTERVAL, POLL_INTERVAL_SECONDS, Vars, seconds};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Notifier, ServiceLocks, SystemClock, TaskCallbacks};
use autodeploy_shared::usecases::{ClaimOutput, DeploymentInput, claim_service};
use chrono::Duration;
use serde_json::Value;

pub struct Deps<S, L, K, N, C> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
    pub poll_interval: Duration,
}

impl FromVars for Deps<DynamoDeployments, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            poll_interval: seconds(vars, POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)?,
        })
    }
}

pub async fn handler<S, L, K, N, C>(deps: &Deps<S, L, K, N, C>, payload: Value) -> Result<ClaimOutput, DeployError>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    let input: DeploymentInput = parse_input(payload)?;
    claim_service(
        &input.deployment_id,
        deps.poll_interval,
        &deps.store,
        &deps.locks,
        &deps.callbacks,
        &deps.notifier,
        &deps.clock,
    )
    .await
}
