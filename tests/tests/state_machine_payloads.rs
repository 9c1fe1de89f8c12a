//! The state machine and the functions agree on data: every step is called
//! with the payload `statemachine/deploy.asl.json` builds (Parameters resolved
//! against the state as it is at that point), and every `$.Payload.x` a
//! ResultSelector reads is in that step's output.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    ContainerImage, DeployTarget, DeploymentId, RolloutState, TagRule, TargetHealthState, TargetView,
    TaskDefinitionView,
};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::MemoryCloud;
use autodeploy_shared::ports::{DeployTargets, DeploymentStore, FreezeRule, ServiceLocks};
use autodeploy_shared::steps::{ImagePush, Step, handle};
use chrono::Duration;
use serde_json::{Map, Value, json};

const ASL: &str = include_str!("../../statemachine/deploy.asl.json");
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1";
const REG: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

fn asl() -> Value {
    serde_json::from_str(ASL).unwrap()
}

/// Resolves `$.a.b` / `$$.Task.Token` / `$$.Execution.Id` against the state (the subset the ASL uses).
fn path<'a>(state: &'a Value, p: &str) -> &'a Value {
    if p == "$" {
        return state;
    }
    let mut v = state;
    for part in p.trim_start_matches("$.").split('.') {
        v = v.get(part).unwrap_or_else(|| panic!("{p} not in state {state}"));
    }
    v
}

