//! `on-ecs-event` on AWS's documented ECS and CloudWatch event samples, payload in.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    AlarmView, ContainerImage, Deployment, DeploymentId, DeploymentStatus, ImageDigest, NewDeployment, Phase,
    RecordPatch, RolloutState, ServiceRef, TagRule, TargetHealthState, TargetView, TaskDefinitionView, Transition,
    Watch, aws_state,
};
use autodeploy_shared::memory::{MemoryAlarms, MemoryCloud};
use autodeploy_shared::ports::{Alarms, CheckLease, Clock, DeploymentStore};
use autodeploy_shared::steps::{CHECK_LEASE_SECONDS, EcsEvent, OnEcsEvent, SignalReport, Step, handle};
use chrono::Duration;
use serde_json::{Value, json};
use tokio::sync::Notify;

const COMPLETED: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-completed.json");
const FAILED: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-failed.json");
const IN_PROGRESS: &str = include_str!("../../tests/fixtures/aws-events/ecs-deployment-in-progress.json");
const STEADY: &str = include_str!("../../tests/fixtures/aws-events/ecs-service-action-steady-state.json");
const PLACEMENT: &str = include_str!("../../tests/fixtures/aws-events/ecs-service-action-placement-failure.json");
const TASK: &str = include_str!("../../tests/fixtures/aws-events/ecs-task-state-change-running.json");
const ALARM: &str = include_str!("../../tests/fixtures/aws-events/cloudwatch-alarm-unhealthy-hosts.json");

const TG: &str = "arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/web/943f017f100becff";
const TG_OTHER: &str = "arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/other/0123456789abcdef";

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
    service(&d, "servicetest", TG);
    watching(&d, "servicetest", ecs_id).await;
    d
}

/// Service default/`name` behind target group `tg`, its tasks healthy.
fn service(d: &MemoryCloud, name: &str, tg: &str) {
    let td = TaskDefinitionView {
        arn: "arn:td/web:1".into(),
        family: "web".into(),
        containers: vec![ContainerImage { name: "app".into(), image: "x/web:1".into() }],
        tags: vec![],
    };
    let ips = d.ecs.add_service("default", name, td, 2, &[tg]);
    d.elb.set(
        tg,
        ips.into_iter()
            .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
            .collect(),
    );
}

/// A run waiting on ECS deployment `ecs_id` of default/`name`, its token
/// (`token-<name>`) stored.
async fn watching(d: &MemoryCloud, name: &str, ecs_id: &str) -> DeploymentId {
    let svc = ServiceRef::new("default", name).unwrap();
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
    let tg = d.ecs.service("default", name).unwrap().target_group_arns;
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
                    service_arn: format!("arn:aws:ecs:us-west-2:111122223333:service/default/{name}"),
                    target_group_arns: tg,
                    deadline: now + Duration::minutes(30),
                    started_at: None,
                    task_token: None,
                    verdict: None,
                    service_deployment_arn: None,
                    in_place_rollback: false,
                    progress: None,
                    progress_at: None,
                    checking_until: None,
                    recheck: false,
                    delivered: false,
                })),
                ..Default::default()
            },
        ),
    ] {
        d.store.transition(&id, &Transition { to, at: now, detail: String::new(), patch }).await.unwrap();
    }
    d.store.store_task_token(&id, Phase::Rollout, ecs_id, &format!("token-{name}")).await.unwrap();
    id
}

/// ECS finishes deployment `ecs_id` of default/`name`: its tasks run, healthy behind `tg`.
fn complete(d: &MemoryCloud, name: &str, tg: &str, ecs_id: &str) {
    let ips = d.ecs.start_tasks(ecs_id, "arn:td/web:2", 2);
    d.ecs.set_rollout("default", name, ecs_id, RolloutState::Completed, None);
    d.elb.set(
        tg,
        ips.iter()
            .map(|ip| TargetView {
                id: ip.clone(),
                port: Some(80),
                state: TargetHealthState::Healthy,
                ..Default::default()
            })
            .collect(),
    );
}

/// The rollout of servicetest on its way (ECS deployment `ecs-svc/2`), the run waiting.
async fn rolling_out() -> (MemoryCloud, DeploymentId, String) {
    let d = waiting("ecs-svc/2").await;
    let ecs_id = d.ecs.start_deployment("default", "servicetest", "arn:td/web:2");
    assert_eq!(ecs_id, "ecs-svc/2");
    let id = d.store.all()[0].deployment_id.clone();
    (d, id, ecs_id)
}

/// `sample` about ECS deployment `ecs_id`.
fn about(s: &str, ecs_id: &str) -> Value {
    let mut event = sample(s);
    if event["detail"].get("deploymentId").is_some() {
        event["detail"]["deploymentId"] = json!(ecs_id);
    }
    event
}

/// CloudWatch, holding the first look that asks it (after all of that look's
/// ECS and load balancer reads) until the test lets it go.
struct HeldAlarms<'a> {
    inner: &'a MemoryAlarms,
    armed: AtomicBool,
    /// A look is held.
    held: Notify,
    release: Notify,
}

