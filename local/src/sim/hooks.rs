//! ECS deployment lifecycle hooks of traffic-shifting deployments (ECS Developer Guide,
//! "Lifecycle hooks for Amazon ECS service deployments", "Lambda functions for lifecycle
//! hooks", "Pause lifecycle hooks"): validation of `lifecycleHooks`, the hooks run at
//! each hook stage, their answers, timeouts, ContinueServiceDeployment, and the
//! "ECS Hook State Change" events.
//!
//! Lambda hooks are invoked outside the simulator: a step queues a [`HookCall`], the
//! [`crate::sim::Sim`] hands it to its invoker once the world is unlocked, and the answer
//! comes back through [`World::hook_answer`].

use serde_json::{Map, Value, json};

use crate::sim::api::error::EcsError;
use crate::sim::clock::{SimTime, iso_millis, iso_seconds};
use crate::sim::events::HOOK_STATE_CHANGE;
use crate::sim::model::{
    HOOK_STAGES, HookAction, HookCall, HookRun, HookStatus, HookTarget, LifecycleHook, LifecycleStage as Stage,
    ServiceDeploymentStatus as Status,
};
use crate::sim::world::World;

/// "a maximum of 10 pause hooks and 10 Lambda hooks per service" (Pause lifecycle hooks).
const MAX_HOOKS_PER_TYPE: usize = 10;
/// "If you don't specify a callBackDelay, Amazon ECS uses 30 seconds" (Lambda functions
/// for lifecycle hooks).
const DEFAULT_CALLBACK_DELAY_S: i64 = 30;
/// `timeoutInMinutes` default, 1440 (24 hours), for both types.
const DEFAULT_TIMEOUT_MINUTES: i64 = 1440;
/// The ID alphabet of hook ids (the guide's sample `ecs-pause-e7tK9G_WRJ…` is base64url).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Validates `deploymentConfiguration.lifecycleHooks` (InvalidParameterException). The
/// model marks no member required; the rules are the guide's: AWS_LAMBDA (the default)
/// needs `hookTargetArn` and `roleArn`, `lifecycleStages` is required, "PAUSE hooks cannot
/// be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT", `timeoutInMinutes`
/// is 1–1,440 for Lambda hooks and 1–20,160 for pause hooks. Messages are the simulator's.
pub(crate) fn parse_hooks(list: &[Value]) -> Result<Vec<LifecycleHook>, EcsError> {
    let mut hooks = Vec::new();
    for (n, h) in list.iter().enumerate() {
        let at = format!("lifecycleHooks[{n}]");
        let o = h.as_object().ok_or_else(|| EcsError::invalid(format!("{at} must be an object.")))?;
        let str_of = |k: &str| -> Result<Option<&str>, EcsError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(EcsError::invalid(format!("{at}.{k} must be a string."))),
            }
        };
        let target = match str_of("targetType")? {
            None | Some("AWS_LAMBDA") => HookTarget::Lambda,
            Some("PAUSE") => HookTarget::Pause,
            Some(other) => {
                return Err(EcsError::invalid(format!("{at}.targetType {other} is invalid: AWS_LAMBDA or PAUSE.")));
            }
        };
        let arn = str_of("hookTargetArn")?.filter(|s| !s.is_empty()).map(str::to_owned);
        let role = str_of("roleArn")?.filter(|s| !s.is_empty());
        if target == HookTarget::Lambda && (arn.is_none() || role.is_none()) {
            return Err(EcsError::invalid(format!(
                "{at}: an AWS_LAMBDA lifecycle hook requires hookTargetArn and roleArn."
            )));
        }
        let stages: Vec<String> = match o.get("lifecycleStages") {
            Some(Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|s| match s.as_str() {
                    Some(s) if HOOK_STAGES.contains(&s) => Ok(s.to_owned()),
                    _ => Err(EcsError::invalid(format!("{at}.lifecycleStages: {s} is not a lifecycle hook stage."))),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(EcsError::invalid(format!("{at}.lifecycleStages must list at least one stage."))),
        };
        if target == HookTarget::Pause
            && let Some(s) =
                stages.iter().find(|s| matches!(s.as_str(), "TEST_TRAFFIC_SHIFT" | "PRODUCTION_TRAFFIC_SHIFT"))
        {
            return Err(EcsError::invalid(format!("{at}: a PAUSE lifecycle hook cannot be configured at {s}.")));
        }
        let max = if target == HookTarget::Pause { 20_160 } else { 1_440 };
        let (mut timeout_minutes, mut timeout_action) = (DEFAULT_TIMEOUT_MINUTES, HookAction::Rollback);
        if let Some(t) = o.get("timeoutConfiguration").filter(|v| !v.is_null()) {
            let t = t
                .as_object()
                .ok_or_else(|| EcsError::invalid(format!("{at}.timeoutConfiguration must be an object.")))?;
            if let Some(m) = t.get("timeoutInMinutes").filter(|v| !v.is_null()) {
                match m.as_i64() {
                    Some(m) if (1..=max).contains(&m) => timeout_minutes = m,
                    _ => {
                        return Err(EcsError::invalid(format!(
                            "{at}.timeoutConfiguration.timeoutInMinutes must be between 1 and {max} for a {} hook.",
                            target.as_str()
                        )));
                    }
                }
            }
            if let Some(a) = t.get("action").filter(|v| !v.is_null()) {
                timeout_action = a.as_str().and_then(HookAction::parse).ok_or_else(|| {
                    EcsError::invalid(format!("{at}.timeoutConfiguration.action must be ROLLBACK or CONTINUE."))
                })?;
            }
        }
        let details = o.get("hookDetails").filter(|v| !v.is_null()).cloned();
        hooks.push(LifecycleHook { target, arn, stages, details, timeout_minutes, timeout_action });
    }
    for target in [HookTarget::Lambda, HookTarget::Pause] {
        if hooks.iter().filter(|h| h.target == target).count() > MAX_HOOKS_PER_TYPE {
            return Err(EcsError::invalid(format!(
                "A service can have at most {MAX_HOOKS_PER_TYPE} {} lifecycle hooks.",
                target.as_str()
            )));
        }
    }
    Ok(hooks)
}

