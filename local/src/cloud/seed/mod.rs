//! Seeds a service to deploy to, through the same APIs a user would call:
//! a cluster, a target group, a task definition, a service behind the target
//! group with the circuit breaker on, and a deploy target. A blue/green,
//! linear or canary service also gets a green target group and a load
//! balancer whose rules ECS moves ([`strategy`]).

mod strategy;

pub use strategy::{SeedStrategy, TrafficShift};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ecs::error::BuildError;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentRolloutState, LoadBalancer, NetworkConfiguration, NetworkMode, PortMapping,
};
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetGroupAttribute, TargetTypeEnum};

use super::template::TemplateError;
use super::{CallError, Cloud, PushError, PushRequest};

/// One service to seed.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub cluster: String,
    pub service: String,
    pub repository: String,
    /// The tag the service starts on (pushed as `healthy` first).
    pub initial_tag: String,
    pub desired: i32,
    pub min_healthy_percent: i32,
    pub max_percent: i32,
    /// Deploy target tag rule as stored: `{"type": "glob", "pattern": "*"}`.
    pub tag_rule: serde_json::Value,
    pub target_id: String,
    pub strategy: SeedStrategy,
    /// `deploymentConfiguration.lifecycleHooks` of the service (none by default), e.g. the
    /// stack's `verify-hook` at POST_TEST_TRAFFIC_SHIFT.
    pub lifecycle_hooks: Vec<aws_sdk_ecs::types::DeploymentLifecycleHook>,
    /// The deploy target's `approval` as stored (`{"timeoutMinutes": 60}`); none by default.
    pub approval: Option<serde_json::Value>,
    /// The service's `healthCheckGracePeriodSeconds` (none by default): how long
    /// ECS ignores a new task's failing load balancer health checks.
    pub health_check_grace_seconds: Option<i32>,
}

impl ServiceSpec {
    pub fn demo() -> Self {
        Self {
            cluster: "demo".into(),
            service: "web".into(),
            repository: "web".into(),
            initial_tag: "v1".into(),
            desired: 4,
            min_healthy_percent: 50,
            max_percent: 200,
            tag_rule: serde_json::json!({"type": "glob", "pattern": "v*"}),
            target_id: "demo-web".into(),
            strategy: SeedStrategy::Rolling,
            lifecycle_hooks: Vec::new(),
            approval: None,
            health_check_grace_seconds: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Seeded {
    pub target_group_arn: String,
    /// The green target group and the rules of a traffic-shifting service.
    pub traffic: Option<TrafficShift>,
    pub task_definition_arn: String,
    pub service_arn: String,
}

/// Why the service could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The first image (pushed as `healthy`).
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Call(#[from] CallError),
    /// A call succeeded but its answer lacks what the next call needs.
    #[error("{operation} returned no {what}")]
    Incomplete { operation: &'static str, what: &'static str },
    #[error("the service's network configuration: {0}")]
    Network(BuildError),
    /// The deploy target's table is not in the template.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("putting the deploy target: {0}")]
    DeployTarget(CallError),
    #[error("the tag rule is not a DynamoDB value: {0}")]
    TagRule(serde_dynamo::Error),
    #[error("{cluster}/{service} did not reach a steady state")]
    NotSteady { cluster: String, service: String },
}

/// Creates the service and waits until its first deployment is COMPLETED.
pub async fn seed_service(cloud: &Cloud, spec: &ServiceSpec) -> Result<Seeded, SeedError> {
    let sdk = super::sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);

    // In ECR from before the stack's time: no push event.
    let initial = format!("{}:{}", spec.repository, spec.initial_tag);
    let pushed = cloud.push_image(&PushRequest { event: false, ..PushRequest::new(&initial, "healthy") }).await?;
    ecs.create_cluster().cluster_name(&spec.cluster).send().await.map_err(CallError::of("CreateCluster"))?;
    let name = format!("{}-{}", spec.cluster, spec.service);
    let tg_arn = create_target_group(&elb, &name).await?;
    let traffic = if spec.strategy.shifts_traffic() {
        let green = create_target_group(&elb, &format!("{name}-green")).await?;
        Some(strategy::wire_load_balancer(&elb, &name, &tg_arn, &green).await?)
    } else {
        None
    };
    // The image by tag, as a person would first deploy it.
    let td = ecs
        .register_task_definition()
        .family(&spec.service)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("app")
                .image(&pushed.image)
                .essential(true)
                .port_mappings(PortMapping::builder().container_port(8080).build())
                .build(),
        )
        .send()
        .await
        .map_err(CallError::of("RegisterTaskDefinition"))?;
    let td_arn = td
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .ok_or(SeedError::Incomplete { operation: "RegisterTaskDefinition", what: "task definition ARN" })?
        .to_owned();
    let svc = ecs
        .create_service()
        .cluster(&spec.cluster)
        .service_name(&spec.service)
        .task_definition(&td_arn)
        .desired_count(spec.desired)
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("app")
                .container_port(8080)
                .set_advanced_configuration(traffic.as_ref().map(TrafficShift::advanced_configuration))
                .build(),
        )
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets("subnet-local-a")
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .map_err(SeedError::Network)?,
                )
                .build(),
        )
        .deployment_configuration(deployment_configuration(spec, false))
        .set_health_check_grace_period_seconds(spec.health_check_grace_seconds)
        .send()
        .await
        .map_err(CallError::of("CreateService"))?;
    let service_arn = svc
        .service()
        .and_then(|s| s.service_arn())
        .ok_or(SeedError::Incomplete { operation: "CreateService", what: "service ARN" })?
        .to_owned();

    let targets_table = cloud.template.physical_name("TargetsTable")?;
    let rule = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(&spec.tag_rule).map_err(SeedError::TagRule)?;
    let approval = spec
        .approval
        .as_ref()
        .map(serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value)
        .transpose()
        .map_err(SeedError::TagRule)?;
    let mut target = dynamodb
        .put_item()
        .table_name(targets_table)
        .item("repository", AttributeValue::S(spec.repository.clone()))
        .item("targetId", AttributeValue::S(spec.target_id.clone()))
        .item("cluster", AttributeValue::S(spec.cluster.clone()))
        .item("service", AttributeValue::S(spec.service.clone()))
        .item("tagRule", rule)
        .item("enabled", AttributeValue::Bool(true));
    if let Some(approval) = approval {
        target = target.item("approval", approval);
    }
    target.send().await.map_err(CallError::of("PutItem")).map_err(SeedError::DeployTarget)?;

    // Wait (in simulated time) for the first deployment to settle.
    let settled = wait_for(cloud, 600, || async {
        let out = ecs.describe_services().cluster(&spec.cluster).services(&spec.service).send().await.ok()?;
        let s = out.services().first()?.clone();
        let done = s.deployments().len() == 1
            && s.deployments()[0].rollout_state() == Some(&DeploymentRolloutState::Completed)
            && s.running_count() == spec.desired;
        done.then_some(())
    })
    .await;
    settled.ok_or_else(|| SeedError::NotSteady { cluster: spec.cluster.clone(), service: spec.service.clone() })?;
    // Hooks are attached once the first deployment settled: a PAUSE hook
    // would otherwise hold the seeding itself for a person. Changing only the
    // deployment configuration starts no deployment.
    if !spec.lifecycle_hooks.is_empty() {
        ecs.update_service()
            .cluster(&spec.cluster)
            .service(&spec.service)
            .deployment_configuration(deployment_configuration(spec, true))
            .send()
            .await
            .map_err(CallError::of("UpdateService"))?;
    }
    Ok(Seeded { target_group_arn: tg_arn, traffic, task_definition_arn: td_arn, service_arn })
}

