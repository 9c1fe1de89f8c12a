//! `check-rollout`: states "Check the rollout" / "Check the rollback" — the
//! slow poll that covers lost events, and the deadline. Renews the service lease.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{DynamoDeployments, DynamoLocks, EcsClient, ElbTargetHealth, SdkConfig, wiring};
use autodeploy_shared::config::{DEFAULT_POLL_INTERVAL, POLL_INTERVAL_SECONDS, Vars, seconds};
use autodeploy_shared::domain::Verdict;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, ServiceLocks, SystemClock, TargetHealth};
use autodeploy_shared::usecases::{CheckInput, check_rollout, lease};
use chrono::Duration;
use serde_json::Value;

pub struct Deps<S, E, H, L, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub locks: L,
    pub clock: C,
    pub lease: Duration,
}

impl FromVars for Deps<DynamoDeployments, EcsClient, ElbTargetHealth, DynamoLocks, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            locks: wiring::locks(config, vars)?,
            clock: SystemClock,
            lease: lease(seconds(vars, POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)?),
        })
    }
}

pub async fn handler<S, E, H, L, C>(deps: &Deps<S, E, H, L, C>, payload: Value) -> Result<Verdict, DeployError>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    L: ServiceLocks,
    C: Clock,
{
    let input: CheckInput = parse_input(payload)?;
    check_rollout(&input, deps.lease, &deps.store, &deps.locks, &deps.ecs, &deps.elb, &deps.clock).await
}
