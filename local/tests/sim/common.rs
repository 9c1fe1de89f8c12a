//! Test harness: a simulator on an ephemeral port, SDK clients pointed at it, and a
//! ready-made service behind a target group.

use autodeploy_local::sim::series::Sample;
use autodeploy_local::sim::{Behavior, Sim, SimConfig, api};
use aws_sdk_ecs::types::{
    AdvancedConfiguration, AwsVpcConfiguration, CanaryConfiguration, Compatibility, ContainerDefinition, Deployment,
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentStrategy, LaunchType, LinearConfiguration,
    LoadBalancer, NetworkConfiguration, NetworkMode, PortMapping, Service,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig, HttpHeaderConditionConfig,
    ProtocolEnum, RuleCondition, TargetGroupAttribute, TargetGroupTuple, TargetHealthDescription, TargetTypeEnum,
};
use serde_json::Value;

pub const CLUSTER: &str = "apps";
pub const SERVICE: &str = "web";
pub const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web";

/// A digest-pinned image reference for `tag`, registered with `behavior` under both keys.
pub fn image(sim: &Sim, tag: &str, behavior: Behavior) -> String {
    let digest = format!("sha256:{:0>64}", hex_of(tag));
    sim.register_image(&format!("{REPO}:{tag}"), Some(&digest), behavior).expect("valid image");
    format!("{REPO}@{digest}")
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

pub struct Env {
    pub sim: Sim,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub url: String,
}

/// Deployment settings of the ready-made service.
#[derive(Clone, Copy)]
pub struct Setup {
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub breaker: bool,
    pub rollback: bool,
    pub deregistration_delay: i32,
}

impl Default for Setup {
    fn default() -> Self {
        Self { desired: 4, min: 100, max: 200, breaker: true, rollback: true, deregistration_delay: 10 }
    }
}

pub async fn start() -> Env {
    // The tests' reqwest clients, built without a TLS provider of their own.
    autodeploy_shared::aws::install_ring_tls();
    let sim =
        Sim::new(SimConfig { manual_clock: true, start_time: Some(1_700_000_000_000), seed: 42, ..Default::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(api::serve(listener, sim.clone()));
    let creds = aws_sdk_ecs::config::Credentials::new("test", "test", None, None, "test");
    let ecs = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::Config::builder()
            .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
            .region(aws_sdk_ecs::config::Region::new("us-east-1"))
            .credentials_provider(creds.clone())
            .endpoint_url(&url)
            .http_client(autodeploy_shared::aws::https_client())
            .build(),
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::Config::builder()
            .behavior_version(aws_sdk_elasticloadbalancingv2::config::BehaviorVersion::latest())
            .region(aws_sdk_elasticloadbalancingv2::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&url)
            .http_client(autodeploy_shared::aws::https_client())
            .build(),
    );
    Env { sim, ecs, elb, url }
}

impl Env {
    /// Cluster, target group (interval 5 s, thresholds 2/2), a task definition for
    /// `image` and the service; returns the target group ARN.
    pub async fn service(&self, image: &str, s: Setup) -> String {
        self.ecs.create_cluster().cluster_name(CLUSTER).send().await.expect("create cluster");
        let tg = self
            .elb
            .create_target_group()
            .name("web-tg")
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id("vpc-0abc")
            .target_type(TargetTypeEnum::Ip)
            .health_check_path("/health")
            .health_check_interval_seconds(5)
            .health_check_timeout_seconds(2)
            .healthy_threshold_count(2)
            .unhealthy_threshold_count(2)
            .send()
            .await
            .expect("create target group");
        let tg_arn = tg.target_groups()[0].target_group_arn().expect("arn").to_string();
        self.elb
            .modify_target_group_attributes()
            .target_group_arn(&tg_arn)
            .attributes(
                TargetGroupAttribute::builder()
                    .key("deregistration_delay.timeout_seconds")
                    .value(s.deregistration_delay.to_string())
                    .build(),
            )
            .send()
            .await
            .expect("modify attributes");
        let td = self.task_def(image).await;
        self.ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name(SERVICE)
            .task_definition(td)
            .desired_count(s.desired)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder().subnets("subnet-a").subnets("subnet-b").build().expect("vpc"),
                    )
                    .build(),
            )
            .load_balancers(
                LoadBalancer::builder().target_group_arn(&tg_arn).container_name("web").container_port(8080).build(),
            )
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .minimum_healthy_percent(s.min)
                    .maximum_percent(s.max)
                    .deployment_circuit_breaker(
                        DeploymentCircuitBreaker::builder().enable(s.breaker).rollback(s.rollback).build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create service");
        tg_arn
    }

    /// Registers a revision of family `web` running `image`; returns its ARN.
    pub async fn task_def(&self, image: &str) -> String {
        let out = self
            .ecs
            .register_task_definition()
            .family("web")
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image(image)
                    .essential(true)
                    .port_mappings(PortMapping::builder().container_port(8080).build())
                    .build(),
            )
            .send()
            .await
            .expect("register task definition");
        out.task_definition().and_then(|t| t.task_definition_arn()).expect("arn").to_string()
    }

    pub async fn describe(&self) -> Service {
        let out = self.ecs.describe_services().cluster(CLUSTER).services(SERVICE).send().await.expect("describe");
        out.services()[0].clone()
    }

    pub async fn primary(&self) -> Deployment {
        self.describe().await.deployments()[0].clone()
    }

    pub async fn update(&self, task_def: &str) -> Service {
        let out = self
            .ecs
            .update_service()
            .cluster(CLUSTER)
            .service(SERVICE)
            .task_definition(task_def)
            .send()
            .await
            .expect("update service");
        out.service().expect("service").clone()
    }

    /// Steps the clock until the PRIMARY deployment `id` leaves IN_PROGRESS; returns its state.
    pub fn settle(&self, id: &str, max_seconds: u64) -> String {
        let state = |sim: &Sim| {
            sim.read(|w| {
                w.services
                    .iter()
                    .flat_map(|s| s.deployments.iter())
                    .find(|d| d.id == id)
                    .map(|d| d.rollout_state.as_str().to_string())
            })
        };
        self.sim.advance_until(max_seconds, |w| {
            w.services
                .iter()
                .flat_map(|s| s.deployments.iter())
                .any(|d| d.id == id && d.rollout_state.as_str() != "IN_PROGRESS")
        });
        state(&self.sim).unwrap_or_else(|| "GONE".into())
    }

    /// Steps until the service has exactly one deployment and it is COMPLETED.
    pub fn settle_service(&self, max_seconds: u64) -> bool {
        self.sim.advance_until(max_seconds, |w| {
            w.services.iter().any(|s| {
                s.name == SERVICE && s.deployments.len() == 1 && s.deployments[0].rollout_state.as_str() == "COMPLETED"
            })
        })
    }

    pub fn series(&self) -> Vec<Sample> {
        self.sim.series(Some(CLUSTER), SERVICE).expect("series")
    }

    pub async fn targets(&self, tg: &str) -> Vec<TargetHealthDescription> {
        let out = self.elb.describe_target_health().target_group_arn(tg).send().await.expect("target health");
        out.target_health_descriptions().to_vec()
    }

    /// Events emitted so far with this detail-type.
    pub fn events(&self, detail_type: &str) -> Vec<Value> {
        self.sim.events().into_iter().filter(|e| e["detail-type"] == detail_type).collect()
    }
}

