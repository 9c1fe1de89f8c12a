//! Test harness: a simulator on an ephemeral port, SDK clients pointed at it, and a
//! ready-made service behind a target group.

use autodeploy_local::sim::series::Sample;
use autodeploy_local::sim::{Behavior, Sim, SimConfig, api};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, Deployment, DeploymentCircuitBreaker,
    DeploymentConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, NetworkMode, PortMapping, Service,
};
use aws_sdk_elasticloadbalancingv2::types::{
    ProtocolEnum, TargetGroupAttribute, TargetHealthDescription, TargetTypeEnum,
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
            .build(),
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::Config::builder()
            .behavior_version(aws_sdk_elasticloadbalancingv2::config::BehaviorVersion::latest())
            .region(aws_sdk_elasticloadbalancingv2::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&url)
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
