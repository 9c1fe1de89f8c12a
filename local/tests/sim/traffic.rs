//! Requests through the simulated load balancers, in-process (`Sim::lb_request`) and over
//! HTTP at `/elb/<name>/<port>/<path>`: rules, weighted forwards, healthy targets and
//! fail-open, and what each image behaviour answers — so a lifecycle hook's HTTP check of
//! the test listener can tell a good green from a bad one.

use std::collections::{BTreeMap, BTreeSet};

use autodeploy_local::sim::{Behavior, ElbFault, LbRequest, LbResponse};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentLifecycleHook,
    DeploymentLifecycleHookAction as HookAction, DeploymentLifecycleHookStage as HookStage,
    DeploymentLifecycleHookStatus as HookStatus, DeploymentLifecycleHookTargetType as HookTarget, DeploymentStrategy,
    LaunchType, LoadBalancer, NetworkConfiguration, ServiceDeployment, ServiceDeploymentStatus as Status,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig, HostHeaderConditionConfig, ProtocolEnum,
    RuleCondition, TargetDescription, TargetGroupTuple, TargetHealthStateEnum,
};
use serde_json::Value;

use crate::common::{self, CLUSTER, Env, SERVICE, ShiftSetup, Shifting, green_percent};

/// The ports of [`two_listeners`]: production and test, as the local cloud seeds them.
const PRODUCTION: i64 = 80;
const TEST: i64 = 8080;

fn forward(groups: &[(&str, i32)]) -> Action {
    let config = groups.iter().fold(ForwardActionConfig::builder(), |b, (arn, w)| {
        b.target_groups(TargetGroupTuple::builder().target_group_arn(*arn).weight(*w).build())
    });
    Action::builder().r#type(ActionTypeEnum::Forward).forward_config(config.build()).build()
}

fn every_path() -> RuleCondition {
    RuleCondition::builder().field("path-pattern").values("/*").build()
}

/// The cluster and an ALB `web` with a production listener (80) and a test listener
/// (8080), each with a `/*` rule forwarding to blue at 100 and green at 0; both groups
/// check `/health`.
async fn two_listeners(env: &Env) -> Shifting {
    env.ecs.create_cluster().cluster_name(CLUSTER).send().await.unwrap();
    let (blue, green) = (env.target_group("web-blue").await, env.target_group("web-green").await);
    for tg in [&blue, &green] {
        env.elb.modify_target_group().target_group_arn(tg).health_check_path("/health").send().await.unwrap();
    }
    let lb = env.elb.create_load_balancer().name("web").subnets("subnet-a").subnets("subnet-b").send().await;
    let lb_arn = lb.unwrap().load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let mut listeners = Vec::new();
    let mut rules = Vec::new();
    for port in [PRODUCTION, TEST] {
        let listener = env
            .elb
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(ProtocolEnum::Http)
            .port(port as i32)
            .default_actions(forward(&[(&blue, 100), (&green, 0)]))
            .send()
            .await
            .unwrap();
        let listener = listener.listeners()[0].listener_arn().unwrap().to_string();
        let rule = env
            .elb
            .create_rule()
            .listener_arn(&listener)
            .priority(1)
            .conditions(every_path())
            .actions(forward(&[(&blue, 100), (&green, 0)]))
            .send()
            .await
            .unwrap();
        rules.push(rule.rules()[0].rule_arn().unwrap().to_string());
        listeners.push(listener);
    }
    Shifting { blue, green, listener: listeners.remove(0), production: rules.remove(0), test: rules.remove(0) }
}

