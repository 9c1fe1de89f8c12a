//! End to end through the local cloud: the stack's own `verify-hook` attached at
//! POST_TEST_TRAFFIC_SHIFT of a blue/green service. ECS (the simulator) invokes it
//! through the function host; a healthy build passes the hook and SUCCEEDED, an
//! unhealthy one is failed (by the hook or by the circuit breaker) and ROLLED_BACK.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{SeedStrategy, ServiceSpec, seed_service, wait_for};
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
async fn the_stacks_verify_hook_passes_a_healthy_build_and_a_bad_one_rolls_back() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    let (region, account) = (&cloud.stack.region, &cloud.stack.account);
    let function = cloud.host.by_logical_id("VerifyHookFunction").expect("the stack hosts verify-hook");
    let hook = DeploymentLifecycleHook::builder()
        .hook_target_arn(format!("arn:aws:lambda:{region}:{account}:function:{}", function.name))
        .role_arn(format!("arn:aws:iam::{account}:role/{}-HookInvokeRole", cloud.stack.name))
        .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift)
        .build();
    let spec = ServiceSpec { strategy: SeedStrategy::BlueGreen, lifecycle_hooks: vec![hook], ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.expect("seeding");
    let sdk = sdk_config(&cloud.endpoint, region).await;
    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    );

    cloud.push("web:v2", "healthy").await.unwrap();
    let good = outcome(&cloud, &store, "v2").await;
    let timeline: Vec<&str> = good.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(good.status, DeploymentStatus::Succeeded, "{timeline:#?}");
    assert!(
        timeline.iter().any(|l| l.starts_with("hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED")),
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

    cloud.push("web:v3", "unhealthy").await.unwrap();
    let bad = outcome(&cloud, &store, "v3").await;
    let timeline: Vec<&str> = bad.timeline.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(bad.status, DeploymentStatus::RolledBack, "{timeline:#?}");
    running.stop().await;
}
