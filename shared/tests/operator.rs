//! The operator entry point against the in-memory ports: a freeze holds
//! pushes and the newest deploys on unfreeze; a deploy by hand goes through
//! the same run once however often it is sent; a rollback runs an earlier
//! good revision again; every request records who asked, as Lambda verified.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use autodeploy_shared::domain::{
    DecisionSource, DeploymentId, DeploymentStatus, Outcome, Phase, RequestKind, RolloutState, TargetHealthState,
    TargetView,
};
use autodeploy_shared::ports::Clock;
use autodeploy_shared::steps::*;
use chrono::Duration;
use common::*;
use serde_json::{Value, json};

const TOKEN: &str = "7d1c0b7e9a4f4c2e8b1d";

impl World {
    /// The entry point's answer to `who`: status code and JSON body.
    async fn operate_as(&self, who: Option<&str>, body: &Value) -> (i64, Value) {
        let r = self.operate().run(call(who, "POST", body)).await.unwrap();
        (r.status_code, serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
    }

    async fn claim(&self, id: &DeploymentId) -> ClaimOutput {
        self.claim_service().run(id.clone().into()).await.unwrap()
    }

    /// From a granted claim to SUCCEEDED: register, update, ECS completes
    /// with healthy targets, the outcome is recorded. Returns the revision.
    async fn roll_out(&self, id: &DeploymentId) -> String {
        assert_eq!(self.claim(id).await.outcome, ClaimOutcome::Granted);
        let reg = self.register_revision().run(id.clone().into()).await.unwrap();
        assert_eq!(reg.outcome, RegisterOutcome::Registered);
        let td = reg.new_task_definition.unwrap();
        let ecs_id = self.update_service().run(id.clone().into()).await.unwrap().ecs_deployment_id;
        let ips = self.ecs.start_tasks(&ecs_id, &td, 2);
        self.ecs.set_rollout("demo", "web", &ecs_id, RolloutState::Completed, None);
        self.elb.set(
            TG,
            ips.into_iter()
                .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
                .collect(),
        );
        let verdict = self
            .check_rollout()
            .run(CheckInput { deployment_id: id.clone(), phase: Phase::Rollout })
            .await
            .unwrap()
            .verdict;
        assert_eq!(verdict.outcome, Outcome::Succeeded, "{}", verdict.reason);
        let input = OutcomeInput {
            deployment_id: id.clone(),
            outcome: FinalOutcome::Succeeded,
            verdict: Some(verdict),
            error: None,
        };
        self.record_outcome().run(input).await.unwrap();
        td
    }
}

fn deploy(image: &str, token: &str) -> Value {
    json!({"action": "DEPLOY", "service": "demo/web", "image": image, "requestToken": token})
}

fn id_of(body: &Value) -> DeploymentId {
    DeploymentId::parse(body["deploymentId"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_frozen_service_holds_pushes_and_deploys_the_newest_when_unfrozen() {
    let w = world(None).await;
    let freeze = json!({"action": "FREEZE", "service": "demo/web", "reason": "incident 4711"});
    let (status, body) = w.operate_as(Some(ALICE), &freeze).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["frozen"]["by"].as_str(), body["alreadyFrozen"].as_bool()), (Some(ALICE), Some(false)));
    // A second freeze keeps the first (who, why, since when).
    let again = json!({"action": "FREEZE", "service": "demo/web", "reason": "me too"});
    let (_, body) = w.operate_as(Some(BOB), &again).await;
    assert_eq!((body["frozen"]["by"].as_str(), body["alreadyFrozen"].as_bool()), (Some(ALICE), Some(true)));

    let v2 = w.push("v2", &digest(2)).await;
    let claim = w.claim(&v2).await;
    assert_eq!((claim.outcome, claim.status), (ClaimOutcome::Queued, DeploymentStatus::Held));
    assert_eq!(claim.poll_interval_seconds, 900, "the unfreeze wakes it: a slow poll covers a lost wake-up");
    let held = w.record(&v2).await;
    let line = &held.timeline.last().unwrap().detail;
    assert!(
        line.contains("demo/web is frozen since") && line.ends_with(&format!("by {ALICE}: incident 4711")),
        "{line}"
    );
    assert_eq!(w.notifier.statuses().last().map(String::as_str), Some("HELD"), "announced");
    w.park(&v2, "token-v2", DeploymentStatus::Held).await;
    assert_eq!(w.claim(&v2).await.status, DeploymentStatus::Held, "a repeated claim stays held, one line");
    assert_eq!(w.record(&v2).await.timeline.len(), held.timeline.len());

    // A newer push is held too; the older one will never deploy now.
    w.clock.advance(Duration::seconds(5));
    let v3 = w.push("v3", &digest(3)).await;
    assert_eq!(w.claim(&v3).await.status, DeploymentStatus::Held);
    let old = w.record(&v2).await;
    assert_eq!((old.status, old.superseded_by.as_ref()), (DeploymentStatus::Superseded, Some(&v3)));
    assert!(w.callbacks.sent().iter().any(|(t, _)| t == "token-v2"), "its run is woken to end");
    w.park(&v3, "token-v3", DeploymentStatus::Held).await;

    // A deploy by hand is refused during the freeze unless forced.
    w.images.push("web", "hotfix", &digest(9), w.clock.now());
    let (status, body) = w.operate_as(Some(BOB), &deploy("web:hotfix", TOKEN)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("incident 4711"), "{body}");
    assert!(w.ecs.updates().is_empty(), "nothing rolled out while frozen");

    let (status, body) = w.operate_as(Some(BOB), &json!({"action": "UNFREEZE", "service": "demo/web"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unfrozen"]["reason"], "incident 4711");
    assert_eq!(body["released"], json!(v3));
    let (token, woken) = w.callbacks.sent().last().unwrap().clone();
    assert_eq!((token.as_str(), &woken), ("token-v3", &json!({"woken": "UNFROZEN"})));
    // Unfreezing again changes nothing (and wakes the same run, harmlessly).
    let (_, body) = w.operate_as(Some(BOB), &json!({"action": "UNFREEZE", "service": "demo/web"})).await;
    assert_eq!(body["unfrozen"], Value::Null);

    w.roll_out(&v3).await;
    assert_eq!(w.record(&v3).await.status, DeploymentStatus::Succeeded);
    assert_eq!(w.ecs.updates().len(), 1);
    // Freezing a service no deploy target names would hold nothing.
    let typo = json!({"action": "FREEZE", "service": "demo/wbe", "reason": "x"});
    let (status, body) = w.operate_as(Some(ALICE), &typo).await;
    assert_eq!(status, 409);
    assert!(body["message"].as_str().unwrap().contains("demo/web"), "names the services there are: {body}");
}

#[tokio::test]
async fn a_deploy_by_hand_runs_once_and_records_who_asked() {
    let w = world(None).await;
    let older = w.push("v2", &digest(2)).await;
    w.clock.advance(Duration::seconds(3));
    w.images.push("web", "v1-fixed", &digest(7), w.clock.now());

    let (status, body) = w.operate_as(Some(BOB), &deploy("web:v1-fixed", TOKEN)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["started"], true);
    let id = id_of(&body);
    let d = w.record(&id).await;
    assert_eq!(d.found_by, DecisionSource::Operator);
    let request = d.request.as_ref().unwrap();
    assert_eq!((request.kind, request.by.as_str()), (RequestKind::Deploy, BOB));
    assert_eq!(d.image, format!("{REG}/web@{}", digest(7)), "the tag resolved through ECR and pinned");
    assert!(d.timeline[0].detail.contains(&format!("requested by {BOB}")), "{}", d.timeline[0].detail);
    assert_eq!(w.executions.started().len(), 2, "the push's run and this one");

    // Sent again (a retry after a timeout): the same deployment, nothing new.
    let (status, again) = w.operate_as(Some(BOB), &deploy("web:v1-fixed", TOKEN)).await;
    assert_eq!((status, id_of(&again)), (200, id.clone()));
    assert_eq!(again["started"], false);
    assert_eq!(w.executions.started().len(), 2);
    // The same token with another image is refused, as a reused client token is.
    w.images.push("web", "v9", &digest(9), w.clock.now());
    let (status, body) = w.operate_as(Some(BOB), &deploy("web:v9", TOKEN)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].as_str().unwrap().contains("this requestToken was used for another request"), "{body}");
    let rollback = json!({"action": "ROLLBACK", "service": "demo/web", "requestToken": TOKEN});
    assert_eq!(w.operate_as(Some(BOB), &rollback).await.0, 409);

    // Same lock, queue and newest-wins rule: the push before it never deploys.
    assert_eq!(w.claim(&id).await.outcome, ClaimOutcome::Granted);
    let push = w.record(&older).await;
    assert_eq!((push.status, push.superseded_by.as_ref()), (DeploymentStatus::Superseded, Some(&id)));

    // What AWS would refuse, or the pipeline cannot carry out, is refused first.
    for (body, code, says) in [
        (deploy("web:nope", "a1b2c3d4e5f6a7b8c9d0"), 409, "ECR has no web:nope"),
        (
            deploy("api:v1", "a1b2c3d4e5f6a7b8c9d0"),
            409,
            "no deploy target deploys api to demo/web: a target says which containers take the image (it has web (prod))",
        ),
        (deploy("web", "a1b2c3d4e5f6a7b8c9d0"), 400, "name the image with a tag or a digest"),
        (
            json!({"action": "DEPLOY", "service": "demo/wbe", "image": "web:v2", "requestToken": TOKEN}),
            409,
            "no deploy target names demo/wbe (the stack's services: demo/web)",
        ),
        (deploy("web:v1", "short"), 400, "requestToken"),
        (
            json!({"action": "DEPLOY", "service": "demo/web", "image": "web:v2", "requestToken": TOKEN, "by": ALICE}),
            400,
            "unknown field",
        ),
        (json!({"action": "SCALE", "service": "demo/web"}), 400, "body must be"),
        (deploy("999999999999.dkr.ecr.eu-west-1.amazonaws.com/web:v2", TOKEN), 400, "the stack's registry"),
    ] {
        let (status, answer) = w.operate_as(Some(ALICE), &body).await;
        assert_eq!(status, code, "{body} → {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{body} → {answer}");
    }
    let (status, _) = w.operate_as(None, &deploy("web:v1-fixed", "a1b2c3d4e5f6a7b8c9d0")).await;
    assert_eq!(status, 403, "nobody to record: refused");
    let r = w.operate().run(call(Some(ALICE), "GET", &json!({}))).await.unwrap();
    assert_eq!(r.status_code, 405);
}

#[tokio::test]
async fn a_rollback_runs_the_previous_good_revision_again_even_through_a_freeze() {
    let w = world(None).await;
    let v2 = w.push("v2", &digest(2)).await;
    let td2 = w.roll_out(&v2).await;
    w.clock.advance(Duration::seconds(5));
    let v3 = w.push("v3", &digest(3)).await;
    let td3 = w.roll_out(&v3).await;
    assert_ne!(td2, td3);
    let freeze = json!({"action": "FREEZE", "service": "demo/web", "reason": "bad release"});
    assert_eq!(w.operate_as(Some(ALICE), &freeze).await.0, 200);

    let short = |arn: &str| arn.rsplit('/').next().unwrap().to_owned();
    let rollback = |to: Option<&str>, token: &str| json!({"action": "ROLLBACK", "service": "demo/web", "to": to, "requestToken": token, "reason": "v3 is slow"});
    for (to, code, says) in [
        (Some(short(&td3)), 409, "runs web:"),
        (Some("web:42".to_owned()), 409, "no successful deployment of demo/web on record ran web:42"),
        (Some("d-000000000000000000000042".to_owned()), 404, "not found"),
    ] {
        let (status, body) = w.operate_as(Some(ALICE), &rollback(to.as_deref(), "b1b2c3d4e5f6a7b8c9d0")).await;
        assert_eq!(status, code, "{to:?} → {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{to:?} → {body}");
    }

    w.clock.advance(Duration::seconds(60));
    let (status, body) = w.operate_as(Some(ALICE), &rollback(None, TOKEN)).await;
    assert_eq!(status, 202, "{body}");
    let id = id_of(&body);
    let d = w.record(&id).await;
    let r = d.request.as_ref().unwrap();
    assert_eq!(r.kind, RequestKind::Rollback);
    assert_eq!((r.task_definition.as_deref(), r.rollback_to.as_ref()), (Some(td2.as_str()), Some(&v2)));
    assert_eq!(d.digest, digest(2));
    assert!(d.timeline[0].detail.starts_with(&format!("rollback to {}", short(&td2))), "{}", d.timeline[0].detail);

    // Through the freeze, and nothing is registered: web:2 itself runs again.
    assert_eq!(w.claim(&id).await.outcome, ClaimOutcome::Granted, "a rollback passes a freeze");
    let reg = w.register_revision().run(id.clone().into()).await.unwrap();
    assert_eq!(reg.new_task_definition.as_deref(), Some(td2.as_str()));
    assert_eq!(reg.previous_task_definition.as_deref(), Some(td3.as_str()));
    let again = w.register_revision().run(id.clone().into()).await.unwrap();
    assert_eq!(again, reg, "a retried step changes nothing");
    let up = w.update_service().run(id.clone().into()).await.unwrap();
    assert!(!up.ecs_deployment_id.is_empty());
    assert_eq!(w.ecs.updates().last(), Some(&td2));
    let ecs_id = up.ecs_deployment_id;
    let ips = w.ecs.start_tasks(&ecs_id, &td2, 2);
    w.ecs.set_rollout("demo", "web", &ecs_id, RolloutState::Completed, None);
    w.elb.set(
        TG,
        ips.into_iter()
            .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
            .collect(),
    );
    let verdict =
        w.check_rollout().run(CheckInput { deployment_id: id.clone(), phase: Phase::Rollout }).await.unwrap().verdict;
    let input = OutcomeInput {
        deployment_id: id.clone(),
        outcome: FinalOutcome::Succeeded,
        verdict: Some(verdict),
        error: None,
    };
    w.record_outcome().run(input).await.unwrap();
    assert_eq!(w.record(&id).await.status, DeploymentStatus::Succeeded);
    // Announced as a rollback, with who asked and why.
    let message = w.notifier.messages().pop().unwrap();
    assert!(
        message.subject.starts_with("[ecs-autodeploy] rollback: web:v2 deployed to demo/web"),
        "{}",
        message.subject
    );
    assert!(
        message.body.contains(&format!("Asked by:  {ALICE} (ROLLBACK)")) && message.body.contains("v3 is slow"),
        "{}",
        message.body
    );
    // Rolling back again goes one further: nothing older than web:2 succeeded.
    let (status, body) = w.operate_as(Some(ALICE), &rollback(None, "c1b2c3d4e5f6a7b8c9d0")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(w.record(&id_of(&body)).await.request.unwrap().task_definition, Some(td3));
}
