//! `check-rollout`: states "Check the rollout" / "Check the rollback" — the
//! slow poll that covers lost events, and the deadline.

use autodeploy_shared::aws::{wiring, DynamoDeployments, EcsClient, ElbTargetHealth, SdkConfig};
use autodeploy_shared::domain::Verdict;
use autodeploy_shared::lambda::parse_input;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, SystemClock, TargetHealth};
use autodeploy_shared::usecases::{check_rollout, CheckInput};
use autodeploy_shared::DeployError;
use serde_json::Value;

pub struct Deps<S, E, H, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub clock: C,
}

impl Deps<DynamoDeployments, EcsClient, ElbTargetHealth, SystemClock> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config)?, ecs: wiring::ecs(config), elb: wiring::elb(config), clock: SystemClock })
    }
}

pub async fn handler<S: DeploymentStore, E: Ecs, H: TargetHealth, C: Clock>(
    deps: &Deps<S, E, H, C>,
    payload: Value,
) -> Result<Verdict, DeployError> {
    let input: CheckInput = parse_input(payload)?;
    check_rollout(&input, &deps.store, &deps.ecs, &deps.elb, &deps.clock).await
}
