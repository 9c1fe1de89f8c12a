//! Every log line of a run carries its deployment id (and its service): each
//! step runs inside a span that names them, whichever function serves it.
//!
//! A test binary of its own: tracing caches each call site's interest
//! process-wide, so steps logging on other threads (the other tests) race a
//! capture on this one and a line can lose its span.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sample_stack;

use std::io::Write;
use std::sync::{Arc, Mutex};

use autodeploy_shared::domain::{
    ContainerImage, DeploymentId, Phase, RolloutState, TargetHealthState, TargetView, TaskDefinitionView,
};
use autodeploy_shared::steps::{Step, handle};
use sample_stack::{SAMPLE_REGISTRY, sample_cloud};
use serde_json::{Value, json};

const PUSH: &str = include_str!("../../tests/fixtures/aws-events/ecr-image-push.json");
const COMPLETED: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-completed.json");
const TG: &str = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web/1";

/// Log output, line by line, as the Lambda runtime's subscriber would write it.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes).unwrap().lines().map(str::to_owned).collect()
    }
}

async fn call<S: Step>(step: S, payload: Value) -> Value {
    serde_json::to_value(handle(&step, payload).await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_line_of_a_run_names_its_deployment_and_service() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = sample_cloud().await;
    let registry = SAMPLE_REGISTRY;
    let td = TaskDefinitionView {
        arn: "arn:aws:ecs:us-west-2:123456789012:task-definition/web:1".into(),
        family: "web".into(),
        containers: vec![ContainerImage { name: "app".into(), image: format!("{registry}/my-repository-name:v1") }],
        tags: vec![],
    };
    w.ecs.add_service("default", "servicetest", td, 2, &[TG]);
    w.elb.set(TG, Vec::new());

    let report = call(w.on_image_push(), serde_json::from_str(PUSH).unwrap()).await;
    let id = DeploymentId::parse(report["started"][0].as_str().unwrap()).unwrap();
    let named = json!({ "deploymentId": id });
    call(w.claim_service(), named.clone()).await;
    call(w.register_revision(), named.clone()).await;
    let up = call(w.update_service(), named.clone()).await;
    let ecs_id = up["ecsDeploymentId"].as_str().unwrap().to_owned();
    call(w.await_rollout(), json!({ "deploymentId": id, "phase": Phase::Rollout, "taskToken": "t" })).await;

    let mut event: Value = serde_json::from_str(COMPLETED).unwrap();
    event["detail"]["deploymentId"] = json!(ecs_id);
    event["resources"] = json!([w.ecs.service("default", "servicetest").unwrap().service_arn]);
    call(w.on_ecs_event(), event.clone()).await; // not yet healthy: a debug line
    let ips = w.ecs.start_tasks(&ecs_id, &w.store.all()[0].new_task_definition.clone().unwrap(), 2);
    w.ecs.set_rollout("default", "servicetest", &ecs_id, RolloutState::Completed, None);
    w.elb.set(
        TG,
        ips.into_iter().map(|id| TargetView { id, state: TargetHealthState::Healthy, ..Default::default() }).collect(),
    );
    let resumed = call(w.on_ecs_event(), event).await;
    assert_eq!(resumed["resumed"], json!([id]));

    let lines = lines.take();
    for wanted in ["run started", "waiting for ECS events", "still in progress", "run resumed"] {
        assert!(lines.iter().any(|l| l.contains(wanted)), "no {wanted:?} line in {lines:#?}");
    }
    for line in &lines {
        assert!(line.contains(&format!("deployment={id}")), "without the deployment id: {line}");
        assert!(
            line.contains("cluster=default") && line.contains("service=servicetest"),
            "without the service: {line}"
        );
    }
}
