//! `verify-hook` on ECS's documented hook payloads, against the in-memory twins:
//! what it checks, what it answers, and what the deployment's timeline says.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use autodeploy_shared::domain::{
    AlarmView, ContainerImage, Deployment, DeploymentId, DeploymentStatus, HookAnswer, HookStatus, ImageDigest,
    NewDeployment, Phase, RecordPatch, ServiceDeploymentView, ServiceRef, TagRule, TargetView, TaskDefinitionView,
    Transition, Watch, aws_state,
};
use autodeploy_shared::memory::MemoryCloud;
use autodeploy_shared::ports::{Clock, DeploymentStore, Ecs};
use autodeploy_shared::steps::handle;
use chrono::Duration;
use serde_json::{Value, json};

const BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/943f017f100becff";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/5d6e7f";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/demo/web";
const TD1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";

/// A blue/green service rolling out web:2: ECS's service deployment of it,
/// its green tasks' IPs, and the stack's record waiting on it.
struct Rollout {
    cloud: MemoryCloud,
    sd: ServiceDeploymentView,
    green_ips: Vec<String>,
    id: DeploymentId,
}

async fn rollout() -> Rollout {
    let cloud = MemoryCloud::default();
    let td = TaskDefinitionView {
        arn: TD1.into(),
        family: "web".into(),
        containers: vec![ContainerImage { name: "app".into(), image: "r/web:1".into() }],
        tags: vec![],
    };
    let blue_ips = cloud.ecs.add_service("demo", "web", td, 2, &[BLUE]);
    cloud.elb.set(
        BLUE,
        blue_ips
            .into_iter()
            .map(|id| TargetView { id, port: Some(8080), state: aws_state("healthy"), ..Default::default() })
            .collect(),
    );
    cloud.ecs.set_alternate_target_groups("demo", "web", &[GREEN]);
    let td2 = cloud.ecs.register_revision(TD1, &BTreeMap::from([("app".into(), "r/web:2".into())]), &[]).await.unwrap();
    let svc = cloud.ecs.update_service("demo", "web", &td2).await.unwrap();
    let ecs_id = svc.primary().unwrap().id.clone();
    cloud.ecs.update_service_deployment(&ecs_id, |sd| {
        sd.lifecycle_stage = Some(aws_state("POST_TEST_TRAFFIC_SHIFT"));
        sd.target.as_mut().unwrap().requested_task_count = 2;
    });
    let sd = cloud.ecs.service_deployment_of(&ecs_id).unwrap();
    let green_ips = cloud.ecs.start_tasks(&ecs_id, &td2, 2);

    let service = ServiceRef::new("demo", "web").unwrap();
    let digest = ImageDigest::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap();
    let rec = Deployment::new(
        NewDeployment {
            service: &service,
            repository: "web",
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            digest: &digest,
            tag: Some("v2"),
            target_id: "t",
            tag_rule: &TagRule::Glob { pattern: "v*".into() },
            containers: &[],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: None,
            image_pushed_at: None,
            note: None,
        },
        cloud.clock.now(),
    );
    cloud.store.create(&rec).await.unwrap();
    let id = rec.deployment_id.clone();
    let now = cloud.clock.now();
    let watch =
        Watch::new(Phase::Rollout, &ecs_id, &svc, now, now + Duration::minutes(30)).following(Some(sd.arn.clone()));
    for (to, patch) in [
        (DeploymentStatus::Registering, RecordPatch::default()),
        (DeploymentStatus::Updating, RecordPatch { new_task_definition: Some(td2.clone()), ..Default::default() }),
        (
            DeploymentStatus::Waiting,
            RecordPatch {
                service_deployment_arn: Some(sd.arn.clone()),
                watch: Some(Some(watch)),
                ..Default::default()
            },
        ),
    ] {
        cloud.store.transition(&id, &Transition { to, at: now, detail: String::new(), patch }).await.unwrap();
    }
    Rollout { cloud, sd, green_ips, id }
}

impl Rollout {
    fn green(&self, state: &str) {
        let targets = self
            .green_ips
            .iter()
            .map(|ip| TargetView { id: ip.clone(), port: Some(8080), state: aws_state(state), ..Default::default() })
            .collect();
        self.cloud.elb.set(GREEN, targets);
    }

    /// ECS's payload (as the developer guide documents it) for `stage`.
    fn payload(&self, stage: &str, hook_details: Option<Value>) -> Value {
        let target = self.sd.target.as_ref().unwrap().arn.clone();
        let mut p = json!({
            "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5",
            "lifecycleStage": stage,
            "resourceArn": self.sd.arn,
            "executionDetails": {
                "serviceArn": SERVICE_ARN,
                "targetServiceRevisionArn": target,
                "testTrafficWeights": {},
                "productionTrafficWeights": {}
            }
        });
        if let Some(details) = hook_details {
            p["hookDetails"] = details;
        }
        p
    }

    async fn invoke(&self, payload: Value) -> HookAnswer {
        handle(&self.cloud.verify_hook(), payload).await.unwrap()
    }