/// Every sample from `from` (sim epoch seconds) on keeps healthy ≥ minimum and
/// RUNNING + PENDING ≤ maximum; returns how many samples were checked.
pub fn assert_limits(samples: &[Sample], from: i64) -> usize {
    let checked: Vec<&Sample> = samples.iter().filter(|s| s.t >= from).collect();
    for s in &checked {
        assert!(s.healthy >= s.min_healthy, "healthy {} < minimum {} at {}: {s:?}", s.healthy, s.min_healthy, s.time);
        assert!(s.alive <= s.max_allowed, "alive {} > maximum {} at {}: {s:?}", s.alive, s.max_allowed, s.time);
    }
    checked.len()
}

/// A traffic-shifting service's load balancer: an ALB whose listener has a test rule
/// (header `X-Test: true`, priority 5) and a production rule (`/*`, priority 10), both
/// forwarding to `blue` at 100 and `green` at 0.
pub struct Shifting {
    pub blue: String,
    pub green: String,
    pub listener: String,
    pub production: String,
    pub test: String,
}

/// Deployment settings of a traffic-shifting service.
#[derive(Clone)]
pub struct ShiftSetup {
    pub strategy: DeploymentStrategy,
    pub desired: i32,
    pub bake_minutes: i32,
    /// (stepPercent, stepBakeTimeInMinutes) for LINEAR.
    pub linear: (f64, i32),
    /// (canaryPercent, canaryBakeTimeInMinutes) for CANARY.
    pub canary: (f64, i32),
    pub rollback: bool,
}

