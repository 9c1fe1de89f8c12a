//! `on-ecs-event` on AWS's documented ECS and CloudWatch event samples, payload in.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    AlarmView, ContainerImage, Deployment, DeploymentStatus, ImageDigest, NewDeployment, Phase, RecordPatch,
    RolloutState, ServiceRef, TagRule, TargetHealthState, TargetView, TaskDefinitionView, Transition, Watch, aws_state,
};
use autodeploy_shared::memory::MemoryCloud;
use autodeploy_shared::ports::{Clock, DeploymentStore};
use autodeploy_shared::steps::{SignalReport, handle};
use chrono::Duration;
use serde_json::{Value, json};

const COMPLETED: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-completed.json");
const FAILED: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-failed.json");
const IN_PROGRESS: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-in-progress.json");
const STEADY: &str = include_str!("../../tests/fixtures/aws-events/ecs-service-action-steady-state.json");
const PLACEMENT: &str = include_str!("../../tests/fixtures/aws-events/ecs-service-action-placement-failure.json");
const TASK: &str = include_str!("../../tests/fixtures/aws-events/ecs-task-state-change-running.json");
const ALARM: &str = include_str!("../../tests/fixtures/aws-events/cloudwatch-alarm-unhealthy-hosts.json");

const TG: &str = "arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/web/943f017f100becff";
const SERVICE_ARN: &str = "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest";

/// The payload through the step as Lambda hands it over.
async fn handler(d: &MemoryCloud, payload: Value) -> Result<SignalReport, DeployError> {
    handle(&d.on_ecs_event(), payload).await
}

