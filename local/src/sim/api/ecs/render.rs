//! ECS API shapes (botocore `ecs` model: Cluster, TaskDefinition, Service, Deployment);
//! timestamps are epoch seconds as awsJson1_1 encodes them.

use serde_json::{Map, Value, json};

use crate::sim::clock::epoch_seconds;
use crate::sim::model::{Cluster, Deployment, DeploymentConfig, Service, ServiceStatus, TaskDef, TaskStatus};
use crate::sim::world::World;

pub fn cluster(w: &World, c: &Cluster, include: &[&str]) -> Value {
    let tasks = w.tasks.values().filter(|t| t.cluster == c.name && t.last_status != TaskStatus::Stopped);
    let (mut running, mut pending) = (0, 0);
    for t in tasks {
        if t.last_status == TaskStatus::Running {
            running += 1;
        } else if t.last_status.is_pending() {
            pending += 1;
        }
    }
    let active = w.services.iter().filter(|s| s.cluster == c.name && s.status == ServiceStatus::Active).count();
    let mut v = json!({
        "clusterArn": c.arn, "clusterName": c.name, "status": c.status,
        "registeredContainerInstancesCount": 0, "runningTasksCount": running,
        "pendingTasksCount": pending, "activeServicesCount": active,
        "statistics": [], "tags": [], "settings": c.settings.clone().unwrap_or_else(|| json!([])),
        "capacityProviders": [], "defaultCapacityProviderStrategy": [],
    });
    if let Some(m) = v.as_object_mut() {
        if include.contains(&"TAGS") {
            m.insert("tags".into(), Value::Array(c.tags.clone()));
        }
        if let Some(conf) = &c.configuration {
            m.insert("configuration".into(), conf.clone());
        }
    }
    v
}

/// The registered object plus the read-only members ECS adds.
pub fn task_def(td: &TaskDef) -> Value {
    let mut m: Map<String, Value> = td.body.clone();
    m.insert("taskDefinitionArn".into(), json!(td.arn));
    m.insert("family".into(), json!(td.family));
    m.insert("revision".into(), json!(td.revision));
    m.insert("status".into(), json!(td.status));
    m.insert("registeredAt".into(), epoch_seconds(td.registered_at));
    m.insert("registeredBy".into(), json!(td.registered_by));
    if let Some(at) = td.deregistered_at {
        m.insert("deregisteredAt".into(), epoch_seconds(at));
    }
    let awsvpc = td.network_mode() == "awsvpc";
    let mut compat = vec!["EC2"];
    if awsvpc && td.string_field("cpu").is_some() && td.string_field("memory").is_some() {
        compat.push("FARGATE");
    }
    m.insert("compatibilities".into(), json!(compat));
    let mut attrs = vec![json!({"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"})];
    if awsvpc {
        attrs.push(json!({"name": "ecs.capability.task-eni"}));
    }
    if td.containers().iter().any(|c| c.get("healthCheck").is_some()) {
        attrs.push(json!({"name": "ecs.capability.container-health-check"}));
    }
    m.insert("requiresAttributes".into(), Value::Array(attrs));
    Value::Object(m)
}

pub fn deployment(w: &World, s: &Service, d: &Deployment) -> Value {
    let mut running = 0;
    let mut pending = 0;
    for t in w.service_tasks(&s.arn).filter(|t| t.deployment_id.as_deref() == Some(d.id.as_str()) && t.is_alive()) {
        if t.last_status == TaskStatus::Running {
            running += 1;
        } else {
            pending += 1;
        }
    }
    let mut v = json!({
        "id": d.id, "status": d.status.as_str(), "taskDefinition": d.task_def_arn,
        "desiredCount": d.desired_count, "pendingCount": pending, "runningCount": running,
        "failedTasks": d.failed_tasks, "createdAt": epoch_seconds(d.created_at),
        "updatedAt": epoch_seconds(d.updated_at), "launchType": d.launch_type,
        "rolloutState": d.rollout_state.as_str(), "rolloutStateReason": d.rollout_state_reason,
    });
    if let Some(m) = v.as_object_mut() {
        if let Some(pv) = &d.platform_version {
            m.insert("platformVersion".into(), json!(pv));
            m.insert("platformFamily".into(), json!("Linux"));
        }
        if let Some(n) = &d.network_configuration {
            m.insert("networkConfiguration".into(), n.clone());
        }
    }
    v
}

