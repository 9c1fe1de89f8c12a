//! The pipeline's steps against the in-memory ports, in the order the state
//! machine runs them: success, NOOP, failures and rollbacks, lost events,
//! timeouts, repeated steps.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    AlarmView, ContainerImage, DeployTarget, DeploymentId, DeploymentStatus, IMAGE_TAG_KEY, ImageDigest, Outcome,
    Phase, RolloutState, TagRule, TargetHealthState, TargetView, TaskDefinitionView, Verdict, aws_state,
    fits_ecs_tag_value,
};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{Clock, DeployTargets, DeploymentStore};
use autodeploy_shared::steps::*;
use chrono::Duration;
use serde_json::json;

const REG: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/943f017f100becff";
const TD1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/demo/web";

/// The in-memory cloud, with the steps called the way the state machine calls them.
struct World(MemoryCloud);

impl std::ops::Deref for World {
    type Target = MemoryCloud;
    fn deref(&self) -> &MemoryCloud {
        &self.0
    }
}

fn digest(n: u8) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
}

async fn world(rule: TagRule) -> World {
    // Timing as deployed (30 min rollout, 60 s poll), no coalescing window.
    let w =
        World(MemoryCloud { settings: Settings { coalesce_seconds: 0, ..Settings::default() }, ..Default::default() });
    let ips = w.ecs.add_service(
        "demo",
        "web",
        TaskDefinitionView {
            arn: TD1.into(),
            family: "web".into(),
            containers: vec![
                ContainerImage { name: "app".into(), image: format!("{REG}/web:1.0.0") },
                ContainerImage { name: "envoy".into(), image: format!("{REG}/envoy:v1") },
            ],
            tags: vec![("team".into(), "payments".into())],
        },
        2,
        &[TG],
    );
    w.elb.set(
        TG,
        ips.into_iter()
            .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
            .collect(),
    );
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "prod".into(),
            cluster: "demo".into(),
            service: "web".into(),
            tag_rule: rule,
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    w
}

fn push(tag: &str, d: &ImageDigest) -> EcrEvent {
    EcrEvent::Push(ImagePush {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        repository: "web".into(),
        digest: d.clone(),
        tag: Some(tag.into()),
        claimed_at: None,
        manifest_media_type: None,
        artifact_media_type: None,
    })
}

impl World {
    /// `tag` pushed to ECR as `d`, and its event.
    async fn on_push(&self, tag: &str, d: &ImageDigest) -> PushReport {
        use autodeploy_shared::ports::Clock;
        self.images.push("web", tag, d, self.clock.now());
        self.on_image_push().run(push(tag, d)).await.unwrap()
    }

    async fn record(&self, id: &DeploymentId) -> autodeploy_shared::domain::Deployment {
        self.store.get(id).await.unwrap().unwrap()
    }

    async fn register(&self, id: &DeploymentId) -> Result<RegisterOutput, DeployError> {
        self.register_revision().run(id.clone().into()).await
    }

    async fn update(&self, id: &DeploymentId) -> Result<UpdateOutput, DeployError> {
        self.update_service().run(id.clone().into()).await
    }

    /// Push, register and update: the run is now waiting on our ECS deployment.
    async fn rolling(&self, tag: &str, d: &ImageDigest) -> (DeploymentId, UpdateOutput) {
        let report = self.on_push(tag, d).await;
        let id = report.started[0].clone();
        let claim = self.claim(&id).await;
        assert_eq!(claim.outcome, ClaimOutcome::Granted);
        let reg = self.register(&id).await.unwrap();
        assert_eq!(reg.outcome, RegisterOutcome::Registered);
        let up = self.update(&id).await.unwrap();
        (id, up)
    }

    async fn claim(&self, id: &DeploymentId) -> ClaimOutput {
        self.claim_service().run(id.clone().into()).await.unwrap()
    }

    /// The "Roll back" step, with the reason the failed verdict gave.
    async fn roll_back(&self, id: &DeploymentId, reason: Option<String>) -> Result<RollBackOutput, DeployError> {
        let input = RollBackInput {
            deployment_id: id.clone(),
            verdict: reason.map(|r| FailedVerdict { reason: Some(r) }),
            error: None,
        };
        self.0.roll_back().run(input).await
    }

    async fn wait(&self, id: &DeploymentId, phase: Phase, token: &str) -> Result<AwaitOutput, DeployError> {
        self.await_rollout().run(AwaitInput { deployment_id: id.clone(), phase, task_token: token.into() }).await
    }

    /// ECS finishes a deployment: its tasks run and are healthy, the others gone.
    fn finish(&self, ecs_deployment_id: &str, td: &str, health: &str) {
        let ips = self.ecs.start_tasks(ecs_deployment_id, td, 2);
        self.ecs.set_rollout("demo", "web", ecs_deployment_id, RolloutState::Completed, None);
        self.elb.set(
            TG,
            ips.iter()
                .map(|ip| TargetView { id: ip.clone(), port: Some(80), state: aws_state(health), ..Default::default() })
                .collect(),
        );
    }

