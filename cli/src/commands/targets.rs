//! `autodeploy targets`: the deploy targets table — which repository's pushes
//! go to which service. A target is checked against ECS before it is written
//! (the service exists, the named containers are in its task definition), and
//! writes are conditional, so an existing target is never overwritten by accident.

use std::process::ExitCode;

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::DynamoTargets;
use autodeploy_shared::domain::{
    ApprovalPolicy, DEFAULT_APPROVAL_MINUTES, DeployTarget, ImageRef, OnTimeout, ServiceRef, TagRule,
    is_ecr_repository_name,
};
use autodeploy_shared::ports::{DeployTargets, Ecs};
use serde_json::{Value, json};

use super::close_names::close_names;
use super::denied;
use crate::error::CliError;
use crate::output::Output;
use crate::stack::Stack;

const TAG_RULE_HELP: &str = "`exact:TAG`, `glob:PATTERN` (`*` and `?`), `semver` or `semver:REQUIREMENT` \
                             (e.g. `semver:>=1.2, <2`), or the stored JSON (`{\"type\":\"glob\",\"pattern\":\"v*\"}`)";

#[derive(Debug, clap::Subcommand)]
pub enum TargetsCommand {
    /// The deploy targets, by repository and target id.
    List {
        /// Only this ECR repository's targets.
        #[arg(long)]
        repository: Option<String>,
        /// Only the targets that deploy to this service.
        #[arg(long, value_name = "CLUSTER/SERVICE")]
        service: Option<String>,
    },
    /// Add a deploy target, checked first.
    ///
    /// The tag rule must parse, the service exist and every named container be
    /// in the task definition the service runs; an existing target is refused
    /// unless --replace.
    Add(Add),
    /// Remove a deploy target: pushes no longer deploy to it.
    Remove(Key),
    /// Enable a deploy target: matching pushes deploy again.
    Enable(Key),
    /// Disable a deploy target: it stays, but no push deploys it.
    Disable(Key),
}

/// Which target: its key in the table.
#[derive(Debug, clap::Args)]
pub struct Key {
    /// The target's ECR repository.
    #[arg(long)]
    repository: String,
    /// The target's id within the repository.
    #[arg(long)]
    target_id: String,
}

#[derive(Debug, clap::Args)]
pub struct Add {
    /// The ECR repository whose pushes the target deploys.
    #[arg(long)]
    repository: String,
    /// Unique within the repository, e.g. `prod-web`.
    #[arg(long)]
    target_id: String,
    /// The ECS service the target deploys to.
    #[arg(long, value_name = "CLUSTER/SERVICE")]
    service: String,
    /// Which tags deploy: `exact:TAG`, `glob:PATTERN`, `semver`, `semver:REQUIREMENT`
    /// (e.g. `semver:>=1.2, <2`), or the stored JSON.
    #[arg(long, value_name = "RULE")]
    tag_rule: String,
    /// A container that gets the image (repeatable); none named: every container
    /// whose image is from the repository.
    #[arg(long = "container", value_name = "NAME")]
    containers: Vec<String>,
    /// A CloudWatch alarm that fails a rollout while in ALARM (repeatable).
    #[arg(long = "alarm", value_name = "NAME")]
    alarms: Vec<String>,
    /// Another registry whose pushes the target deploys (repeatable), e.g.
    /// `111122223333.dkr.ecr.eu-west-1.amazonaws.com`.
    #[arg(long = "registry", value_name = "HOST")]
    registries: Vec<String>,
    /// Write it disabled (`targets enable` later).
    #[arg(long)]
    disabled: bool,
    /// Keep the reconciler away: only push events deploy it.
    #[arg(long)]
    no_reconcile: bool,
    /// Every deployment waits for a person to approve it (default 1440 minutes, then REJECT).
    #[arg(long)]
    approval: bool,
    /// How long a deployment waits for approval (1 to 20160); implies --approval.
    #[arg(long, value_name = "N")]
    approval_timeout_minutes: Option<u32>,
    /// What a deployment nobody decided on becomes; implies --approval.
    #[arg(long, value_parser = ["REJECT", "APPROVE"], ignore_case = true)]
    on_timeout: Option<String>,
    /// Overwrite the target if one with this repository and id exists.
    #[arg(long)]
    replace: bool,
}