impl<'a> HeldAlarms<'a> {
    fn new(inner: &'a MemoryAlarms) -> Self {
        Self { inner, armed: AtomicBool::new(true), held: Notify::new(), release: Notify::new() }
    }
}

impl Alarms for HeldAlarms<'_> {
    async fn firing(&self, names: &[String], target_groups: &[String]) -> Result<Vec<AlarmView>, DeployError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.held.notify_one();
            self.release.notified().await;
        }
        self.inner.firing(names, target_groups).await
    }
}

/// `on-ecs-event` of the cloud, asking CloudWatch through `alarms`.
fn on_ecs_event_with<'a>(
    d: &'a MemoryCloud,
    alarms: &'a HeldAlarms<'a>,
) -> impl Step<Input = EcsEvent, Output = SignalReport> + 'a {
    OnEcsEvent {
        store: &d.store,
        ecs: &d.ecs,
        elb: &d.elb,
        alarms,
        callbacks: &d.callbacks,
        notifier: &d.notifier,
        clock: &d.clock,
        approval_endpoint: None,
    }
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
    assert_eq!(token, "token-servicetest");
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

#[tokio::test]
async fn an_event_reads_only_the_watches_of_the_service_it_names() {
    let d = MemoryCloud::default();
    service(&d, "servicetest", TG);
    service(&d, "other", TG_OTHER);
    let ours = d.ecs.start_deployment("default", "servicetest", "arn:td/web:2");
    let theirs = d.ecs.start_deployment("default", "other", "arn:td/web:2");
    let a = watching(&d, "servicetest", &ours).await;
    let b = watching(&d, "other", &theirs).await;
    let b_before = d.store.get(&b).await.unwrap().unwrap();

    let report = handler(&d, sample(STEADY)).await.unwrap();
    assert_eq!(report.matched, vec![a.clone()]);
    assert_eq!(d.store.queried(), vec![a.clone()], "the other service's watch is not read");
    assert!(!d.ecs.calls().is_empty(), "servicetest was looked at");
    assert!(d.ecs.calls().iter().all(|c| !c.contains("default/other") && !c.contains("/default/other/")));
    assert!(!d.elb.calls().contains(&TG_OTHER.to_owned()));
    assert_eq!(d.store.get(&b).await.unwrap().unwrap(), b_before);

    // A task's event names its cluster and its service: that service's watch only.
    let mut task = sample(TASK);
    task["detail"]["clusterArn"] = json!("arn:aws:ecs:us-west-2:111122223333:cluster/default");
    task["detail"]["group"] = json!("service:other");
    let report = handler(&d, task).await.unwrap();
    assert_eq!(report.matched, vec![b.clone()]);
    assert_eq!(d.store.queried(), [a, b]);
}

#[tokio::test]
async fn the_two_events_that_end_a_rollout_make_one_look_and_resume_the_run_once() {
    // What one look costs: the completion event alone, in a twin world.
    let (alone, _, ecs_id) = rolling_out().await;
    complete(&alone, "servicetest", TG, &ecs_id);
    assert_eq!(handler(&alone, about(COMPLETED, &ecs_id)).await.unwrap().resumed.len(), 1);
    let one_look = (alone.ecs.calls(), alone.elb.calls());
    assert!(!one_look.0.is_empty() && !one_look.1.is_empty());

    let (d, id, ecs_id) = rolling_out().await;
    complete(&d, "servicetest", TG, &ecs_id);
    let alarms = HeldAlarms::new(&d.alarms);
    let step = on_ecs_event_with(&d, &alarms);
    // SERVICE_DEPLOYMENT_COMPLETED, and SERVICE_STEADY_STATE while its look is under way.
    let (first, second) = tokio::join!(handle(&step, about(COMPLETED, &ecs_id)), async {
        alarms.held.notified().await;
        let report = handle(&step, sample(STEADY)).await;
        alarms.release.notify_one();
        report
    });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.resumed, vec![id.clone()]);
    assert_eq!((second.deferred, second.resumed), (vec![id.clone()], vec![]));
    assert_eq!((d.ecs.calls(), d.elb.calls()), one_look, "one look's worth of ECS and ELB calls");
    let sent = d.callbacks.sent();
    assert_eq!(sent.len(), 1, "one SendTaskSuccess");
    assert_eq!(sent[0].1["outcome"], json!("SUCCEEDED"));
    let w = d.store.get(&id).await.unwrap().unwrap().watch.unwrap();
    assert!(w.delivered && !w.recheck && w.checking_until.is_none(), "{w:?}");

    // A late or repeated delivery finds the verdict delivered: nothing is called.
    let report = handler(&d, sample(STEADY)).await.unwrap();
    assert_eq!((report.matched, report.resumed, report.deferred), (vec![id], vec![], vec![]));
    assert_eq!((d.ecs.calls(), d.elb.calls()), one_look);
    assert_eq!(d.callbacks.sent().len(), 1);
}