impl ShiftSetup {
    pub fn new(strategy: DeploymentStrategy) -> Self {
        Self { strategy, desired: 3, bake_minutes: 2, linear: (10.0, 1), canary: (5.0, 2), rollback: true }
    }
}

impl Env {
    /// An `ip` target group (interval 5 s, thresholds 2/2, deregistration delay 10 s).
    pub async fn target_group(&self, name: &str) -> String {
        let tg = self
            .elb
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id("vpc-0abc")
            .target_type(TargetTypeEnum::Ip)
            .health_check_interval_seconds(5)
            .health_check_timeout_seconds(2)
            .healthy_threshold_count(2)
            .unhealthy_threshold_count(2)
            .send()
            .await
            .expect("create target group");
        let arn = tg.target_groups()[0].target_group_arn().expect("arn").to_string();
        let delay = TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value("10").build();
        self.elb.modify_target_group_attributes().target_group_arn(&arn).attributes(delay).send().await.expect("attrs");
        arn
    }

    /// The cluster, the ALB with its listener and rules, the blue and green target groups.
    pub async fn shifting_load_balancer(&self) -> Shifting {
        self.ecs.create_cluster().cluster_name(CLUSTER).send().await.expect("create cluster");
        let (blue, green) = (self.target_group("web-blue").await, self.target_group("web-green").await);
        let lb = self.elb.create_load_balancer().name("web").subnets("subnet-a").subnets("subnet-b").send().await;
        let lb_arn = lb.expect("create load balancer").load_balancers()[0].load_balancer_arn().unwrap().to_string();
        let not_found = ElbAction::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(FixedResponseActionConfig::builder().status_code("404").build())
            .build();
        let listener = self
            .elb
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(not_found)
            .send()
            .await
            .expect("create listener");
        let listener = listener.listeners()[0].listener_arn().unwrap().to_string();
        let forward = || {
            let groups = ForwardActionConfig::builder()
                .target_groups(TargetGroupTuple::builder().target_group_arn(&blue).weight(100).build())
                .target_groups(TargetGroupTuple::builder().target_group_arn(&green).weight(0).build())
                .build();
            ElbAction::builder().r#type(ActionTypeEnum::Forward).forward_config(groups).build()
        };
        let test_condition = RuleCondition::builder()
            .field("http-header")
            .http_header_config(HttpHeaderConditionConfig::builder().http_header_name("X-Test").values("true").build())
            .build();
        let path_condition = RuleCondition::builder().field("path-pattern").values("/*").build();
        let mut arns = Vec::new();
        for (priority, condition) in [(5, test_condition), (10, path_condition)] {
            let rule = self
                .elb
                .create_rule()
                .listener_arn(&listener)
                .priority(priority)
                .conditions(condition)
                .actions(forward())
                .send()
                .await
                .expect("create rule");
            arns.push(rule.rules()[0].rule_arn().unwrap().to_string());
        }
        let (test, production) = (arns[0].clone(), arns[1].clone());
        Shifting { blue, green, listener, production, test }
    }

