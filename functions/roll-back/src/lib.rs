//! `roll-back`: state "Roll back".

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, EcsClient, SdkConfig, wiring};
use autodeploy_shared::config::{
    DEFAULT_POLL_INTERVAL, DEFAULT_ROLLBACK_TIMEOUT, POLL_INTERVAL_SECONDS, ROLLBACK_TIMEOUT_SECONDS, Vars, seconds,
};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, Notifier, SystemClock};
use autodeploy_shared::usecases::{RollBackInput, RollBackOutput, Timing, roll_back};
use serde_json::Value;

pub struct Deps<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
    pub timing: Timing,
}

impl FromVars for Deps<DynamoDeployments, EcsClient, AwsNotifier, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            timing: Timing {
                timeout: seconds(vars, ROLLBACK_TIMEOUT_SECONDS, DEFAULT_ROLLBACK_TIMEOUT)?,
                poll_interval: seconds(vars, POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)?,
            },
        })
    }
}

pub async fn handler<S: DeploymentStore, E: Ecs, N: Notifier, C: Clock>(
    deps: &Deps<S, E, N, C>,
    payload: Value,
) -> Result<RollBackOutput, DeployError> {
    let input: RollBackInput = parse_input(payload)?;
    roll_back(&input, deps.timing, &deps.store, &deps.ecs, &deps.notifier, &deps.clock).await
}
