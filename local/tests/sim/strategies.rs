//! ECS's traffic-shifting strategies (BLUE_GREEN, LINEAR, CANARY) through aws-sdk-ecs and
//! aws-sdk-elasticloadbalancingv2: the stages, the production and test rules' weights,
//! the rollbacks, and what the recorded series says about traffic and health.

use autodeploy_local::sim::Behavior;
use autodeploy_local::sim::series::Sample;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, AwsVpcConfiguration, DeploymentConfiguration, DeploymentStrategy, LaunchType,
    LinearConfiguration, LoadBalancer, NetworkConfiguration, ServiceDeployment, ServiceDeploymentStatus as Status,
    StopServiceDeploymentStopType,
};

use crate::common::{self, CLUSTER, Env, SERVICE, ShiftSetup, Shifting, green_percent};

const EVERY_STAGE: [&str; 10] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

fn stage(sd: &ServiceDeployment) -> String {
    sd.lifecycle_stage().map(|s| s.as_str().to_string()).unwrap_or_default()
}

/// A service of v1 whose first deployment has finished; returns the load balancer.
async fn settled(env: &Env, setup: ShiftSetup) -> Shifting {
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let lb = env.shifting_load_balancer().await;
    env.shifting_service(&v1, &lb, setup).await;
    let first = env.follow(3600, async |_| {}).await;
    assert_eq!(first.status(), Some(&Status::Successful));
    lb
}

/// Which target group of the pair production uses now, and the other one.
async fn production_and_other(env: &Env, lb: &Shifting) -> (String, String) {
    let weights = env.rule_weights(&lb.production).await;
    if green_percent(&weights, &lb.green) == 100.0 {
        (lb.green.clone(), lb.blue.clone())
    } else {
        (lb.blue.clone(), lb.green.clone())
    }
}

/// Production traffic only ever went to versions with healthy tasks, and the healthy
/// tasks serving production never fell below the minimum.
fn assert_traffic_safe(samples: &[Sample], from: i64) {
    for s in samples.iter().filter(|s| s.t >= from) {
        let mut serving = 0;
        for v in &s.versions {
            let traffic = v.production_traffic.expect("a traffic-shifting service reports traffic");
            if traffic > 0.0 {
                assert!(
                    v.healthy > 0,
                    "{traffic}% of production to {} with no healthy task at {}",
                    v.task_definition,
                    s.time
                );
                serving += v.healthy;
            }
        }
        assert!(
            serving >= s.min_healthy,
            "{serving} healthy tasks serve production, minimum {} at {}",
            s.min_healthy,
            s.time
        );
    }
}

