//! `record-outcome`: states "Record success", "Record rolled back",
//! "Record failure", "Record rollback failure".

use autodeploy_shared::aws::{wiring, AwsNotifier, DynamoDeployments, SdkConfig};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Notifier, SystemClock};
use autodeploy_shared::usecases::{record_outcome, OutcomeInput, OutcomeOutput};
use autodeploy_shared::DeployError;
use serde_json::Value;

pub struct Deps<S, N, C> {
    pub store: S,
    pub notifier: N,
    pub clock: C,
}

impl Deps<DynamoDeployments, AwsNotifier, SystemClock> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config)?, notifier: wiring::notifier(config)?, clock: SystemClock })
    }
}

pub async fn handler<S: DeploymentStore, N: Notifier, C: Clock>(deps: &Deps<S, N, C>, payload: Value) -> Result<OutcomeOutput, DeployError> {
    let input: OutcomeInput = parse_input(payload)?;
    record_outcome(&input, &deps.store, &deps.notifier, &deps.clock).await
}
