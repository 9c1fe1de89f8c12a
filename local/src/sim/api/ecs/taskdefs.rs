//! RegisterTaskDefinition, DescribeTaskDefinition, DeregisterTaskDefinition,
//! ListTaskDefinitions, ListTaskDefinitionFamilies.
//!
//! The request object is stored verbatim (minus `tags`), so every member — including
//! ones this simulator does not know — comes back from DescribeTaskDefinition.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::render;
use super::req::{Req, page};
use crate::sim::api::error::EcsError;
use crate::sim::model::TaskDef;
use crate::sim::world::World;

pub fn register(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let family = r.req_str("family")?;
    if family.len() > 255 || !family.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(EcsError::client(
            "Family contains invalid characters (up to 255 letters, numbers, hyphens and underscores are allowed).",
        ));
    }
    let containers =
        r.array("containerDefinitions")?.ok_or_else(|| EcsError::client("Container list cannot be empty."))?;
    if containers.is_empty() {
        return Err(EcsError::client("Container list cannot be empty."));
    }
    let mut names = HashSet::new();
    for c in containers {
        let c =
            c.as_object().ok_or_else(|| EcsError::serialization("containerDefinitions must be a list of objects."))?;
        let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            return Err(EcsError::client("Container.name should not be null or empty."));
        }
        if !names.insert(name) {
            return Err(EcsError::client(format!("Duplicate container name: {name}.")));
        }
        if c.get("image").and_then(Value::as_str).unwrap_or_default().is_empty() {
            return Err(EcsError::client("Container.image should not be null or empty."));
        }
    }
    let fargate = r.strings("requiresCompatibilities")?.unwrap_or_default().contains(&"FARGATE");
    if fargate && r.str("networkMode")? != Some("awsvpc") {
        return Err(EcsError::client("Fargate only supports network mode 'awsvpc'."));
    }
    if fargate && (r.str("cpu")?.is_none() || r.str("memory")?.is_none()) {
        return Err(EcsError::client(
            "Fargate requires task definition to have 'cpu' and 'memory' defined at the task level.",
        ));
    }
    let tags = r.tags()?;
    let mut body = r.0.clone();
    body.remove("tags");
    fill_defaults(&mut body);
    let revision = w.task_defs.get(family).map_or(0, Vec::len) as u32 + 1;
    let td = TaskDef {
        family: family.to_string(),
        revision,
        arn: w.arn("ecs", &format!("task-definition/{family}:{revision}")),
        body,
        tags: tags.clone(),
        status: "ACTIVE".into(),
        registered_at: w.now(),
        deregistered_at: None,
        registered_by: format!("arn:aws:iam::{}:root", w.account),
    };
    let out = json!({"taskDefinition": render::task_def(&td), "tags": tags});
    w.task_defs.entry(family.to_string()).or_default().push(td);
    Ok(out)
}

/// The members ECS fills in when a registration leaves them out, as its
/// responses show them (botocore's ECS examples, RegisterTaskDefinition and
/// DescribeTaskDefinition: `volumes: []`; per container `environment`,
/// `mountPoints`, `portMappings`, `volumesFrom` as `[]` and `essential: true`;
/// and `placementConstraints: []`). Clients such as fabfuel's `ecs deploy`
/// read them without checking.
fn fill_defaults(body: &mut serde_json::Map<String, Value>) {
    for k in ["volumes", "placementConstraints"] {
        body.entry(k).or_insert_with(|| Value::Array(Vec::new()));
    }
    if let Some(Value::Array(containers)) = body.get_mut("containerDefinitions") {
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            for k in ["portMappings", "environment", "mountPoints", "volumesFrom"] {
                c.entry(k).or_insert_with(|| Value::Array(Vec::new()));
            }
            c.entry("essential").or_insert(Value::Bool(true));
        }
    }
}

pub fn describe(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let ident = r.req_str("taskDefinition")?;
    let td = w.task_def(ident).ok_or_else(|| EcsError::client("Unable to describe task definition."))?;
    let mut out = json!({"taskDefinition": render::task_def(td)});
    if r.include_tags()?
        && let Some(m) = out.as_object_mut()
    {
        m.insert("tags".into(), Value::Array(td.tags.clone()));
    }
    Ok(out)
}

/// Needs `family:revision` (or the ARN); the revision becomes INACTIVE.
pub fn deregister(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let ident = r.req_str("taskDefinition")?;
    let name = ident.rsplit_once("task-definition/").map_or(ident, |(_, n)| n);
    if !name.contains(':') {
        return Err(EcsError::client("A revision must be specified (family:revision or the full ARN)."));
    }
    let arn = w
        .task_def(ident)
        .map(|t| t.arn.clone())
        .ok_or_else(|| EcsError::client("The specified task definition does not exist."))?;
    let now = w.now();
    let td = w
        .task_defs
        .values_mut()
        .flatten()
        .find(|t| t.arn == arn)
        .ok_or_else(|| EcsError::client("The specified task definition does not exist."))?;
    if td.status == "ACTIVE" {
        td.status = "INACTIVE".into();
        td.deregistered_at = Some(now);
    }
    Ok(json!({"taskDefinition": render::task_def(td)}))
}

pub fn list(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let family = r.str("familyPrefix")?;
    let status = r.str("status")?.unwrap_or("ACTIVE");
    if !matches!(status, "ACTIVE" | "INACTIVE" | "DELETE_IN_PROGRESS") {
        return Err(EcsError::invalid("status must be ACTIVE, INACTIVE or DELETE_IN_PROGRESS."));
    }
    let mut arns: Vec<String> = w
        .task_defs
        .iter()
        .filter(|(f, _)| family.is_none_or(|p| p == f.as_str()))
        .flat_map(|(_, revs)| revs.iter())
        .filter(|t| t.status == status)
        .map(|t| t.arn.clone())
        .collect();
    match r.str("sort")? {
        None | Some("ASC") => {}
        Some("DESC") => arns.reverse(),
        Some(_) => return Err(EcsError::invalid("sort must be ASC or DESC.")),
    }
    page(r, "taskDefinitionArns", arns, 100)
}

pub fn list_families(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let prefix = r.str("familyPrefix")?.unwrap_or("");
    let status = r.str("status")?.unwrap_or("ACTIVE");
    let families = w
        .task_defs
        .iter()
        .filter(|(f, revs)| f.starts_with(prefix) && (status == "ALL" || revs.iter().any(|t| t.status == status)))
        .map(|(f, _)| f.clone())
        .collect();
    page(r, "families", families, 100)
}