/// A settled blue/green service of v1 behind `lb`, then an update to `v2` (a task
/// definition ARN is returned for each) held by a PAUSE hook at POST_TEST_TRAFFIC_SHIFT:
/// returns once the hook awaits action, with the test listener on green and production
/// on blue.
async fn held_after_test_shift(env: &Env, lb: &Shifting, v2: Behavior) -> (String, String, ServiceDeployment) {
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    env.shifting_service(&v1, lb, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    assert_eq!(env.follow(3600, async |_| {}).await.status(), Some(&Status::Successful));
    let td1 = env.describe().await.task_definition().unwrap().to_string();
    let v2 = common::image(&env.sim, "v2", v2);
    let td2 = env.task_def(&v2).await;
    let pause = DeploymentLifecycleHook::builder()
        .target_type(HookTarget::Pause)
        .lifecycle_stages(HookStage::PostTestTrafficShift)
        .build();
    env.ecs
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .task_definition(&td2)
        .deployment_configuration(DeploymentConfiguration::builder().lifecycle_hooks(pause).build())
        .send()
        .await
        .unwrap();
    for _ in 0..900 {
        let sd = env.service_deployment().await;
        let awaiting = sd.lifecycle_hook_details().iter().any(|h| h.status() == Some(&HookStatus::AwaitingAction));
        if sd.lifecycle_stage().map(|s| s.as_str()) == Some("POST_TEST_TRAFFIC_SHIFT") && awaiting {
            assert_eq!(green_percent(&env.rule_weights(&lb.test).await, &lb.green), 100.0);
            assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &lb.green), 0.0);
            return (td1, td2, sd);
        }
        env.sim.advance(1);
    }
    panic!("the deployment never paused at POST_TEST_TRAFFIC_SHIFT");
}

async fn get(url: &str) -> (u16, Value) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn body(r: &LbResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {r:?}"))
}

