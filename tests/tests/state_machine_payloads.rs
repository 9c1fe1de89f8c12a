//! The state machine and the functions agree on data: every step is called
//! with the payload `statemachine/deploy.asl.json` builds (Parameters resolved
//! against the state as it is at that point), and every `$.Payload.x` a
//! ResultSelector reads is in that step's output.

use std::collections::BTreeMap;

use autodeploy_shared::domain::{ContainerImage, DeployTarget, DeploymentId, TagRule, TargetView, TaskDefinitionView};
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{DeployTargets, DeploymentStore, ServiceLocks};
use autodeploy_shared::usecases::{ImagePush, Timing, on_image_push};
use chrono::Duration;
use serde_json::{Map, Value, json};

const ASL: &str = include_str!("../../statemachine/deploy.asl.json");
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1";
const REG: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

fn asl() -> Value {
    serde_json::from_str(ASL).unwrap()
}

/// Resolves `$.a.b` / `$$.Task.Token` against the state (the subset the ASL uses).
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

/// Runs "Take the service" on `state` as the state machine would.
async fn take_the_service(w: &World, state: &mut Value) {
    let deps = claim_service::Deps {
        store: &w.store,
        locks: &w.locks,
        callbacks: &w.callbacks,
        notifier: &w.notifier,
        clock: &w.clock,
        poll_interval: Duration::seconds(60),
    };
    let out = claim_service::handler(&deps, payload("Take the service", state)).await.unwrap();
    apply("Take the service", state, &serde_json::to_value(out).unwrap());
}

struct World {
    locks: MemoryLocks,
    callbacks: RecordingCallbacks,
    store: MemoryStore,
    ecs: FakeEcs,
    elb: MemoryTargetHealth,
    notifier: RecordingNotifier,
    clock: ManualClock,
}

async fn started(world: &World) -> (DeploymentId, Value) {
    let targets = MemoryTargets::default();
    targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "prod".into(),
            cluster: "demo".into(),
            service: "web".into(),
            tag_rule: TagRule::Glob { pattern: "*".into() },
            containers: vec![],
            enabled: true,
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
    world
        .elb
        .set(TG, ips.into_iter().map(|id| TargetView { id, state: "healthy".into(), ..Default::default() }).collect());
    let executions = RecordingExecutions::default();
    let push = ImagePush {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        repository: "web".into(),
        digest: autodeploy_shared::domain::ImageDigest::parse(&format!("sha256:{}", "12".repeat(32))).unwrap(),
        tag: Some("v2".into()),
        pushed_at: None,
    };
    let report =
        on_image_push(&push, 5, &targets, &world.store, &executions, &world.notifier, &world.clock).await.unwrap();
    (DeploymentId::parse(&report.started[0]).unwrap(), executions.started()[0].1.clone())
}

fn world() -> World {
    World {
        locks: MemoryLocks::default(),
        callbacks: RecordingCallbacks::default(),
        store: MemoryStore::default(),
        ecs: FakeEcs::default(),
        elb: MemoryTargetHealth::default(),
        notifier: RecordingNotifier::default(),
        clock: ManualClock::default(),
    }
}

const TIMING: Timing = Timing { timeout: Duration::minutes(30), poll_interval: Duration::seconds(60) };

#[tokio::test]
async fn rollout_then_rollback_payloads_and_results_line_up() {
    let w = world();
    let (id, input) = started(&w).await;
    let mut state = input;

    // Let the burst settle (Wait SecondsPath) and take the service
    assert_eq!(asl()["States"]["Let the burst settle"]["SecondsPath"], json!("$.coalesceSeconds"));
    assert_eq!(path(&state, "$.coalesceSeconds"), &json!(5));
    take_the_service(&w, &mut state).await;
    assert_eq!(state["claim"]["outcome"], json!("GRANTED"));

    // Register new revision
    let reg = register_revision::Deps {
        store: &w.store,
        ecs: &w.ecs,
        locks: &w.locks,
        callbacks: &w.callbacks,
        notifier: &w.notifier,
        clock: &w.clock,
    };
    let out = register_revision::handler(&reg, payload("Register new revision", &state)).await.unwrap();
    apply("Register new revision", &mut state, &serde_json::to_value(out).unwrap());
    assert_eq!(state["revision"]["outcome"], json!("REGISTERED"));

    // Update the service
    let up =
        update_service::Deps { store: &w.store, ecs: &w.ecs, notifier: &w.notifier, clock: &w.clock, timing: TIMING };
    let out = update_service::handler(&up, payload("Update the service", &state)).await.unwrap();
    apply("Update the service", &mut state, &serde_json::to_value(out).unwrap());
    assert_eq!(path(&state, "$.rollout.pollIntervalSeconds"), &json!(60), "TimeoutSecondsPath reads it");
    assert_eq!(task("Wait for the rollout")["TimeoutSecondsPath"], json!("$.rollout.pollIntervalSeconds"));

    // Wait for the rollout (token parked), then Check the rollout (lost events)
    let aw = await_rollout::Deps { store: &w.store, locks: &w.locks, clock: &w.clock, lease: Duration::seconds(130) };
    let p = payload("Wait for the rollout", &state);
    assert_eq!(p["taskToken"], json!("token-123"));
    await_rollout::handler(&aw, p).await.unwrap();
    let stored = w.store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.watch.unwrap().task_token.as_deref(), Some("token-123"));

    let ck = check_rollout::Deps {
        store: &w.store,
        ecs: &w.ecs,
        elb: &w.elb,
        locks: &w.locks,
        clock: &w.clock,
        lease: Duration::seconds(130),
    };
    w.clock.advance(Duration::minutes(31));
    let out = check_rollout::handler(&ck, payload("Check the rollout", &state)).await.unwrap();
    apply("Check the rollout", &mut state, &serde_json::to_value(out).unwrap());
    assert_eq!(state["verdict"]["outcome"], json!("FAILED"), "timed out");

    // Roll back: gets the whole state.
    let rb = roll_back::Deps { store: &w.store, ecs: &w.ecs, notifier: &w.notifier, clock: &w.clock, timing: TIMING };
    let out = roll_back::handler(&rb, payload("Roll back", &state)).await.unwrap();
    apply("Roll back", &mut state, &serde_json::to_value(out).unwrap());
    let rollback_id = state["rollback"]["ecsDeploymentId"].as_str().unwrap().to_owned();
    assert_eq!(task("Wait for the rollback")["TimeoutSecondsPath"], json!("$.rollback.pollIntervalSeconds"));
    assert_eq!(path(&state, "$.rollback.pollIntervalSeconds"), &json!(60));

    // The rollback completes; Check the rollback; Record rolled back.
    let ips = w.ecs.start_tasks(&rollback_id, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", 2);
    w.ecs.set_rollout("demo", "web", &rollback_id, "COMPLETED", None);
    w.elb.set(TG, ips.into_iter().map(|id| TargetView { id, state: "healthy".into(), ..Default::default() }).collect());
    await_rollout::handler(&aw, payload("Wait for the rollback", &state)).await.unwrap();
    let out = check_rollout::handler(&ck, payload("Check the rollback", &state)).await.unwrap();
    apply("Check the rollback", &mut state, &serde_json::to_value(out).unwrap());
    assert_eq!(state["verdict"]["outcome"], json!("SUCCEEDED"));

    let rec = record_outcome::Deps {
        store: &w.store,
        locks: &w.locks,
        callbacks: &w.callbacks,
        notifier: &w.notifier,
        clock: &w.clock,
    };
    let out = record_outcome::handler(&rec, payload("Record rolled back", &state)).await.unwrap();
    assert_eq!(serde_json::to_value(&out).unwrap()["status"], json!("ROLLED_BACK"));
    assert!(w.locks.state("demo/web").await.unwrap().owner.is_none(), "the service is free again");
}