#[tokio::test]
async fn blue_green_goes_through_every_stage_and_swaps_the_groups() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    // The first deployment, with nothing to keep serving, came up where production
    // already went: the service's own target group.
    let (blue, green) = production_and_other(&env, &lb).await;
    assert_eq!((blue.as_str(), green.as_str()), (lb.blue.as_str(), lb.green.as_str()));
    let before = env.describe().await;
    let blue_id = before.deployments()[0].id().unwrap().to_string();

    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    let from = env.sim.now() / 1000;
    let td2 = env.task_def(&v2).await;
    let updated = env.update(&td2).await;
    let deployments = updated.deployments();
    assert_eq!((deployments[0].status(), deployments[0].task_definition()), (Some("PRIMARY"), Some(td2.as_str())));
    assert_eq!((deployments[1].status(), deployments[1].id()), (Some("ACTIVE"), Some(blue_id.as_str())));

    let mut stages: Vec<String> = Vec::new();
    let mut seen_bake = false;
    let done = env
        .follow(1800, async |sd| {
            assert!(matches!(sd.status(), Some(Status::InProgress | Status::Successful)), "{:?}", sd.status());
            let s = stage(sd);
            if stages.last() != Some(&s) {
                stages.push(s.clone());
            }
            let production = green_percent(&env.rule_weights(&lb.production).await, &green);
            let test = green_percent(&env.rule_weights(&lb.test).await, &green);
            let target = sd.target_service_revision().unwrap();
            let source = &sd.source_service_revisions()[0];
            assert_eq!(target.requested_production_traffic_weight(), Some(production), "at {s}");
            assert_eq!(source.requested_production_traffic_weight(), Some(100.0 - production), "at {s}");
            assert_eq!(target.requested_test_traffic_weight(), Some(test), "at {s}");
            let shifted_test = EVERY_STAGE.iter().position(|x| *x == s) >= Some(4);
            assert_eq!(test, if shifted_test { 100.0 } else { 0.0 }, "test traffic at {s}");
            let shifted = EVERY_STAGE.iter().position(|x| *x == s) >= Some(6);
            assert_eq!(production, if shifted { 100.0 } else { 0.0 }, "production traffic at {s}");
            match s.as_str() {
                "PRE_SCALE_UP" | "RECONCILE_SERVICE" => {
                    assert_eq!(target.running_task_count() + target.pending_task_count(), 0)
                }
                "BAKE_TIME" => {
                    seen_bake = true;
                    // Blue stays at full scale, still registered, through the bake.
                    assert_eq!((source.running_task_count(), target.running_task_count()), (3, 3));
                }
                _ => {}
            }
        })
        .await;
    assert!(seen_bake);
    assert_eq!(stages, EVERY_STAGE, "every stage, in order");
    assert_eq!(done.status(), Some(&Status::Successful));
    assert_eq!(stage(&done), "CLEAN_UP");
    let elapsed = env.sim.now() / 1000 - from;
    assert!(elapsed > 120, "the two minutes of bake time are part of the deployment ({elapsed} s)");

    // Production and test rules end on green, 100 / 0.
    for rule in [&lb.production, &lb.test] {
        let weights = env.rule_weights(rule).await;
        assert_eq!(weights.iter().find(|w| w.0 == green).map(|w| w.1), Some(100));
        assert_eq!(weights.iter().find(|w| w.0 == blue).map(|w| w.1), Some(0));
    }
    // Blue's tasks are gone; green's are healthy in green only.
    let svc = env.describe().await;
    assert_eq!(svc.deployments().len(), 1);
    let primary = &svc.deployments()[0];
    assert_eq!(primary.rollout_state().map(|r| r.as_str()), Some("COMPLETED"));
    assert_eq!(primary.running_count(), 3);
    assert!(svc.events().iter().any(|e| e.message().unwrap().contains("has reached a steady state")));
    assert!(env.sim.advance_until(60, |w| w.target_groups[&blue].targets.is_empty()), "blue drained");
    let healthy: Vec<_> =
        env.targets(&green).await.iter().filter_map(|t| t.target_health()?.state().cloned()).collect();
    assert_eq!(healthy.len(), 3);
    assert!(healthy.iter().all(|s| s.as_str() == "healthy"));
    let green_id = primary.id().unwrap();
    let names: Vec<String> = env
        .events("ECS Deployment State Change")
        .iter()
        .filter(|e| e["detail"]["deploymentId"] == green_id)
        .map(|e| e["detail"]["eventName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"]);

    // The revision says where its production traffic goes; the service's own
    // targetGroupArn is left as configured.
    let revision_arn = done.target_service_revision().unwrap().arn().unwrap();
    let revisions = env.ecs.describe_service_revisions().service_revision_arns(revision_arn).send().await.unwrap();
    let resolved = revisions.service_revisions()[0].resolved_configuration().unwrap().load_balancers().to_vec();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].target_group_arn(), Some(green.as_str()));
    assert_eq!(resolved[0].production_listener_rule(), Some(lb.production.as_str()));
    assert_eq!(svc.load_balancers()[0].target_group_arn(), Some(lb.blue.as_str()));
    let config = svc.deployment_configuration().unwrap();
    assert_eq!(config.strategy(), Some(&DeploymentStrategy::BlueGreen));
    assert_eq!(config.bake_time_in_minutes(), Some(2));
    let advanced = svc.load_balancers()[0].advanced_configuration().unwrap();
    assert_eq!(advanced.test_listener_rule(), Some(lb.test.as_str()));
    assert_eq!(advanced.role_arn(), Some("arn:aws:iam::123456789012:role/ecs-infrastructure"));

    assert_traffic_safe(&env.series(), from);
}