    async fn signal(&self, s: EcsSignal) -> SignalReport {
        self.on_ecs_event().run(EcsEvent::Signal(s)).await.unwrap()
    }

    async fn check(&self, id: &DeploymentId, phase: Phase) -> Verdict {
        self.check_rollout().run(CheckInput { deployment_id: id.clone(), phase }).await.unwrap().verdict
    }

    async fn try_outcome(
        &self,
        id: &DeploymentId,
        outcome: FinalOutcome,
        verdict: Option<Verdict>,
        error: Option<StepError>,
    ) -> Result<OutcomeOutput, DeployError> {
        self.record_outcome().run(OutcomeInput { deployment_id: id.clone(), outcome, verdict, error }).await
    }

    async fn outcome(
        &self,
        id: &DeploymentId,
        outcome: FinalOutcome,
        verdict: Option<Verdict>,
        error: Option<StepError>,
    ) -> OutcomeOutput {
        self.try_outcome(id, outcome, verdict, error).await.unwrap()
    }

    /// The verdict the last resumed run received.
    fn resumed_with(&self) -> Verdict {
        serde_json::from_value(self.callbacks.sent().last().expect("a run was resumed").1.clone()).unwrap()
    }
}

fn completed(ecs_id: &str) -> EcsSignal {
    EcsSignal::Deployment {
        service_arn: SERVICE_ARN.into(),
        deployment_id: ecs_id.into(),
        event_name: "SERVICE_DEPLOYMENT_COMPLETED".into(),
    }
}

#[tokio::test]
async fn good_image_rolls_out_and_succeeds_on_the_completed_event() {
    let w = world(TagRule::Semver { requirement: None }).await;
    let (id, up) = w.rolling("1.1.0", &digest(2)).await;

    let d = w.record(&id).await;
    assert_eq!(d.status, Waiting);
    assert_eq!(d.previous_task_definition.as_deref(), Some(TD1));
    let new_td = d.new_task_definition.clone().unwrap();
    let registered = w.ecs.task_definition(&new_td).unwrap();
    assert_eq!(registered.containers[0].image, format!("{REG}/web@{}", digest(2)), "pinned by digest");
    assert_eq!(registered.containers[1].image, format!("{REG}/envoy:v1"), "other containers untouched");
    assert!(registered.tags.contains(&("team".into(), "payments".into())), "source tags kept");
    assert!(registered.tags.contains(&(IMAGE_TAG_KEY.into(), "1.1.0".into())));
    assert_eq!(w.ecs.updates(), vec![new_td.clone()]);

    w.wait(&id, Phase::Rollout, "token-1").await.unwrap();
    // Progress that is not final resumes nothing.
    assert!(w.signal(completed(&up.ecs_deployment_id)).await.resumed.is_empty());
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    let report = w.signal(completed(&up.ecs_deployment_id)).await;
    assert_eq!(report.resumed, vec![id.clone()]);
    let verdict = w.resumed_with();
    assert_eq!(verdict.outcome, Outcome::Succeeded);
    assert_eq!(verdict.target_health[0].healthy_count, 2);

    let out = w.outcome(&id, FinalOutcome::Succeeded, Some(verdict), None).await;
    assert_eq!(out.status, Succeeded);
    let d = w.record(&id).await;
    let states: Vec<_> = d.timeline.iter().map(|e| e.state).collect();
    use DeploymentStatus::*;
    assert_eq!(states, [Pending, Registering, Updating, Waiting, Succeeded]);
    assert_eq!(d.target_health[0].healthy_count, 2, "health snapshot kept in the record");
    assert!(d.watch.is_none(), "no longer an active watch");
    assert_eq!(w.notifier.statuses(), ["PENDING", "REGISTERING", "UPDATING", "WAITING", "SUCCEEDED"]);
    let messages = w.notifier.messages();
    assert_eq!(messages.len(), 1, "people hear about terminal outcomes only");
    assert!(messages[0].subject.contains("web:1.1.0 deployed to demo/web"), "{}", messages[0].subject);
}

