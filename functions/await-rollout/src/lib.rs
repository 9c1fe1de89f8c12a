//! `await-rollout`: states "Wait for the rollout" / "Wait for the rollback"
//! (`lambda:invoke.waitForTaskToken`). Stores the token and returns; it never
//! sends the token back itself. Renews the service lease on the way.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{DynamoDeployments, DynamoLocks, SdkConfig, wiring};
use autodeploy_shared::config::{DEFAULT_POLL_INTERVAL, POLL_INTERVAL_SECONDS, Vars, seconds};
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, ServiceLocks, SystemClock};
use autodeploy_shared::usecases::{AwaitInput, await_rollout, lease};
use chrono::Duration;
use serde_json::{Value, json};

pub struct Deps<S, L, C> {
    pub store: S,
    pub locks: L,
    pub clock: C,
    pub lease: Duration,
}

impl FromVars for Deps<DynamoDeployments, DynamoLocks, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            clock: SystemClock,
            lease: lease(seconds(vars, POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)?),
        })
    }
}

pub async fn handler<S: DeploymentStore, L: ServiceLocks, C: Clock>(
    deps: &Deps<S, L, C>,
    payload: Value,
) -> Result<Value, DeployError> {
    let input: AwaitInput = parse_input(payload)?;
    await_rollout(&input, deps.lease, &deps.store, &deps.locks, &deps.clock).await?;
    Ok(json!({ "waiting": true }))
}
