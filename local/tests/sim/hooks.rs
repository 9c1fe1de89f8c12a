//! ECS deployment lifecycle hooks on a blue/green service through aws-sdk-ecs: Lambda
//! hooks answered by a test invoker, PAUSE hooks resolved by ContinueServiceDeployment,
//! timeouts, the ECS Hook State Change events, and the validation of `lifecycleHooks`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use autodeploy_local::sim::{Behavior, HookInvoker};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookAction as Action,
    DeploymentLifecycleHookStage as HookStage, DeploymentLifecycleHookStatus as HookStatus,
    DeploymentLifecycleHookTargetType as Target, DeploymentLifecycleHookTimeoutConfiguration as Timeout,
    DeploymentStrategy, ServiceDeployment, ServiceDeploymentStatus as Status,
};
use serde_json::{Value, json};

use crate::common::{self, CLUSTER, Env, SERVICE, ShiftSetup, Shifting, green_percent};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:check-release";
const ROLE: &str = "arn:aws:iam::123456789012:role/ecs-hooks";
const HOOK_EVENT: &str = "ECS Hook State Change";
/// The guide's sample ("Amazon ECS deployment lifecycle hook state change events").
const SAMPLE: &str = include_str!("../../../tests/fixtures/aws-events/ecs-hook-state-change-awaiting-action.json");

/// A test invoker: records every (function, payload) and answers from a script
/// (SUCCEEDED once the script is empty).
#[derive(Clone, Default)]
struct Script {
    calls: Arc<Mutex<Vec<(String, Value)>>>,
    answers: Arc<Mutex<VecDeque<Result<Value, String>>>>,
}

impl Script {
    fn new(answers: Vec<Result<Value, String>>) -> Self {
        Self { calls: Arc::default(), answers: Arc::new(Mutex::new(answers.into())) }
    }

    fn invoker(&self) -> HookInvoker {
        let me = self.clone();
        Arc::new(move |arn: String, payload: Value| {
            me.calls.lock().unwrap().push((arn, payload));
            let answer =
                me.answers.lock().unwrap().pop_front().unwrap_or_else(|| Ok(json!({"hookStatus": "SUCCEEDED"})));
            Box::pin(async move { answer })
        })
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }
}

fn lambda_hook(stage: HookStage) -> DeploymentLifecycleHook {
    DeploymentLifecycleHook::builder()
        .hook_target_arn(FUNCTION)
        .role_arn(ROLE)
        .lifecycle_stages(stage)
        .hook_details(aws_smithy_types::Document::Object(
            [("soakSeconds".to_string(), aws_smithy_types::Document::from(60_u64))].into(),
        ))
        .build()
}

fn pause_hook(stage: HookStage, timeout: Option<(i32, Action)>) -> DeploymentLifecycleHook {
    let mut h = DeploymentLifecycleHook::builder().target_type(Target::Pause).lifecycle_stages(stage);
    if let Some((minutes, action)) = timeout {
        h = h.timeout_configuration(Timeout::builder().timeout_in_minutes(minutes).action(action).build());
    }
    h.build()
}

/// A settled blue/green service of v1; then an update to v2 with `hooks` attached.
async fn deploy_with(env: &Env, hooks: Vec<DeploymentLifecycleHook>) -> Shifting {
    deploy_with_setup(env, ShiftSetup::new(DeploymentStrategy::BlueGreen), hooks).await
}

async fn deploy_with_setup(env: &Env, setup: ShiftSetup, hooks: Vec<DeploymentLifecycleHook>) -> Shifting {
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let lb = env.shifting_load_balancer().await;
    env.shifting_service(&v1, &lb, setup).await;
    let first = env.follow(3600, async |_| {}).await;
    assert_eq!(first.status(), Some(&Status::Successful));
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    let td2 = env.task_def(&v2).await;
    let dc = DeploymentConfiguration::builder().set_lifecycle_hooks(Some(hooks)).build();
    env.ecs
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .task_definition(td2)
        .deployment_configuration(dc)
        .send()
        .await
        .expect("update service");
    lb
}

fn stage(sd: &ServiceDeployment) -> &str {
    sd.lifecycle_stage().map_or("", |s| s.as_str())
}