/// The hook stages that gate the end of a lifecycle stage (or, `between_steps`, of a
/// linear or canary step short of 100 %), in order. PRE_PRODUCTION_TRAFFIC_SHIFT "is
/// invoked before every traffic shift step" and PRODUCTION_TRAFFIC_SHIFT "at every
/// traffic shift step" (the model's DeploymentLifecycleHookStage): the first
/// PRE_PRODUCTION_TRAFFIC_SHIFT runs after POST_TEST_TRAFFIC_SHIFT's hooks (the service
/// deployment's stage enum has no such stage, so it still reports
/// POST_TEST_TRAFFIC_SHIFT), the later ones after each step's PRODUCTION_TRAFFIC_SHIFT.
fn hook_stages(stage: Stage, between_steps: bool) -> &'static [&'static str] {
    match stage {
        Stage::ProductionTrafficShift if between_steps => &["PRODUCTION_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"],
        Stage::ReconcileService => &["RECONCILE_SERVICE"],
        Stage::PreScaleUp => &["PRE_SCALE_UP"],
        Stage::PostScaleUp => &["POST_SCALE_UP"],
        Stage::TestTrafficShift => &["TEST_TRAFFIC_SHIFT"],
        Stage::PostTestTrafficShift => &["POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"],
        Stage::ProductionTrafficShift => &["PRODUCTION_TRAFFIC_SHIFT"],
        Stage::PostProductionTrafficShift => &["POST_PRODUCTION_TRAFFIC_SHIFT"],
        Stage::ScaleUp | Stage::BakeTime | Stage::CleanUp => &[],
    }
}

/// A percent as the guide's payloads show it: whole numbers without a fraction.
fn percent(p: f64) -> Value {
    if p.fract() == 0.0 { json!(p as i64) } else { json!(p) }
}