#[tokio::test]
async fn a_change_an_event_reports_while_another_looks_is_looked_at_again() {
    let (d, id, ecs_id) = rolling_out().await;
    let alarms = HeldAlarms::new(&d.alarms);
    let step = on_ecs_event_with(&d, &alarms);
    let (first, second) = tokio::join!(handle(&step, about(STEADY, &ecs_id)), async {
        // The first look has read ECS: in progress. Then ECS completes and says so.
        alarms.held.notified().await;
        complete(&d, "servicetest", TG, &ecs_id);
        let calls = (d.ecs.calls().len(), d.elb.calls().len());
        let report = handle(&step, about(COMPLETED, &ecs_id)).await;
        assert_eq!((d.ecs.calls().len(), d.elb.calls().len()), calls, "left to the look under way");
        alarms.release.notify_one();
        report
    });
    assert_eq!(second.unwrap().deferred, vec![id.clone()]);
    // The first look saw the rollout in progress, and looked again for the event.
    assert_eq!(first.unwrap().resumed, vec![id.clone()]);
    let sent = d.callbacks.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["outcome"], json!("SUCCEEDED"));
    let w = d.store.get(&id).await.unwrap().unwrap().watch.unwrap();
    assert!(w.delivered && !w.recheck && w.checking_until.is_none(), "{w:?}");
}

#[tokio::test]
async fn a_look_that_died_holding_the_lease_holds_events_back_only_until_it_runs_out() {
    let (d, id, ecs_id) = rolling_out().await;
    complete(&d, "servicetest", TG, &ecs_id);
    // An invocation took the lease and died with it (its Lambda timed out).
    let now = d.clock.now();
    let lease = Duration::seconds(CHECK_LEASE_SECONDS);
    assert!(matches!(d.store.begin_check(&id, now, now + lease).await.unwrap(), CheckLease::Taken(_)));
    // While the lease runs, an event leaves the look to its holder...
    d.clock.advance(lease - Duration::seconds(1));
    let report = handler(&d, about(COMPLETED, &ecs_id)).await.unwrap();
    assert_eq!(report.deferred, vec![id.clone()]);
    assert!(d.ecs.calls().is_empty() && d.callbacks.sent().is_empty());
    assert!(d.store.get(&id).await.unwrap().unwrap().watch.unwrap().recheck);
    // ...and once it has run out, the next event (or EventBridge's retry of the dead one) looks.
    d.clock.advance(Duration::seconds(1));
    let report = handler(&d, sample(STEADY)).await.unwrap();
    assert_eq!(report.resumed, vec![id.clone()]);
    let sent = d.callbacks.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["outcome"], json!("SUCCEEDED"));
    let w = d.store.get(&id).await.unwrap().unwrap().watch.unwrap();
    assert!(w.delivered && !w.recheck && w.checking_until.is_none(), "{w:?}");
}

#[tokio::test]
async fn an_alarm_names_no_service_and_finds_its_watch_among_every_services() {
    let d = MemoryCloud::default();
    service(&d, "servicetest", TG);
    service(&d, "other", TG_OTHER);
    let ours = d.ecs.start_deployment("default", "servicetest", "arn:td/web:2");
    let theirs = d.ecs.start_deployment("default", "other", "arn:td/web:2");
    let a = watching(&d, "servicetest", &ours).await;
    let b = watching(&d, "other", &theirs).await;
    d.alarms.put(AlarmView {
        name: "web-unhealthy-hosts".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: None,
        target_groups: vec!["targetgroup/web/943f017f100becff".into()],
    });
    let report = handler(&d, sample(ALARM)).await.unwrap();
    assert_eq!((report.matched, report.resumed), (vec![a.clone()], vec![a.clone()]));
    let sent = d.callbacks.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "token-servicetest");
    assert_eq!(sent[0].1["outcome"], json!("FAILED"));
    let mut read = d.store.queried();
    read.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(read, both, "an alarm reads every watch");
}

#[tokio::test]
async fn a_rolling_deployment_in_progress_costs_no_ecs_call_and_its_end_is_still_seen() {
    let (d, id, ecs_id) = rolling_out().await;
    let report = handler(&d, about(IN_PROGRESS, &ecs_id)).await.unwrap();
    assert_eq!(report.matched, std::slice::from_ref(&id));
    assert!(report.resumed.is_empty());
    assert!(d.ecs.calls().is_empty(), "nothing to decide or announce: {:?}", d.ecs.calls());
    assert!(d.elb.calls().is_empty());
    // Its end comes with events of its own, and those are looked at.
    complete(&d, "servicetest", TG, &ecs_id);
    let report = handler(&d, about(COMPLETED, &ecs_id)).await.unwrap();
    assert_eq!(report.resumed, [id]);
    assert!(!d.ecs.calls().is_empty());
    assert_eq!(d.callbacks.sent()[0].1["outcome"], json!("SUCCEEDED"));
}