    async fn timeline(&self) -> Vec<String> {
        self.cloud.store.get(&self.id).await.unwrap().unwrap().timeline.into_iter().map(|e| e.detail).collect()
    }
}

#[tokio::test]
async fn healthy_green_passes_and_the_answer_is_in_the_timeline_and_on_the_bus() {
    let r = rollout().await;
    r.green("healthy");
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", None)).await;
    assert_eq!(a.hook_status, HookStatus::Succeeded, "{}", a.reason);
    assert!(a.reason.contains("web-green/5d6e7f 2/2"), "{}", a.reason);
    // The wire form ECS reads.
    let wire = serde_json::to_value(&a).unwrap();
    assert_eq!(wire["hookStatus"], "SUCCEEDED");
    let last = r.timeline().await.pop().unwrap();
    assert!(last.starts_with("hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED"), "{last}");
    // The answer is kept on the record, and the bus event carries it.
    let kept = r.cloud.store.get(&r.id).await.unwrap().unwrap().hook_verdict.unwrap();
    assert_eq!(
        (kept.lifecycle_stage.to_string(), kept.hook_status),
        ("POST_TEST_TRAFFIC_SHIFT".into(), HookStatus::Succeeded)
    );
    assert_eq!(kept.line(), last);
    let events = r.cloud.notifier.events.lock().unwrap().clone();
    assert_eq!(events.last().unwrap().detail, last);
    assert_eq!(events.last().unwrap().status, DeploymentStatus::Waiting);
    assert_eq!(events.last().unwrap().hook_verdict.as_ref(), Some(&kept));
}

#[tokio::test]
async fn unhealthy_green_fails_the_hook() {
    let r = rollout().await;
    r.green("unhealthy");
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", None)).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert!(a.reason.contains("0/2 healthy"), "{}", a.reason);
    // Not registered anywhere yet is not healthy either.
    r.cloud.elb.set(GREEN, vec![]);
    let a = r.invoke(r.payload("POST_SCALE_UP", None)).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert!(a.reason.contains("no target group 0/2"), "{}", a.reason);
}

#[tokio::test]
async fn the_http_check_fails_a_revision_that_answers_errors_through_the_test_listener() {
    use autodeploy_shared::ports::ProbeOutcome;
    let r = rollout().await;
    r.green("healthy");
    let url = "http://internal-web-123.us-east-1.elb.amazonaws.com:8080/";
    let details = json!({"autodeploy": {"http": {"url": url, "requests": 4}}});
    // Healthy for the load balancer, broken for users.
    let mut answers = vec![ProbeOutcome::Status(200), ProbeOutcome::Status(500)];
    answers.push(ProbeOutcome::NoAnswer("connection reset".into()));
    r.cloud.http.answer(url, answers);
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", Some(details.clone()))).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert_eq!(
        a.reason,
        format!(
            "GET {url}: 3 of 4 requests failed (HTTP 500, no answer: connection reset, no answer: connection reset)"
        )
    );
    assert_eq!(r.cloud.http.requests().len(), 4);
    // A good build answers 200 every time.
    let good = "http://internal-web-123.us-east-1.elb.amazonaws.com:8080/ok";
    r.cloud.http.answer(good, vec![ProbeOutcome::Status(200)]);
    let details = json!({"autodeploy": {"http": {"url": good, "requests": 3}}});
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", Some(details))).await;
    assert_eq!(a.hook_status, HookStatus::Succeeded, "{}", a.reason);
    assert!(a.reason.ends_with(&format!("GET {good} 3/3 as expected")), "{}", a.reason);
    // Unhealthy targets fail the hook first: no request is made for nothing.
    r.green("unhealthy");
    let before = r.cloud.http.requests().len();
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", Some(details_of(good)))).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert_eq!(r.cloud.http.requests().len(), before);
    // A URL that is not one fails the hook as misconfigured.
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", Some(details_of("file:///etc/passwd")))).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert!(a.reason.contains("misconfigured"), "{}", a.reason);
}

fn details_of(url: &str) -> Value {
    json!({"autodeploy": {"http": {"url": url}}})
}

#[tokio::test]
async fn a_soak_holds_until_it_ends_and_an_alarm_during_it_fails() {
    let r = rollout().await;
    r.green("healthy");
    let settings = json!({"autodeploy": {"alarms": ["web-5xx"], "soakSeconds": 60}});
    let first = r.invoke(r.payload("POST_PRODUCTION_TRAFFIC_SHIFT", Some(settings.clone()))).await;
    assert_eq!((first.hook_status, first.call_back_delay), (HookStatus::InProgress, Some(30)), "{}", first.reason);
    // ECS merges what the hook returned into the next invocation's details.
    let mut merged = settings.clone();
    merged["autodeploy"] = first.hook_details.clone().unwrap()["autodeploy"].clone();
    r.cloud.clock.advance(Duration::seconds(30));
    let second = r.invoke(r.payload("POST_PRODUCTION_TRAFFIC_SHIFT", Some(merged.clone()))).await;
    assert_eq!(second.hook_status, HookStatus::InProgress, "{}", second.reason);
    r.cloud.clock.advance(Duration::seconds(30));
    let done = r.invoke(r.payload("POST_PRODUCTION_TRAFFIC_SHIFT", Some(merged.clone()))).await;
    assert_eq!(done.hook_status, HookStatus::Succeeded, "{}", done.reason);

    r.cloud.alarms.put(AlarmView {
        name: "web-5xx".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: Some(r.cloud.clock.now()),
        target_groups: vec![],
    });
    let failed = r.invoke(r.payload("POST_PRODUCTION_TRAFFIC_SHIFT", Some(merged))).await;
    assert_eq!(failed.hook_status, HookStatus::Failed);
    assert!(failed.reason.starts_with("alarm web-5xx is in ALARM"), "{}", failed.reason);
    let timeline = r.timeline().await;
    assert_eq!(timeline.iter().filter(|l| l.starts_with("hook at POST_PRODUCTION_TRAFFIC_SHIFT")).count(), 4);
}