/// A bad build under BLUE_GREEN: production is never weighted to green, the breaker
/// rolls back, green is stopped and blue — never scaled down — is PRIMARY again.
async fn bad_green_rolls_back(behavior: Behavior) {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    let (_, green) = production_and_other(&env, &lb).await;
    let before = env.describe().await;
    let (blue_id, blue_td) =
        (before.deployments()[0].id().unwrap().to_string(), before.task_definition().unwrap().to_string());
    let blue_revision = env.service_deployment().await.target_service_revision().unwrap().arn().unwrap().to_string();
    let blue_tasks = env.ecs.list_tasks().cluster(CLUSTER).service_name(SERVICE).send().await.unwrap();
    let from = env.sim.now() / 1000;

    let bad = common::image(&env.sim, "v2", behavior);
    let green_id = env.update(&env.task_def(&bad).await).await.deployments()[0].id().unwrap().to_string();
    let mut statuses: Vec<Status> = Vec::new();
    let mut saw_failed_entry = false;
    let done = env
        .follow(1800, async |sd| {
            let s = sd.status().unwrap().clone();
            if statuses.last() != Some(&s) {
                statuses.push(s);
            }
            for rule in [&lb.production, &lb.test] {
                let weights = env.rule_weights(rule).await;
                assert_eq!(green_percent(&weights, &green), 0.0, "{behavior:?}: traffic to a bad green");
            }
            let svc = env.describe().await;
            if let Some(g) = svc.deployments().iter().find(|d| d.id() == Some(green_id.as_str()))
                && g.rollout_state().map(|r| r.as_str()) == Some("FAILED")
            {
                saw_failed_entry = true;
                assert!(g.rollout_state_reason().unwrap().starts_with("ECS deployment circuit breaker: "));
                assert_eq!(svc.deployments()[0].id(), Some(blue_id.as_str()), "blue is PRIMARY again");
            }
        })
        .await;
    assert!(saw_failed_entry);
    assert_eq!(statuses, [Status::InProgress, Status::RollbackInProgress, Status::RollbackSuccessful], "{behavior:?}");
    let rollback = done.rollback().unwrap();
    assert_eq!(rollback.service_revision_arn(), Some(blue_revision.as_str()));
    assert!(rollback.reason().unwrap().starts_with("ECS deployment circuit breaker: "));
    assert_eq!(stage(&done), "SCALE_UP", "the breaker stopped green while it scaled up");

    let svc = env.describe().await;
    assert_eq!(svc.deployments().len(), 1);
    let primary = &svc.deployments()[0];
    assert_eq!(
        (primary.id(), primary.rollout_state().map(|r| r.as_str())),
        (Some(blue_id.as_str()), Some("COMPLETED"))
    );
    assert_eq!(svc.task_definition(), Some(blue_td.as_str()));
    let after = env.ecs.list_tasks().cluster(CLUSTER).service_name(SERVICE).send().await.unwrap();
    assert_eq!(after.task_arns(), blue_tasks.task_arns(), "blue's tasks served throughout");
    let left = env.targets(&green).await;
    assert!(
        left.iter().all(|t| t.target_health().and_then(|h| h.state()).map(|s| s.as_str()) == Some("draining")),
        "green deregistered: {left:?}"
    );
    let listed = env.ecs.list_service_deployments().cluster(CLUSTER).service(SERVICE).send().await.unwrap();
    assert_eq!(listed.service_deployments().len(), 2, "no new service deployment for the rollback");
    assert_traffic_safe(&env.series(), from);
}

#[tokio::test]
async fn blue_green_unhealthy_build_rolls_back_without_traffic() {
    bad_green_rolls_back(Behavior::Unhealthy).await;
}

#[tokio::test]
async fn blue_green_crashing_build_rolls_back_without_traffic() {
    bad_green_rolls_back(Behavior::Crash).await;
}