/// Steps until the newest service deployment is at `stage` with a hook in `status`.
async fn until_hook(env: &Env, stage_name: &str, status: HookStatus, max: u64) -> ServiceDeployment {
    for _ in 0..max {
        let sd = env.service_deployment().await;
        if stage(&sd) == stage_name && sd.lifecycle_hook_details().iter().any(|h| h.status() == Some(&status)) {
            return sd;
        }
        env.sim.advance(1);
    }
    panic!("no hook {status:?} at {stage_name} in {max} s");
}

fn hook_events(env: &Env) -> Vec<Value> {
    env.events(HOOK_EVENT)
}

fn event_names(env: &Env) -> Vec<String> {
    hook_events(env).iter().map(|e| e["detail"]["eventName"].as_str().unwrap().to_string()).collect()
}

/// The deployment rolled back and production never went to v2 (task definition revision 2).
async fn production_never_shifted(env: &Env, lb: &Shifting, sd: &ServiceDeployment) {
    assert_eq!(sd.status(), Some(&Status::RollbackSuccessful), "{:?}", sd.status_reason());
    let w = env.rule_weights(&lb.production).await;
    // Production never left blue: no sample shows traffic to v2.
    for s in env.series() {
        for v in &s.versions {
            if v.task_definition.ends_with(":2") {
                assert_eq!(v.production_traffic.unwrap_or(0.0), 0.0, "production went to v2 at {}", s.time);
            }
        }
    }
    assert_eq!(green_percent(&w, &lb.green), 0.0);
}

#[tokio::test]
async fn a_lambda_hook_that_succeeds_lets_the_deployment_proceed() {
    let env = common::start().await;
    let script = Script::new(vec![]);
    env.sim.set_hook_invoker(script.invoker());
    deploy_with(&env, vec![lambda_hook(HookStage::PostTestTrafficShift)]).await;
    let done = env.follow(3600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::Successful), "{:?}", done.status_reason());
    let calls = script.calls();
    assert_eq!(calls.len(), 1);
    let (arn, p) = &calls[0];
    assert_eq!(arn, FUNCTION);
    assert_eq!(p["lifecycleStage"], "POST_TEST_TRAFFIC_SHIFT");
    assert_eq!(p["resourceArn"].as_str(), done.service_deployment_arn());
    assert_eq!(p["executionDetails"]["serviceArn"].as_str(), done.service_arn());
    assert_eq!(
        p["executionDetails"]["targetServiceRevisionArn"].as_str(),
        done.target_service_revision().and_then(|r| r.arn())
    );
    assert_eq!(p["executionDetails"]["testTrafficWeights"], json!({}));
    assert_eq!(p["executionDetails"]["productionTrafficWeights"], json!({}));
    assert_eq!(p["hookDetails"], json!({"soakSeconds": 60}));
    assert!(p["executionId"].as_str().is_some_and(|s| s.len() == 36));
    assert_eq!(event_names(&env), ["HOOK_IN_PROGRESS", "HOOK_SUCCEEDED"]);
    let ev = &hook_events(&env)[0];
    assert_eq!(ev["source"], "aws.ecs");
    assert_eq!(ev["resources"], json!([done.service_deployment_arn()]));
    let d = &ev["detail"];
    assert_eq!(d["hookType"], "AWS_LAMBDA");
    assert_eq!(d["lifecycleStage"], "POST_TEST_TRAFFIC_SHIFT");
    assert_eq!(d["serviceDeploymentArn"].as_str(), done.service_deployment_arn());
    assert_eq!(d["clusterArn"].as_str(), done.cluster_arn());
    assert!(d["hookId"].as_str().unwrap().starts_with("ecs-lambda-"));
    assert!(d["updatedAt"].as_str().unwrap().ends_with("000000Z"));
}

#[tokio::test]
async fn in_progress_is_invoked_again_after_the_callback_delay_with_merged_details() {
    let env = common::start().await;
    let script = Script::new(vec![
        Ok(json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 45, "hookDetails": {"round": 1}})),
        Ok(json!({"hookStatus": "IN_PROGRESS", "hookDetails": {"round": 2, "checked": true}})),
        Ok(json!({"hookStatus": "SUCCEEDED"})),
    ]);
    env.sim.set_hook_invoker(script.invoker());
    deploy_with(&env, vec![lambda_hook(HookStage::PostTestTrafficShift)]).await;
    let mut times = Vec::new();
    let mut seen = 0;
    let done = env
        .follow(3600, async |_| {
            let n = script.calls().len();
            if n > seen {
                seen = n;
                times.push(env.sim.now());
            }
        })
        .await;
    assert_eq!(done.status(), Some(&Status::Successful));
    let calls = script.calls();
    assert_eq!(calls.len(), 3);
    // 45 s after the first answer, then the default 30 s.
    assert_eq!((times[1] - times[0], times[2] - times[1]), (45_000, 30_000));
    assert_eq!(calls[1].1["hookDetails"], json!({"soakSeconds": 60, "round": 1}));
    assert_eq!(calls[2].1["hookDetails"], json!({"soakSeconds": 60, "round": 2, "checked": true}));
    assert_eq!(calls[0].1["executionId"], calls[2].1["executionId"]);
}

