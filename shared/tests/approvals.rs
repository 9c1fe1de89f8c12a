//! Approvals against the in-memory ports: the pipeline's own gate before
//! the rollout (approve, reject, timeout, newest wins) and ECS's PAUSE hook
//! (the record follows it, the decision continues or rolls it back), all
//! decided through the one entry point, which records the caller's identity.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::domain::{
    ApprovalGate, ApprovalOutcome, ApprovalPolicy, DeploymentId, DeploymentStatus, HookAction, HookRunStatus,
    LifecycleStage, OnTimeout, Outcome, Phase, ServiceDeploymentStatus,
};
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::ServiceLocks;
use autodeploy_shared::steps::*;
use chrono::Duration;
use serde_json::{Value, json};

use crate::common;

use common::*;

fn decision(id: &DeploymentId, decision: &str) -> Value {
    json!({"deploymentId": id, "decision": decision})
}

impl World {
    async fn ask(&self, id: &DeploymentId) -> GateOutput {
        self.request_approval().run(ApprovalRequestInput { deployment_id: id.clone(), expired: false }).await.unwrap()
    }

    async fn expire(&self, id: &DeploymentId) -> GateOutput {
        self.request_approval().run(ApprovalRequestInput { deployment_id: id.clone(), expired: true }).await.unwrap()
    }

    /// The entry point's answer: status code and JSON body.
    async fn decide(&self, who: Option<&str>, body: &Value) -> (i64, Value) {
        let r = self.decide_approval().run(call(who, "POST", body)).await.unwrap();
        (r.status_code, serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
    }

    /// Claim (past the gate), register, update: the run watches our ECS deployment.
    async fn start_rollout(&self, id: &DeploymentId) -> String {
        let claim = self.claim_service().run(ClaimInput::after_gate(id.clone(), GateOutcome::Pass)).await.unwrap();
        assert_eq!(claim.outcome, ClaimOutcome::Granted);
        self.register_revision().run(id.clone().into()).await.unwrap();
        self.update_service().run(id.clone().into()).await.unwrap().ecs_deployment_id
    }

    async fn check(&self, id: &DeploymentId) -> autodeploy_shared::domain::Verdict {
        self.check_rollout().run(CheckInput { deployment_id: id.clone(), phase: Phase::Rollout }).await.unwrap().verdict
    }
}

#[tokio::test]
async fn only_a_target_that_requires_approval_sends_its_run_to_the_gate() {
    // Required: the claim sends the run to "Ask for approval" first, and
    // takes nothing, writes nothing.
    let w = world(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    let before = w.record(&id).await;
    let claim = w.claim_service().run(id.clone().into()).await.unwrap();
    assert_eq!(claim.outcome, ClaimOutcome::NeedsApproval);
    assert_eq!(w.record(&id).await, before);
    assert!(w.locks.state("demo/web").await.unwrap().owner.is_none());
    // Once the gate has answered, the claim takes the service as any other.
    assert_eq!(w.ask(&id).await.outcome, GateOutcome::Awaiting);
    w.park(&id, "token-approval", DeploymentStatus::AwaitingApproval).await;
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200);
    let claim = w.claim_service().run(ClaimInput::after_gate(id.clone(), GateOutcome::Awaiting)).await.unwrap();
    assert_eq!(claim.outcome, ClaimOutcome::Granted);

    // Not required: straight from the settle to the service.
    let w = world(None).await;
    let id = w.push("v2", &digest(2)).await;
    assert_eq!(w.claim_service().run(id.clone().into()).await.unwrap().outcome, ClaimOutcome::Granted);
}

#[tokio::test]
async fn a_held_deployment_changes_nothing_until_approved_and_records_who_approved() {
    let w = world(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    let gate = w.ask(&id).await;
    assert_eq!(gate.outcome, GateOutcome::Awaiting);
    assert_eq!(gate.timeout_seconds, 86_400, "the default: one day");
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::AwaitingApproval);
    assert_eq!(d.approval.as_ref().unwrap().gate, ApprovalGate::Pipeline);
    assert!(w.ecs.updates().is_empty(), "nothing changed on the service");

    // People hear what waits, until when, and exactly how to decide.
    let message = w.notifier.messages().pop().unwrap();
    assert!(message.subject.contains("waits for APPROVAL on demo/web"), "{}", message.subject);
    for needed in [
        "held by the pipeline, before anything changes on the service",
        "then it is not deployed",
        "curl --aws-sigv4 \"aws:amz:us-east-1:lambda\"",
        MEMORY_APPROVAL_URL,
        &format!("\"deploymentId\":\"{id}\",\"decision\":\"APPROVE\""),
        &format!("\"deploymentId\":\"{id}\",\"decision\":\"REJECT\""),
    ] {
        assert!(message.body.contains(needed), "{needed:?} missing from:\n{}", message.body);
    }
    assert_eq!(w.notifier.statuses().last().map(String::as_str), Some("AWAITING_APPROVAL"));

    // A repeated step changes nothing, and asks again: its first attempt may
    // have died before asking (at least once); the run parks its token.
    assert_eq!(w.ask(&id).await.outcome, GateOutcome::Awaiting);
    assert_eq!(w.notifier.messages().len(), 2);
    assert_eq!(w.record(&id).await.timeline.len(), 2, "PENDING and AWAITING_APPROVAL, once each");
    w.park(&id, "token-approval", DeploymentStatus::AwaitingApproval).await;
    let err = w.claim_service().run(id.clone().into()).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput", "a held deployment never takes the service");

    w.clock.advance(Duration::minutes(5));
    let (status, body) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "QUEUED");
    assert_eq!(body["approval"]["decidedBy"], ALICE);
    let sent = w.callbacks.sent();
    assert_eq!(sent.last().unwrap().0, "token-approval", "the held run is resumed");