/// The production percentages a deployment went through, with the second each began.
async fn production_steps(env: &Env, lb: &Shifting, green: &str) -> Vec<(f64, i64)> {
    let mut steps: Vec<(f64, i64)> = Vec::new();
    let done = env
        .follow(3600, async |_| {
            let p = green_percent(&env.rule_weights(&lb.production).await, green);
            if steps.last().map(|s| s.0) != Some(p) {
                steps.push((p, env.sim.now() / 1000));
            }
        })
        .await;
    assert_eq!(done.status(), Some(&Status::Successful));
    steps
}

#[tokio::test]
async fn linear_shifts_ten_percent_a_step_with_the_step_bake_between() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::Linear)).await;
    let (_, green) = production_and_other(&env, &lb).await;
    let from = env.sim.now() / 1000;
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let steps = production_steps(&env, &lb, &green).await;
    let percents: Vec<f64> = steps.iter().map(|s| s.0).collect();
    assert_eq!(percents, [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]);
    for w in steps[1..].windows(2) {
        assert_eq!(w[1].1 - w[0].1, 60, "one minute of step bake between {} and {}", w[0].0, w[1].0);
    }
    assert_traffic_safe(&env.series(), from);
}

#[tokio::test]
async fn linear_weights_are_tenths_of_a_percent_and_the_last_step_is_capped() {
    let env = common::start().await;
    let mut setup = ShiftSetup::new(DeploymentStrategy::Linear);
    setup.linear = (33.3, 0);
    let lb = settled(&env, setup).await;
    let (blue, green) = production_and_other(&env, &lb).await;
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let mut seen: Vec<Vec<(String, i32)>> = Vec::new();
    env.follow(3600, async |_| {
        let w = env.rule_weights(&lb.production).await;
        if seen.last() != Some(&w) {
            seen.push(w);
        }
    })
    .await;
    let green_weights: Vec<(i32, i32)> = seen
        .iter()
        .map(|w| {
            let of = |g: &str| w.iter().find(|x| x.0 == g).map_or(-1, |x| x.1);
            (of(&blue), of(&green))
        })
        .collect();
    assert_eq!(green_weights, [(100, 0), (667, 333), (334, 666), (1, 999), (0, 100)]);
}

#[tokio::test]
async fn canary_shifts_five_percent_then_the_rest_after_the_canary_bake() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::Canary)).await;
    let (_, green) = production_and_other(&env, &lb).await;
    let from = env.sim.now() / 1000;
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let steps = production_steps(&env, &lb, &green).await;
    let percents: Vec<f64> = steps.iter().map(|s| s.0).collect();
    assert_eq!(percents, [0.0, 5.0, 100.0]);
    assert_eq!(steps[2].1 - steps[1].1, 120, "two minutes of canary bake");
    let weights = env.rule_weights(&lb.production).await;
    assert_eq!(weights.iter().find(|w| w.0 == green).map(|w| w.1), Some(100));
    // The series saw the canary: 5 % to v2, 95 % to v1, both healthy.
    let samples = env.series();
    let canary = samples
        .iter()
        .filter(|s| s.t >= from)
        .find(|s| s.versions.iter().any(|v| v.production_traffic == Some(5.0)))
        .unwrap();
    assert_eq!(canary.lifecycle_stage.as_deref(), Some("PRODUCTION_TRAFFIC_SHIFT"));
    let traffic: Vec<(Option<f64>, i64)> = canary.versions.iter().map(|v| (v.production_traffic, v.healthy)).collect();
    assert_eq!(traffic, [(Some(95.0), 3), (Some(5.0), 3)]);
    assert_traffic_safe(&samples, from);
}

