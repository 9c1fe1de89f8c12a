//! End to end through the local cloud: the template's EventBridge rule →
//! on-image-push → the state machine (moto) → the functions → the simulator
//! and DynamoDB, and back through ECS events.

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(repo());
    cfg.port = 0;
    cfg.speed = 20.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    Cloud::start(cfg).await.expect("local cloud starts")
}

async fn store(cloud: &Cloud) -> DynamoDeployments {
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    )
}

/// The newest deployment of the service once it is terminal.
async fn outcome(cloud: &Cloud, store: &DynamoDeployments, service_key: &str, tag: &str) -> Deployment {
    wait_for(cloud, 3600, || async {
        let history = store.history(service_key, 20).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && d.status.is_terminal())
    })
    .await
    .unwrap_or_else(|| panic!("no terminal deployment of {tag} for {service_key}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_deploy_then_bad_build_rolled_back() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    let spec = ServiceSpec::demo();
    seed_service(&cloud, &spec).await.unwrap();
    let store = store(&cloud).await;

    cloud.push("web:v2", "healthy").unwrap();
    let good = outcome(&cloud, &store, "demo/web", "v2").await;
    assert_eq!(good.status, DeploymentStatus::Succeeded, "{good:#?}");

    cloud.push("web:v3", "crash").unwrap();
    let bad = outcome(&cloud, &store, "demo/web", "v3").await;
    assert_eq!(bad.status, DeploymentStatus::RolledBack, "{bad:#?}");
    for d in [&good, &bad] {
        for e in &d.timeline {
            eprintln!("{} {:<12} {}", e.at, e.state.as_str(), e.detail);
        }
    }

    running.stop().await;
}