    // The same call again answers the same, and resumes nothing twice.
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200);
    assert_eq!(w.callbacks.sent().len(), sent.len());
    // A different decision is refused.
    let (status, body) = w.decide(Some(BOB), &decision(&id, "REJECT")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains(&format!("APPROVED by {ALICE}")), "{body}");

    // The gate lets it pass; it rolls out as any other.
    assert_eq!(w.ask(&id).await.outcome, GateOutcome::Pass);
    w.start_rollout(&id).await;
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    let a = d.approval.unwrap();
    assert_eq!((a.outcome, a.decided_by.as_deref()), (Some(ApprovalOutcome::Approved), Some(ALICE)));
    assert!(d.timeline.iter().any(|e| e.detail.contains(&format!("approved by {ALICE}"))));
}

#[tokio::test]
async fn a_rejected_deployment_is_not_deployed_and_says_who_and_why() {
    let w = world(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    w.ask(&id).await;
    w.park(&id, "token-approval", DeploymentStatus::AwaitingApproval).await;
    let body = json!({"deploymentId": id, "decision": "REJECT", "reason": "freeze until Monday"});
    let (status, answer) = w.decide(Some(BOB), &body).await;
    assert_eq!(status, 200, "{answer}");
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Rejected);
    assert!(d.status.is_terminal());
    assert_eq!(d.failure_reason.as_deref(), Some(format!("rejected by {BOB}: freeze until Monday").as_str()));
    assert_eq!(w.callbacks.sent().last().unwrap().0, "token-approval");
    // The run ends there: nothing to roll out, nothing changed.
    assert_eq!(w.ask(&id).await.outcome, GateOutcome::Closed);
    let claim = w.claim_service().run(id.clone().into()).await.unwrap();
    assert_eq!(claim.outcome, ClaimOutcome::Closed);
    assert!(w.ecs.updates().is_empty());
    let message = w.notifier.messages().pop().unwrap();
    assert!(message.subject.contains("REJECTED for demo/web"), "{}", message.subject);
}

#[tokio::test]
async fn a_decision_before_the_run_parks_its_token_is_not_missed() {
    let w = world(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    w.ask(&id).await;
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200);
    // QUEUED now, but the run waits for approval: it must go on, not park.
    let input = AwaitServiceInput {
        deployment_id: id.clone(),
        task_token: "late".into(),
        waiting_in: DeploymentStatus::AwaitingApproval,
    };
    let err = w.await_service().run(input).await.unwrap_err();
    assert_eq!(err.error_type(), "VerdictReady");
    assert_eq!(w.record(&id).await.queue_token, None);
}

