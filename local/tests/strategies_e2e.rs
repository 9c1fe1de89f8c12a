//! End to end through the local cloud, for each of ECS's deployment
//! strategies: a good build SUCCEEDED, an `unhealthy` and a `crash` build
//! ROLLED_BACK, and from the simulator's recorded series: production traffic
//! never weighted to the bad revision beyond the strategy's step, never to a
//! revision with no healthy task, and healthy capacity serving production
//! never below the minimum.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{SeedStrategy, ServiceSpec, seed_service, wait_for, wait_for_real};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use autodeploy_local::sim::series::Sample;
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(repo());
    cfg.port = 0;
    // Slow enough that the 10 s poll sees every 2-minute stage of the seeded strategies.
    cfg.speed = 5.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    Cloud::start(cfg).await.expect("local cloud starts")
}

/// One service per strategy, each deployed from its own repository.
fn spec(strategy: SeedStrategy, name: &str) -> ServiceSpec {
    ServiceSpec {
        service: name.into(),
        repository: name.into(),
        target_id: format!("demo-{name}"),
        strategy,
        ..ServiceSpec::demo()
    }
}

/// How much production traffic the bad revision may ever get: none for
/// rolling (its tasks never pass the health checks that put them in
/// service) and blue/green (test traffic only), one step for the others.
fn bad_traffic_limit(strategy: SeedStrategy) -> f64 {
    match strategy {
        SeedStrategy::Rolling | SeedStrategy::BlueGreen => 0.0,
        SeedStrategy::Linear => 50.0,
        SeedStrategy::Canary => 10.0,
    }
}

async fn outcome(cloud: &Cloud, store: &DynamoDeployments, service_key: &str, tag: &str) -> Deployment {
    wait_for(cloud, 3600, || async {
        let history = store.history(service_key, 20).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && d.status.is_terminal())
    })
    .await
    .unwrap_or_else(|| panic!("no terminal deployment of {tag} for {service_key}"))
}