    /// A BLUE_GREEN, LINEAR or CANARY service of `image` behind `lb` (circuit breaker on).
    pub async fn shifting_service(&self, image: &str, lb: &Shifting, s: ShiftSetup) -> Service {
        let td = self.task_def(image).await;
        let mut dc = DeploymentConfiguration::builder()
            .strategy(s.strategy.clone())
            .bake_time_in_minutes(s.bake_minutes)
            .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(true).rollback(s.rollback).build());
        if s.strategy == DeploymentStrategy::Linear {
            dc = dc.linear_configuration(
                LinearConfiguration::builder().step_percent(s.linear.0).step_bake_time_in_minutes(s.linear.1).build(),
            );
        }
        if s.strategy == DeploymentStrategy::Canary {
            dc = dc.canary_configuration(
                CanaryConfiguration::builder()
                    .canary_percent(s.canary.0)
                    .canary_bake_time_in_minutes(s.canary.1)
                    .build(),
            );
        }
        let out = self
            .ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name(SERVICE)
            .task_definition(td)
            .desired_count(s.desired)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder().subnets("subnet-a").subnets("subnet-b").build().expect("vpc"),
                    )
                    .build(),
            )
            .load_balancers(
                LoadBalancer::builder()
                    .target_group_arn(&lb.blue)
                    .container_name("web")
                    .container_port(8080)
                    .advanced_configuration(
                        AdvancedConfiguration::builder()
                            .alternate_target_group_arn(&lb.green)
                            .production_listener_rule(&lb.production)
                            .test_listener_rule(&lb.test)
                            .role_arn("arn:aws:iam::123456789012:role/ecs-infrastructure")
                            .build(),
                    )
                    .build(),
            )
            .deployment_configuration(dc.build())
            .send()
            .await
            .expect("create service");
        out.service().expect("service").clone()
    }

    /// `(target group, weight)` of a rule's forward action, through DescribeRules.
    pub async fn rule_weights(&self, rule: &str) -> Vec<(String, i32)> {
        let out = self.elb.describe_rules().rule_arns(rule).send().await.expect("describe rules");
        let config = out.rules()[0].actions()[0].forward_config().expect("forward config").clone();
        config
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn().unwrap().to_string(), t.weight().unwrap()))
            .collect()
    }

    /// The service's newest service deployment.
    pub async fn service_deployment(&self) -> aws_sdk_ecs::types::ServiceDeployment {
        let list = self.ecs.list_service_deployments().cluster(CLUSTER).service(SERVICE).send().await.unwrap();
        let arn = list.service_deployments()[0].service_deployment_arn().unwrap().to_string();
        let out = self.ecs.describe_service_deployments().service_deployment_arns(arn).send().await.unwrap();
        out.service_deployments()[0].clone()
    }

    /// Steps one second at a time (calling `each` with the newest service deployment
    /// before every step) until it is finished; returns its last view.
    pub async fn follow(
        &self,
        max_seconds: u64,
        mut each: impl AsyncFnMut(&aws_sdk_ecs::types::ServiceDeployment),
    ) -> aws_sdk_ecs::types::ServiceDeployment {
        for _ in 0..max_seconds {
            let sd = self.service_deployment().await;
            each(&sd).await;
            let finished = matches!(
                sd.status().map(|s| s.as_str()),
                Some("SUCCESSFUL" | "STOPPED" | "ROLLBACK_SUCCESSFUL" | "ROLLBACK_FAILED")
            );
            if finished {
                return sd;
            }
            self.sim.advance(1);
        }
        panic!("the service deployment did not finish in {max_seconds} s");
    }
}

/// Green's share of a rule's weights in percent (0 when the rule forwards nothing to it).
pub fn green_percent(weights: &[(String, i32)], green: &str) -> f64 {
    let total: i32 = weights.iter().map(|w| w.1).sum();
    let g = weights.iter().find(|w| w.0 == green).map_or(0, |w| w.1);
    if total == 0 { 0.0 } else { f64::from(g) * 100.0 / f64::from(total) }
}