#[tokio::test]
async fn a_rollback_asked_for_during_the_bake_sends_production_back_to_blue_at_once() {
    let env = common::start().await;
    let mut setup = ShiftSetup::new(DeploymentStrategy::BlueGreen);
    setup.bake_minutes = 30;
    let lb = settled(&env, setup).await;
    let (blue, green) = production_and_other(&env, &lb).await;
    let blue_id = env.primary().await.id().unwrap().to_string();
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let mut in_bake = None;
    for _ in 0..600 {
        let sd = env.service_deployment().await;
        if stage(&sd) == "BAKE_TIME" {
            in_bake = Some(sd);
            break;
        }
        env.sim.advance(1);
    }
    let sd = in_bake.expect("reached BAKE_TIME");
    let state = env.sim.state();
    let shown = &state["services"][0]["serviceDeployment"];
    assert_eq!(
        (shown["lifecycleStage"].as_str(), shown["productionTrafficPercent"].as_f64()),
        (Some("BAKE_TIME"), Some(100.0))
    );
    env.sim.advance(60);
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &green), 100.0);
    let arn = sd.service_deployment_arn().unwrap();
    env.ecs
        .stop_service_deployment()
        .service_deployment_arn(arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .unwrap();
    // In the same instant: production and test back on blue, 100 / 0.
    for rule in [&lb.production, &lb.test] {
        let weights = env.rule_weights(rule).await;
        assert_eq!(weights.iter().find(|w| w.0 == blue).map(|w| w.1), Some(100));
        assert_eq!(weights.iter().find(|w| w.0 == green).map(|w| w.1), Some(0));
    }
    let now = env.service_deployment().await;
    assert_eq!(now.status(), Some(&Status::RollbackInProgress));
    let target = now.target_service_revision().unwrap();
    assert_eq!(target.requested_production_traffic_weight(), Some(0.0));
    assert_eq!(now.source_service_revisions()[0].requested_production_traffic_weight(), Some(100.0));
    let done = env.follow(600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::RollbackSuccessful));
    assert!(done.rollback().unwrap().reason().unwrap().contains("rolled back on request"));
    let svc = env.describe().await;
    assert_eq!(svc.deployments().len(), 1);
    assert_eq!(svc.deployments()[0].id(), Some(blue_id.as_str()));
    assert!(env.targets(&green).await.is_empty());

    // A finished deployment cannot be stopped.
    let again = env.ecs.stop_service_deployment().service_deployment_arn(arn).send().await.unwrap_err();
    assert_eq!(again.as_service_error().and_then(|e| e.meta().code()), Some("ConflictException"));
}

#[tokio::test]
async fn a_newer_update_stops_the_shift_and_starts_again_from_blue() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::Canary)).await;
    let (_, green) = production_and_other(&env, &lb).await;
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    let v3 = common::image(&env.sim, "v3", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    assert!(env.sim.advance_until(600, |w| {
        w.rule_weights(&lb.production).is_some_and(|r| r.iter().any(|x| x.0 == green && x.1 == 50))
    }));
    let first = env.service_deployment().await;
    env.update(&env.task_def(&v3).await).await;
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &green), 0.0, "back to blue at once");
    let stopped =
        env.ecs.describe_service_deployments().service_deployment_arns(first.service_deployment_arn().unwrap());
    assert_eq!(stopped.send().await.unwrap().service_deployments()[0].status(), Some(&Status::Stopped));
    let steps = production_steps(&env, &lb, &green).await;
    assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), [0.0, 5.0, 100.0]);
}