#[tokio::test]
async fn old_tasks_healthy_behind_the_balancer_are_not_success() {
    let w = world(TagRule::Glob { pattern: "*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    // ECS says COMPLETED but only the old revision's targets are healthy.
    w.ecs.set_rollout("demo", "web", &up.ecs_deployment_id, RolloutState::Completed, None);
    w.elb.set(TG, vec![TargetView { id: "10.0.1.1".into(), state: aws_state("healthy"), ..Default::default() }]);
    assert!(w.signal(completed(&up.ecs_deployment_id)).await.resumed.is_empty());
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::InProgress, "{}", v.reason);
}

#[tokio::test]
async fn same_image_again_is_a_noop() {
    let w = world(TagRule::Glob { pattern: "*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    w.signal(completed(&up.ecs_deployment_id)).await;
    w.outcome(&id, FinalOutcome::Succeeded, Some(w.resumed_with()), None).await;

    // The same build pushed again under another tag is a new push (rolling
    // forward to it would deploy it); the service runs it already, so it ends NOOP.
    let report = w.on_push("v2-again", &digest(2)).await;
    assert_eq!(report.started.len(), 1, "{report:?}");
    assert_ne!(report.started[0], id);
    let reg = w.register(&report.started[0]).await.unwrap();
    assert_eq!(reg.status, DeploymentStatus::Noop);
    // The same event delivered again is a duplicate.
    let again = w.on_image_push().run(push("v2-again", &digest(2))).await.unwrap();
    assert_eq!(again.duplicates, report.started);

    // A new service target whose service already runs the image ends as NOOP.
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "canary".into(),
            cluster: "demo".into(),
            service: "web-canary".into(),
            tag_rule: TagRule::Glob { pattern: "*".into() },
            containers: vec!["app".into()],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    let _ = w.ecs.add_service("demo", "web-canary", w.ecs.task_definition(&new_td).unwrap(), 1, &[]);
    let report = w.on_image_push().run(push("v2", &digest(2))).await.unwrap();
    assert_eq!(report.started.len(), 1);
    assert_eq!(report.duplicates, [id]);
    let canary = report.started[0].clone();
    let reg = w.register(&canary).await.unwrap();
    assert_eq!(reg.outcome, RegisterOutcome::Closed);
    assert_eq!(reg.status, DeploymentStatus::Noop);
    assert_eq!(w.ecs.updates().len(), 1, "no update for a NOOP");
}

#[tokio::test]
async fn lower_semver_is_superseded_not_deployed() {
    let w = world(TagRule::Semver { requirement: None }).await;
    let report = w.on_push("0.9.0", &digest(3)).await;
    let id = report.started[0].clone();
    let reg = w.register(&id).await.unwrap();
    assert_eq!(reg.status, DeploymentStatus::Superseded);
    assert!(w.ecs.updates().is_empty());
    let d = w.record(&id).await;
    assert!(d.timeline.last().unwrap().detail.contains("1.0.0"), "{:?}", d.timeline);
}

#[tokio::test]
async fn circuit_breaker_failure_with_ecs_rollback_ends_rolled_back() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v3", &digest(3)).await;
    w.wait(&id, Phase::Rollout, "rollout-token").await.unwrap();

    // The circuit breaker trips and (rollback: true) ECS starts going back to web:1.
    w.ecs.set_rollout(
        "demo",
        "web",
        &up.ecs_deployment_id,
        RolloutState::Failed,
        Some("ECS deployment circuit breaker: tasks failed to start."),
    );
    let ecs_rollback = w.ecs.start_deployment("demo", "web", TD1);
    let report = w
        .signal(EcsSignal::Deployment {
            service_arn: SERVICE_ARN.into(),
            deployment_id: up.ecs_deployment_id.clone(),
            event_name: "SERVICE_DEPLOYMENT_FAILED".into(),
        })
        .await;
    assert_eq!(report.resumed, vec![id.clone()]);
    let failed = w.resumed_with();
    assert_eq!(failed.outcome, Outcome::Failed);
    assert!(failed.reason.contains("circuit breaker"), "{}", failed.reason);

    // Roll back: ECS is already doing it, so we follow rather than update again.
    let rb = w.roll_back(&id, Some(failed.reason.clone())).await.unwrap();
    assert!(rb.adopted);
    assert_eq!(rb.ecs_deployment_id, ecs_rollback);
    assert_eq!(w.ecs.updates().len(), 1, "no second UpdateService over ECS's own rollback");

    w.wait(&id, Phase::Rollback, "rollback-token").await.unwrap();
    w.finish(&ecs_rollback, TD1, "healthy");
    let report = w.signal(completed(&ecs_rollback)).await;
    assert_eq!(report.resumed, vec![id.clone()]);
    let back = w.resumed_with();
    assert_eq!((back.outcome, back.phase), (Outcome::Succeeded, Phase::Rollback));

    // The wiring cannot turn a rollback into success...
    let wrong = w.try_outcome(&id, FinalOutcome::Succeeded, Some(back.clone()), None).await;
    assert_eq!(wrong.unwrap_err().error_type(), "InvalidInput");
    // ...and the record says ROLLED_BACK with the reason.
    let out = w.outcome(&id, FinalOutcome::RolledBack, Some(back), None).await;
    assert_eq!(out.status, DeploymentStatus::RolledBack);
    assert!(out.failure_reason.unwrap().contains("circuit breaker"));
    let last = w.notifier.messages().pop().unwrap();
    assert!(last.subject.contains("ROLLED BACK"), "{}", last.subject);
}

#[tokio::test]
async fn ecs_rollback_observed_while_waiting_is_not_success() {
    // ECS rolled back and is stable again on the old revision: everything is
    // healthy, and that must still be reported as a failed rollout.
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v3", &digest(3)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    let ecs_rollback = w.ecs.start_deployment("demo", "web", TD1);
    w.finish(&ecs_rollback, TD1, "healthy");
    w.signal(completed(&ecs_rollback)).await;
    let v = w.resumed_with();
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.reason.contains(&up.ecs_deployment_id) && v.reason.contains(&ecs_rollback), "{}", v.reason);
}

#[tokio::test]
async fn alarm_fails_the_rollout_and_we_roll_back_ourselves() {
    alarm_rollback(true).await;
}

#[tokio::test]
async fn without_service_deployments_we_roll_back_with_update_service() {
    alarm_rollback(false).await;
}

/// An alarm fails the rollout; we roll back: ECS rolls its service deployment
/// back in place (StopServiceDeployment ROLLBACK) or, where ECS keeps none,
/// the previous revision is deployed again.
async fn alarm_rollback(service_deployments: bool) {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    if !service_deployments {
        w.ecs.without_service_deployments();
    }
    let (id, up) = w.rolling("v4", &digest(4)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    w.alarms.put(AlarmView {
        name: "web-unhealthy-hosts".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: None,
        target_groups: vec!["targetgroup/web/943f017f100becff".into()],
    });
    let report = w
        .signal(EcsSignal::Alarm {
            alarm_name: "web-unhealthy-hosts".into(),
            reason: "Threshold Crossed".into(),
            target_groups: vec!["targetgroup/web/943f017f100becff".into()],
        })
        .await;
    assert_eq!(report.resumed, vec![id.clone()]);
    let v = w.resumed_with();
    assert!(v.reason.contains("web-unhealthy-hosts"));
    let rb = w.roll_back(&id, Some(v.reason)).await.unwrap();
    assert!(!rb.adopted);
    if service_deployments {
        let sd = w.ecs.service_deployment_of(&up.ecs_deployment_id).unwrap();
        assert_eq!(w.ecs.rollbacks_requested(), vec![sd.arn.clone()]);
        assert_eq!(w.ecs.updates().len(), 1, "no second UpdateService: ECS rolls back itself");
        assert_ne!(rb.ecs_deployment_id, up.ecs_deployment_id, "the watch follows ECS's rollback deployment");
        let timeline = w.record(&id).await.timeline;
        assert!(timeline.last().unwrap().detail.contains("StopServiceDeployment ROLLBACK"), "{timeline:?}");
        // ECS's rollback completes: ROLLBACK_SUCCESSFUL is the rollback's success.
        w.finish(&rb.ecs_deployment_id, TD1, "healthy");
        let back = w.check(&id, Phase::Rollback).await;
        assert_eq!(back.outcome, Outcome::Succeeded, "{}", back.reason);
        assert!(back.reason.contains("ROLLBACK_SUCCESSFUL: back on service revision"), "{}", back.reason);
    } else {
        let last = w.ecs.updates().last().cloned();
        assert_eq!(last.as_deref(), Some(TD1), "service updated back to the previous revision");
    }
    // A repeated roll-back step changes nothing twice.
    w.roll_back(&id, None).await.unwrap();
    assert_eq!(w.ecs.updates().len(), if service_deployments { 1 } else { 2 });
    assert!(w.ecs.rollbacks_requested().len() <= 1);
}

#[tokio::test]
async fn an_alarm_whose_event_was_lost_fails_the_rollout_at_the_next_check() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, _up) = w.rolling("v4", &digest(4)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    // An alarm of another service, and the target's own alarm still OK: nothing.
    w.alarms.put(AlarmView {
        name: "api-5xx".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: None,
        target_groups: vec!["targetgroup/api/1".into()],
    });
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    // Firing since before the rollout began (the incident the fix is for): not this rollout's doing.
    let before = w.clock.now() - Duration::hours(1);
    w.alarms.put(AlarmView {
        name: "web-unhealthy-hosts".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: Some(before),
        target_groups: vec!["targetgroup/web/943f017f100becff".into()],
    });
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    w.alarms.put(AlarmView {
        name: "web-unhealthy-hosts".into(),
        state: aws_state("ALARM"),
        reason: "Threshold Crossed".into(),
        since: Some(w.clock.now()),
        target_groups: vec!["targetgroup/web/943f017f100becff".into()],
    });
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.reason.contains("web-unhealthy-hosts is in ALARM"), "{}", v.reason);
}