#[tokio::test]
async fn a_failed_hook_rolls_back_before_production_moves() {
    let env = common::start().await;
    let script = Script::new(vec![Ok(json!({"hookStatus": "FAILED"}))]);
    env.sim.set_hook_invoker(script.invoker());
    let lb = deploy_with(&env, vec![lambda_hook(HookStage::PostTestTrafficShift)]).await;
    let done = env.follow(3600, async |_| {}).await;
    production_never_shifted(&env, &lb, &done).await;
    let reason = done.rollback().and_then(|r| r.reason()).unwrap();
    assert!(reason.contains("Lifecycle hook ecs-lambda-") && reason.contains(FUNCTION), "{reason}");
    assert!(reason.contains("POST_TEST_TRAFFIC_SHIFT") && reason.contains("answered FAILED"), "{reason}");
    assert_eq!(event_names(&env), ["HOOK_IN_PROGRESS", "HOOK_FAILED"]);
}

#[tokio::test]
async fn an_invoker_error_or_an_invalid_answer_rolls_back() {
    for answer in [Err("function not found".to_string()), Ok(json!({"status": "OK"}))] {
        let env = common::start().await;
        let script = Script::new(vec![answer]);
        env.sim.set_hook_invoker(script.invoker());
        let lb = deploy_with(&env, vec![lambda_hook(HookStage::PostTestTrafficShift)]).await;
        let done = env.follow(3600, async |_| {}).await;
        production_never_shifted(&env, &lb, &done).await;
    }
}

#[tokio::test]
async fn without_an_invoker_a_lambda_hook_fails() {
    let env = common::start().await;
    let lb = deploy_with(&env, vec![lambda_hook(HookStage::PostTestTrafficShift)]).await;
    let done = env.follow(3600, async |_| {}).await;
    production_never_shifted(&env, &lb, &done).await;
    let reason = done.status_reason().unwrap_or_default();
    assert!(reason.contains("no Lambda hook invoker"), "{reason}");
}

#[tokio::test]
async fn a_timed_out_lambda_hook_with_continue_lets_the_deployment_proceed() {
    let env = common::start().await;
    let answers = (0..5).map(|_| Ok(json!({"hookStatus": "IN_PROGRESS", "callBackDelay": 20}))).collect();
    let script = Script::new(answers);
    env.sim.set_hook_invoker(script.invoker());
    let hook = DeploymentLifecycleHook::builder()
        .target_type(Target::AwsLambda)
        .hook_target_arn(FUNCTION)
        .role_arn(ROLE)
        .lifecycle_stages(HookStage::PostTestTrafficShift)
        .timeout_configuration(Timeout::builder().timeout_in_minutes(1).action(Action::Continue).build())
        .build();
    deploy_with(&env, vec![hook]).await;
    let sd = until_hook(&env, "POST_TEST_TRAFFIC_SHIFT", HookStatus::InProgress, 600).await;
    let h = &sd.lifecycle_hook_details()[0];
    assert_eq!((h.timeout_action(), h.target_arn()), (Some(&Action::Continue), Some(FUNCTION)));
    let done = env.follow(3600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::Successful));
    // Invoked at 0, 20, 40 s; the minute ran out before the fourth answer was due.
    assert_eq!(script.calls().len(), 3);
    assert_eq!(event_names(&env), ["HOOK_IN_PROGRESS", "HOOK_TIMED_OUT"]);
}