#[tokio::test]
async fn nobody_deciding_ends_as_the_target_says() {
    // Default: not deployed.
    let w = world(Some(ApprovalPolicy { timeout_minutes: 30, on_timeout: OnTimeout::Reject })).await;
    let id = w.push("v2", &digest(2)).await;
    assert_eq!(w.ask(&id).await.timeout_seconds, 1800);
    // A timer that fires early waits again for what is left.
    w.clock.advance(Duration::minutes(10));
    let early = w.expire(&id).await;
    assert_eq!((early.outcome, early.timeout_seconds), (GateOutcome::Awaiting, 1200));
    w.clock.advance(Duration::minutes(20));
    // A late person loses to the deadline.
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 409);
    assert_eq!(w.expire(&id).await.outcome, GateOutcome::Closed);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Rejected);
    assert_eq!(d.failure_reason.as_deref(), Some("not approved by its timeout (30 min)"));
    assert_eq!(d.approval.unwrap().decided_by, None, "no person decided");
    // Repeated: nothing changes.
    assert_eq!(w.expire(&id).await.outcome, GateOutcome::Closed);

    // Configured to go on.
    let w = world(Some(ApprovalPolicy { timeout_minutes: 5, on_timeout: OnTimeout::Approve })).await;
    let id = w.push("v2", &digest(2)).await;
    w.ask(&id).await;
    w.clock.advance(Duration::minutes(5));
    assert_eq!(w.expire(&id).await.outcome, GateOutcome::Pass);
    assert_eq!(w.record(&id).await.status, DeploymentStatus::Queued);
    w.start_rollout(&id).await;
}

#[tokio::test]
async fn the_entry_point_refuses_what_it_cannot_record() {
    let w = world(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    w.ask(&id).await;
    let (status, _) = w.decide(None, &decision(&id, "APPROVE")).await;
    assert_eq!(status, 403, "no IAM identity, no decision");
    let r = w.decide_approval().run(call(Some(ALICE), "GET", &decision(&id, "APPROVE"))).await.unwrap();
    assert_eq!(r.status_code, 405);
    let (status, body) = w.decide(Some(ALICE), &json!({"deploymentId": id, "decision": "SHIP_IT"})).await;
    assert_eq!((status, body["errorType"].as_str()), (400, Some("MalformedEvent")));
    let (status, _) = w.decide(Some(ALICE), &json!({"deploymentId": id, "decision": "APPROVE", "by": BOB})).await;
    assert_eq!(status, 400, "who decided comes from Lambda, never from the body");
    let long = "x".repeat(600);
    let (status, _) = w.decide(Some(ALICE), &json!({"deploymentId": id, "decision": "APPROVE", "reason": long})).await;
    assert_eq!(status, 400);
    let other = DeploymentId::parse("d-000000000000000000000001").unwrap();
    let (status, _) = w.decide(Some(ALICE), &decision(&other, "APPROVE")).await;
    assert_eq!(status, 404);
    assert_eq!(w.record(&id).await.status, DeploymentStatus::AwaitingApproval, "nothing refused changed it");

    // A deployment that never waited for approval.
    let w = world(None).await;
    let id = w.push("v2", &digest(2)).await;
    assert_eq!(w.ask(&id).await.outcome, GateOutcome::Pass);
    let (status, body) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!((status, body["errorType"].as_str()), (409, Some("ApprovalRefused")));
}

#[tokio::test]
async fn a_newer_push_supersedes_the_one_waiting_for_approval() {
    let w = world(Some(ApprovalPolicy::default())).await;
    let old = w.push("v2", &digest(2)).await;
    w.ask(&old).await;
    w.park(&old, "token-old", DeploymentStatus::AwaitingApproval).await;
    w.clock.advance(Duration::seconds(30));
    let new = w.push("v3", &digest(3)).await;
    assert_eq!(w.ask(&new).await.outcome, GateOutcome::Awaiting);
    let o = w.record(&old).await;
    assert_eq!(o.status, DeploymentStatus::Superseded);
    assert_eq!(o.superseded_by.as_ref(), Some(&new));
    assert!(w.callbacks.sent().iter().any(|(t, _)| t == "token-old"), "the older run is woken to end");
    // Its approval can no longer be given.
    let (status, _) = w.decide(Some(ALICE), &decision(&old, "APPROVE")).await;
    assert_eq!(status, 409);
    assert_eq!(w.notifier.messages().iter().filter(|m| m.subject.contains("APPROVAL")).count(), 2);
}

/// A blue/green service whose deployment configuration holds every
/// deployment at POST_TEST_TRAFFIC_SHIFT.
async fn paused_world() -> (World, DeploymentId, String) {
    let w = world(Some(ApprovalPolicy::default())).await;
    w.ecs.set_pause_hook("demo", "web", LifecycleStage::PostTestTrafficShift);
    let id = w.push("v2", &digest(2)).await;
    let gate = w.ask(&id).await;
    assert_eq!(gate.outcome, GateOutcome::Pass, "ECS holds it itself");
    assert!(w.record(&id).await.timeline.iter().any(|e| e.detail.contains("PAUSE hook (POST_TEST_TRAFFIC_SHIFT)")));
    let ecs_id = w.start_rollout(&id).await;
    w.hold_at_pause_hook(&ecs_id);
    (w, id, ecs_id)
}

#[tokio::test]
async fn ecs_holding_a_rollout_at_a_pause_hook_is_an_approval_and_its_wait_stops_the_clock() {
    let (w, id, ecs_id) = paused_world().await;
    let v = w.check(&id).await;
    assert_eq!(v.outcome, Outcome::InProgress);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::AwaitingApproval);
    let a = d.approval.clone().unwrap();
    assert_eq!((a.gate, a.hook_id.as_deref()), (ApprovalGate::EcsPauseHook, Some("ecs-pause-1")));
    assert_eq!(a.on_timeout, OnTimeout::Reject, "ECS rolls back when the hook times out");
    let message = w.notifier.messages().pop().unwrap();
    assert!(message.body.contains("held by ECS at its PAUSE hook ecs-pause-1 (POST_TEST_TRAFFIC_SHIFT)"));
    assert!(message.body.contains("then ECS rolls it back"), "{}", message.body);
    assert!(d.holds_service(), "the rollout is in flight: the service stays ours");

    // Past the rollout's own deadline, it still waits for the person.
    w.clock.advance(Duration::hours(2));
    assert_eq!(w.check(&id).await.outcome, Outcome::InProgress);
    let deadline = w.record(&id).await.watch.unwrap().deadline;

    let (status, body) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200, "{body}");
    let sd = w.ecs.service_deployment_of(&ecs_id).unwrap();
    assert_eq!(w.ecs.continues(), vec![(sd.arn.clone(), "ecs-pause-1".to_owned(), HookAction::Continue)]);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    assert_eq!(d.watch.as_ref().unwrap().deadline, deadline + Duration::hours(2), "the held time does not count");
    // The next look sees ECS go on and changes nothing.
    assert_eq!(w.check(&id).await.outcome, Outcome::InProgress);
    assert_eq!(w.record(&id).await.status, DeploymentStatus::Waiting);
    // A repeated call answers as the first.
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 200);
    assert_eq!(w.ecs.continues().len(), 1, "ECS is asked once");
}

