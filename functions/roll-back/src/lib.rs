//! `roll-back`: state "Roll back".

use autodeploy_shared::aws::{wiring, AwsNotifier, DynamoDeployments, EcsClient, SdkConfig};
use autodeploy_shared::config::{seconds, DEFAULT_POLL_INTERVAL, DEFAULT_ROLLBACK_TIMEOUT, POLL_INTERVAL_SECONDS, ROLLBACK_TIMEOUT_SECONDS};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, Notifier, SystemClock};
use autodeploy_shared::usecases::{roll_back, RollBackInput, RollBackOutput, Timing};
use autodeploy_shared::DeployError;
use serde_json::Value;

pub struct Deps<S, E, N, C> {
    pub store: S,
    pub ecs: E,
    pub notifier: N,
    pub clock: C,
    pub timing: Timing,
}

impl Deps<DynamoDeployments, EcsClient, AwsNotifier, SystemClock> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config)?,
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config)?,
            clock: SystemClock,
            timing: Timing {
                timeout: seconds(ROLLBACK_TIMEOUT_SECONDS, DEFAULT_ROLLBACK_TIMEOUT)?,
                poll_interval: seconds(POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)?,
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