/// Requests per task definition over `n` GETs of `/` on a port (`header` optional).
fn spread(env: &Env, port: i64, header: Option<(&str, &str)>, n: usize) -> BTreeMap<String, usize> {
    let mut by_td = BTreeMap::new();
    for _ in 0..n {
        let mut req = LbRequest::get("/");
        if let Some((k, v)) = header {
            req = req.header(k, v);
        }
        let r = env.sim.lb_request("web", port, &req);
        assert_eq!(r.status, 200, "{r:?}");
        *by_td.entry(body(&r)["taskDefinition"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    by_td
}

#[tokio::test]
async fn after_the_test_traffic_shift_the_test_listener_reaches_green_and_production_blue() {
    let env = common::start().await;
    let lb = two_listeners(&env).await;
    let (td1, td2, sd) = held_after_test_shift(&env, &lb, Behavior::Healthy).await;
    let path = |port| env.sim.load_balancer_path("web", port).unwrap();
    assert_eq!(path(TEST), "/elb/web/8080");
    // Over HTTP, through the simulator's endpoint: every test request reaches a v2 task,
    // every production one a v1 task, each round-robin over the three healthy tasks.
    let now = env.sim.now();
    for (port, td, tag) in [(TEST, &td2, "v2"), (PRODUCTION, &td1, "v1")] {
        let mut tasks = BTreeSet::new();
        for _ in 0..6 {
            let (status, answer) = get(&format!("{}{}/api/orders?page=1", env.url, path(port))).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["taskDefinition"].as_str(), Some(td.as_str()), "port {port}");
            assert_eq!(answer["path"], "/api/orders");
            let (digest, image) = (answer["imageDigest"].as_str().unwrap(), answer["image"].as_str().unwrap());
            assert!(image.ends_with(digest), "{image}");
            assert_eq!(env.sim.read(|w| w.images.resolve(image).map(|e| e.behavior)), Some(Behavior::Healthy), "{tag}");
            tasks.insert(answer["task"].as_str().unwrap().to_string());
        }
        assert_eq!(tasks.len(), 3, "round-robin over the group's healthy targets");
    }
    assert_eq!(env.sim.now(), now, "requests do not move the clock");
    // The same through the SDK's ARN and in-process: the rule and group are the ones ECS moved.
    let lb_arn = env.sim.read(|w| w.load_balancer("web").unwrap().arn.clone());
    let r = env.sim.lb_request(&lb_arn, TEST, &LbRequest::get("/"));
    let routed = r.target.as_ref().unwrap();
    assert_eq!((r.rule_arn.as_deref(), routed.target_group_arn.as_str()), (Some(lb.test.as_str()), lb.green.as_str()));
    assert!(!routed.fail_open);
    assert_eq!(r.header("x-sim-task-definition"), Some(td2.as_str()));
    // Continued: production moves to v2 as well.
    let hook = sd.lifecycle_hook_details()[0].hook_id().unwrap();
    let arn = sd.service_deployment_arn().unwrap();
    env.ecs.continue_service_deployment().service_deployment_arn(arn).hook_id(hook).send().await.unwrap();
    assert_eq!(env.follow(3600, async |_| {}).await.status(), Some(&Status::Successful));
    assert_eq!(spread(&env, PRODUCTION, None, 6), BTreeMap::from([(td2.clone(), 6)]));
}

#[tokio::test]
async fn an_errors_build_is_healthy_for_the_load_balancer_yet_answers_500_through_the_test_listener() {
    let env = common::start().await;
    let lb = two_listeners(&env).await;
    let (td1, td2, sd) = held_after_test_shift(&env, &lb, Behavior::Errors).await;
    // ECS got this far because the load balancer finds every green target healthy.
    let green = env.targets(&lb.green).await;
    assert_eq!(green.len(), 3);
    assert!(green.iter().all(|t| t.target_health().unwrap().state() == Some(&TargetHealthStateEnum::Healthy)));
    // Its health check path answers 200; everything else 500, from the v2 task itself.
    let url = |port, p: &str| format!("{}{}{p}", env.url, env.sim.load_balancer_path("web", port).unwrap());
    let (status, answer) = get(&url(TEST, "/health")).await;
    assert_eq!((status, answer["taskDefinition"].as_str()), (200, Some(td2.as_str())));
    for p in ["/", "/api/orders", "/health/deep"] {
        let (status, answer) = get(&url(TEST, p)).await;
        assert_eq!(
            (status, answer["taskDefinition"].as_str(), answer["behavior"].as_str()),
            (500, Some(td2.as_str()), Some("errors")),
            "{p}"
        );
    }
    // Production, still on blue, answers 200.
    let (status, answer) = get(&url(PRODUCTION, "/api/orders")).await;
    assert_eq!((status, answer["taskDefinition"].as_str()), (200, Some(td1.as_str())));
    // What a hook checking the test listener would do: roll back; the test listener is
    // back on blue and answers 200 again.
    let hook = sd.lifecycle_hook_details()[0].hook_id().unwrap();
    let arn = sd.service_deployment_arn().unwrap();
    let out =
        env.ecs.continue_service_deployment().service_deployment_arn(arn).hook_id(hook).action(HookAction::Rollback);
    out.send().await.unwrap();
    assert_eq!(env.follow(3600, async |_| {}).await.status(), Some(&Status::RollbackSuccessful));
    let (status, answer) = get(&url(TEST, "/api/orders")).await;
    assert_eq!((status, answer["taskDefinition"].as_str()), (200, Some(td1.as_str())));
}

#[tokio::test]
async fn a_canary_at_ten_percent_gets_ten_requests_in_a_hundred_and_the_test_rule_all() {
    let env = common::start().await;
    // One listener: the test rule matches `X-Test: true` (priority 5), production `/*` (10).
    let lb = env.shifting_load_balancer().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let mut setup = ShiftSetup::new(DeploymentStrategy::Canary);
    setup.canary = (10.0, 5);
    env.shifting_service(&v1, &lb, setup).await;
    assert_eq!(env.follow(3600, async |_| {}).await.status(), Some(&Status::Successful));
    let td1 = env.describe().await.task_definition().unwrap().to_string();
    let td2 = env.task_def(&common::image(&env.sim, "v2", Behavior::Healthy)).await;
    env.update(&td2).await;
    let mut at_canary = false;
    for _ in 0..900 {
        if green_percent(&env.rule_weights(&lb.production).await, &lb.green) == 10.0 {
            at_canary = true;
            break;
        }
        env.sim.advance(1);
    }
    assert!(at_canary, "production never reached the 10 % canary");
    assert_eq!(env.rule_weights(&lb.production).await, [(lb.blue.clone(), 900), (lb.green.clone(), 100)]);
    // Weights 900 / 100 by smooth weighted round-robin: exactly 10 of 100, whatever the seed.
    let production = spread(&env, 80, None, 100);
    assert_eq!(production, BTreeMap::from([(td1.clone(), 90), (td2.clone(), 10)]));
    // Header values compare without case.
    assert_eq!(spread(&env, 80, Some(("x-test", "TRUE")), 20), BTreeMap::from([(td2.clone(), 20)]));
    let other = spread(&env, 80, Some(("X-Test", "false")), 10);
    assert!(other.get(&td1).is_some_and(|n| *n >= 8), "{other:?}");
}

/// A rolling service of `behavior` whose tasks ECS leaves running for an hour whatever
/// the load balancer says, behind ALB `web`'s listener 80 (default: forward to its group);
/// returns the group.
async fn kept_service(env: &Env, behavior: Behavior) -> String {
    env.ecs.create_cluster().cluster_name(CLUSTER).send().await.unwrap();
    let tg = env.target_group("web-tg").await;
    let lb = env.elb.create_load_balancer().name("web").subnets("subnet-a").subnets("subnet-b").send().await;
    let lb = lb.unwrap();
    let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let host = RuleCondition::builder()
        .field("host-header")
        .host_header_config(HostHeaderConditionConfig::builder().values("*.example.COM").build())
        .build();
    let hello = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("200")
                .content_type("text/plain")
                .message_body("hello")
                .build(),
        )
        .build();
    let listener = env
        .elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward(&[(&tg, 1)]))
        .send()
        .await
        .unwrap();
    let listener = listener.listeners()[0].listener_arn().unwrap().to_string();
    env.elb.create_rule().listener_arn(&listener).priority(1).conditions(host).actions(hello).send().await.unwrap();
    let empty = env.target_group("web-empty").await;
    env.elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(81)
        .default_actions(forward(&[(&empty, 1)]))
        .send()
        .await
        .unwrap();
    let td = env.task_def(&common::image(&env.sim, "v1", behavior)).await;
    env.ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .task_definition(td)
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .health_check_grace_period_seconds(3600)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("subnet-a").build().unwrap())
                .build(),
        )
        .load_balancers(
            LoadBalancer::builder().target_group_arn(&tg).container_name("web").container_port(8080).build(),
        )
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(false).rollback(false).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    tg
}