#[tokio::test]
async fn an_alarm_the_target_names_fails_its_rollout() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let mut t = w.targets.all().await.unwrap().remove(0);
    t.alarms = vec!["web-p99-latency".into()];
    w.targets.put(&t).await.unwrap();
    let (id, _up) = w.rolling("v4", &digest(4)).await;
    assert_eq!(w.record(&id).await.alarms, ["web-p99-latency"]);
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    w.alarms.put(AlarmView {
        name: "web-p99-latency".into(),
        state: aws_state("ALARM"),
        reason: "p99 over 2 s".into(),
        since: None,
        target_groups: vec![],
    });
    let report = w
        .signal(EcsSignal::Alarm { alarm_name: "web-p99-latency".into(), reason: "x".into(), target_groups: vec![] })
        .await;
    assert_eq!(report.resumed, vec![id.clone()]);
    assert!(w.resumed_with().reason.contains("p99 over 2 s"));
}

#[tokio::test]
async fn lost_events_are_covered_by_the_fallback_check() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    w.wait(&id, Phase::Rollout, "t1").await.unwrap();
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    // No event arrives; the wait times out and the run checks for itself.
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    w.wait(&id, Phase::Rollout, "t2").await.unwrap();
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Succeeded);
    assert!(w.callbacks.sent().is_empty(), "nothing was resumed by an event");
}