#[tokio::test]
async fn a_rollback_re_invokes_traffic_shift_hooks_with_the_weights_reversed() {
    let env = common::start().await;
    let script = Script::new(vec![Ok(json!({"hookStatus": "SUCCEEDED"})), Ok(json!({"hookStatus": "FAILED"}))]);
    env.sim.set_hook_invoker(script.invoker());
    let hooks = vec![lambda_hook(HookStage::TestTrafficShift), lambda_hook(HookStage::PostTestTrafficShift)];
    let lb = deploy_with(&env, hooks).await;
    let done = env.follow(3600, async |_| {}).await;
    production_never_shifted(&env, &lb, &done).await;
    let calls = script.calls();
    let stages: Vec<&str> = calls.iter().map(|c| c.1["lifecycleStage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "TEST_TRAFFIC_SHIFT"]);
    let green = done.target_service_revision().and_then(|r| r.arn()).unwrap();
    let blue = done.source_service_revisions()[0].arn().unwrap();
    assert_eq!(calls[0].1["executionDetails"]["testTrafficWeights"], json!({green: 100, blue: 0}));
    assert_eq!(calls[2].1["executionDetails"]["testTrafficWeights"], json!({green: 0, blue: 100}));
}

#[tokio::test]
async fn a_pause_hook_waits_for_continue() {
    let env = common::start().await;
    let lb = deploy_with(&env, vec![pause_hook(HookStage::PostTestTrafficShift, None)]).await;
    let sd = until_hook(&env, "POST_TEST_TRAFFIC_SHIFT", HookStatus::AwaitingAction, 600).await;
    assert_eq!(sd.status(), Some(&Status::InProgress));
    let h = &sd.lifecycle_hook_details()[0];
    let hook_id = h.hook_id().unwrap().to_string();
    assert!(hook_id.starts_with("ecs-pause-") && hook_id.len() == "ecs-pause-".len() + 43, "{hook_id}");
    assert_eq!((h.target_type(), h.target_arn()), (Some(&Target::Pause), None));
    assert_eq!(h.timeout_action(), Some(&Action::Rollback));
    let started = env.sim.now() / 1000;
    assert_eq!(h.expires_at().unwrap().secs(), started + 1440 * 60);
    // It waits: an hour later still paused, production still on blue.
    env.sim.advance(3600);
    let sd = env.service_deployment().await;
    assert_eq!((sd.status(), stage(&sd)), (Some(&Status::InProgress), "POST_TEST_TRAFFIC_SHIFT"));
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &lb.green), 0.0);
    let arn = sd.service_deployment_arn().unwrap();
    let out = env.ecs.continue_service_deployment().service_deployment_arn(arn).hook_id(&hook_id).send().await;
    assert_eq!(out.unwrap().service_deployment_arn(), Some(arn));
    // Not awaiting action any more.
    let again = env.ecs.continue_service_deployment().service_deployment_arn(arn).hook_id(&hook_id).send().await;
    assert_eq!(again.unwrap_err().code(), Some("InvalidParameterException"));
    let done = env.follow(3600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::Successful));
    assert_eq!(event_names(&env), ["HOOK_AWAITING_ACTION", "HOOK_SUCCEEDED"]);
    // Shaped like the guide's sample: the same envelope and detail members.
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let ev = &hook_events(&env)[0];
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(keys(ev), keys(&sample));
    assert_eq!(keys(&ev["detail"]), keys(&sample["detail"]));
    for k in ["eventType", "eventName", "hookType", "lifecycleStage"] {
        assert_eq!(ev["detail"][k], sample["detail"][k], "{k}");
    }
    assert_eq!(ev["detail"]["hookId"].as_str(), Some(hook_id.as_str()));
    assert_eq!(ev["detail"]["expiresAt"], autodeploy_local::sim::clock::iso_seconds((started + 1440 * 60) * 1000));
}

#[tokio::test]
async fn a_pause_hook_answered_rollback_rolls_back() {
    let env = common::start().await;
    let lb = deploy_with(&env, vec![pause_hook(HookStage::PostTestTrafficShift, None)]).await;
    let sd = until_hook(&env, "POST_TEST_TRAFFIC_SHIFT", HookStatus::AwaitingAction, 600).await;
    let hook_id = sd.lifecycle_hook_details()[0].hook_id().unwrap();
    env.ecs
        .continue_service_deployment()
        .service_deployment_arn(sd.service_deployment_arn().unwrap())
        .hook_id(hook_id)
        .action(Action::Rollback)
        .send()
        .await
        .unwrap();
    let done = env.follow(3600, async |_| {}).await;
    production_never_shifted(&env, &lb, &done).await;
    assert!(done.status_reason().unwrap().contains("ROLLBACK by ContinueServiceDeployment"));
    assert_eq!(event_names(&env), ["HOOK_AWAITING_ACTION", "HOOK_FAILED"]);
}