#[tokio::test]
async fn strategy_settings_are_validated() {
    let env = common::start().await;
    let lb = env.shifting_load_balancer().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let td = env.task_def(&v1).await;
    let other = env.target_group("other").await;
    let advanced = |alternate: &str, production: &str| {
        AdvancedConfiguration::builder()
            .alternate_target_group_arn(alternate)
            .production_listener_rule(production)
            .build()
    };
    let create = |dc: DeploymentConfiguration, lb_config: LoadBalancer| {
        env.ecs
            .create_service()
            .cluster(CLUSTER)
            .service_name(SERVICE)
            .task_definition(&td)
            .desired_count(1)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("subnet-a").build().unwrap())
                    .build(),
            )
            .load_balancers(lb_config)
            .deployment_configuration(dc)
            .send()
    };
    let entry = |a: Option<AdvancedConfiguration>| {
        LoadBalancer::builder()
            .target_group_arn(&lb.blue)
            .container_name("web")
            .container_port(8080)
            .set_advanced_configuration(a)
            .build()
    };
    let good = || Some(advanced(&lb.green, &lb.production));
    let bg = || DeploymentConfiguration::builder().strategy(DeploymentStrategy::BlueGreen);
    let cases: Vec<(DeploymentConfiguration, LoadBalancer, &str)> = vec![
        (bg().build(), entry(None), "requires advancedConfiguration"),
        (bg().bake_time_in_minutes(1441).build(), entry(good()), "bakeTimeInMinutes must be between 0 and 1440"),
        (
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::Linear)
                .linear_configuration(LinearConfiguration::builder().step_percent(2.0).build())
                .build(),
            entry(good()),
            "stepPercent must be a multiple of 0.1 from 3.0 to 100.0",
        ),
        (
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::Linear)
                .linear_configuration(LinearConfiguration::builder().step_percent(12.34).build())
                .build(),
            entry(good()),
            "stepPercent must be a multiple of 0.1",
        ),
        (
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::Canary)
                .canary_configuration(
                    aws_sdk_ecs::types::CanaryConfiguration::builder().canary_bake_time_in_minutes(-1).build(),
                )
                .build(),
            entry(good()),
            "canaryBakeTimeInMinutes must be between 0 and 1440",
        ),
        (bg().build(), entry(Some(advanced(&format!("{}x", lb.green), &lb.production))), "does not exist"),
        (bg().build(), entry(Some(advanced(&lb.green, &format!("{}x", lb.production)))), "does not exist"),
        (bg().build(), entry(Some(advanced(&lb.blue, &lb.production))), "different target group"),
        (bg().build(), entry(Some(advanced(&other, &lb.listener))), "does not forward"),
    ];
    let mut cases = cases;
    let elsewhere = LoadBalancer::builder()
        .target_group_arn(&other)
        .container_name("web")
        .container_port(8080)
        .advanced_configuration(advanced(&env.target_group("another").await, &lb.production))
        .build();
    cases.push((bg().build(), elsewhere, "must forward to target group"));
    for (dc, lb_config, message) in cases {
        let e = create(dc, lb_config).await.unwrap_err();
        let e = e.as_service_error().unwrap();
        assert_eq!(e.code(), Some("InvalidParameterException"), "{message}: {e:?}");
        assert!(e.message().unwrap().contains(message), "{message}: {:?}", e.message());
    }
    // An unknown strategy is refused by the SDK's enum only on the way out; send it raw.
    let raw = serde_json::json!({
        "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": td, "desiredCount": 1,
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}},
        "deploymentConfiguration": {"strategy": "SIDEWAYS"},
    });
    let resp = reqwest::Client::new()
        .post(&env.url)
        .header("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateService")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(raw.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException");

    // A rolling service that becomes BLUE_GREEN needs the advanced configuration too.
    create(DeploymentConfiguration::builder().build(), entry(None)).await.expect("rolling service");
    let e = env
        .ecs
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .deployment_configuration(bg().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.as_service_error().and_then(|e| e.code()), Some("InvalidParameterException"));
}

#[tokio::test]
async fn deleting_the_service_mid_shift_stops_blue_and_green() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let in_bake = |w: &autodeploy_local::sim::World| {
        w.service_deployments.last().and_then(|d| d.shift.as_ref()).is_some_and(|s| s.stage.as_str() == "BAKE_TIME")
    };
    assert!(env.sim.advance_until(600, in_bake));
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &lb.green), 100.0);
    env.ecs.delete_service().cluster(CLUSTER).service(SERVICE).force(true).send().await.unwrap();
    assert!(
        env.sim.advance_until(600, |w| w.services.iter().all(|s| s.status.as_str() == "INACTIVE")),
        "every task stopped"
    );
}

