//! `record-outcome`: states "Record success", "Record rolled back",
//! "Record failure", "Record rollback failure". Frees the service afterwards.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, DynamoLocks, SdkConfig, SfnCallbacks, wiring};
use autodeploy_shared::config::Vars;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Notifier, ServiceLocks, SystemClock, TaskCallbacks};
use autodeploy_shared::usecases::{OutcomeInput, OutcomeOutput, record_outcome};
use serde_json::Value;

pub struct Deps<S, L, K, N, C> {
    pub store: S,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
}

impl FromVars for Deps<DynamoDeployments, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

pub async fn handler<S, L, K, N, C>(deps: &Deps<S, L, K, N, C>, payload: Value) -> Result<OutcomeOutput, DeployError>
where
    S: DeploymentStore,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    let input: OutcomeInput = parse_input(payload)?;
    record_outcome(&input, &deps.store, &deps.locks, &deps.callbacks, &deps.notifier, &deps.clock).await
}