#[tokio::test]
async fn rejecting_at_ecs_pause_hook_rolls_back() {
    let (w, id, ecs_id) = paused_world().await;
    w.check(&id).await;
    let (status, body) = w.decide(Some(BOB), &json!({"deploymentId": id, "decision": "REJECT", "reason": "p99"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.ecs.continues()[0].2, HookAction::Rollback);
    let sd = w.ecs.service_deployment_of(&ecs_id).unwrap();
    assert!(sd.status.is_rollback(), "{:?}", sd.status);
    let v = w.check(&id).await;
    assert_eq!(v.outcome, Outcome::Failed);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting, "the run goes on to roll back");
    assert!(d.timeline.iter().any(|e| e.detail.contains(&format!("rejected by {BOB}: p99; ECS rolls"))));
    let out = w
        .roll_back()
        .run(RollBackInput {
            deployment_id: id.clone(),
            verdict: Some(FailedVerdict { reason: Some(v.reason) }),
            error: None,
        })
        .await
        .unwrap();
    assert!(!out.ecs_deployment_id.is_empty());
    assert_eq!(w.record(&id).await.status, DeploymentStatus::RollingBack);
}

#[tokio::test]
async fn a_pause_hook_that_times_out_or_is_continued_elsewhere_is_followed() {
    let (w, id, ecs_id) = paused_world().await;
    w.check(&id).await;
    // ECS's timeout: the hook TIMED_OUT and ECS rolls back.
    w.ecs.update_service_deployment(&ecs_id, |sd| {
        sd.hooks[0].status = HookRunStatus::TimedOut;
        sd.status = ServiceDeploymentStatus::RollbackInProgress;
    });
    assert_eq!(w.check(&id).await.outcome, Outcome::Failed);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    assert_eq!(d.approval.as_ref().unwrap().outcome, Some(ApprovalOutcome::Rejected));
    assert!(d.timeline.iter().any(|e| e.detail.contains("before it timed out; ECS rolls the deployment back")));

    // Someone continued it in the console: the record follows, saying so.
    let (w, id, ecs_id) = paused_world().await;
    w.check(&id).await;
    w.ecs.update_service_deployment(&ecs_id, |sd| sd.hooks[0].status = HookRunStatus::Succeeded);
    assert_eq!(w.check(&id).await.outcome, Outcome::InProgress);
    let d = w.record(&id).await;
    assert_eq!(d.status, DeploymentStatus::Waiting);
    assert!(d.timeline.iter().any(|e| e.detail.contains("continued outside it")));
    let (status, _) = w.decide(Some(ALICE), &decision(&id, "APPROVE")).await;
    assert_eq!(status, 409, "nothing waits for a decision any more");
}