#[tokio::test]
async fn with_no_healthy_target_the_load_balancer_fails_open_to_the_registered_ones() {
    let env = common::start().await;
    let tg = kept_service(&env, Behavior::Unhealthy).await;
    env.sim.advance(60);
    let targets = env.targets(&tg).await;
    assert_eq!(targets.len(), 2);
    assert!(targets.iter().all(|t| t.target_health().unwrap().state() == Some(&TargetHealthStateEnum::Unhealthy)));
    // Every target failed its health checks, so the ALB sends requests to all of them
    // anyway; the tasks themselves answer (500: that is what an `unhealthy` build does).
    let mut ips = BTreeSet::new();
    for _ in 0..4 {
        let r = env.sim.lb_request("web", 80, &LbRequest::get("/api"));
        let routed = r.target.clone().unwrap();
        assert_eq!((r.status, r.fault, routed.fail_open), (500, None, true), "{r:?}");
        assert_eq!(r.header("x-sim-fail-open"), Some("true"));
        ips.insert(routed.ip);
    }
    assert_eq!(ips.len(), 2);
    // A group with no registered target at all: the ALB's own 503.
    let r = env.sim.lb_request("web", 81, &LbRequest::get("/"));
    assert_eq!((r.status, r.fault, r.header("server")), (503, Some(ElbFault::NoRegisteredTargets), Some("awselb/2.0")));
    assert!(r.body.contains("503 Service Temporarily Unavailable"));
    // A registered address no task holds: the ALB fails open to it and gets no answer.
    let empty = env.sim.read(|w| w.target_groups.values().find(|g| g.name == "web-empty").unwrap().arn.clone());
    let ghost = TargetDescription::builder().id("10.9.9.9").port(8080).build();
    env.elb.register_targets().target_group_arn(&empty).targets(ghost).send().await.unwrap();
    let r = env.sim.lb_request("web", 81, &LbRequest::get("/"));
    assert_eq!((r.status, r.fault), (502, Some(ElbFault::TargetUnreachable)), "{r:?}");
    let routed = r.target.unwrap();
    assert_eq!((routed.ip.as_str(), routed.task_arn, routed.fail_open), ("10.9.9.9", None, true));
}