fn sample(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// A run waiting on ECS deployment `ecs_id` of default/servicetest, token stored.
async fn waiting(ecs_id: &str) -> MemoryCloud {
    let d = MemoryCloud::default();
    let td = TaskDefinitionView {
        arn: "arn:td/web:1".into(),
        family: "web".into(),
        containers: vec![ContainerImage { name: "app".into(), image: "x/web:1".into() }],
        tags: vec![],
    };
    let ips = d.ecs.add_service("default", "servicetest", td, 2, &[TG]);
    d.elb.set(
        TG,
        ips.into_iter()
            .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
            .collect(),
    );
    let svc = ServiceRef::new("default", "servicetest").unwrap();
    let digest = ImageDigest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
    let rec = Deployment::new(
        NewDeployment {
            service: &svc,
            repository: "web",
            registry: "r.example.com",
            digest: &digest,
            tag: Some("v2"),
            target_id: "t",
            tag_rule: &TagRule::Exact { pattern: "v2".into() },
            containers: &[],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: None,
            image_pushed_at: None,
            note: None,
        },
        d.clock.now(),
    );
    d.store.create(&rec).await.unwrap();
    let id = rec.deployment_id.clone();
    let now = d.clock.now();
    for (to, patch) in [
        (DeploymentStatus::Registering, RecordPatch::default()),
        (
            DeploymentStatus::Updating,
            RecordPatch { new_task_definition: Some("arn:td/web:2".into()), ..Default::default() },
        ),
        (
            DeploymentStatus::Waiting,
            RecordPatch {
                watch: Some(Some(Watch {
                    phase: Phase::Rollout,
                    ecs_deployment_id: ecs_id.into(),
                    service_arn: SERVICE_ARN.into(),
                    target_group_arns: vec![TG.into()],
                    deadline: now + Duration::minutes(30),
                    started_at: None,
                    task_token: None,
                    verdict: None,
                    service_deployment_arn: None,
                    in_place_rollback: false,
                    progress: None,
                    progress_at: None,
                })),
                ..Default::default()
            },
        ),
    ] {
        d.store.transition(&id, &Transition { to, at: now, detail: String::new(), patch }).await.unwrap();
    }
    d.store.store_task_token(&id, Phase::Rollout, ecs_id, "token").await.unwrap();
    d
}

#[tokio::test]
async fn every_documented_sample_parses() {
    let d = waiting("ecs-svc/999").await;
    for s in [COMPLETED, FAILED, IN_PROGRESS, STEADY, PLACEMENT, TASK, ALARM] {
        handler(&d, sample(s)).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    }
}

#[tokio::test]
async fn failed_deployment_event_resumes_the_run_with_a_failure() {
    // The fake names our deployment ecs-svc/2; the sample is pointed at it.
    let ours = "ecs-svc/2";
    let mut event = sample(FAILED);
    event["detail"]["deploymentId"] = json!(ours);
    let d2 = waiting(ours).await;
    assert_eq!(d2.ecs.start_deployment("default", "servicetest", "arn:td/web:2"), ours);
    d2.ecs.set_rollout(
        "default",
        "servicetest",
        ours,
        RolloutState::Failed,
        Some("ECS deployment circuit breaker: task failed to start."),
    );
    let report = handler(&d2, event).await.unwrap();
    assert_eq!(report.resumed.len(), 1);
    let (token, verdict) = &d2.callbacks.sent()[0];
    assert_eq!(token, "token");
    assert_eq!(verdict["outcome"], json!("FAILED"));
    assert!(verdict["reason"].as_str().unwrap().contains("circuit breaker"));
}

#[tokio::test]
async fn completed_event_resumes_with_success_once_targets_are_healthy() {
    let d = waiting("ecs-svc/2").await;
    let ecs_id = d.ecs.start_deployment("default", "servicetest", "arn:td/web:2");
    assert_eq!(ecs_id, "ecs-svc/2");
    let ips = d.ecs.start_tasks(&ecs_id, "arn:td/web:2", 2);
    d.ecs.set_rollout("default", "servicetest", &ecs_id, RolloutState::Completed, None);
    d.elb.set(
        TG,
        ips.iter()
            .map(|ip| TargetView {
                id: ip.clone(),
                port: Some(80),
                state: TargetHealthState::Healthy,
                ..Default::default()
            })
            .collect(),
    );
    let mut event = sample(COMPLETED);
    event["detail"]["deploymentId"] = json!(ecs_id);
    let report = handler(&d, event.clone()).await.unwrap();
    assert_eq!(report.resumed.len(), 1);
    assert_eq!(d.callbacks.sent()[0].1["outcome"], json!("SUCCEEDED"));
    // A second delivery of the same event resumes nothing more.
    let again = handler(&d, event).await.unwrap();
    assert!(again.resumed.is_empty());
    assert_eq!(d.callbacks.sent().len(), 1);
}

#[tokio::test]
async fn alarm_on_the_services_target_group_fails_the_rollout() {
    let d = waiting("ecs-svc/2").await;
    // Our deployment is rolling out, as far as ECS knows healthily.
    assert_eq!(d.ecs.start_deployment("default", "servicetest", "arn:td/web:2"), "ecs-svc/2");
    // An event alone is only a reason to look: CloudWatch says the alarm is OK.
    let forged = handler(&d, sample(ALARM)).await.unwrap();
    assert_eq!(forged.matched.len(), 1);
    assert!(forged.resumed.is_empty(), "a forged alarm event rolls nothing back");
    assert!(d.callbacks.sent().is_empty());
    // CloudWatch has it in ALARM, watching the service's target group.
    d.alarms.put(AlarmView {
        name: "web-unhealthy-hosts".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: None,
        target_groups: vec!["targetgroup/web/943f017f100becff".into()],
    });
    let report = handler(&d, sample(ALARM)).await.unwrap();
    assert_eq!(report.resumed.len(), 1);
    let verdict = &d.callbacks.sent()[0].1;
    assert_eq!(verdict["outcome"], json!("FAILED"));
    assert!(verdict["reason"].as_str().unwrap().contains("web-unhealthy-hosts"));

    // The same alarm going back to OK says nothing.
    let d = waiting("ecs-svc/2").await;
    let mut ok = sample(ALARM);
    ok["detail"]["state"]["value"] = json!("OK");
    assert!(handler(&d, ok).await.unwrap().matched.is_empty());
    // An alarm on another target group is not ours.
    let mut other = sample(ALARM);
    other["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["TargetGroup"] =
        json!("targetgroup/api/1");
    assert!(handler(&d, other).await.unwrap().matched.is_empty());
}

#[tokio::test]
async fn events_of_other_services_match_nothing() {
    let d = waiting("ecs-svc/2").await;
    let mut event = sample(STEADY);
    event["resources"] = json!(["arn:aws:ecs:us-west-2:111122223333:service/default/other"]);
    assert!(handler(&d, event).await.unwrap().matched.is_empty());
    // The task sample is of service sample-fargate in FargateCluster: not ours.
    assert!(handler(&d, sample(TASK)).await.unwrap().matched.is_empty());
}

#[tokio::test]
async fn malformed_events_are_typed_errors() {
    let d = waiting("ecs-svc/2").await;
    let mut no_resources = sample(COMPLETED);
    no_resources.as_object_mut().unwrap().remove("resources");
    let mut no_deployment_id = sample(COMPLETED);
    no_deployment_id["detail"].as_object_mut().unwrap().remove("deploymentId");
    let mut unknown = sample(COMPLETED);
    unknown["detail-type"] = json!("Something Else");
    for bad in [no_resources, no_deployment_id, unknown, json!(null), json!({"source": "aws.ecs"})] {
        assert_eq!(handler(&d, bad.clone()).await.unwrap_err().error_type(), "MalformedEvent", "{bad}");
    }
    assert!(d.callbacks.sent().is_empty());
}
