//! `check-rollout`: states "Check the rollout" / "Check the rollback" — the
//! slow poll that covers lost events, and the deadline.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{DynamoDeployments, EcsClient, ElbTargetHealth, SdkConfig, wiring};
use autodeploy_shared::config::{ProcessEnv, Vars};
use autodeploy_shared::domain::Verdict;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, SystemClock, TargetHealth};
use autodeploy_shared::usecases::{CheckInput, check_rollout};
use serde_json::Value;

pub struct Deps<S, E, H, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub clock: C,
}

impl Deps<DynamoDeployments, EcsClient, ElbTargetHealth, SystemClock> {
    /// The deployed function: configuration from the process environment.
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Self::from_vars(config, &ProcessEnv)
    }

    /// Configuration from `vars` (the local cloud passes the template's variables).
    pub fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            clock: SystemClock,
        })
    }
}

pub async fn handler<S: DeploymentStore, E: Ecs, H: TargetHealth, C: Clock>(
    deps: &Deps<S, E, H, C>,
    payload: Value,
) -> Result<Verdict, DeployError> {
    let input: CheckInput = parse_input(payload)?;
    check_rollout(&input, &deps.store, &deps.ecs, &deps.elb, &deps.clock).await
}
