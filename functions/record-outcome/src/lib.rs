//! `record-outcome`: states "Record success", "Record rolled back",
//! "Record failure", "Record rollback failure".

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, SdkConfig, wiring};
use autodeploy_shared::config::{ProcessEnv, Vars};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Notifier, SystemClock};
use autodeploy_shared::usecases::{OutcomeInput, OutcomeOutput, record_outcome};
use serde_json::Value;

pub struct Deps<S, N, C> {
    pub store: S,
    pub notifier: N,
    pub clock: C,
}

impl Deps<DynamoDeployments, AwsNotifier, SystemClock> {
    /// The deployed function: configuration from the process environment.
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Self::from_vars(config, &ProcessEnv)
    }

    /// Configuration from `vars` (the local cloud passes the template's variables).
    pub fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

pub async fn handler<S: DeploymentStore, N: Notifier, C: Clock>(
    deps: &Deps<S, N, C>,
    payload: Value,
) -> Result<OutcomeOutput, DeployError> {
    let input: OutcomeInput = parse_input(payload)?;
    record_outcome(&input, &deps.store, &deps.notifier, &deps.clock).await
}