#[tokio::test]
async fn over_http_rules_match_the_host_and_unknown_load_balancers_and_ports_are_refused() {
    let env = common::start().await;
    kept_service(&env, Behavior::Healthy).await;
    let all_healthy = |w: &autodeploy_local::sim::World| {
        w.target_groups.values().filter(|g| g.name == "web-tg").all(|g| {
            g.targets.len() == 2
                && g.targets.iter().all(|t| t.state == autodeploy_local::sim::model::TargetState::Healthy)
        })
    };
    assert!(env.sim.advance_until(120, all_healthy));
    let base = format!("{}{}", env.url, env.sim.load_balancer_path("web", 80).unwrap());
    let http = reqwest::Client::new();
    // The local endpoint's own Host is not the load balancer's: the default rule forwards.
    let (status, answer) = get(&format!("{base}/")).await;
    assert_eq!((status, answer["behavior"].as_str()), (200, Some("healthy")));
    // A host-header rule (`*.example.COM`, compared without case) answers for itself.
    let hello = http.get(format!("{base}/x")).header("host", "API.example.com:80").send().await.unwrap();
    assert_eq!(hello.status().as_u16(), 200);
    assert_eq!(hello.headers()["server"], "awselb/2.0");
    assert_eq!(hello.text().await.unwrap(), "hello");
    // Unknown load balancer: 404; no listener on the port: 503; a path with no port: 404.
    let refused = [
        (format!("{}/elb/nope/80/", env.url), 404, "NoLoadBalancer"),
        (format!("{}/elb/web/9999/", env.url), 503, "NoListener"),
    ];
    for (url, code, fault) in refused {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), code, "{url}");
        assert_eq!(r.headers()["x-sim-elb-fault"], fault, "{url}");
    }
    assert_eq!(http.get(format!("{}/elb/web", env.url)).send().await.unwrap().status().as_u16(), 404);
    assert_eq!(env.sim.load_balancer_path("nope", 80), None);
}

#[tokio::test]
async fn a_slow_target_times_out_until_it_is_up() {
    let env = common::start().await;
    let tg = kept_service(&env, Behavior::Slow(300)).await;
    env.sim.advance(60);
    let r = env.sim.lb_request("web", 80, &LbRequest::get("/"));
    assert_eq!((r.status, r.fault), (504, Some(ElbFault::TargetTimeout)), "{r:?}");
    assert!(r.target.unwrap().fail_open);
    // Up after 300 s: healthy, answering 200.
    assert!(env.sim.advance_until(600, |w| w.target_groups[&tg].targets.iter().all(|t| t.state.as_str() == "healthy")));
    let r = env.sim.lb_request("web", 80, &LbRequest::get("/"));
    assert_eq!((r.status, r.target.unwrap().fail_open), (200, false));
}