impl World {
    fn hook_id(&mut self, target: HookTarget) -> String {
        let id: String = (0..43).map(|_| ID_ALPHABET[(self.rng.next_u64() % 64) as usize] as char).collect();
        match target {
            HookTarget::Pause => format!("ecs-pause-{id}"),
            // No Lambda hook id is published; the simulator's follows the pause form.
            HookTarget::Lambda => format!("ecs-lambda-{id}"),
        }
    }

    /// Whether service deployment `i` (IN_PROGRESS, shifting traffic) may leave its
    /// current stage as far as hooks go: every hook of the stage's hook stages ran and
    /// passed. Starts the hooks, invokes Lambda ones, applies timeouts, and rolls the
    /// deployment back when one failed ("All hooks at a stage … run in parallel. The
    /// deployment proceeds only when all of them complete", Pause lifecycle hooks).
    pub(crate) fn hooks_pass(&mut self, svc: usize, i: usize, between_steps: bool) -> bool {
        let now = self.now();
        let Some(shift) = self.service_deployments[i].shift.clone() else { return true };
        for &hs in hook_stages(shift.stage, between_steps) {
            if shift.hook_stages_done.iter().any(|d| d == hs) {
                continue;
            }
            let configured: Vec<LifecycleHook> =
                shift.hook_config.iter().filter(|h| h.stages.iter().any(|s| s == hs)).cloned().collect();
            let started = shift.hooks.first().is_some_and(|r| r.stage == hs);
            if configured.is_empty() {
                self.mark_hook_stage_done(i, hs);
                continue;
            }
            if !started {
                self.start_hooks(i, hs, &configured);
            }
            self.progress_hooks(i, now);
            let runs = self.service_deployments[i].shift.as_ref().map(|s| s.hooks.clone()).unwrap_or_default();
            if let Some(bad) = runs.iter().find(|r| r.failed()) {
                let reason = format!(
                    "Lifecycle hook {} ({}) at {hs} {}",
                    bad.id,
                    bad.arn.as_deref().unwrap_or(bad.target.as_str()),
                    bad.reason.as_deref().unwrap_or("failed")
                );
                self.hook_rollback(svc, i, &reason);
                return false;
            }
            if !runs.iter().all(HookRun::passed) {
                return false;
            }
            self.mark_hook_stage_done(i, hs);
        }
        true
    }