#[tokio::test]
async fn event_before_the_token_is_stored_is_not_lost() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    // The event comes first: the verdict is recorded, nobody to resume yet.
    assert!(w.signal(completed(&up.ecs_deployment_id)).await.resumed.is_empty());
    // The wait step then finds it and sends the run to check instead of waiting.
    let err = w.wait(&id, Phase::Rollout, "late").await.unwrap_err();
    assert_eq!(err.error_type(), "VerdictReady");
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn timeout_fails_the_rollout_and_rolls_back() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v5", &digest(5)).await;
    w.clock.advance(Duration::minutes(29));
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    w.clock.advance(Duration::minutes(1));
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.reason.starts_with("timed out") && v.reason.contains(&up.ecs_deployment_id), "{}", v.reason);
    let rb = w.roll_back(&id, Some(v.reason.clone())).await.unwrap();
    w.finish(&rb.ecs_deployment_id, TD1, "healthy");
    let back = w.check(&id, Phase::Rollback).await;
    assert_eq!(back.outcome, Outcome::Succeeded);
    assert_eq!(w.outcome(&id, FinalOutcome::RolledBack, Some(back), None).await.status, DeploymentStatus::RolledBack);
}

#[tokio::test]
async fn failed_rollback_is_failed_with_both_reasons() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, _) = w.rolling("v6", &digest(6)).await;
    let rb = w.roll_back(&id, Some("alarm X".into())).await.unwrap();
    w.ecs.set_rollout("demo", "web", &rb.ecs_deployment_id, RolloutState::Failed, Some("tasks failed to start"));
    let v = w.check(&id, Phase::Rollback).await;
    assert_eq!(v.outcome, Outcome::Failed);
    let out = w.outcome(&id, FinalOutcome::Failed, Some(v), None).await;
    assert_eq!(out.status, DeploymentStatus::Failed);
    let reason = out.failure_reason.unwrap();
    assert!(
        reason.contains("rollout: alarm X")
            && reason.contains("rollback: ")
            && reason.contains("tasks failed to start"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_record_never_moves_backwards() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    let v = w.check(&id, Phase::Rollout).await;
    w.outcome(&id, FinalOutcome::Succeeded, Some(v.clone()), None).await;

    // Late and repeated steps: none moves the record, none touches ECS.
    let reg = w.register(&id).await.unwrap();
    assert_eq!(reg.outcome, RegisterOutcome::Closed);
    let err = w.update(&id).await.unwrap_err();
    assert_eq!(err.error_type(), "StaleTransition");
    let err = w.roll_back(&id, None).await.unwrap_err();
    assert_eq!(err.error_type(), "StaleTransition");
    // "Record failure" over the finished record leaves it as it ended, and says so.
    let late = w.outcome(&id, FinalOutcome::Failed, None, None).await;
    assert_eq!(late.status, DeploymentStatus::Succeeded);
    // Repeating the very same final step is idempotent (announced again, not re-written).
    let again = w.outcome(&id, FinalOutcome::Succeeded, Some(v), None).await;
    assert_eq!(again.status, DeploymentStatus::Succeeded);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.timeline.len(), 5);
    assert_eq!(w.ecs.updates().len(), 1);
}

#[tokio::test]
async fn repeated_update_step_does_not_update_twice() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v2", &digest(2)).await;
    let again = w.update(&id).await.unwrap();
    assert_eq!(again.ecs_deployment_id, up.ecs_deployment_id);
    assert_eq!(w.ecs.updates().len(), 1);
}