/// `autodeploy targets …`.
pub async fn targets(stack: &Stack, out: &Output, command: TargetsCommand) -> Result<ExitCode, CliError> {
    let (targets, table) = stack.targets.as_ref().ok_or_else(|| {
        CliError::Invalid(
            "the stack names no deploy-targets table (output TargetsTableName, or AUTODEPLOY_TARGETS_TABLE)".into(),
        )
    })?;
    let table = Table { targets, name: table };
    match command {
        TargetsCommand::List { repository, service } => {
            list(&table, out, repository.as_deref(), service.as_deref()).await
        }
        TargetsCommand::Add(add) => self::add(stack, &table, out, add).await,
        TargetsCommand::Remove(key) => remove(&table, out, &key).await,
        TargetsCommand::Enable(key) => set_enabled(&table, out, &key, true).await,
        TargetsCommand::Disable(key) => set_enabled(&table, out, &key, false).await,
    }
}

struct Table<'a> {
    targets: &'a DynamoTargets,
    name: &'a str,
}

async fn list(
    table: &Table<'_>,
    out: &Output,
    repository: Option<&str>,
    service: Option<&str>,
) -> Result<ExitCode, CliError> {
    let service = service.map(service_ref).transpose()?;
    let mut found = match repository {
        Some(r) => table.targets.for_repository(r).await.map_err(|e| denied(e, "dynamodb:Query", table.name))?,
        None => table.targets.all().await.map_err(|e| denied(e, "dynamodb:Scan", table.name))?,
    };
    if let Some(s) = &service {
        found.retain(|t| t.service_ref().is_ok_and(|r| r == *s));
    }
    found.sort_by(|a, b| (&a.repository, &a.target_id).cmp(&(&b.repository, &b.target_id)));
    if out.json() {
        out.document(&found.iter().map(document).collect::<Vec<_>>());
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        let mut what = String::from("no deploy targets");
        if let Some(r) = repository {
            what.push_str(&format!(" of repository {r}"));
        }
        if let Some(s) = &service {
            what.push_str(&format!(" for {}", s.key()));
        }
        println!("{what}");
        return Ok(ExitCode::SUCCESS);
    }
    let header = ["REPOSITORY", "TARGET", "SERVICE", "TAG RULE", "CONTAINERS", "ENABLED", "NOTES"];
    let rows: Vec<[String; 7]> = found
        .iter()
        .map(|t| {
            [
                t.repository.clone(),
                t.target_id.clone(),
                format!("{}/{}", t.cluster, t.service),
                rule_text(&t.tag_rule),
                if t.containers.is_empty() { "(all)".to_owned() } else { t.containers.join(",") },
                if t.enabled { "yes" } else { "no" }.to_owned(),
                notes(t),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        text.trim_end().to_owned()
    };
    println!("{}", line(header));
    for row in &rows {
        println!("{}", line(row.each_ref().map(String::as_str)));
    }
    Ok(ExitCode::SUCCESS)
}

async fn add(stack: &Stack, table: &Table<'_>, out: &Output, add: Add) -> Result<ExitCode, CliError> {
    let target = checked(stack, add.target()?).await?;
    let key = format!("{}/{}", target.repository, target.target_id);
    let before = if add.replace {
        let before = find(table, &target.repository, &target.target_id).await?;
        table.targets.put(&target).await.map_err(|e| denied(e, "dynamodb:PutItem", table.name))?;
        before
    } else {
        if !table.targets.create(&target).await.map_err(|e| denied(e, "dynamodb:PutItem", table.name))? {
            let existing = find(table, &target.repository, &target.target_id)
                .await
                .ok()
                .flatten()
                .map(|t| format!(" ({} on {})", rule_text(&t.tag_rule), on(&t)))
                .unwrap_or_default();
            return Err(CliError::Refused(format!(
                "deploy target {key} exists{existing}: nothing written; give --replace to overwrite it"
            )));
        }
        None
    };
    if out.json() {
        out.document(&document(&target));
    } else {
        let verb = if before.is_some() { "replaced" } else { "added" };
        let disabled = if target.enabled { "" } else { ", disabled" };
        let was = before.map(|b| format!(" (was {} on {})", rule_text(&b.tag_rule), on(&b))).unwrap_or_default();
        println!("{verb} deploy target {key}: {} on {}{disabled}{was}", rule_text(&target.tag_rule), on(&target));
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(table: &Table<'_>, out: &Output, key: &Key) -> Result<ExitCode, CliError> {
    if !table
        .targets
        .remove(&key.repository, &key.target_id)
        .await
        .map_err(|e| denied(e, "dynamodb:DeleteItem", table.name))?
    {
        return Err(unknown(table, key).await);
    }
    if out.json() {
        out.document(&json!({"repository": key.repository, "targetId": key.target_id, "removed": true}));
    } else {
        println!("removed deploy target {}/{}", key.repository, key.target_id);
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_enabled(table: &Table<'_>, out: &Output, key: &Key, enabled: bool) -> Result<ExitCode, CliError> {
    let Some(target) = table
        .targets
        .set_enabled(&key.repository, &key.target_id, enabled)
        .await
        .map_err(|e| denied(e, "dynamodb:UpdateItem", table.name))?
    else {
        return Err(unknown(table, key).await);
    };
    if out.json() {
        out.document(&document(&target));
    } else if enabled {
        println!(
            "enabled deploy target {}/{} on {}: matching pushes deploy it",
            key.repository,
            key.target_id,
            on(&target)
        );
    } else {
        println!(
            "disabled deploy target {}/{} on {}: no push deploys it until it is enabled",
            key.repository,
            key.target_id,
            on(&target)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One target, read from its repository's.
async fn find(table: &Table<'_>, repository: &str, target_id: &str) -> Result<Option<DeployTarget>, CliError> {
    let all = table.targets.for_repository(repository).await.map_err(|e| denied(e, "dynamodb:Query", table.name))?;
    Ok(all.into_iter().find(|t| t.target_id == target_id))
}

/// No such target: say which the repository has (and which is close).
async fn unknown(table: &Table<'_>, key: &Key) -> CliError {
    let Key { repository, target_id } = key;
    let mut ids: Vec<String> = match table.targets.for_repository(repository).await {
        Ok(all) => all.into_iter().map(|t| t.target_id).collect(),
        Err(_) => return CliError::Invalid(format!("no deploy target {repository}/{target_id}")),
    };
    ids.sort();
    if ids.is_empty() {
        return CliError::Invalid(format!(
            "no deploy target {repository}/{target_id}: repository {repository} has none"
        ));
    }
    let close = close_names(target_id, ids.iter().map(String::as_str));
    let hint = if close.is_empty() { String::new() } else { format!(" (did you mean {}?)", close.join(" or ")) };
    CliError::Invalid(format!(
        "no deploy target {repository}/{target_id}{hint}; repository {repository} has: {}",
        ids.join(", ")
    ))
}

impl Add {
    /// The target the arguments describe, checked as far as it can be without AWS.
    fn target(&self) -> Result<DeployTarget, CliError> {
        if !is_ecr_repository_name(&self.repository) {
            return Err(CliError::Invalid(format!(
                "{:?} is not an ECR repository name (lowercase letters, digits, `.`, `_`, `-`, `/`)",
                self.repository
            )));
        }
        // `#` separates the parts of a decision's key, so ids keep to plain characters.
        let id_ok = (1..=128).contains(&self.target_id.len())
            && self.target_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(CliError::Invalid(format!(
                "{:?} is not a target id: 1 to 128 letters, digits, `-`, `_` or `.`",
                self.target_id
            )));
        }
        for r in &self.registries {
            if r.is_empty() || r.contains('/') || r.chars().any(char::is_whitespace) {
                return Err(CliError::Invalid(format!(
                    "{r:?} is not a registry host (e.g. 111122223333.dkr.ecr.eu-west-1.amazonaws.com)"
                )));
            }
        }
        let service = service_ref(&self.service)?;
        let approval = if self.approval || self.approval_timeout_minutes.is_some() || self.on_timeout.is_some() {
            let on_timeout = match self.on_timeout.as_deref() {
                Some(text) => text
                    .to_ascii_uppercase()
                    .parse::<OnTimeout>()
                    .map_err(|_| CliError::Invalid(format!("--on-timeout {text:?}: REJECT or APPROVE")))?,
                None => OnTimeout::default(),
            };
            Some(ApprovalPolicy {
                timeout_minutes: self.approval_timeout_minutes.unwrap_or(DEFAULT_APPROVAL_MINUTES),
                on_timeout,
            })
        } else {
            None
        };
        let mut containers: Vec<String> = Vec::new();
        for c in &self.containers {
            if !containers.contains(c) {
                containers.push(c.clone());
            }
        }
        let target = DeployTarget {
            repository: self.repository.clone(),
            target_id: self.target_id.clone(),
            cluster: service.cluster,
            service: service.service,
            tag_rule: tag_rule(&self.tag_rule)?,
            containers,
            enabled: !self.disabled,
            registries: self.registries.clone(),
            reconcile: !self.no_reconcile,
            alarms: self.alarms.clone(),
            approval,
        };
        target.validate().map_err(invalid)?;
        Ok(target)
    }
}

/// The target, once ECS confirms its service and containers.
async fn checked(stack: &Stack, target: DeployTarget) -> Result<DeployTarget, CliError> {
    let key = on(&target);
    let service = stack.ecs.describe_service(&target.cluster, &target.service).await.map_err(|e| match e {
        DeployError::ServiceNotFound { .. } => CliError::Invalid(format!(
            "service {} not found in cluster {} (or it is INACTIVE): nothing written",
            target.service, target.cluster
        )),
        e => denied(e, "ecs:DescribeServices", &key),
    })?;
    let arn = &service.task_definition;
    let definition =
        stack.ecs.describe_task_definition(arn).await.map_err(|e| denied(e, "ecs:DescribeTaskDefinition", arn))?;
    let names: Vec<&str> = definition.containers.iter().map(|c| c.name.as_str()).collect();
    let revision = arn.rsplit('/').next().unwrap_or(arn);
    let missing: Vec<&str> = target.containers.iter().map(String::as_str).filter(|c| !names.contains(c)).collect();
    if !missing.is_empty() {
        return Err(CliError::Invalid(format!(
            "{key} runs {revision}, which has no container {}; its containers: {}",
            missing.join(", "),
            names.join(", ")
        )));
    }
    let from_repository = |image: &str| ImageRef::parse(image).is_some_and(|i| i.repository == target.repository);
    if target.containers.is_empty() && !definition.containers.iter().any(|c| from_repository(&c.image)) {
        eprintln!(
            "autodeploy: warning: no container of {revision} runs an image from {}, so no push deploys until one \
             does; name the containers with --container ({})",
            target.repository,
            names.join(", ")
        );
    }
    Ok(target)
}

/// `exact:TAG`, `glob:PATTERN`, `semver`, `semver:REQ` or the stored JSON,
/// checked by the domain (an unparsable semver requirement is refused here).
fn tag_rule(text: &str) -> Result<TagRule, CliError> {
    let bad = |why: &str| CliError::Invalid(format!("tag rule {text:?}: {why}; give {TAG_RULE_HELP}"));
    let rule = if text.trim_start().starts_with('{') {
        serde_json::from_str::<TagRule>(text).map_err(|e| bad(&e.to_string()))?
    } else {
        match text.split_once(':') {
            Some(("exact", pattern)) => TagRule::Exact { pattern: pattern.to_owned() },
            Some(("glob", pattern)) => TagRule::Glob { pattern: pattern.to_owned() },
            Some(("semver", req)) if req.trim().is_empty() => TagRule::Semver { requirement: None },
            Some(("semver", req)) => TagRule::Semver { requirement: Some(req.trim().to_owned()) },
            None if text == "semver" => TagRule::Semver { requirement: None },
            _ => return Err(bad("not a rule")),
        }
    };
    rule.validate().map_err(|e| match e {
        DeployError::InvalidInput(why) => bad(&why),
        other => bad(&other.to_string()),
    })?;
    Ok(rule)
}

/// The rule as `tag_rule` reads it.
fn rule_text(rule: &TagRule) -> String {
    match rule {
        TagRule::Exact { pattern } => format!("exact:{pattern}"),
        TagRule::Glob { pattern } => format!("glob:{pattern}"),
        TagRule::Semver { requirement: None } => "semver".to_owned(),
        TagRule::Semver { requirement: Some(req) } => format!("semver:{req}"),
    }
}

fn service_ref(text: &str) -> Result<ServiceRef, CliError> {
    let (cluster, service) = text
        .split_once('/')
        .ok_or_else(|| CliError::Invalid(format!("{text:?}: name the service as CLUSTER/SERVICE")))?;
    ServiceRef::new(cluster, service).map_err(invalid)
}

fn invalid(e: DeployError) -> CliError {
    match e {
        DeployError::InvalidInput(m) => CliError::Invalid(m),
        other => other.into(),
    }
}

/// Approval, alarms, other registries and reconciling, briefly.
fn notes(t: &DeployTarget) -> String {
    let mut notes = Vec::new();
    if let Some(a) = &t.approval {
        notes.push(format!("approval {} min, then {}", a.timeout_minutes, a.on_timeout));
    }
    if !t.alarms.is_empty() {
        notes.push(format!("alarms {}", t.alarms.join(",")));
    }
    match t.registries.len() {
        0 => {}
        1 => notes.push("+1 registry".to_owned()),
        n => notes.push(format!("+{n} registries")),
    }
    if !t.reconcile {
        notes.push("no reconcile".to_owned());
    }
    notes.join("; ")
}

/// The keys of a target's JSON, in this order; a list the stored item
/// leaves out is `[]`, anything else `null`, so programs see one shape.
const KEYS: [&str; 11] = [
    "repository",
    "targetId",
    "cluster",
    "service",
    "tagRule",
    "containers",
    "enabled",
    "reconcile",
    "registries",
    "alarms",
    "approval",
];
const LISTS: [&str; 3] = ["containers", "registries", "alarms"];

/// A target as stored, every key present and in one order (fields the
/// domain adds later follow the known ones).
fn document(t: &DeployTarget) -> Value {
    let mut stored = match serde_json::to_value(t) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let mut doc = serde_json::Map::new();
    for key in KEYS {
        let absent = || if LISTS.contains(&key) { json!([]) } else { Value::Null };
        doc.insert(key.to_owned(), stored.remove(key).unwrap_or_else(absent));
    }
    doc.extend(stored);
    Value::Object(doc)
}

/// `cluster/service`, as the target spells it.
fn on(t: &DeployTarget) -> String {
    format!("{}/{}", t.cluster, t.service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rules_read_as_they_print() {
        for text in ["exact:latest", "glob:release-*", "semver", "semver:>=1.2, <2"] {
            assert_eq!(rule_text(&tag_rule(text).unwrap()), text);
        }
        assert_eq!(tag_rule("semver:").unwrap(), TagRule::Semver { requirement: None });
        assert_eq!(tag_rule(r#"{"type":"glob","pattern":"v*"}"#).unwrap(), TagRule::Glob { pattern: "v*".into() });
        for bad in ["", "latest", "regex:.*", "exact:", "glob:", "semver:not a version", r#"{"type":"x"}"#] {
            let err = tag_rule(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("tag rule {bad:?}")) && err.contains("glob:PATTERN"), "{err}");
        }
    }

    #[test]
    fn documents_have_every_key() {
        let t: DeployTarget = serde_json::from_value(json!({
            "repository": "web", "targetId": "prod", "cluster": "demo", "service": "web",
            "tagRule": {"type": "semver"}
        }))
        .unwrap();
        let doc = document(&t);
        let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        let mut known = KEYS;
        keys.sort_unstable();
        known.sort_unstable();
        assert_eq!(keys, known, "every key");
        assert_eq!((&doc["containers"], &doc["approval"]), (&json!([]), &Value::Null));
        assert_eq!(serde_json::from_value::<DeployTarget>(doc).unwrap(), t, "and reads back as the target");
    }
}