/// The invariants of a whole run of `service`, sample by sample.
fn check_series(series: &[Sample], strategy: SeedStrategy, bad: &[String], service: &str) {
    let steady = series.iter().position(|s| s.healthy >= s.desired).expect("the service became healthy");
    let mut weighted = false;
    for s in &series[steady..] {
        let serving: Vec<_> = s.versions.iter().filter(|v| v.production_traffic.is_some_and(|w| w > 0.0)).collect();
        for v in &serving {
            weighted = true;
            assert!(
                v.healthy > 0,
                "{service}: production traffic to {} with no healthy task at {}",
                v.task_definition,
                s.time
            );
            if bad.contains(&v.task_definition) {
                let w = v.production_traffic.unwrap_or_default();
                assert!(
                    w <= bad_traffic_limit(strategy),
                    "{service}: {w} % of production to the bad {} at {}",
                    v.task_definition,
                    s.time
                );
            }
        }
        let capacity: i64 = if strategy.shifts_traffic() { serving.iter().map(|v| v.healthy).sum() } else { s.healthy };
        assert!(
            capacity >= s.min_healthy,
            "{service}: {capacity} healthy serving production < {} at {}",
            s.min_healthy,
            s.time
        );
    }
    assert_eq!(weighted, strategy.shifts_traffic(), "{service}: production weights recorded only with a traffic shift");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_strategy_deploys_a_good_build_and_rolls_back_bad_ones_without_sending_them_traffic() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    let strategies = [
        (SeedStrategy::Rolling, "rolling"),
        (SeedStrategy::BlueGreen, "bluegreen"),
        (SeedStrategy::Linear, "linear"),
        (SeedStrategy::Canary, "canary"),
    ];
    for (strategy, name) in strategies {
        seed_service(&cloud, &spec(strategy, name)).await.unwrap_or_else(|e| panic!("seeding {name}: {e}"));
    }
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );

    let mut bad_revisions: Vec<Vec<String>> = vec![Vec::new(); strategies.len()];
    for (tag, behavior, expected) in [
        ("v2", "healthy", DeploymentStatus::Succeeded),
        ("v3", "unhealthy", DeploymentStatus::RolledBack),
        ("v4", "crash", DeploymentStatus::RolledBack),
    ] {
        // The four services deploy at once, each from its own push.
        for (_, name) in strategies {
            cloud.push(&format!("{name}:{tag}"), behavior).await.unwrap();
        }
        for (i, (strategy, name)) in strategies.into_iter().enumerate() {
            let d = outcome(&cloud, &store, &format!("demo/{name}"), tag).await;
            let timeline: Vec<&str> = d.timeline.iter().map(|e| e.detail.as_str()).collect();
            assert_eq!(d.status, expected, "{name} {tag} ({behavior}): {timeline:#?}");
            assert!(d.service_deployment_arn.is_some(), "{name}: the run followed ECS's service deployment");
            if expected == DeploymentStatus::Succeeded && strategy.shifts_traffic() {
                // Blue/green shifts production in one step: the bake shows it.
                assert!(
                    timeline.iter().any(|l| l.starts_with("BAKE_TIME") && l.contains("production traffic 100 %")),
                    "{name}: the bake is in the timeline: {timeline:#?}"
                );
                if strategy != SeedStrategy::BlueGreen {
                    let partial = if strategy == SeedStrategy::Linear { "50 %" } else { "10 %" };
                    assert!(
                        timeline.iter().any(|l| l.starts_with("PRODUCTION_TRAFFIC_SHIFT") && l.contains(partial)),
                        "{name}: the partial shift is in the timeline: {timeline:#?}"
                    );
                }
            }
            if expected == DeploymentStatus::RolledBack {
                bad_revisions[i].push(d.new_task_definition.clone().unwrap());
                assert!(d.timeline.iter().any(|e| e.state == DeploymentStatus::RollingBack), "{name}: {timeline:#?}");
            }
        }
    }
    for (i, (strategy, name)) in strategies.into_iter().enumerate() {
        let series = cloud.sim.series(Some("demo"), name).expect("series recorded");
        check_series(&series, strategy, &bad_revisions[i], name);
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_during_the_bake_sends_production_back_to_blue_through_ecs() {
    use autodeploy_local::sim::ClockMode;
    use autodeploy_shared::domain::LifecycleStage;
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};

    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    let seeded = seed_service(&cloud, &spec(SeedStrategy::BlueGreen, "web")).await.unwrap();
    let green = seeded.traffic.as_ref().expect("a traffic-shifting service").green_target_group_arn.clone();
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );
    // An alarm on the green target group: the one the new build serves from.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    cloudwatch
        .put_metric_alarm()
        .alarm_name("web-green-5xx")
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .dimensions(
            Dimension::builder().name("TargetGroup").value(&green[green.find("targetgroup/").unwrap()..]).build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();

    cloud.push("web:v2", "healthy").await.unwrap();
    // Production has moved to green and the bake has begun: hold ECS there.
    let baking = wait_for_real(60, || async {
        let d = store.history("demo/web", 5).await.ok()?.into_iter().find(|d| d.tag.as_deref() == Some("v2"))?;
        let stage = d.progress.as_ref()?.lifecycle_stage.clone();
        (stage == Some(LifecycleStage::BakeTime)).then_some(d)
    })
    .await
    .expect("the bake began");
    let clock = cloud.sim.clock_mode();
    cloud.sim.set_clock_mode(ClockMode { manual: true, ..clock });
    cloudwatch
        .set_alarm_state()
        .alarm_name("web-green-5xx")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 12 5XX responses")
        .send()
        .await
        .unwrap();
    // The next poll sees the alarm and asks ECS to roll back; ECS moves the
    // rules back to blue as soon as it runs again.
    wait_for_real(60, || async {
        let d = store.get(&baking.deployment_id).await.ok()??;
        (d.status == DeploymentStatus::RollingBack).then_some(())
    })
    .await
    .expect("the pipeline asked ECS to roll back");
    cloud.sim.set_clock_mode(clock);
    let d = outcome(&cloud, &store, "demo/web", "v2").await;
    let timeline: Vec<&str> = d.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(d.status, DeploymentStatus::RolledBack, "{timeline:#?}");
    assert!(d.failure_reason.as_deref().unwrap_or_default().contains("web-green-5xx is in ALARM"), "{d:#?}");
    assert!(timeline.iter().any(|l| l.contains("StopServiceDeployment ROLLBACK")), "{timeline:#?}");

    // Blue (v1) was kept through the bake and took production back at once:
    // no instant without healthy capacity serving production.
    let series = cloud.sim.series(Some("demo"), "web").expect("series recorded");
    check_series(&series, SeedStrategy::BlueGreen, &[], "web");
    let v1 = seeded.task_definition_arn.clone();
    let last = series.last().unwrap();
    let serving: Vec<_> = last.versions.iter().filter(|v| v.production_traffic.is_some_and(|w| w > 0.0)).collect();
    assert_eq!(serving.len(), 1, "{last:#?}");
    assert_eq!((serving[0].task_definition.as_str(), serving[0].production_traffic), (v1.as_str(), Some(100.0)));
    running.stop().await;
}