#[tokio::test]
async fn nothing_in_the_invocation_is_believed() {
    let r = rollout().await;
    r.green("healthy");
    // A service deployment ECS does not know.
    let mut forged = r.payload("POST_TEST_TRAFFIC_SHIFT", None);
    forged["resourceArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/web/forged");
    let a = r.invoke(forged).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert!(a.reason.contains("ECS knows no service deployment"), "{}", a.reason);
    // Another revision than the one ECS rolls out.
    let mut other = r.payload("POST_TEST_TRAFFIC_SHIFT", None);
    other["executionDetails"]["targetServiceRevisionArn"] =
        json!("arn:aws:ecs:us-east-1:123456789012:service-revision/demo/web/1");
    assert_eq!(r.invoke(other).await.hook_status, HookStatus::Failed);
    // Another service.
    let mut elsewhere = r.payload("POST_TEST_TRAFFIC_SHIFT", None);
    elsewhere["executionDetails"]["serviceArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/demo/api");
    assert_eq!(r.invoke(elsewhere).await.hook_status, HookStatus::Failed);
    // Settings it does not know are a misconfigured hook, not a pass.
    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", Some(json!({"autodeploy": {"soak": 5}})))).await;
    assert_eq!(a.hook_status, HookStatus::Failed);
    assert!(a.reason.contains("misconfigured"), "{}", a.reason);
    // Not an invocation at all.
    let err = handle(&r.cloud.verify_hook(), json!(["x"])).await.unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
}

#[tokio::test]
async fn a_rollback_is_never_held() {
    let r = rollout().await;
    r.green("unhealthy");
    // ECS calls the traffic-shift hooks again while it rolls back, weights reversed.
    let target = r.sd.target.as_ref().unwrap().arn.clone();
    let mut back = r.payload("PRODUCTION_TRAFFIC_SHIFT", None);
    back["executionDetails"]["productionTrafficWeights"] =
        json!({ target: 0, "arn:aws:ecs:us-east-1:123456789012:service-revision/demo/web/1": 100 });
    let a = r.invoke(back).await;
    assert_eq!(a.hook_status, HookStatus::Succeeded, "{}", a.reason);
    assert!(a.reason.contains("rolling back"), "{}", a.reason);
}

#[tokio::test]
async fn the_hook_reads_only_the_watches_of_the_service_it_verifies() {
    let r = rollout().await;
    r.green("healthy");
    // Another service's rollout waits too.
    let api = ServiceRef::new("demo", "api").unwrap();
    let digest = ImageDigest::parse(&format!("sha256:{}", "ef".repeat(32))).unwrap();
    let other = Deployment::new(
        NewDeployment {
            service: &api,
            repository: "api",
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            digest: &digest,
            tag: Some("v2"),
            target_id: "t",
            tag_rule: &TagRule::Glob { pattern: "v*".into() },
            containers: &[],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: None,
            image_pushed_at: None,
            note: None,
        },
        r.cloud.clock.now(),
    );
    r.cloud.store.create(&other).await.unwrap();
    let mut watch = r.cloud.store.get(&r.id).await.unwrap().unwrap().watch.unwrap();
    watch.service_arn = "arn:aws:ecs:us-east-1:123456789012:service/demo/api".into();
    let now = r.cloud.clock.now();
    for (to, patch) in [
        (DeploymentStatus::Registering, RecordPatch::default()),
        (DeploymentStatus::Updating, RecordPatch::default()),
        (DeploymentStatus::Waiting, RecordPatch { watch: Some(Some(watch)), ..Default::default() }),
    ] {
        let t = Transition { to, at: now, detail: String::new(), patch };
        r.cloud.store.transition(&other.deployment_id, &t).await.unwrap();
    }

    let a = r.invoke(r.payload("POST_TEST_TRAFFIC_SHIFT", None)).await;
    assert_eq!(a.hook_status, HookStatus::Succeeded, "{}", a.reason);
    assert_eq!(r.cloud.store.queried(), vec![r.id.clone()], "the other service's watch is not read");
    assert!(r.timeline().await.pop().unwrap().starts_with("hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED"));
}