/// The registration's Lambda dies after RegisterTaskDefinition and before its
/// record write; the state machine retries the step: the revision the first
/// attempt registered is the deployment's, and no second one is registered.
#[tokio::test]
async fn a_registration_retried_after_it_registered_registers_nothing_twice() {
    use autodeploy_shared::domain::{DEPLOYMENT_TAG_KEY, RecordPatch, Transition};
    use autodeploy_shared::ports::Ecs;
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let id = w.on_push("v2", &digest(2)).await.started[0].clone();
    assert_eq!(w.claim(&id).await.outcome, ClaimOutcome::Granted);
    // The first attempt: REGISTERING recorded, the revision registered, then it died.
    let first = w.record(&id).await;
    let t = Transition {
        to: DeploymentStatus::Registering,
        at: w.clock.now(),
        detail: "reading demo/web".into(),
        patch: RecordPatch::default(),
    };
    w.store.transition(&id, &t).await.unwrap();
    let image = format!("{REG}/web@{}", digest(2));
    let images = [("app".to_owned(), image)].into_iter().collect();
    let tags = [(DEPLOYMENT_TAG_KEY.to_owned(), id.to_string())];
    let registered = w.ecs.register_revision(TD1, &images, &tags).await.unwrap();
    // Someone else's revision of the family came after it.
    w.ecs.register_revision(TD1, &Default::default(), &[]).await.unwrap();
    assert_eq!(first.status, DeploymentStatus::Pending);

    let retried = w.register(&id).await.unwrap();
    assert_eq!(retried.outcome, RegisterOutcome::Registered);
    assert_eq!(retried.new_task_definition.as_deref(), Some(registered.as_str()), "the first attempt's revision");
    assert_eq!(w.ecs.recent_revisions("web", 10).await.unwrap().len(), 3, "web:1, ours and the other: none added");
    let again = w.register(&id).await.unwrap();
    assert_eq!(again, retried, "and once recorded, a further retry reports it");
}

#[tokio::test]
async fn duplicate_pushes_start_one_run_and_non_matching_tags_none() {
    let w = world(TagRule::Glob { pattern: "release-*".into() }).await;
    let first = w.on_push("release-7", &digest(7)).await;
    assert_eq!(first.started.len(), 1);
    for _ in 0..2 {
        let dup = w.on_push("release-7", &digest(7)).await;
        assert!(dup.started.is_empty());
        assert_eq!(dup.duplicates, first.started);
    }
    assert_eq!(w.executions.started().len(), 1);
    assert_eq!(w.notifier.statuses(), ["PENDING"], "one set of notifications");

    let other = w.on_push("nightly", &digest(8)).await;
    assert_eq!(other.not_matching, ["prod"]);
    assert!(other.started.is_empty());
    assert_eq!(w.store.all().len(), 1);
}

#[tokio::test]
async fn a_pending_record_whose_run_never_started_is_started_on_redelivery() {
    let w = world(TagRule::Glob { pattern: "*".into() }).await;
    // Simulate a crash between the record write and StartExecution.
    let report = w.on_push("v9", &digest(9)).await;
    let started = w.executions.started();
    assert_eq!(started.len(), 1);
    let crashed = RecordingExecutions::default();
    let again = OnImagePush {
        targets: &w.targets,
        images: &w.images,
        launcher: Launcher { executions: &crashed, coalesce_seconds: 0, ..w.launcher() },
        registry: MEMORY_REGISTRY.into(),
    }
    .run(push("v9", &digest(9)))
    .await
    .unwrap();
    assert_eq!(again.started, report.started, "still PENDING: started again under the same name");
    assert_eq!(crashed.started()[0], started[0], "same execution name and byte-identical input");
    assert_eq!(
        started[0].1,
        json!({"deploymentId": report.started[0], "cluster": "demo", "service": "web", "image": format!("{REG}/web@{}", digest(9)), "tag": "v9", "coalesceSeconds": 0})
    );
}

#[tokio::test]
async fn one_push_fans_out_to_every_matching_service() {
    let w = world(TagRule::Glob { pattern: "*".into() }).await;
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "staging".into(),
            cluster: "staging".into(),
            service: "web".into(),
            tag_rule: TagRule::Exact { pattern: "v2".into() },
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "disabled".into(),
            cluster: "old".into(),
            service: "web".into(),
            tag_rule: TagRule::Exact { pattern: "v2".into() },
            containers: vec![],
            enabled: false,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    let report = w.on_push("v2", &digest(2)).await;
    assert_eq!(report.started.len(), 2);
    assert_eq!(report.not_matching, ["disabled"]);
    let names: Vec<String> = w.executions.started().into_iter().map(|(n, _)| n).collect();
    assert_ne!(names[0], names[1]);
}

