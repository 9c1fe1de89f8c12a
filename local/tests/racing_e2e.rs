//! Racing, repeated and out-of-order pushes through the local cloud: one
//! rollout per service at a time, newest wins, nothing lost.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use autodeploy_local::cloud::{Cloud, CloudConfig, PushRequest, Running, sdk_config};
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;

async fn cloud(poll: &str) -> Running {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 20.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), poll.into());
    // The bursts below last ~0.5 s; 3 s leaves room on a loaded machine.
    cfg.parameters.insert("CoalesceSeconds".into(), "3".into());
    tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg))
        .await
        .expect("start in time")
        .expect("local cloud starts")
}

async fn store(cloud: &Cloud) -> DynamoDeployments {
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    )
}

/// Every deployment of demo/web once `n` of them exist and all are terminal.
async fn all_terminal(cloud: &Cloud, store: &DynamoDeployments, n: usize) -> Vec<Deployment> {
    wait_for(cloud, 7200, || async {
        let all = store.history("demo/web", 100).await.ok()?;
        (all.len() >= n && all.iter().all(|d| d.status.is_terminal())).then_some(all)
    })
    .await
    .unwrap_or_else(|| panic!("not all {n} deployments ended"))
}

/// Ten pushes within about a second: one deploys, the others end SUPERSEDED
/// by it. It is one of the newest second's pushes: a push event's time and
/// ECR's `imagePushedAt` have whole seconds, so pushes in the same second are
/// a tie AWS's data cannot break, and the pipeline breaks it its own way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_pushes_in_a_second_deploy_only_one_of_the_newest() {
    let running = cloud("10").await;
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let store = store(&cloud).await;
    let mut pushed = Vec::new();
    for n in 2..=11 {
        pushed.push(cloud.push(&format!("web:v{n}"), "healthy").await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = all_terminal(&cloud, &store, 10).await;
    let second = |d: &Deployment| d.pushed_at.unwrap_or(d.created_at).timestamp();
    let newest = all.iter().map(second).max().unwrap();
    let won: Vec<&Deployment> = all.iter().filter(|d| d.status == DeploymentStatus::Succeeded).collect();
    assert_eq!(won.len(), 1, "{:#?}", all.iter().map(|d| (d.tag.clone(), d.status)).collect::<Vec<_>>());
    let last = won[0];
    assert_eq!(second(last), newest, "the winner is one of the newest second's pushes: {last:#?}");
    let superseded: Vec<&Deployment> = all.iter().filter(|d| d.status == DeploymentStatus::Superseded).collect();
    assert_eq!(superseded.len(), 9, "{:#?}", all.iter().map(|d| (d.tag.clone(), d.status)).collect::<Vec<_>>());
    assert!(superseded.iter().all(|d| d.superseded_by.as_ref() == Some(&last.deployment_id)));

    // At no moment were two of our rollouts in flight: after the seeded service was
    // healthy, at most two revisions (the one serving and one new) ever had tasks.
    let series = cloud.sim.series(Some("demo"), "web").expect("series");
    let steady = series.iter().position(|s| s.healthy >= s.desired).expect("healthy once");
    for s in &series[steady..] {
        let alive = s.versions.iter().filter(|v| v.pending + v.running > 0).count();
        assert!(alive <= 2, "{alive} revisions with tasks at {}", s.time);
        assert!(s.healthy >= s.min_healthy, "healthy {} < {} at {}", s.healthy, s.min_healthy, s.time);
    }
    let ecs_deployments: std::collections::BTreeSet<&str> =
        series[steady..].iter().map(|s| s.primary_deployment.as_str()).collect();
    assert_eq!(ecs_deployments.len(), 2, "the seeded deployment and one rollout: {ecs_deployments:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_older_push_is_superseded_not_deployed() {
    let running = cloud("10").await;
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let store = store(&cloud).await;
    // v2 is pushed to ECR first (ECR's second resolution: a second apart), v3 after it.
    let v2 = PushRequest { event: false, ..PushRequest::new("web:v2", "healthy") };
    let digest = cloud.push_image(&v2).await.unwrap().digest;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    cloud.push("web:v3", "healthy").await.unwrap();
    all_terminal(&cloud, &store, 1).await;

    // v2's event arrives only now, claiming it was pushed ten minutes ago: its
    // place is ECR's (before v3), whatever the event says.
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let when = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 600);
    events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .source("aws.ecr")
                .detail_type("ECR Image Action")
                .time(when)
                .detail(serde_json::json!({"result": "SUCCESS", "repository-name": "web", "image-digest": digest, "action-type": "PUSH", "image-tag": "v2"}).to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let all = all_terminal(&cloud, &store, 2).await;
    let v3 = all.iter().find(|d| d.tag.as_deref() == Some("v3")).unwrap();
    let v2 = all.iter().find(|d| d.tag.as_deref() == Some("v2")).unwrap();
    assert_eq!(v3.status, DeploymentStatus::Succeeded);
    assert_eq!(v2.status, DeploymentStatus::Superseded, "{v2:#?}");
    assert_eq!(v2.superseded_by.as_ref(), Some(&v3.deployment_id));
    let svc = aws_sdk_ecs::Client::new(&sdk).describe_services().cluster("demo").services("web").send().await.unwrap();
    assert_eq!(svc.services()[0].task_definition(), v3.new_task_definition.as_deref(), "still on v3");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_run_lets_the_next_push_deploy_once_its_lease_runs_out() {
    let running = cloud("5").await;
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let store = store(&cloud).await;
    // v2 never gets healthy in time; its run is stopped while it waits.
    cloud.push("web:v2", "slow:80000").await.unwrap();
    let v2 = wait_for(&cloud, 3600, || async {
        store.history("demo/web", 10).await.ok()?.into_iter().find(|d| d.status == DeploymentStatus::Waiting)
    })
    .await
    .expect("v2 waiting");
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn.list_state_machines().send().await.unwrap().state_machines()[0].state_machine_arn().to_owned();
    let run = sfn
        .list_executions()
        .state_machine_arn(machine)
        .send()
        .await
        .unwrap()
        .executions()
        .iter()
        .find(|e| e.name().ends_with(v2.deployment_id.as_str()))
        .map(|e| e.execution_arn().to_owned())
        .expect("v2's run");
    sfn.stop_execution().execution_arn(run).send().await.unwrap();

    cloud.push("web:v3", "healthy").await.unwrap();
    let all = all_terminal(&cloud, &store, 2).await;
    let v3 = all.iter().find(|d| d.tag.as_deref() == Some("v3")).unwrap();
    let v2 = all.iter().find(|d| d.tag.as_deref() == Some("v2")).unwrap();
    assert_eq!(v3.status, DeploymentStatus::Succeeded, "{v3:#?}");
    assert_eq!(v2.status, DeploymentStatus::Failed, "{v2:#?}");
    assert!(v2.failure_reason.as_deref().unwrap_or_default().contains("lease"), "{v2:#?}");
    running.stop().await;
}