#[tokio::test]
async fn blue_keeps_its_scale_until_clean_up() {
    let env = common::start().await;
    let mut setup = ShiftSetup::new(DeploymentStrategy::BlueGreen);
    setup.bake_minutes = 10;
    let lb = settled(&env, setup).await;
    let (blue, _) = production_and_other(&env, &lb).await;
    let blue_id = env.primary().await.id().unwrap().to_string();
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    let in_bake = |w: &autodeploy_local::sim::World| {
        w.service_deployments.last().and_then(|d| d.shift.as_ref()).is_some_and(|s| s.stage.as_str() == "BAKE_TIME")
    };
    assert!(env.sim.advance_until(600, in_bake));
    let blue_tasks = env.ecs.list_tasks().cluster(CLUSTER).started_by(&blue_id).send().await.unwrap();
    assert_eq!(blue_tasks.task_arns().len(), 3);
    env.ecs.stop_task().cluster(CLUSTER).task(&blue_tasks.task_arns()[0]).send().await.unwrap();
    env.sim.advance(60);
    let again = env.ecs.list_tasks().cluster(CLUSTER).started_by(&blue_id).send().await.unwrap();
    assert_eq!(again.task_arns().len(), 3, "the stopped blue task was replaced");
    let healthy = env
        .targets(&blue)
        .await
        .iter()
        .filter(|t| t.target_health().and_then(|h| h.state()).map(|s| s.as_str()) == Some("healthy"))
        .count();
    assert_eq!(healthy, 3);
}

#[tokio::test]
async fn a_rolling_update_after_blue_green_registers_where_production_goes() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    // After one blue/green deployment production is on the alternate group.
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.update(&env.task_def(&v2).await).await;
    assert_eq!(env.follow(1800, async |_| {}).await.status(), Some(&Status::Successful));
    let (production, other) = production_and_other(&env, &lb).await;
    assert_eq!(production, lb.green);
    let v3 = common::image(&env.sim, "v3", Behavior::Healthy);
    let td3 = env.task_def(&v3).await;
    let rolling = DeploymentConfiguration::builder().strategy(DeploymentStrategy::Rolling).build();
    let out = env
        .ecs
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .task_definition(&td3)
        .deployment_configuration(rolling)
        .send()
        .await
        .unwrap();
    let id = out.service().unwrap().deployments()[0].id().unwrap().to_string();
    assert_eq!(env.settle(&id, 900), "COMPLETED");
    let done = env.service_deployment().await;
    assert_eq!(done.status(), Some(&Status::Successful));
    assert!(done.lifecycle_stage().is_none(), "rolling deployments report no stage");
    assert!(done.target_service_revision().unwrap().requested_production_traffic_weight().is_none());
    let revision_arn = done.target_service_revision().unwrap().arn().unwrap();
    let revisions = env.ecs.describe_service_revisions().service_revision_arns(revision_arn).send().await.unwrap();
    let resolved = revisions.service_revisions()[0].resolved_configuration().unwrap().load_balancers().to_vec();
    assert_eq!(resolved[0].target_group_arn(), Some(production.as_str()));
    assert_eq!(env.targets(&production).await.len(), 3);
    assert!(env.sim.advance_until(60, |w| w.target_groups[&other].targets.is_empty()));
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &production), 100.0, "rules untouched");
}

#[tokio::test]
async fn the_series_shows_production_weighted_to_a_version_without_healthy_tasks() {
    let env = common::start().await;
    let lb = settled(&env, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    let (blue, green) = production_and_other(&env, &lb).await;
    let td1 = env.describe().await.task_definition().unwrap().to_string();
    let bad = common::image(&env.sim, "v2", Behavior::Unhealthy);
    let td2 = env.task_def(&bad).await;
    env.update(&td2).await;
    // Green registered (its targets not healthy), then someone weights production to it.
    let registered = |w: &autodeploy_local::sim::World| w.target_groups[&green].targets.len() == 3;
    assert!(env.sim.advance_until(120, registered));
    env.sim.with(|w| w.set_forward_weights(&lb.production, &[(&blue, 500), (&green, 500)])).unwrap();
    env.sim.advance(1);
    let last = env.series().last().cloned().unwrap();
    let of = |td: &str| last.version(td).map(|v| (v.production_traffic, v.healthy));
    // Green's group has no healthy target: ELB fails open and sends its half anyway.
    assert_eq!(of(&td2), Some((Some(50.0), 0)));
    assert_eq!(of(&td1), Some((Some(50.0), 3)));
    assert_eq!(last.version(&td1).unwrap().test_traffic, Some(100.0), "the test rule is still on blue");
}