#[tokio::test]
async fn a_tag_ecs_would_refuse_as_a_tag_value_is_left_off_the_revision_not_the_deploy() {
    let w = world(TagRule::Glob { pattern: "*".into() }).await;
    let tag = format!("release-{}", "x".repeat(260)); // ECR takes up to 300 characters, ECS tag values 256
    let (id, _) = w.rolling(&tag, &digest(4)).await;
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    let registered = w.ecs.task_definition(d.new_task_definition.as_deref().unwrap()).unwrap();
    assert_eq!(registered.tag(IMAGE_TAG_KEY), None, "not written as-is");
    assert!(registered.tags.iter().all(|(_, v)| fits_ecs_tag_value(v)));
    let registering = d.timeline.iter().find(|e| e.state == DeploymentStatus::Updating).unwrap();
    assert!(registering.detail.contains("image tag is not kept as a task-definition tag"), "{}", registering.detail);
    assert_eq!(d.tag.as_deref(), Some(tag.as_str()), "the record keeps the tag");
}

const TG_GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/5d6e7f";

#[tokio::test]
async fn blue_green_stages_and_traffic_land_in_the_timeline_and_success_needs_green_healthy() {
    use autodeploy_shared::domain::{DeploymentStrategy, LifecycleStage, ServiceDeploymentStatus};
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    // DescribeServices says BLUE_GREEN, as ECS does for such a service.
    w.ecs.set_strategy("demo", "web", DeploymentStrategy::BlueGreen);
    let (id, up) = w.rolling("v7", &digest(7)).await;
    let sd = w.ecs.service_deployment_of(&up.ecs_deployment_id).expect("ECS opened a service deployment");
    let d = w.record(&id).await;
    assert_eq!(d.service_deployment_arn.as_deref(), Some(sd.arn.as_str()));
    assert!(d.timeline.last().unwrap().detail.contains(&format!("service deployment {}", sd.short_id())));
    w.wait(&id, Phase::Rollout, "t").await.unwrap();

    let set = |stage: &str, production: f64, test: f64| {
        w.ecs.update_service_deployment(&up.ecs_deployment_id, |sd| {
            sd.strategy = Some(DeploymentStrategy::BlueGreen);
            sd.lifecycle_stage = Some(aws_state(stage));
            sd.bake_time_minutes = Some(5);
            let t = sd.target.as_mut().unwrap();
            t.production_traffic_weight = Some(production);
            t.test_traffic_weight = Some(test);
        });
    };
    set("SCALE_UP", 0.0, 0.0);
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    set("TEST_TRAFFIC_SHIFT", 0.0, 100.0);
    assert!(w.signal(completed(&up.ecs_deployment_id)).await.resumed.is_empty());
    // The same stage seen twice (an event and a check) is one entry.
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    set("PRODUCTION_TRAFFIC_SHIFT", 100.0, 100.0);
    w.check(&id, Phase::Rollout).await;
    set("BAKE_TIME", 100.0, 100.0);
    w.check(&id, Phase::Rollout).await;

    let details: Vec<String> = w.record(&id).await.timeline.iter().map(|e| e.detail.clone()).collect();
    let progress: Vec<&String> = details.iter().skip_while(|d| !d.starts_with("SCALE_UP")).collect();
    assert_eq!(
        progress,
        [
            "SCALE_UP: production traffic 0 % on the new revision",
            "TEST_TRAFFIC_SHIFT: production traffic 0 % on the new revision, test traffic 100 %",
            "PRODUCTION_TRAFFIC_SHIFT: production traffic 100 % on the new revision, test traffic 100 %",
            "BAKE_TIME 5 min, the previous revision kept: production traffic 100 % on the new revision, test traffic 100 %",
        ]
    );
    // Each change went on the bus, with the stage and the weight.
    let events = w.notifier.events.lock().unwrap().clone();
    let bake = events.iter().find(|e| e.lifecycle_stage == Some(LifecycleStage::BakeTime)).expect("bake event");
    assert_eq!(bake.status, DeploymentStatus::Waiting);
    assert_eq!(bake.production_traffic_weight, Some(100.0));
    assert_eq!(bake.service_deployment_arn.as_deref(), Some(sd.arn.as_str()));

    // SUCCESSFUL: production is now the green target group, where our tasks
    // must be healthy (the blue group still has the old, healthy ones).
    w.ecs.set_production_target_groups(&[TG_GREEN]);
    let ips = w.ecs.start_tasks(&up.ecs_deployment_id, &d.new_task_definition.clone().unwrap(), 2);
    w.ecs.update_service_deployment(&up.ecs_deployment_id, |sd| sd.status = ServiceDeploymentStatus::Successful);
    let targets = |state: &str| {
        ips.iter()
            .map(|ip| TargetView { id: ip.clone(), port: Some(80), state: aws_state(state), ..Default::default() })
            .collect::<Vec<_>>()
    };
    w.elb.set(TG_GREEN, targets("initial"));
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::InProgress, "{}", v.reason);
    assert!(v.reason.contains("web-green/5d6e7f 0/2 healthy"), "{}", v.reason);
    w.elb.set(TG_GREEN, targets("healthy"));
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
    assert_eq!(v.target_health[0].target_group_arn, TG_GREEN);
}