    fn mark_hook_stage_done(&mut self, i: usize, hs: &str) {
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.hook_stages_done.push(hs.to_owned());
        }
    }

    fn start_hooks(&mut self, i: usize, hs: &str, configured: &[LifecycleHook]) {
        let now = self.now();
        let mut runs = Vec::new();
        for h in configured {
            let run = HookRun {
                id: self.hook_id(h.target),
                stage: hs.to_owned(),
                target: h.target,
                arn: h.arn.clone(),
                // A pause hook "pauses and waits for an explicit action" (ContinueServiceDeployment).
                status: if h.target == HookTarget::Pause { HookStatus::AwaitingAction } else { HookStatus::InProgress },
                expires_at: now + h.timeout_minutes * 60_000,
                timeout_action: h.timeout_action,
                execution_id: self.rng.uuid(),
                details: h.details.clone(),
                next_invoke_at: (h.target == HookTarget::Lambda).then_some(now),
                reason: None,
            };
            runs.push(run);
        }
        for r in &runs {
            self.hook_event(i, r);
        }
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.hooks = runs;
        }
        self.service_deployments[i].updated_at = now;
    }

    /// Timeouts ("If the Lambda function does not return SUCCEEDED or FAILED before the
    /// timeout expires, Amazon ECS takes the configured timeout action"; a pause hook
    /// nobody continued likewise), then the Lambda invocations that are due.
    fn progress_hooks(&mut self, i: usize, now: SimTime) {
        let Some(runs) = self.service_deployments[i].shift.as_ref().map(|s| s.hooks.clone()) else { return };
        for (k, mut r) in runs.into_iter().enumerate() {
            let before = r.status;
            if r.status.is_waiting() && now >= r.expires_at {
                r.status = HookStatus::TimedOut;
                r.next_invoke_at = None;
                r.reason = Some(format!("timed out (timeout action {})", r.timeout_action.as_str()));
            } else if r.status == HookStatus::InProgress && r.next_invoke_at.is_some_and(|t| t <= now) {
                r.next_invoke_at = None;
                if self.hook_invoker {
                    let payload = self.hook_payload(i, &r, false);
                    self.hook_calls.push(HookCall {
                        deployment_arn: self.service_deployments[i].arn.clone(),
                        hook_id: r.id.clone(),
                        function_arn: r.arn.clone().unwrap_or_default(),
                        payload,
                        ignore_answer: false,
                    });
                } else {
                    r.status = HookStatus::Failed;
                    r.reason =
                        Some("failed: the simulator has no Lambda hook invoker to call the function with".to_owned());
                }
            }
            if r.status != before {
                self.hook_event(i, &r);
            }
            if let Some(s) = self.service_deployments[i].shift.as_mut() {
                s.hooks[k] = r;
            }
        }
    }

    /// The event ECS sends a hook's function (Lambda functions for lifecycle hooks):
    /// weights are `{}` except at TEST_TRAFFIC_SHIFT (test traffic), PRE_PRODUCTION_ and
    /// PRODUCTION_TRAFFIC_SHIFT (production traffic), as revision ARN → percent. On a
    /// rollback (`rollback`) the target's weight is 0 and the other revision's 100.
    fn hook_payload(&self, i: usize, r: &HookRun, rollback: bool) -> Value {
        let d = &self.service_deployments[i];
        let shift = d.shift.as_ref();
        let weights = |green: f64| {
            let mut m = Map::new();
            m.insert(d.target_revision.clone(), percent(green));
            if let Some(blue) = shift.and_then(|s| s.blue_revision.as_ref()) {
                m.insert(blue.clone(), percent(100.0 - green));
            }
            Value::Object(m)
        };
        let (test, production) = (shift.map_or(0.0, |s| s.test_percent), shift.map_or(0.0, |s| s.production_percent));
        let empty = || Value::Object(Map::new());
        let (test_w, prod_w) = match r.stage.as_str() {
            _ if rollback => (weights(0.0), weights(0.0)),
            "TEST_TRAFFIC_SHIFT" => (weights(test), empty()),
            "PRE_PRODUCTION_TRAFFIC_SHIFT" | "PRODUCTION_TRAFFIC_SHIFT" => (empty(), weights(production)),
            _ => (empty(), empty()),
        };
        let (test_w, prod_w) = match r.stage.as_str() {
            "TEST_TRAFFIC_SHIFT" if rollback => (test_w, empty()),
            "PRODUCTION_TRAFFIC_SHIFT" if rollback => (empty(), prod_w),
            _ => (test_w, prod_w),
        };
        let mut p = json!({
            "executionId": r.execution_id,
            "lifecycleStage": r.stage,
            "resourceArn": d.arn,
            "executionDetails": {
                "serviceArn": d.service_arn,
                "targetServiceRevisionArn": d.target_revision,
                "testTrafficWeights": test_w,
                "productionTrafficWeights": prod_w,
            },
        });
        if let (Some(details), Some(o)) = (&r.details, p.as_object_mut()) {
            o.insert("hookDetails".into(), details.clone());
        }
        p
    }

    /// The answer of a Lambda hook's function (or why it could not be invoked). An answer
    /// for a deployment no longer IN_PROGRESS, or a hook not waiting for one, is dropped.
    /// "If your function doesn't return a valid hookStatus, or if it fails, Amazon ECS
    /// rolls back the deployment"; IN_PROGRESS is invoked again after `callBackDelay`
    /// seconds (default 30) with the returned `hookDetails` merged in. The guide does not
    /// say how they merge: the simulator merges the top-level keys.
    pub fn hook_answer(&mut self, deployment_arn: &str, hook_id: &str, answer: Result<Value, String>) {
        let now = self.now();
        let Some(i) = self
            .service_deployments
            .iter()
            .position(|d| d.arn == deployment_arn && d.status == Status::InProgress && d.shift.is_some())
        else {
            return;
        };
        let Some(k) = self.service_deployments[i].shift.as_ref().and_then(|s| {
            s.hooks
                .iter()
                .position(|r| r.id == hook_id && r.status == HookStatus::InProgress && r.next_invoke_at.is_none())
        }) else {
            return;
        };
        let Some(mut r) = self.service_deployments[i].shift.as_ref().map(|s| s.hooks[k].clone()) else { return };
        let status = answer.as_ref().ok().and_then(|a| a.get("hookStatus")).and_then(Value::as_str);
        match (&answer, status) {
            (Err(e), _) => {
                r.status = HookStatus::Failed;
                r.reason = Some(format!("failed: the function could not be invoked: {e}"));
            }
            (Ok(_), Some("SUCCEEDED")) => r.status = HookStatus::Succeeded,
            (Ok(_), Some("FAILED")) => {
                r.status = HookStatus::Failed;
                r.reason = Some("failed: the function answered FAILED".to_owned());
            }
            (Ok(a), Some("IN_PROGRESS")) => {
                let delay = a.get("callBackDelay").and_then(Value::as_i64).unwrap_or(DEFAULT_CALLBACK_DELAY_S).max(0);
                r.next_invoke_at = Some(now + delay * 1000);
                if let Some(Value::Object(new)) = a.get("hookDetails") {
                    let mut merged = match r.details.take() {
                        Some(Value::Object(m)) => m,
                        _ => Map::new(),
                    };
                    merged.extend(new.clone());
                    r.details = Some(Value::Object(merged));
                }
            }
            (Ok(a), _) => {
                r.status = HookStatus::Failed;
                r.reason = Some(format!("failed: the function returned no valid hookStatus: {a}"));
            }
        }
        if r.status != HookStatus::InProgress {
            self.hook_event(i, &r);
        }
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.hooks[k] = r;
        }
        self.service_deployments[i].updated_at = now;
    }

    /// ContinueServiceDeployment on service deployment `i`: the pause hook `hook_id`
    /// SUCCEEDED (CONTINUE) or FAILED (ROLLBACK); the deployment moves on (or rolls back)
    /// at its next step. "The deployment must be in the IN_PROGRESS state" and the hook
    /// AWAITING_ACTION (continue-service-deployment.html); the error for anything else is
    /// not published: the simulator answers InvalidParameterException.
    pub(crate) fn continue_hook(&mut self, i: usize, hook_id: &str, action: HookAction) -> Result<(), EcsError> {
        let now = self.now();
        let d = &self.service_deployments[i];
        if d.status != Status::InProgress {
            return Err(EcsError::invalid(format!(
                "The service deployment {} is {}, not IN_PROGRESS.",
                d.arn,
                d.status.as_str()
            )));
        }
        let Some(k) = d.shift.as_ref().and_then(|s| s.hooks.iter().position(|r| r.id == hook_id)) else {
            return Err(EcsError::invalid(format!(
                "The service deployment {} has no lifecycle hook {hook_id}.",
                d.arn
            )));
        };
        let Some(mut r) = d.shift.as_ref().map(|s| s.hooks[k].clone()) else { return Ok(()) };
        if r.status != HookStatus::AwaitingAction {
            return Err(EcsError::invalid(format!(
                "The lifecycle hook {hook_id} is {}, not AWAITING_ACTION.",
                r.status.as_str()
            )));
        }
        match action {
            HookAction::Continue => r.status = HookStatus::Succeeded,
            HookAction::Rollback => {
                r.status = HookStatus::Failed;
                r.reason = Some("was answered ROLLBACK by ContinueServiceDeployment".to_owned());
            }
        }
        self.hook_event(i, &r);
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.hooks[k] = r;
        }
        self.service_deployments[i].updated_at = now;
        Ok(())
    }

    /// Rolls a traffic shift back because of a hook; without a blue side (the service's
    /// first deployment) there is nothing to go back to: ROLLBACK_FAILED.
    fn hook_rollback(&mut self, svc: usize, i: usize, reason: &str) {
        let blue = self.service_deployments[i].shift.as_ref().and_then(|s| s.blue_ids.first().cloned());
        match blue {
            Some(blue) => {
                let why = format!("{reason}: rolling back to deploymentId {blue}.");
                self.shift_rollback(svc, i, &why, &why);
            }
            None => {
                let why = format!("{reason}; there is no earlier service revision to roll back to.");
                self.finish_service_deployment(i, Status::RollbackFailed, Some(why));
            }
        }
    }

    /// "During a rollback, Amazon ECS re-invokes hooks at PRODUCTION_TRAFFIC_SHIFT and
    /// TEST_TRAFFIC_SHIFT" with the weights reversed (Lambda functions for lifecycle
    /// hooks). The simulator invokes each once and ignores the answers: the guide does
    /// not say what a FAILED answer does to a rollback, and pause hooks are barred from
    /// those stages so that nothing can hold one.
    pub(crate) fn reinvoke_hooks_on_rollback(&mut self, i: usize) {
        if !self.hook_invoker {
            return;
        }
        let Some(shift) = self.service_deployments[i].shift.clone() else { return };
        for h in shift.hook_config.iter().filter(|h| h.target == HookTarget::Lambda) {
            for stage in ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] {
                if !h.stages.iter().any(|s| s == stage) {
                    continue;
                }
                let run = HookRun {
                    id: self.hook_id(h.target),
                    stage: stage.to_owned(),
                    target: h.target,
                    arn: h.arn.clone(),
                    status: HookStatus::InProgress,
                    expires_at: self.now() + h.timeout_minutes * 60_000,
                    timeout_action: h.timeout_action,
                    execution_id: self.rng.uuid(),
                    details: h.details.clone(),
                    next_invoke_at: None,
                    reason: None,
                };
                let payload = self.hook_payload(i, &run, true);
                self.hook_calls.push(HookCall {
                    deployment_arn: self.service_deployments[i].arn.clone(),
                    hook_id: run.id,
                    function_arn: h.arn.clone().unwrap_or_default(),
                    payload,
                    ignore_answer: true,
                });
            }
        }
    }

    /// An "ECS Hook State Change" event (shape of the guide's sample, "Amazon ECS
    /// deployment lifecycle hook state change events"). eventType is INFO, ERROR for
    /// HOOK_FAILED and HOOK_TIMED_OUT (the guide shows only INFO; ERROR follows the
    /// deployment events). The guide documents only pause hooks' events; Lambda hooks
    /// send the same with hookType AWS_LAMBDA.
    fn hook_event(&mut self, i: usize, r: &HookRun) {
        let now = self.now();
        let d = &self.service_deployments[i];
        let event_type = if matches!(r.status, HookStatus::Failed | HookStatus::TimedOut) { "ERROR" } else { "INFO" };
        // The sample's updatedAt has nanoseconds; the simulator's clock has milliseconds.
        let updated = iso_millis(now).replace('Z', "000000Z");
        let detail = json!({
            "eventType": event_type,
            "eventName": r.status.event_name(),
            "hookId": r.id,
            "hookType": r.target.as_str(),
            "expiresAt": iso_seconds(r.expires_at),
            "lifecycleStage": r.stage,
            "clusterArn": d.cluster_arn,
            "serviceArn": d.service_arn,
            "serviceDeploymentArn": d.arn,
            "updatedAt": updated,
        });
        let arn = d.arn.clone();
        self.emit(HOOK_STATE_CHANGE, vec![arn], detail);
    }
}

/// `lifecycleHookDetails` of a service deployment: the hooks of its current (or last)
/// hook stage. The guide lists "each active hook" without saying whether finished ones
/// stay; the simulator keeps the current stage's, finished or not, until the next stage.
pub(crate) fn hook_details(runs: &[HookRun]) -> Value {
    let list = runs
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("hookId".into(), json!(r.id));
            m.insert("targetType".into(), json!(r.target.as_str()));
            if let Some(arn) = &r.arn {
                m.insert("targetArn".into(), json!(arn));
            }
            m.insert("status".into(), json!(r.status.as_str()));
            m.insert("expiresAt".into(), crate::sim::clock::epoch_seconds(r.expires_at));
            m.insert("timeoutAction".into(), json!(r.timeout_action.as_str()));
            Value::Object(m)
        })
        .collect();
    Value::Array(list)
}