#[tokio::test]
async fn error_paths_carry_the_step_error_into_rollback_and_failure() {
    let w = world();
    let (_, input) = started(&w).await;
    let mut state = input;
    let reg = register_revision::Deps {
        store: &w.store,
        ecs: &w.ecs,
        locks: &w.locks,
        callbacks: &w.callbacks,
        notifier: &w.notifier,
        clock: &w.clock,
    };
    let out = register_revision::handler(&reg, payload("Register new revision", &state)).await.unwrap();
    apply("Register new revision", &mut state, &serde_json::to_value(out).unwrap());
    let up =
        update_service::Deps { store: &w.store, ecs: &w.ecs, notifier: &w.notifier, clock: &w.clock, timing: TIMING };
    let out = update_service::handler(&up, payload("Update the service", &state)).await.unwrap();
    apply("Update the service", &mut state, &serde_json::to_value(out).unwrap());

    // "Wait for the rollout" fails with a Lambda error: Catch → Roll back, error at $.error.
    state["error"] =
        json!({"Error": "Lambda.Unknown", "Cause": "{\"errorMessage\":\"boom\",\"errorType\":\"Lambda.Unknown\"}"});
    let rb = roll_back::Deps { store: &w.store, ecs: &w.ecs, notifier: &w.notifier, clock: &w.clock, timing: TIMING };
    let out = roll_back::handler(&rb, payload("Roll back", &state)).await.unwrap();
    apply("Roll back", &mut state, &serde_json::to_value(out).unwrap());
    let d = w.store.all().pop().unwrap();
    assert_eq!(d.failure_reason.as_deref(), Some("Lambda.Unknown: boom"));

    // The rollback never completes: Record failure gets the error, and both reasons are kept.
    state["error"] = json!({"Error": "States.Timeout", "Cause": ""});
    let rec = record_outcome::Deps {
        store: &w.store,
        locks: &w.locks,
        callbacks: &w.callbacks,
        notifier: &w.notifier,
        clock: &w.clock,
    };
    let out = record_outcome::handler(&rec, payload("Record failure", &state)).await.unwrap();
    let reason = out.failure_reason.unwrap();
    assert_eq!(reason, "rollout: Lambda.Unknown: boom; rollback: States.Timeout");
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
    assert_eq!(functions.len(), 8, "{functions:?}");
}

#[tokio::test]
async fn a_queued_run_waits_with_its_token_and_claims_again() {
    let w = world();
    let (_, input) = started(&w).await;
    // Another deployment holds the service.
    let other = autodeploy_shared::domain::DeploymentId::parse("d-000000000000000000000001").unwrap();
    let now = autodeploy_shared::ports::Clock::now(&w.clock);
    w.locks.acquire("demo/web", &other, now, now + Duration::minutes(5)).await.unwrap();
    let mut state = input;
    take_the_service(&w, &mut state).await;
    assert_eq!(state["claim"]["outcome"], json!("QUEUED"));
    assert_eq!(task("Wait for the service")["TimeoutSecondsPath"], json!("$.claim.pollIntervalSeconds"));
    let aw = await_service::Deps { store: &w.store };
    let p = payload("Wait for the service", &state);
    assert_eq!(p["taskToken"], json!("token-123"));
    await_service::handler(&aw, p).await.unwrap();
    assert_eq!(w.store.all()[0].queue_token.as_deref(), Some("token-123"));
}