#[tokio::test]
async fn a_service_deployment_stopped_by_someone_else_is_not_success_and_is_not_rolled_over() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v8", &digest(8)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    // Someone deploys revision 1 by hand: ECS stops ours.
    autodeploy_shared::ports::Ecs::update_service(&w.ecs, "demo", "web", TD1).await.unwrap();
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(v.reason.contains("was stopped (STOPPED)") && v.reason.contains(&up.ecs_deployment_id), "{}", v.reason);
    assert!(v.reason.contains("PRIMARY is"), "{}", v.reason);
    assert!(w.ecs.rollbacks_requested().is_empty());
}

#[tokio::test]
async fn without_service_deployments_rollout_state_still_decides() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    w.ecs.without_service_deployments();
    let (id, up) = w.rolling("v9", &digest(9)).await;
    assert!(w.record(&id).await.service_deployment_arn.is_none());
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
    assert!(v.progress.is_none());
}

#[tokio::test]
async fn a_failed_read_after_update_service_neither_fails_the_step_nor_updates_twice() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let report = w.on_push("v10", &digest(10)).await;
    let id = report.started[0].clone();
    w.claim(&id).await;
    w.register(&id).await.unwrap();
    w.ecs.fail_next_finds(1);
    let up = w.update(&id).await.unwrap();
    assert_eq!(w.ecs.updates().len(), 1);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    assert!(d.watch.as_ref().unwrap().service_deployment_arn.is_none(), "not read yet");
    // The first look finds it and judges by it.
    let new_td = d.new_task_definition.unwrap();
    w.finish(&up.ecs_deployment_id, &new_td, "healthy");
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
    assert!(v.progress.is_some(), "judged by the service deployment: {}", v.reason);
}

#[tokio::test]
async fn a_roll_back_retried_after_its_stop_does_not_stop_again() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v11", &digest(11)).await;
    let sd = w.ecs.service_deployment_of(&up.ecs_deployment_id).unwrap();
    // The step asked ECS to roll back, then died before writing the record.
    use autodeploy_shared::ports::Ecs;
    w.ecs.roll_back_service_deployment(&sd.arn).await.unwrap();
    let rb = w.roll_back(&id, Some("alarm X".into())).await.unwrap();
    assert_eq!(w.ecs.rollbacks_requested().len(), 1, "no second StopServiceDeployment");
    assert_eq!(w.ecs.updates().len(), 1, "no UpdateService either");
    assert_eq!(w.record(&id).await.status, DeploymentStatus::RollingBack);
    w.finish(&rb.ecs_deployment_id, TD1, "healthy");
    assert_eq!(w.check(&id, Phase::Rollback).await.outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn blue_green_without_a_resolved_configuration_is_judged_where_our_tasks_are() {
    use autodeploy_shared::domain::{DeploymentStrategy, ServiceDeploymentStatus};
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    w.ecs.set_alternate_target_groups("demo", "web", &[TG_GREEN]);
    w.ecs.set_production_target_groups(&[]);
    let (id, up) = w.rolling("v12", &digest(12)).await;
    assert_eq!(w.record(&id).await.strategy, Some(DeploymentStrategy::BlueGreen));
    w.ecs.update_service_deployment(&up.ecs_deployment_id, |sd| sd.status = ServiceDeploymentStatus::Successful);
    let new_td = w.record(&id).await.new_task_definition.unwrap();
    let ips = w.ecs.start_tasks(&up.ecs_deployment_id, &new_td, 2);
    // Green serves now: our tasks are healthy there; blue still has the old ones.
    w.elb.set(
        TG_GREEN,
        ips.iter()
            .map(|ip| TargetView { id: ip.clone(), port: Some(80), state: aws_state("healthy"), ..Default::default() })
            .collect(),
    );
    let v = w.check(&id, Phase::Rollout).await;
    assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
    assert_eq!(v.target_health.len(), 1);
    assert_eq!(v.target_health[0].target_group_arn, TG_GREEN);
}

#[tokio::test]
async fn a_rolling_rollout_under_way_costs_one_describe_services_per_look() {
    let w = world(TagRule::Glob { pattern: "v*".into() }).await;
    let (id, up) = w.rolling("v10", &digest(10)).await;
    w.wait(&id, Phase::Rollout, "t").await.unwrap();
    let before = (w.ecs.calls().len(), w.elb.calls().len());
    for _ in 0..3 {
        assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::InProgress);
    }
    let looks: Vec<String> = w.ecs.calls().split_off(before.0);
    assert_eq!(looks, ["DescribeServices demo/web"; 3], "nothing but deployments[] while it rolls");
    assert_eq!(w.elb.calls().len(), before.1, "no target health before ECS completes");
    // Completed: the full look, and success.
    w.finish(&up.ecs_deployment_id, &w.record(&id).await.new_task_definition.unwrap(), "healthy");
    assert_eq!(w.check(&id, Phase::Rollout).await.outcome, Outcome::Succeeded);
}