#[tokio::test]
async fn a_pause_hook_nobody_continues_times_out_and_rolls_back() {
    let env = common::start().await;
    let lb = deploy_with(&env, vec![pause_hook(HookStage::PostScaleUp, Some((2, Action::Rollback)))]).await;
    let done = env.follow(3600, async |_| {}).await;
    production_never_shifted(&env, &lb, &done).await;
    assert!(done.status_reason().unwrap().contains("timed out"));
    assert_eq!(event_names(&env), ["HOOK_AWAITING_ACTION", "HOOK_TIMED_OUT"]);
}

#[tokio::test]
async fn continue_service_deployment_errors() {
    let env = common::start().await;
    deploy_with(&env, vec![pause_hook(HookStage::PostTestTrafficShift, None)]).await;
    let sd = until_hook(&env, "POST_TEST_TRAFFIC_SHIFT", HookStatus::AwaitingAction, 600).await;
    let arn = sd.service_deployment_arn().unwrap();
    let unknown = "arn:aws:ecs:us-east-1:123456789012:service-deployment/apps/web/nope";
    let e = env.ecs.continue_service_deployment().service_deployment_arn(unknown).hook_id("x").send().await;
    assert_eq!(e.unwrap_err().code(), Some("ServiceDeploymentNotFoundException"));
    let e = env.ecs.continue_service_deployment().service_deployment_arn(arn).hook_id("ecs-pause-nope").send().await;
    assert_eq!(e.unwrap_err().code(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn lifecycle_hooks_are_validated() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let lb = env.shifting_load_balancer().await;
    env.shifting_service(&v1, &lb, ShiftSetup::new(DeploymentStrategy::BlueGreen)).await;
    let lambda = || DeploymentLifecycleHook::builder().lifecycle_stages(HookStage::PostScaleUp);
    let cases = vec![
        ("no hookTargetArn", lambda().role_arn(ROLE).build()),
        ("no roleArn", lambda().hook_target_arn(FUNCTION).build()),
        ("no stages", DeploymentLifecycleHook::builder().target_type(Target::Pause).build()),
        ("pause at TEST_TRAFFIC_SHIFT", pause_hook(HookStage::TestTrafficShift, None)),
        ("pause at PRODUCTION_TRAFFIC_SHIFT", pause_hook(HookStage::ProductionTrafficShift, None)),
        (
            "lambda timeout over 1440",
            lambda()
                .hook_target_arn(FUNCTION)
                .role_arn(ROLE)
                .timeout_configuration(Timeout::builder().timeout_in_minutes(1441).build())
                .build(),
        ),
        ("pause timeout over 20160", pause_hook(HookStage::PostScaleUp, Some((20_161, Action::Rollback)))),
        ("pause timeout 0", pause_hook(HookStage::PostScaleUp, Some((0, Action::Rollback)))),
        (
            "unknown stage",
            lambda().hook_target_arn(FUNCTION).role_arn(ROLE).lifecycle_stages("BAKE_TIME".into()).build(),
        ),
    ];
    for (what, hook) in cases {
        let dc = DeploymentConfiguration::builder().lifecycle_hooks(hook).build();
        let e = env.ecs.update_service().cluster(CLUSTER).service(SERVICE).deployment_configuration(dc).send().await;
        assert_eq!(e.unwrap_err().code(), Some("InvalidParameterException"), "{what}");
    }
    let eleven = (0..11).map(|_| pause_hook(HookStage::PostScaleUp, None)).collect();
    let dc = DeploymentConfiguration::builder().set_lifecycle_hooks(Some(eleven)).build();
    let e = env.ecs.update_service().cluster(CLUSTER).service(SERVICE).deployment_configuration(dc).send().await;
    assert_eq!(e.unwrap_err().code(), Some("InvalidParameterException"), "eleven pause hooks");
    // Ten of each is fine, and pause hooks accept 20160 minutes.
    let mut ok: Vec<_> =
        (0..10).map(|_| pause_hook(HookStage::PostScaleUp, Some((20_160, Action::Continue)))).collect();
    ok.extend((0..10).map(|_| lambda_hook(HookStage::ProductionTrafficShift)));
    let dc = DeploymentConfiguration::builder().set_lifecycle_hooks(Some(ok)).build();
    let out = env.ecs.update_service().cluster(CLUSTER).service(SERVICE).deployment_configuration(dc).send().await;
    let hooks = out.unwrap().service().unwrap().deployment_configuration().unwrap().lifecycle_hooks().len();
    assert_eq!(hooks, 20);
}

#[tokio::test]
async fn hooks_at_one_stage_run_together_and_all_must_pass() {
    let env = common::start().await;
    let script = Script::new(vec![]);
    env.sim.set_hook_invoker(script.invoker());
    let hooks = vec![
        lambda_hook(HookStage::PostTestTrafficShift),
        pause_hook(HookStage::PostTestTrafficShift, None),
        lambda_hook(HookStage::PreProductionTrafficShift),
        lambda_hook(HookStage::ProductionTrafficShift),
    ];
    let lb = deploy_with(&env, hooks).await;
    let sd = until_hook(&env, "POST_TEST_TRAFFIC_SHIFT", HookStatus::AwaitingAction, 600).await;
    // The Lambda hook answered SUCCEEDED at once; the pause hook still holds the stage.
    env.sim.advance(60);
    let sd2 = env.service_deployment().await;
    assert_eq!(stage(&sd2), "POST_TEST_TRAFFIC_SHIFT");
    let statuses: Vec<_> = sd2.lifecycle_hook_details().iter().map(|h| h.status().cloned().unwrap()).collect();
    assert_eq!(statuses, [HookStatus::Succeeded, HookStatus::AwaitingAction]);
    assert_eq!(green_percent(&env.rule_weights(&lb.production).await, &lb.green), 0.0);
    let pause = sd.lifecycle_hook_details().iter().find(|h| h.target_type() == Some(&Target::Pause)).unwrap();
    env.ecs
        .continue_service_deployment()
        .service_deployment_arn(sd.service_deployment_arn().unwrap())
        .hook_id(pause.hook_id().unwrap())
        .send()
        .await
        .unwrap();
    let done = env.follow(3600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::Successful));
    let calls = script.calls();
    let stages: Vec<&str> = calls.iter().map(|c| c.1["lifecycleStage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]);
    let green = done.target_service_revision().and_then(|r| r.arn()).unwrap();
    let blue = done.source_service_revisions()[0].arn().unwrap();
    // The guide's payloads: production green 0 / blue 100 before the shift, 100 / 0 at it.
    assert_eq!(calls[1].1["executionDetails"]["productionTrafficWeights"], json!({green: 0, blue: 100}));
    assert_eq!(calls[2].1["executionDetails"]["productionTrafficWeights"], json!({green: 100, blue: 0}));
    assert_eq!(calls[2].1["executionDetails"]["testTrafficWeights"], json!({}));
}

#[tokio::test]
async fn linear_steps_run_the_production_hooks_at_every_step() {
    let env = common::start().await;
    let script = Script::new(vec![]);
    env.sim.set_hook_invoker(script.invoker());
    let setup = ShiftSetup { linear: (50.0, 1), ..ShiftSetup::new(DeploymentStrategy::Linear) };
    let hooks = vec![lambda_hook(HookStage::PreProductionTrafficShift), lambda_hook(HookStage::ProductionTrafficShift)];
    deploy_with_setup(&env, setup, hooks).await;
    let done = env.follow(3600, async |_| {}).await;
    assert_eq!(done.status(), Some(&Status::Successful));
    let green = done.target_service_revision().and_then(|r| r.arn()).unwrap();
    let calls: Vec<(String, Value)> = script
        .calls()
        .into_iter()
        .map(|(_, p)| {
            (
                p["lifecycleStage"].as_str().unwrap().to_string(),
                p["executionDetails"]["productionTrafficWeights"][green].clone(),
            )
        })
        .collect();
    let expected = [
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", 0),
        ("PRODUCTION_TRAFFIC_SHIFT", 50),
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", 50),
        ("PRODUCTION_TRAFFIC_SHIFT", 100),
    ];
    let expected: Vec<(String, Value)> = expected.iter().map(|(s, w)| (s.to_string(), json!(w))).collect();
    assert_eq!(calls, expected);
    // A new hook id at every step.
    let ids: std::collections::BTreeSet<String> =
        hook_events(&env).iter().map(|e| e["detail"]["hookId"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 4);
}