/// A service's `deploymentConfiguration` as ECS reports it.
pub fn deployment_configuration(cfg: &DeploymentConfig) -> Value {
    let mut breaker = cfg.breaker_raw.clone();
    breaker.insert("enable".into(), json!(cfg.breaker_enable));
    breaker.insert("rollback".into(), json!(cfg.breaker_rollback));
    let mut dc = cfg.extra.clone();
    dc.insert("deploymentCircuitBreaker".into(), Value::Object(breaker));
    dc.insert("maximumPercent".into(), json!(cfg.maximum_percent));
    dc.insert("minimumHealthyPercent".into(), json!(cfg.minimum_healthy_percent));
    Value::Object(dc)
}

pub fn service(w: &World, s: &Service, include_tags: bool) -> Value {
    let (mut running, mut pending) = (0, 0);
    for t in w.service_tasks(&s.arn).filter(|t| t.is_alive()) {
        if t.last_status == TaskStatus::Running {
            running += 1;
        } else {
            pending += 1;
        }
    }
    let mut m: Map<String, Value> = s.extra.clone();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    put("serviceArn", json!(s.arn));
    put("serviceName", json!(s.name));
    put("clusterArn", json!(s.cluster_arn));
    put("loadBalancers", Value::Array(s.load_balancers.iter().map(|l| l.raw.clone()).collect()));
    put("status", json!(s.status.as_str()));
    put("desiredCount", json!(s.desired_count));
    put("runningCount", json!(running));
    put("pendingCount", json!(pending));
    put("launchType", json!(s.launch_type));
    if let Some(pv) = &s.platform_version {
        put("platformVersion", json!(pv));
        put("platformFamily", json!("Linux"));
    }
    put("taskDefinition", json!(s.task_def_arn));
    put("deploymentConfiguration", deployment_configuration(&s.deployment_config));
    put("deployments", Value::Array(s.deployments.iter().map(|d| deployment(w, s, d)).collect()));
    put(
        "events",
        Value::Array(
            s.events
                .iter()
                .map(|e| json!({"id": e.id, "createdAt": epoch_seconds(e.created_at), "message": e.message}))
                .collect(),
        ),
    );
    put("createdAt", epoch_seconds(s.created_at));
    // The newest service deployment, and the revisions that have tasks
    // (`deployments[]` entries still listed).
    if let Some(d) = w.service_deployments.iter().rev().find(|d| d.service_arn == s.arn) {
        put("currentServiceDeployment", json!(d.arn));
    }
    let mut revisions: Vec<&crate::sim::model::ServiceRevision> = Vec::new();
    for r in s.deployments.iter().filter_map(|d| w.service_revisions.iter().find(|r| r.runs(&d.id))) {
        if !revisions.iter().any(|x| x.arn == r.arn) {
            revisions.push(r);
        }
    }
    let current: Vec<Value> = revisions
        .into_iter()
        .map(|r| {
            let c = w.live_counts(&r.arn);
            json!({"arn": r.arn, "requestedTaskCount": c.requested, "runningTaskCount": c.running, "pendingTaskCount": c.pending})
        })
        .collect();
    if !current.is_empty() {
        put("currentServiceRevisions", Value::Array(current));
    }
    if let Some(n) = &s.network_configuration {
        put("networkConfiguration", n.clone());
    }
    if let Some(g) = s.health_check_grace_period {
        put("healthCheckGracePeriodSeconds", json!(g));
    }
    if include_tags {
        put("tags", Value::Array(s.tags.clone()));
    }
    Value::Object(m)
}