/// The service's deployment configuration, with its lifecycle hooks or without.
fn deployment_configuration(spec: &ServiceSpec, hooks: bool) -> DeploymentConfiguration {
    spec.strategy
        .configure(DeploymentConfiguration::builder())
        .minimum_healthy_percent(spec.min_healthy_percent)
        .maximum_percent(spec.max_percent)
        .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(true).rollback(true).build())
        .set_lifecycle_hooks((hooks && !spec.lifecycle_hooks.is_empty()).then(|| spec.lifecycle_hooks.clone()))
        .build()
}

/// An `ip` target group named `name` that checks `/health` every 5 s and
/// deregisters in 10 s: a rollout takes seconds of simulated time, not minutes.
async fn create_target_group(elb: &aws_sdk_elasticloadbalancingv2::Client, name: &str) -> Result<String, SeedError> {
    let tg = elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id("vpc-local")
        .target_type(TargetTypeEnum::Ip)
        .health_check_path("/health")
        .health_check_interval_seconds(5)
        .health_check_timeout_seconds(2)
        .healthy_threshold_count(2)
        .unhealthy_threshold_count(2)
        .send()
        .await
        .map_err(CallError::of("CreateTargetGroup"))?;
    let tg_arn = tg
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or(SeedError::Incomplete { operation: "CreateTargetGroup", what: "target group ARN" })?
        .to_owned();
    elb.modify_target_group_attributes()
        .target_group_arn(&tg_arn)
        .attributes(TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value("10").build())
        .send()
        .await
        .map_err(CallError::of("ModifyTargetGroupAttributes"))?;
    Ok(tg_arn)
}

/// Polls `check` until it returns `Some`, for at most `sim_seconds` of
/// simulated time (at the simulator's speed), every 100 ms of real time.
pub async fn wait_for<T, F, Fut>(cloud: &Cloud, sim_seconds: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = cloud.sim.now();
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if cloud.sim.now().saturating_sub(start) > i64::try_from(sim_seconds * 1000).unwrap_or(i64::MAX) {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Polls `check` every 100 ms of real time, for at most `seconds`, whatever
/// the simulator's clock does (a test may hold it).
pub async fn wait_for_real<T, F, Fut>(seconds: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..seconds * 10 {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}
