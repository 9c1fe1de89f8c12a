//! End to end through the local cloud: the stack's own `verify-hook` attached at
//! POST_TEST_TRAFFIC_SHIFT of a blue/green service, its HTTP check on the test
//! listener. ECS (the simulator) invokes it through the function host; a good
//! build passes the hook and SUCCEEDED, a build whose health check passes but
//! whose pages fail is failed by the hook while only test traffic reached it,
//! and ROLLED_BACK with production never on it;
//! a canary whose hook soaks at PRODUCTION_TRAFFIC_SHIFT is failed by an alarm
//! that fires during the soak, and ROLLED_BACK.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{SeedStrategy, ServiceSpec, seed_service, wait_for, wait_for_real};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use aws_sdk_ecs::types::{DeploymentLifecycleHook, DeploymentLifecycleHookStage};

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 5.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    Cloud::start(cfg).await.expect("local cloud starts")
}

async fn outcome(cloud: &Cloud, store: &DynamoDeployments, tag: &str) -> Deployment {
    wait_for(cloud, 3600, || async {
        let history = store.history("demo/web", 20).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && d.status.is_terminal())
    })
    .await
    .unwrap_or_else(|| panic!("no terminal deployment of {tag}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_passes_a_good_build_and_fails_a_broken_one_on_test_traffic_before_production_reaches_it() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    // The seeded load balancer `demo-web`: production on 80, the test listener on 8080.
    let test_listener = format!("{}/elb/demo-web/8080/orders", cloud.endpoint.trim_end_matches('/'));
    let details = serde_json::json!({"autodeploy": {"http": {"url": test_listener, "requests": 10}}});
    let hook = verify_hook(&cloud, DeploymentLifecycleHookStage::PostTestTrafficShift, Some(details));
    let spec = ServiceSpec { strategy: SeedStrategy::BlueGreen, lifecycle_hooks: vec![hook], ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.expect("seeding");
    assert_eq!(
        cloud.load_balancer_url("demo-web", 8080).map(|u| format!("{}/orders", u.trim_end_matches('/'))),
        Some(test_listener.clone())
    );
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );

    cloud.push("web:v2", "healthy").await.unwrap();
    let good = outcome(&cloud, &store, "v2").await;
    let timeline: Vec<&str> = good.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(good.status, DeploymentStatus::Succeeded, "{timeline:#?}");
    assert!(
        timeline.iter().any(|l| l.starts_with("hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED")
            && l.contains(&format!("GET {test_listener} 10/10 as expected"))),
        "the hook's answer is in the timeline: {timeline:#?}"
    );
    // ECS announced the hook's run: IN_PROGRESS, then SUCCEEDED, at POST_TEST_TRAFFIC_SHIFT.
    let hook_events: Vec<(String, String)> = cloud
        .sim
        .events()
        .iter()
        .filter(|e| e["detail-type"] == "ECS Hook State Change")
        .map(|e| {
            (e["detail"]["eventName"].as_str().unwrap().into(), e["detail"]["lifecycleStage"].as_str().unwrap().into())
        })
        .collect();
    assert!(hook_events.contains(&("HOOK_SUCCEEDED".into(), "POST_TEST_TRAFFIC_SHIFT".into())), "{hook_events:?}");

    // Healthy for the load balancer, broken for users: only the hook's GETs
    // through the test listener can tell, and they do before production moves.
    cloud.push("web:v3", "errors").await.unwrap();
    let bad = outcome(&cloud, &store, "v3").await;
    let timeline: Vec<&str> = bad.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(bad.status, DeploymentStatus::RolledBack, "{timeline:#?}");
    assert!(
        timeline.iter().any(|l| l.starts_with("hook at POST_TEST_TRAFFIC_SHIFT: FAILED")
            && l.contains(&format!("GET {test_listener}: 10 of 10 requests failed (HTTP 500"))),
        "the hook failed it: {timeline:#?}"
    );
    let v3 = bad.new_task_definition.clone().expect("v3 was registered");
    let series = cloud.sim.series(Some("demo"), "web").expect("series recorded");
    let production_on_v3 = series
        .iter()
        .flat_map(|s| s.versions.iter())
        .any(|v| v.task_definition == v3 && v.production_traffic.is_some_and(|w| w > 0.0));
    assert!(!production_on_v3, "production never reached the broken build");
    let tested = series
        .iter()
        .flat_map(|s| s.versions.iter())
        .any(|v| v.task_definition == v3 && v.test_traffic.is_some_and(|w| w > 0.0));
    assert!(tested, "test traffic did");
    running.stop().await;
}

/// The stack's `verify-hook` at `stage`, with `details` (if any) as its `hookDetails`.
fn verify_hook(
    cloud: &Cloud,
    stage: DeploymentLifecycleHookStage,
    details: Option<serde_json::Value>,
) -> DeploymentLifecycleHook {
    let (region, account) = (&cloud.stack.region, &cloud.stack.account);
    let function = cloud.host.by_logical_id("VerifyHookFunction").expect("the stack hosts verify-hook");
    DeploymentLifecycleHook::builder()
        .hook_target_arn(format!("arn:aws:lambda:{region}:{account}:function:{}", function.name))
        .role_arn(format!("arn:aws:iam::{account}:role/{}-HookInvokeRole", cloud.stack.name))
        .lifecycle_stages(stage)
        .set_hook_details(details.map(document))
        .build()
}

/// JSON as a Smithy document (the SDK's type for `hookDetails`).
fn document(v: serde_json::Value) -> aws_smithy_types::Document {
    use aws_smithy_types::{Document, Number};
    match v {
        serde_json::Value::Null => Document::Null,
        serde_json::Value::Bool(b) => Document::Bool(b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        serde_json::Value::String(s) => Document::String(s),
        serde_json::Value::Array(a) => Document::Array(a.into_iter().map(document).collect()),
        serde_json::Value::Object(o) => Document::Object(o.into_iter().map(|(k, v)| (k, document(v))).collect()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_is_rolled_back_by_an_alarm_that_fires_during_the_hooks_soak() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};

    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    // An alarm only the hook watches: neither the target's nor on a target group.
    let details = serde_json::json!({"autodeploy": {"alarms": ["web-canary-errors"], "soakSeconds": 600}});
    let hook = verify_hook(&cloud, DeploymentLifecycleHookStage::ProductionTrafficShift, Some(details));
    let spec = ServiceSpec { strategy: SeedStrategy::Canary, lifecycle_hooks: vec![hook], ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.expect("seeding");
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    cloudwatch
        .put_metric_alarm()
        .alarm_name("web-canary-errors")
        .namespace("Web")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();

    cloud.push("web:v2", "healthy").await.unwrap();
    // The canary has its share of production and the hook soaks.
    let soaking = wait_for_real(120, || async {
        let d = store.history("demo/web", 5).await.ok()?.into_iter().find(|d| d.tag.as_deref() == Some("v2"))?;
        d.timeline.iter().any(|e| e.detail.starts_with("hook at PRODUCTION_TRAFFIC_SHIFT: IN_PROGRESS")).then_some(d)
    })
    .await
    .expect("the hook soaks at PRODUCTION_TRAFFIC_SHIFT");
    let weight = soaking.progress.as_ref().and_then(|p| p.production_traffic_weight);
    assert!(weight.is_some_and(|w| w > 0.0 && w < 100.0), "the canary's share only: {weight:?}");
    cloudwatch
        .set_alarm_state()
        .alarm_name("web-canary-errors")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 7 errors")
        .send()
        .await
        .unwrap();
    let d = outcome(&cloud, &store, "v2").await;
    let timeline: Vec<&str> = d.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(d.status, DeploymentStatus::RolledBack, "{timeline:#?}");
    assert!(
        timeline
            .iter()
            .any(|l| l.starts_with("hook at PRODUCTION_TRAFFIC_SHIFT: FAILED (alarm web-canary-errors is in ALARM")),
        "the hook failed it: {timeline:#?}"
    );
    running.stop().await;
}