/// Builds a Parameters template the way Step Functions does.
fn build(template: &Value, state: &Value, token: &str) -> Value {
    match template {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match k.strip_suffix(".$") {
                    Some(name) if v == "$$.Task.Token" => {
                        out.insert(name.to_owned(), json!(token));
                    }
                    Some(name) if v == "$$.Execution.Id" => {
                        let arn = "arn:aws:states:us-east-1:123456789012:execution:deploy:demo-web-run";
                        out.insert(name.to_owned(), json!(arn));
                    }
                    Some(name) => {
                        out.insert(name.to_owned(), path(state, v.as_str().unwrap()).clone());
                    }
                    None => {
                        out.insert(k.clone(), build(v, state, token));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn task(name: &str) -> Value {
    asl()["States"][name].clone()
}

/// The payload the ASL sends to the Task `name`'s function.
fn payload(name: &str, state: &Value) -> Value {
    let params = &task(name)["Parameters"];
    match params.get("Payload.$") {
        Some(p) => path(state, p.as_str().unwrap()).clone(),
        None => build(&params["Payload"], state, "token-123"),
    }
}

/// Applies a Task result to the state as ResultSelector + ResultPath do.
fn apply(name: &str, state: &mut Value, output: &Value) {
    let t = task(name);
    let invoke = json!({ "Payload": output, "StatusCode": 200 });
    let result = match t.get("ResultSelector") {
        Some(sel) => {
            for p in sel.as_object().unwrap().values() {
                let field = p.as_str().unwrap().trim_start_matches("$.Payload.");
                assert!(
                    output.get(field).is_some(),
                    "state {name:?} selects {field:?}, which the function does not return: {output}"
                );
            }
            build(sel, &invoke, "")
        }
        None => invoke,
    };
    if let Some(rp) = t.get("ResultPath").and_then(Value::as_str) {
        state[rp.trim_start_matches("$.")] = result;
    }
}

/// Runs the Task `name` on the payload the ASL builds from `state`, through
/// the step's generic entry (as Lambda does), and applies its result.
async fn run<S: Step>(step: S, name: &str, state: &mut Value) -> Value {
    let out = handle(&step, payload(name, state)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    let out = serde_json::to_value(out).unwrap();
    apply(name, state, &out);
    out
}

/// A `.waitForTaskToken` Task: its own result is not the state's (the
/// callback's is), so only the call is made.
async fn park<S: Step>(step: S, name: &str, state: &Value) {
    handle(&step, payload(name, state)).await.unwrap_or_else(|e| panic!("{name}: {e}"));
}

async fn started(world: &MemoryCloud) -> (DeploymentId, Value) {
    started_with(world, None).await
}

/// A push of a target with `approval` (or none) and its run's input.
async fn started_with(
    world: &MemoryCloud,
    approval: Option<autodeploy_shared::domain::ApprovalPolicy>,
) -> (DeploymentId, Value) {
    world
        .targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "prod".into(),
            cluster: "demo".into(),
            service: "web".into(),
            tag_rule: TagRule::Glob { pattern: "*".into() },
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval,
        })
        .await
        .unwrap();
    let ips = world.ecs.add_service(
        "demo",
        "web",
        TaskDefinitionView {
            arn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1".into(),
            family: "web".into(),
            containers: vec![ContainerImage { name: "app".into(), image: format!("{REG}/web:v1") }],
            tags: vec![],
        },
        2,
        &[TG],
    );
    world.elb.set(TG, ips.into_iter().map(healthy).collect());
    let push = ImagePush {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        repository: "web".into(),
        digest: autodeploy_shared::domain::ImageDigest::parse(&format!("sha256:{}", "12".repeat(32))).unwrap(),
        tag: Some("v2".into()),
        claimed_at: None,
        manifest_media_type: None,
        artifact_media_type: None,
    };
    world.images.push("web", "v2", &push.digest, chrono::Utc::now());
    let report = world.on_image_push().run(EcrEvent::Push(push)).await.unwrap();
    (report.started[0].clone(), world.executions.started()[0].1.clone())
}

fn healthy(id: String) -> TargetView {
    TargetView { id, state: TargetHealthState::Healthy, ..Default::default() }
}

#[tokio::test]
async fn rollout_then_rollback_payloads_and_results_line_up() {
    let w = MemoryCloud::default();
    let (id, input) = started(&w).await;
    let mut state = input;

    // Let the burst settle (Wait SecondsPath) and take the service
    assert_eq!(asl()["States"]["Let the burst settle"]["SecondsPath"], json!("$.coalesceSeconds"));
    assert_eq!(path(&state, "$.coalesceSeconds"), &json!(5));
    run(w.claim_service(), "Take the service", &mut state).await;
    assert_eq!(state["claim"]["outcome"], json!("GRANTED"));

    // Register new revision
    run(w.register_revision(), "Register new revision", &mut state).await;
    assert_eq!(state["revision"]["outcome"], json!("REGISTERED"));

    // Update the service
    run(w.update_service(), "Update the service", &mut state).await;
    assert_eq!(path(&state, "$.rollout.pollIntervalSeconds"), &json!(60), "TimeoutSecondsPath reads it");
    assert_eq!(task("Wait for the rollout")["TimeoutSecondsPath"], json!("$.rollout.pollIntervalSeconds"));

    // Wait for the rollout (token parked), then Check the rollout (lost events)
    let p = payload("Wait for the rollout", &state);
    assert_eq!(p["taskToken"], json!("token-123"));
    park(w.await_rollout(), "Wait for the rollout", &state).await;
    let stored = w.store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.watch.unwrap().task_token.as_deref(), Some("token-123"));

    // A check while in progress: the next wait backs off (the rollout has run
    // a minute: two), through the Pass state into the wait's TimeoutSecondsPath.
    w.clock.advance(Duration::minutes(1));
    run(w.check_rollout(), "Check the rollout", &mut state).await;
    assert_eq!(state["verdict"]["outcome"], json!("IN_PROGRESS"));
    assert_eq!(chosen("How did the rollout go?", &state), "Check the rollout later");
    pass("Check the rollout later", &mut state);
    assert_eq!(path(&state, "$.rollout.pollIntervalSeconds"), &json!(120));
    assert_eq!(asl()["States"]["Check the rollout later"]["Next"], json!("Wait for the rollout"));

    w.clock.advance(Duration::minutes(30));
    run(w.check_rollout(), "Check the rollout", &mut state).await;
    assert_eq!(state["verdict"]["outcome"], json!("FAILED"), "timed out");

    // Roll back: gets the whole state.
    run(w.roll_back(), "Roll back", &mut state).await;
    let rollback_id = state["rollback"]["ecsDeploymentId"].as_str().unwrap().to_owned();
    assert_eq!(task("Wait for the rollback")["TimeoutSecondsPath"], json!("$.rollback.pollIntervalSeconds"));
    assert_eq!(path(&state, "$.rollback.pollIntervalSeconds"), &json!(60));

    // The rollback completes; Check the rollback; Record rolled back.
    let ips = w.ecs.start_tasks(&rollback_id, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", 2);
    w.ecs.set_rollout("demo", "web", &rollback_id, RolloutState::Completed, None);
    w.elb.set(TG, ips.into_iter().map(healthy).collect());
    park(w.await_rollout(), "Wait for the rollback", &state).await;
    run(w.check_rollout(), "Check the rollback", &mut state).await;
    assert_eq!(state["verdict"]["outcome"], json!("SUCCEEDED"));

    let out = run(w.record_outcome(), "Record rolled back", &mut state).await;
    assert_eq!(out["status"], json!("ROLLED_BACK"));
    assert!(w.locks.state("demo/web").await.unwrap().owner.is_none(), "the service is free again");
}

#[tokio::test]
async fn error_paths_carry_the_step_error_into_rollback_and_failure() {
    let w = MemoryCloud::default();
    let (_, input) = started(&w).await;
    let mut state = input;
    run(w.register_revision(), "Register new revision", &mut state).await;
    run(w.update_service(), "Update the service", &mut state).await;

    // "Wait for the rollout" fails with a Lambda error: Catch → Roll back, error at $.error.
    state["error"] =
        json!({"Error": "Lambda.Unknown", "Cause": "{\"errorMessage\":\"boom\",\"errorType\":\"Lambda.Unknown\"}"});
    run(w.roll_back(), "Roll back", &mut state).await;
    let d = w.store.all().pop().unwrap();
    assert_eq!(d.failure_reason.as_deref(), Some("Lambda.Unknown: boom"));

    // The rollback never completes: Record failure gets the error, and both reasons are kept.
    state["error"] = json!({"Error": "States.Timeout", "Cause": ""});
    let out = run(w.record_outcome(), "Record failure", &mut state).await;
    let reason = out["failureReason"].as_str().unwrap();
    assert_eq!(reason, "rollout: Lambda.Unknown: boom; rollback: States.Timeout");
    // What "Did the record fail?" reads: the run ends FAILED as its record did.
    assert_eq!(state["outcome"]["status"], json!("FAILED"));
}

#[test]
fn every_lambda_task_names_a_substituted_function_and_retries_retryable() {
    let asl = asl();
    let mut functions = BTreeMap::new();
    for (name, s) in asl["States"].as_object().unwrap() {
        if s["Type"] != "Task" {
            continue;
        }
        let f = s["Parameters"]["FunctionName"].as_str().unwrap();
        assert!(f.starts_with("${") && f.ends_with("FunctionArn}"), "{name}: {f}");
        functions.insert(f.to_owned(), name.clone());
        let retries: Vec<&str> = s["Retry"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["ErrorEquals"].as_array().unwrap())
            .filter_map(Value::as_str)
            .collect();
        assert!(retries.contains(&"Retryable"), "{name} does not retry Retryable");
    }
    assert_eq!(functions.len(), 9, "{functions:?}");
}

#[tokio::test]
async fn a_queued_run_waits_with_its_token_and_claims_again() {
    let w = MemoryCloud::default();
    let (_, input) = started(&w).await;
    // Another deployment holds the service.
    let other = DeploymentId::parse("d-000000000000000000000001").unwrap();
    let now = autodeploy_shared::ports::Clock::now(&w.clock);
    w.locks.acquire("demo/web", &other, now, now + Duration::minutes(5), FreezeRule::Respect).await.unwrap();
    let mut state = input;
    run(w.claim_service(), "Take the service", &mut state).await;
    assert_eq!(state["claim"]["outcome"], json!("QUEUED"));
    assert_eq!(task("Wait for the service")["TimeoutSecondsPath"], json!("$.claim.pollIntervalSeconds"));
    let p = payload("Wait for the service", &state);
    assert_eq!(p["taskToken"], json!("token-123"));
    park(w.await_service(), "Wait for the service", &state).await;
    assert_eq!(w.store.all()[0].queue_token.as_deref(), Some("token-123"));
}

/// A Pass state with `InputPath` and `ResultPath`, as Step Functions runs it.
fn pass(name: &str, state: &mut Value) {
    let p = &asl()["States"][name];
    assert_eq!(p["Type"], json!("Pass"));
    let value = path(state, p["InputPath"].as_str().unwrap()).clone();
    let target = p["ResultPath"].as_str().unwrap().trim_start_matches("$.");
    let (parent, field) = target.rsplit_once('.').unwrap();
    let mut v = &mut *state;
    for part in parent.split('.') {
        v = v.get_mut(part).unwrap_or_else(|| panic!("{parent} not in the state"));
    }
    v[field] = value;
}

/// The Choice's `StringEquals` branch for `value` of `variable`, else its Default.
fn chosen(choice: &str, state: &Value) -> String {
    let c = &asl()["States"][choice];
    for rule in c["Choices"].as_array().unwrap() {
        if path(state, rule["Variable"].as_str().unwrap()) == &rule["StringEquals"] {
            return rule["Next"].as_str().unwrap().to_owned();
        }
    }
    c["Default"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn only_a_run_whose_target_requires_approval_goes_through_the_gate() {
    assert_eq!(asl()["States"]["Let the burst settle"]["Next"], json!("Take the service"));
    // Not required: the claim takes the service.
    let w = MemoryCloud::default();
    let (_, mut state) = started(&w).await;
    run(w.claim_service(), "Take the service", &mut state).await;
    assert_eq!(chosen("Is the service ours?", &state), "Register new revision");

    // Required: to the gate first, then (its answer in the run's state) the claim takes it.
    let w = MemoryCloud::default();
    let policy = autodeploy_shared::domain::ApprovalPolicy { timeout_minutes: 1, ..Default::default() };
    let (_, mut state) = started_with(&w, Some(policy)).await;
    run(w.claim_service(), "Take the service", &mut state).await;
    assert_eq!(state["claim"]["outcome"], json!("NEEDS_APPROVAL"));
    assert_eq!(chosen("Is the service ours?", &state), "Ask for approval");
    run(w.request_approval(), "Ask for approval", &mut state).await;
    assert_eq!(state["approval"]["outcome"], json!("AWAITING"));
    assert_eq!(payload("Take the service", &state)["state"]["approval"]["outcome"], json!("AWAITING"));
}

#[tokio::test]
async fn the_approval_states_pass_the_request_its_wait_and_its_timeout() {
    // No approval required: the gate lets it pass.
    let w = MemoryCloud::default();
    let (_, mut state) = started(&w).await;
    run(w.request_approval(), "Ask for approval", &mut state).await;
    assert_eq!(state["approval"]["outcome"], json!("PASS"));

    // Required: held, with the wait's timeout from the gate's answer.
    let w = MemoryCloud::default();
    let policy = autodeploy_shared::domain::ApprovalPolicy { timeout_minutes: 1, ..Default::default() };
    let (id, mut state) = started_with(&w, Some(policy)).await;
    run(w.request_approval(), "Ask for approval", &mut state).await;
    assert_eq!(state["approval"]["outcome"], json!("AWAITING"));
    assert_eq!(task("Wait for approval")["TimeoutSecondsPath"], json!("$.approval.timeoutSeconds"));
    assert_eq!(path(&state, "$.approval.timeoutSeconds"), &json!(60));
    park(w.await_service(), "Wait for approval", &state).await;
    assert_eq!(w.store.all()[0].queue_token.as_deref(), Some("token-123"));
    // The timeout closes it as the policy says (REJECT: not deployed).
    w.clock.advance(Duration::minutes(1));
    assert_eq!(payload("Close the approval", &state)["expired"], json!(true));
    run(w.request_approval(), "Close the approval", &mut state).await;
    assert_eq!(state["approval"]["outcome"], json!("CLOSED"));
    assert_eq!(w.store.get(&id).await.unwrap().unwrap().status, autodeploy_shared::domain::DeploymentStatus::Rejected);
}

/// Every error a Retry or Catch names is one a function can report: a name
/// of `DeployError` (derived from its variants) or one of Step Functions' or
/// Lambda's own.
#[test]
fn every_error_the_state_machine_matches_is_one_a_function_reports() {
    fn visit(states: &Value, names: &mut Vec<(String, String)>) {
        for (state, s) in states.as_object().unwrap() {
            for rule in ["Retry", "Catch"].iter().filter_map(|k| s[*k].as_array()).flatten() {
                for e in rule["ErrorEquals"].as_array().unwrap() {
                    names.push((state.clone(), e.as_str().unwrap().to_owned()));
                }
            }
            for branch in s["Branches"].as_array().into_iter().flatten() {
                visit(&branch["States"], names);
            }
        }
    }
    let mut names = Vec::new();
    visit(&asl()["States"], &mut names);
    assert!(names.iter().any(|(_, e)| e == "VerdictReady"), "the ASL names DeployError types");
    for (state, e) in names {
        // Lambda's own names for an invocation that ran out of time or whose
        // process died ("Troubleshoot invocation issues in Lambda").
        let runtime = ["Sandbox.Timedout", "Runtime.ExitError"].contains(&e.as_str());
        let known = e.starts_with("States.")
            || e.starts_with("Lambda.")
            || runtime
            || DeployError::ERROR_TYPES.contains(&e.as_str());
        assert!(known, "{state}: {e} is not an error a function reports ({:?})", DeployError::ERROR_TYPES);
    }
}
