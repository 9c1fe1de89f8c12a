//! `on-ecs-event`: ECS deployment/service/task events and CloudWatch alarm
//! changes resume the run that waits for them.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{DynamoDeployments, EcsClient, ElbTargetHealth, SdkConfig, SfnCallbacks, wiring};
use autodeploy_shared::config::Vars;
use autodeploy_shared::events::parse_ecs_event;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs, SystemClock, TargetHealth, TaskCallbacks};
use autodeploy_shared::usecases::{SignalReport, on_ecs_event};
use serde_json::Value;

pub struct Deps<S, E, H, K, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub callbacks: K,
    pub clock: C,
}

impl FromVars for Deps<DynamoDeployments, EcsClient, ElbTargetHealth, SfnCallbacks, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            callbacks: wiring::callbacks(config),
            clock: SystemClock,
        })
    }
}

pub async fn handler<S, E, H, K, C>(deps: &Deps<S, E, H, K, C>, payload: Value) -> Result<SignalReport, DeployError>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    K: TaskCallbacks,
    C: Clock,
{
    let Some(signal) = parse_ecs_event(payload)? else {
        return Ok(SignalReport::default());
    };
    on_ecs_event(&signal, &deps.store, &deps.ecs, &deps.elb, &deps.callbacks, &deps.clock).await
}
