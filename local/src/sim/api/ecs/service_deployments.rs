//! ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions
//! and StopServiceDeployment (botocore's ECS model; rules from the ECS Developer
//! Guide, "View service history using Amazon ECS service deployments" and
//! "Stopping Amazon ECS service deployments").

use serde_json::{Map, Value, json};

use super::req::Req;
use crate::sim::api::error::EcsError;
use crate::sim::clock::{SimTime, epoch_seconds};
use crate::sim::model::{HookAction, ServiceDeployment, ServiceDeploymentStatus, ServiceRevision};
use crate::sim::world::World;

/// "You can specify a maximum of 20 ARNs" (DescribeServiceDeployments, DescribeServiceRevisions).
const MAX_ARNS: usize = 20;

fn ts(t: SimTime) -> Value {
    epoch_seconds(t)
}

/// A `createdAt` bound of the request: epoch seconds on the awsJson wire.
fn bound(r: &Req, k: &str) -> Result<Option<SimTime>, EcsError> {
    match r.value(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(|s| Some((s * 1000.0).round() as SimTime))
            .ok_or_else(|| EcsError::serialization(format!("{k} must be a timestamp."))),
    }
}

/// Services' deployments, newest first (as a real ListServiceDeployments answers).
pub fn list(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let idx = w.service_index(&cluster, r.req_str("service")?).ok_or_else(EcsError::service_not_found)?;
    let service_arn = w.services[idx].arn.clone();
    let statuses = match r.strings("status")? {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|s| {
                    ServiceDeploymentStatus::parse(s)
                        .ok_or_else(|| EcsError::invalid(format!("{s} is not a service deployment status.")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let (before, after) = match r.object("createdAt")? {
        Some(c) => (bound(&c, "before")?, bound(&c, "after")?),
        None => (None, None),
    };
    // "between 1 and 100 … returns up to 20 results" (ListServiceDeployments).
    let max = r.i64("maxResults")?.unwrap_or(20);
    if !(1..=100).contains(&max) {
        return Err(EcsError::invalid("maxResults must be between 1 and 100."));
    }
    let start = match r.str("nextToken")? {
        None => 0,
        Some(t) => t.parse::<usize>().map_err(|_| EcsError::invalid("Invalid nextToken."))?,
    };
    let matching: Vec<&ServiceDeployment> = w
        .service_deployments
        .iter()
        .rev()
        .filter(|d| d.service_arn == service_arn)
        .filter(|d| statuses.as_ref().is_none_or(|s| s.contains(&d.status)))
        .filter(|d| before.is_none_or(|b| d.created_at < b) && after.is_none_or(|a| d.created_at > a))
        .collect();
    let end = start.saturating_add(max as usize).min(matching.len());
    let briefs: Vec<Value> = matching.get(start.min(end)..end).unwrap_or_default().iter().map(|d| brief(d)).collect();
    let mut out = Map::new();
    out.insert("serviceDeployments".into(), Value::Array(briefs));
    if end < matching.len() {
        out.insert("nextToken".into(), json!(end.to_string()));
    }
    Ok(Value::Object(out))
}

fn brief(d: &ServiceDeployment) -> Value {
    let mut m = Map::new();
    m.insert("serviceDeploymentArn".into(), json!(d.arn));
    m.insert("serviceArn".into(), json!(d.service_arn));
    m.insert("clusterArn".into(), json!(d.cluster_arn));
    if let Some(t) = d.started_at {
        m.insert("startedAt".into(), ts(t));
    }
    m.insert("createdAt".into(), ts(d.created_at));
    if let Some(t) = d.finished_at {
        m.insert("finishedAt".into(), ts(t));
    }
    m.insert("targetServiceRevisionArn".into(), json!(d.target_revision));
    m.insert("status".into(), json!(d.status.as_str()));
    if let Some(reason) = &d.status_reason {
        m.insert("statusReason".into(), json!(reason));
    }
    Value::Object(m)
}

fn arns<'a>(r: &Req<'a>, k: &str) -> Result<Vec<&'a str>, EcsError> {
    let arns = r.strings(k)?.ok_or_else(|| EcsError::invalid(format!("{k} must be specified.")))?;
    if arns.is_empty() || arns.len() > MAX_ARNS {
        return Err(EcsError::invalid(format!("{k} must contain between 1 and {MAX_ARNS} items.")));
    }
    Ok(arns)
}

/// Unknown ARNs are `failures` with reason MISSING, as for DescribeServices.
pub fn describe(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for arn in arns(r, "serviceDeploymentArns")? {
        match w.service_deployments.iter().find(|d| d.arn == arn) {
            Some(d) => found.push(full(w, d)),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceDeployments": found, "failures": failures}))
}

fn summary(w: &World, d: &ServiceDeployment, arn: &str) -> Value {
    let c = w.counts_in(d, arn);
    let mut v = json!({"arn": arn, "requestedTaskCount": c.requested, "runningTaskCount": c.running, "pendingTaskCount": c.pending});
    // "The percentage of production traffic that is directed to this service revision"
    // (ServiceRevisionSummary): green's share for the target, the rest for blue.
    if let (Some(shift), Some(o)) = (&d.shift, v.as_object_mut()) {
        let share = |green: f64| {
            if arn == d.target_revision {
                green
            } else if shift.blue_revision.as_deref() == Some(arn) {
                100.0 - green
            } else {
                0.0
            }
        };
        o.insert("requestedProductionTrafficWeight".into(), json!(share(shift.production_percent)));
        if shift.pairs.iter().any(|p| p.test_rule.is_some()) {
            o.insert("requestedTestTrafficWeight".into(), json!(share(shift.test_percent)));
        }
    }
    v
}

fn full(w: &World, d: &ServiceDeployment) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    put("serviceDeploymentArn", json!(d.arn));
    put("serviceArn", json!(d.service_arn));
    put("clusterArn", json!(d.cluster_arn));
    put("createdAt", ts(d.created_at));
    if let Some(t) = d.started_at {
        put("startedAt", ts(t));
    }
    if let Some(t) = d.finished_at {
        put("finishedAt", ts(t));
    }
    if let Some(t) = d.stopped_at {
        put("stoppedAt", ts(t));
    }
    put("updatedAt", ts(d.updated_at));
    put("sourceServiceRevisions", Value::Array(d.source_revisions.iter().map(|a| summary(w, d, a)).collect()));
    put("targetServiceRevision", summary(w, d, &d.target_revision));
    put("status", json!(d.status.as_str()));
    if let Some(reason) = &d.status_reason {
        put("statusReason", json!(reason));
    }
    put("deploymentConfiguration", d.deployment_configuration.clone());
    // Rolling deployments report no stage; a finished traffic shift keeps its last one.
    if let Some(shift) = &d.shift {
        put("lifecycleStage", json!(shift.stage.as_str()));
        if !shift.hooks.is_empty() {
            put("lifecycleHookDetails", crate::sim::hooks::hook_details(&shift.hooks));
        }
    }
    if let Some((reason, started, revision, _)) = &d.rollback {
        put("rollback", json!({"reason": reason, "startedAt": ts(*started), "serviceRevisionArn": revision}));
    }
    // ServiceDeploymentRollbackMonitorsStatus: DISABLED, MONITORING, TRIGGERED, MONITORING_COMPLETE.
    let breaker_status = if !d.breaker_enabled {
        "DISABLED"
    } else if d.breaker_triggered {
        "TRIGGERED"
    } else if d.status.is_finished() {
        "MONITORING_COMPLETE"
    } else {
        "MONITORING"
    };
    let target_ecs_id =
        w.service_revisions.iter().find(|r| r.arn == d.target_revision).map(|r| r.ecs_deployment_id.clone());
    let service = w.services.iter().rev().find(|s| s.arn == d.service_arn);
    let failures = service
        .and_then(|s| target_ecs_id.and_then(|id| s.deployment(&id).map(|x| x.failed_tasks)))
        .unwrap_or_default();
    let threshold = service.map_or(0, |s| s.deployment_config.breaker_threshold(s.desired_count));
    put(
        "deploymentCircuitBreaker",
        json!({"status": breaker_status, "failureCount": failures, "threshold": threshold}),
    );
    // The simulator evaluates no alarms.
    put("alarms", json!({"status": "DISABLED"}));
    Value::Object(m)
}

pub fn describe_revisions(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for arn in arns(r, "serviceRevisionArns")? {
        match w.service_revisions.iter().find(|x| x.arn == arn) {
            Some(rev) => found.push(revision(rev)),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceRevisions": found, "failures": failures}))
}

fn revision(r: &ServiceRevision) -> Value {
    let mut m = Map::new();
    m.insert("serviceRevisionArn".into(), json!(r.arn));
    m.insert("serviceArn".into(), json!(r.service_arn));
    m.insert("clusterArn".into(), json!(r.cluster_arn));
    m.insert("taskDefinition".into(), json!(r.task_def_arn));
    m.insert("launchType".into(), json!(r.launch_type));
    if let Some(pv) = &r.platform_version {
        m.insert("platformVersion".into(), json!(pv));
        m.insert("platformFamily".into(), json!("Linux"));
    }
    m.insert("loadBalancers".into(), Value::Array(r.load_balancers.clone()));
    if let Some(n) = &r.network_configuration {
        m.insert("networkConfiguration".into(), n.clone());
    }
    let images = r
        .container_images
        .iter()
        .map(|(name, image, digest)| {
            let mut c = json!({"containerName": name, "image": image});
            if let (Some(d), Some(o)) = (digest, c.as_object_mut()) {
                o.insert("imageDigest".into(), json!(d));
            }
            c
        })
        .collect();
    m.insert("containerImages".into(), Value::Array(images));
    // "which target groups serve traffic and which listener rules direct traffic to
    // them" (ResolvedConfiguration): the groups this revision's tasks register with.
    let resolved: Vec<Value> = r
        .resolved_lbs
        .iter()
        .map(|(tg, rule)| {
            let mut lb = Map::new();
            lb.insert("targetGroupArn".into(), json!(tg));
            if let Some(rule) = rule {
                lb.insert("productionListenerRule".into(), json!(rule));
            }
            Value::Object(lb)
        })
        .collect();
    m.insert("resolvedConfiguration".into(), json!({"loadBalancers": resolved}));
    m.insert("guardDutyEnabled".into(), json!(false));
    m.insert("createdAt".into(), ts(r.created_at));
    Value::Object(m)
}

/// "You can stop a deployment that is in any of the following states: PENDING,
/// IN_PROGRESS - The service deployment moves to the ROLLBACK_REQUESTED state,
/// and then the rollback operation starts. STOP_REQUESTED - … continues to stop.
/// ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS - … continues the rollback."
/// The guide names ROLLBACK as the only valid stop type.
pub fn stop(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let arn = r.req_str("serviceDeploymentArn")?.to_owned();
    match r.str("stopType")? {
        None | Some("ROLLBACK") => {}
        Some(other) => {
            return Err(EcsError::invalid(format!("stopType {other} is not supported: the valid value is ROLLBACK.")));
        }
    }
    let Some(i) = w.service_deployments.iter().position(|d| d.arn == arn) else {
        return Err(EcsError::new(
            "ServiceDeploymentNotFoundException",
            format!("The service deployment {arn} does not exist."),
        ));
    };
    let d = &w.service_deployments[i];
    match d.status {
        ServiceDeploymentStatus::Pending | ServiceDeploymentStatus::InProgress => w.stop_with_rollback(i)?,
        ServiceDeploymentStatus::StopRequested
        | ServiceDeploymentStatus::RollbackRequested
        | ServiceDeploymentStatus::RollbackInProgress => {}
        finished => {
            return Err(EcsError::new(
                "ConflictException",
                format!("The service deployment {arn} is {} and cannot be stopped.", finished.as_str()),
            ));
        }
    }
    Ok(json!({"serviceDeploymentArn": arn}))
}

/// ContinueServiceDeployment: resolves a PAUSE hook that is AWAITING_ACTION with
/// `action` CONTINUE (the default) or ROLLBACK (ECS Developer Guide, "Continuing or
/// rolling back a paused Amazon ECS service deployment").
pub fn continue_deployment(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let arn = r.req_str("serviceDeploymentArn")?.to_owned();
    let hook_id = r.req_str("hookId")?;
    let action = match r.str("action")? {
        None => HookAction::Continue,
        Some(a) => HookAction::parse(a)
            .ok_or_else(|| EcsError::invalid(format!("action {a} is invalid: it must be CONTINUE or ROLLBACK.")))?,
    };
    let Some(i) = w.service_deployments.iter().position(|d| d.arn == arn) else {
        return Err(EcsError::new(
            "ServiceDeploymentNotFoundException",
            format!("The service deployment {arn} does not exist."),
        ));
    };
    w.continue_hook(i, hook_id, action)?;
    Ok(json!({"serviceDeploymentArn": arn}))
}

impl World {
    /// StopServiceDeployment ROLLBACK: back to the last service revision that
    /// completed ("You can use this option even if you didn't configure the
    /// service deployment for the rollback option").
    fn stop_with_rollback(&mut self, i: usize) -> Result<(), EcsError> {
        let service_arn = self.service_deployments[i].service_arn.clone();
        let svc = self.services.iter().rposition(|s| s.arn == service_arn).ok_or_else(EcsError::service_not_found)?;
        let shift_blue = self.service_deployments[i].shift.is_some().then(|| self.shift_can_roll_back(i));
        let Some((good_id, good_td)) =
            self.services[svc].last_completed_task_def.clone().filter(|_| shift_blue != Some(false))
        else {
            return Err(EcsError::new(
                "ConflictException",
                "The service has no earlier service revision that completed to roll back to.",
            ));
        };
        let now = self.now();
        self.service_deployments[i].status = ServiceDeploymentStatus::RollbackRequested;
        self.service_deployments[i].updated_at = now;
        if self.service_deployments[i].shift.is_some() {
            let blue = self.service_deployments[i].shift.as_ref().and_then(|s| s.blue_ids.first().cloned());
            let why = format!(
                "Service deployment rolled back on request: rolling back to deploymentId {}.",
                blue.unwrap_or_default()
            );
            self.shift_rollback(svc, i, &why, &why);
            return Ok(());
        }
        let why = format!("Service deployment rolled back on request: rolling back to deploymentId {good_id}.");
        let rollback_id = self.launch_deployment(svc, &good_td, Some(why.clone()));
        self.begin_rollback(i, &why, &rollback_id, &good_id, now);
        Ok(())
    }
}
