//! ListTasks, DescribeTasks, StopTask.

use serde_json::{Value, json};

use super::req::{Req, page};
use crate::sim::api::error::EcsError;
use crate::sim::lifecycle::StopCause;
use crate::sim::model::TaskStatus;
use crate::sim::render::{self, Shape};
use crate::sim::world::World;

/// Filters: serviceName, family, startedBy, launchType, desiredStatus (default RUNNING).
/// `startedBy` must be the only filter (API reference, ListTasks).
pub fn list(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let service = r.str("serviceName")?;
    let family = r.str("family")?;
    let started_by = r.str("startedBy")?;
    if started_by.is_some() && (service.is_some() || family.is_some() || r.value("containerInstance").is_some()) {
        return Err(EcsError::invalid(
            "When you specify startedBy as the filter, it must be the only filter that you use.",
        ));
    }
    let group = match service {
        Some(s) => {
            let i = w.service_index(&cluster, s).ok_or_else(EcsError::service_not_found)?;
            Some(w.services[i].group())
        }
        None => None,
    };
    let desired = r.str("desiredStatus")?.unwrap_or("RUNNING");
    if !matches!(desired, "RUNNING" | "PENDING" | "STOPPED") {
        return Err(EcsError::invalid("desiredStatus must be RUNNING, PENDING or STOPPED."));
    }
    let launch_type = r.str("launchType")?;
    let mut tasks: Vec<_> = w
        .tasks
        .values()
        .filter(|t| t.cluster == cluster)
        .filter(|t| group.as_ref().is_none_or(|g| &t.group == g))
        .filter(|t| started_by.is_none_or(|b| t.started_by.as_deref() == Some(b)))
        .filter(|t| {
            family.is_none_or(|f| {
                t.task_def_arn.rsplit_once(':').map(|(a, _)| a.ends_with(&format!("/{f}"))) == Some(true)
            })
        })
        .filter(|t| launch_type.is_none_or(|l| t.launch_type == l))
        .filter(|t| t.desired_status == desired)
        .collect();
    tasks.sort_by_key(|t| (t.created_at, t.id.clone()));
    let arns = tasks.iter().map(|t| t.arn.clone()).collect();
    page(r, "taskArns", arns, 100)
}

/// Unknown tasks are reported in `failures` with reason MISSING.
pub fn describe(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let idents = r.strings("tasks")?.ok_or_else(|| EcsError::invalid("tasks must be specified."))?;
    if idents.len() > 100 {
        return Err(EcsError::invalid("tasks can have at most 100 items."));
    }
    let tags = r.include_tags()?;
    let now = w.now();
    let (mut tasks, mut failures) = (Vec::new(), Vec::new());
    for ident in idents {
        match w.task_id(ident).and_then(|id| w.tasks.get(&id)).filter(|t| t.cluster == cluster) {
            Some(t) => tasks.push(render::task(t, now, Shape::Api, tags)),
            None => {
                let arn = if ident.starts_with("arn:") {
                    ident.to_string()
                } else {
                    w.arn("ecs", &format!("task/{cluster}/{ident}"))
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"tasks": tasks, "failures": failures}))
}

/// stopCode UserInitiated; a service replaces the task (not counted as a failure).
pub fn stop(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let ident = r.req_str("task")?;
    let id = w
        .task_id(ident)
        .filter(|id| w.tasks.get(id).is_some_and(|t| t.cluster == cluster))
        .ok_or_else(|| EcsError::invalid("The referenced task was not found."))?;
    let reason = r.str("reason")?.unwrap_or("Task stopped by user").to_string();
    if w.tasks.get(&id).is_some_and(|t| t.last_status != TaskStatus::Stopped) {
        w.stop_task(&id, StopCause { code: "UserInitiated", reason, failure: None, wait_for_drain: true });
    }
    let now = w.now();
    let t = w.tasks.get(&id).ok_or_else(|| EcsError::invalid("The referenced task was not found."))?;
    Ok(json!({"task": render::task(t, now, Shape::Api, false)}))
}
