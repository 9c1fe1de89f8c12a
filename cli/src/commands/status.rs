//! `autodeploy status [CLUSTER/SERVICE]`: per service of the deploy targets,
//! what runs (image, revision, since when), how its last deployment ended,
//! what waits or is in flight, whether it is frozen, and its target health.

use std::collections::BTreeMap;
use std::process::ExitCode;

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    DeployTarget, Deployment, DeploymentStatus, Freeze, IMAGE_TAG_KEY, ImageRef, ServiceRef, ServiceSnapshot,
    TargetHealthState, TaskDefinitionView, iso, short_revision,
};
use autodeploy_shared::ports::{DeployTargets, DeploymentStore, Ecs, ServiceLocks, TargetHealth};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::close_names::unknown_service;
use super::{denied, when};
use crate::error::CliError;
use crate::output::Output;
use crate::stack::Stack;

/// How many of a service's newest records are read: its last outcome and
/// whatever has not ended yet are among them.
const RECORDS: usize = 50;
/// The width the text fits.
const WIDTH: usize = 80;

/// One service, as `autodeploy status --output json` prints it: a list of
/// these, one per service a deploy target names, ordered by `service`. Every
/// key is always there (`null` or `[]` when there is nothing to say);
/// timestamps are ISO 8601 UTC with milliseconds.
///
/// ```json
/// {
///   "service": "demo/web", "cluster": "demo", "serviceName": "web",
///   "targets": [{"repository": "web", "targetId": "demo-web", "enabled": true}],
///   "running": {
///     "taskDefinition": "arn:aws:ecs:…:task-definition/web:3", "revision": "web:3",
///     "since": "2026-12-01T10:00:00.000Z", "updatedAt": "2026-12-01T10:02:10.000Z",
///     "desiredCount": 4, "runningCount": 4,
///     "images": [{"container": "app", "image": "…/web@sha256:…", "repository": "web",
///                 "tag": "v2", "digest": "sha256:…"}]
///   },
///   "targetGroups": [{"targetGroupArn": "arn:…:targetgroup/demo-web/…", "name": "demo-web",
///                     "healthy": 4, "desired": 4, "registered": 4}],
///   "lastOutcome": {"deploymentId": "d-…", "status": "SUCCEEDED", "repository": "web",
///                   "tag": "v2", "digest": "sha256:…", "createdAt": "…", "updatedAt": "…",
///                   "failureReason": null},
///   "inFlight": [],
///   "frozen": {"reason": "incident 42", "by": "arn:aws:iam::…:user/alice", "at": "…"},
///   "error": null
/// }
/// ```
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// `cluster/service`, the key `history` takes.
    pub service: String,
    pub cluster: String,
    pub service_name: String,
    /// The deploy targets that name the service.
    pub targets: Vec<TargetRef>,
    /// What ECS runs; `null` when ECS could not say (then `error` says why).
    pub running: Option<Running>,
    /// Every target group of the service (the alternate ones of a
    /// blue/green, linear or canary service too).
    pub target_groups: Vec<GroupHealth>,
    /// The newest deployment of the service that ended (any terminal status).
    pub last_outcome: Option<Record>,
    /// Deployments that have not ended: in flight, queued, held by a freeze,
    /// awaiting approval; newest first.
    pub in_flight: Vec<Record>,
    /// Set while a person holds the service's rollouts.
    pub frozen: Option<Freeze>,
    /// Why the service could not be read from ECS (it was deleted, …).
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    pub repository: String,
    pub target_id: String,
    pub enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Running {
    /// The PRIMARY deployment's task definition (the service's, without one).
    pub task_definition: String,
    /// `family:revision`.
    pub revision: String,
    /// When ECS created the PRIMARY deployment.
    pub since: Option<String>,
    /// When ECS last changed it (its rollout completing, say).
    pub updated_at: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    /// The containers the deploy targets update (every container when no
    /// target's repository matches one).
    pub images: Vec<RunningImage>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunningImage {
    pub container: String,
    /// As the task definition has it.
    pub image: String,
    pub repository: Option<String>,
    /// From the image, or the tag the pipeline put on the revision it registered.
    pub tag: Option<String>,
    /// From the image when pinned by digest, or the deployment that registered it.
    pub digest: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupHealth {
    pub target_group_arn: String,
    pub name: String,
    pub healthy: usize,
    /// The service's desired count.
    pub desired: i32,
    /// Registered targets in any state (draining ones too).
    pub registered: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub deployment_id: String,
    pub status: DeploymentStatus,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: String,
    pub created_at: String,
    pub updated_at: String,
    pub failure_reason: Option<String>,
}

impl From<&Deployment> for Record {
    fn from(d: &Deployment) -> Self {
        Self {
            deployment_id: d.deployment_id.to_string(),
            status: d.status,
            repository: d.repository.clone(),
            tag: d.tag.clone(),
            digest: d.digest.to_string(),
            created_at: iso::format(&d.created_at),
            updated_at: iso::format(&d.updated_at),
            failure_reason: d.failure_reason.clone(),
        }
    }
}

/// `autodeploy status [CLUSTER/SERVICE]`.
pub async fn status(stack: &Stack, out: &Output, only: Option<&str>) -> Result<ExitCode, CliError> {
    let (targets, table) = stack.targets.as_ref().ok_or_else(|| {
        CliError::Invalid(
            "the stack names no deploy targets table (output TargetsTableName, or AUTODEPLOY_TARGETS_TABLE)".into(),
        )
    })?;
    let all = targets.all().await.map_err(|e| denied(e, "dynamodb:Scan", table))?;
    let mut services: BTreeMap<String, (ServiceRef, Vec<DeployTarget>)> = BTreeMap::new();
    for t in all {
        // A row that names no valid service deploys nowhere: nothing to show.
        let Ok(service) = t.service_ref() else { continue };
        services.entry(service.key()).or_insert_with(|| (service, Vec::new())).1.push(t);
    }
    if let Some(wanted) = only {
        services = pick(services, wanted)?;
    }
    let mut rows = Vec::with_capacity(services.len());
    for (service, targets) in services.values() {
        rows.push(service_status(stack, service, targets).await?);
    }
    if out.json() {
        out.document(&rows);
    } else if rows.is_empty() {
        println!("no deploy targets in {table}");
    } else {
        print_table(out, &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// Only service `wanted`; an unknown one is an error naming the close ones.
fn pick(
    mut services: BTreeMap<String, (ServiceRef, Vec<DeployTarget>)>,
    wanted: &str,
) -> Result<BTreeMap<String, (ServiceRef, Vec<DeployTarget>)>, CliError> {
    let (cluster, name) = wanted
        .split_once('/')
        .ok_or_else(|| CliError::Invalid(format!("{wanted:?}: name the service as CLUSTER/SERVICE")))?;
    let key = ServiceRef::new(cluster, name).map_err(CliError::from)?.key();
    if let Some(found) = services.remove(&key) {
        return Ok(BTreeMap::from([(key, found)]));
    }
    Err(unknown_service(&key, &services.keys().cloned().collect::<Vec<_>>()))
}

/// One service: what ECS runs and its health, its records, its lock.
async fn service_status(
    stack: &Stack,
    service: &ServiceRef,
    targets: &[DeployTarget],
) -> Result<ServiceStatus, CliError> {
    let key = service.key();
    let index = format!("{}/index/ByService", stack.deployments_table);
    let (records, lock, ecs) = tokio::join!(
        stack.deployments.history(&key, RECORDS),
        stack.locks.state(&key),
        running(stack, service, targets)
    );
    let records = records.map_err(|e| denied(e, "dynamodb:Query", &index))?;
    let lock = lock.map_err(|e| denied(e, "dynamodb:GetItem", &stack.deployments_table))?;
    let (running, target_groups, error) = match ecs {
        Ok((mut running, groups)) => {
            fill_from_records(&mut running, &records);
            (Some(running), groups, None)
        }
        Err(Unreadable::Denied(e)) => return Err(e),
        Err(Unreadable::Other(why)) => (None, Vec::new(), Some(why)),
    };
    Ok(ServiceStatus {
        service: key,
        cluster: service.cluster.clone(),
        service_name: service.service.clone(),
        targets: targets
            .iter()
            .map(|t| TargetRef { repository: t.repository.clone(), target_id: t.target_id.clone(), enabled: t.enabled })
            .collect(),
        running,
        target_groups,
        last_outcome: records.iter().find(|d| d.status.is_terminal()).map(Record::from),
        in_flight: records.iter().filter(|d| !d.status.is_terminal()).map(Record::from).collect(),
        frozen: lock.frozen,
        error,
    })
}

/// Why ECS or ELB could not be read: a denial stops the command (the
/// person must be granted the action); anything else is said on the service.
enum Unreadable {
    Denied(CliError),
    Other(String),
}

fn unreadable(e: DeployError, action: &'static str, resource: &str) -> Unreadable {
    match denied(e, action, resource) {
        denied @ CliError::AccessDenied { .. } => Unreadable::Denied(denied),
        other => Unreadable::Other(other.to_string()),
    }
}

/// The service as ECS and the load balancer see it.
async fn running(
    stack: &Stack,
    service: &ServiceRef,
    targets: &[DeployTarget],
) -> Result<(Running, Vec<GroupHealth>), Unreadable> {
    let what = format!("service {}", service.key());
    let (snapshot, times) = tokio::join!(
        stack.ecs.describe_service(&service.cluster, &service.service),
        deployment_times(&stack.config, service),
    );
    let snapshot = snapshot.map_err(|e| unreadable(e, "ecs:DescribeServices", &what))?;
    let primary = snapshot.primary();
    let task_definition = primary.map_or(snapshot.task_definition.as_str(), |p| p.task_definition.as_str());
    let td = stack
        .ecs
        .describe_task_definition(task_definition)
        .await
        .map_err(|e| unreadable(e, "ecs:DescribeTaskDefinition", task_definition))?;
    let (since, updated_at) = primary.and_then(|p| times.get(&p.id).copied()).unwrap_or_default();
    let running = Running {
        task_definition: task_definition.to_owned(),
        revision: short_revision(task_definition).to_owned(),
        since: since.as_ref().map(iso::format),
        updated_at: updated_at.as_ref().map(iso::format),
        desired_count: snapshot.desired_count,
        running_count: primary.map_or(0, |p| p.running_count),
        images: images(&td, targets),
    };
    Ok((running, health(stack, &snapshot).await?))
}

/// `createdAt` and `updatedAt` of each ECS deployment of the service, by id.
/// The `Ecs` port's snapshot does not carry them; a failure here only leaves
/// them out (the port's own DescribeServices reports it).
async fn deployment_times(
    config: &aws_config::SdkConfig,
    service: &ServiceRef,
) -> BTreeMap<String, (Option<DateTime<Utc>>, Option<DateTime<Utc>>)> {
    let ecs = aws_sdk_ecs::Client::new(config);
    let Ok(out) = ecs.describe_services().cluster(&service.cluster).services(&service.service).send().await else {
        return BTreeMap::new();
    };
    let chrono = |t: Option<&aws_sdk_ecs::primitives::DateTime>| {
        t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
    };
    out.services()
        .iter()
        .flat_map(|s| s.deployments())
        .filter_map(|d| Some((d.id()?.to_owned(), (chrono(d.created_at()), chrono(d.updated_at())))))
        .collect()
}

/// The containers the targets update, with what the image says of itself.
fn images(td: &TaskDefinitionView, targets: &[DeployTarget]) -> Vec<RunningImage> {
    let updated = |name: &str, image: &str| {
        targets.iter().any(|t| {
            if t.containers.is_empty() {
                ImageRef::parse(image).is_some_and(|r| r.repository == t.repository)
            } else {
                t.containers.iter().any(|c| c == name)
            }
        })
    };
    let mut matched: Vec<_> = td.containers.iter().filter(|c| updated(&c.name, &c.image)).collect();
    if matched.is_empty() {
        matched = td.containers.iter().collect();
    }
    matched
        .into_iter()
        .map(|c| {
            let parsed = ImageRef::parse(&c.image);
            RunningImage {
                container: c.name.clone(),
                image: c.image.clone(),
                repository: parsed.as_ref().map(|r| r.repository.clone()),
                tag: parsed.as_ref().and_then(|r| r.tag.clone()).or_else(|| td.tag(IMAGE_TAG_KEY).map(str::to_owned)),
                digest: parsed.and_then(|r| r.digest),
            }
        })
        .collect()
}

/// What the image string leaves out, from the deployment that registered
/// the revision (the revision's tag names it).
fn fill_from_records(running: &mut Running, records: &[Deployment]) {
    let Some(registered) = records.iter().find(|d| d.new_task_definition.as_deref() == Some(&running.task_definition))
    else {
        return;
    };
    for image in &mut running.images {
        if image.repository.as_deref() != Some(registered.repository.as_str()) {
            continue;
        }
        if image.digest.is_none() {
            image.digest = Some(registered.digest.to_string());
        }
        if image.tag.is_none() {
            image.tag.clone_from(&registered.tag);
        }
    }
}

/// Healthy and registered targets of each target group of the service.
async fn health(stack: &Stack, snapshot: &ServiceSnapshot) -> Result<Vec<GroupHealth>, Unreadable> {
    let mut groups = Vec::new();
    for arn in snapshot.all_target_groups() {
        let targets = stack
            .elb
            .describe(&arn)
            .await
            .map_err(|e| unreadable(e, "elasticloadbalancing:DescribeTargetHealth", &arn))?;
        groups.push(GroupHealth {
            name: group_name(&arn).to_owned(),
            healthy: targets.iter().filter(|t| t.state == TargetHealthState::Healthy).count(),
            desired: snapshot.desired_count,
            registered: targets.len(),
            target_group_arn: arn,
        });
    }
    Ok(groups)
}

/// `arn:…:targetgroup/demo-web/0123abcd` → `demo-web`.
fn group_name(arn: &str) -> &str {
    arn.split_once("targetgroup/").map_or(arn, |(_, rest)| rest.split('/').next().unwrap_or(rest))
}

/// The table, one line per service, its details indented below.
fn print_table(out: &Output, rows: &[ServiceStatus]) {
    let lines: Vec<Line> = rows.iter().map(Line::of).collect();
    let mut widths = [
        width("SERVICE", lines.iter().map(|l| &l.service)),
        width("IMAGE", lines.iter().map(|l| &l.image)),
        width("REVISION", lines.iter().map(|l| &l.revision)),
        "2026-12-01 10:00".len(),
        "ROLLED_BACK".len(),
        width("HEALTHY", lines.iter().map(|l| &l.healthy)),
    ];
    // Shrink the widest of image, service and revision until the table fits.
    while widths.iter().sum::<usize>() + 2 * (widths.len() - 1) > WIDTH {
        let Some(i) = [1, 0, 2].into_iter().filter(|&i| widths[i] > 12).max_by_key(|&i| widths[i]) else {
            break;
        };
        widths[i] -= 1;
    }
    let [service, image, revision, since, last, _] = widths;
    println!(
        "{:<service$}  {:<image$}  {:<revision$}  {:<since$}  {:<last$}  HEALTHY",
        "SERVICE", "IMAGE", "REVISION", "SINCE", "LAST"
    );
    for (row, line) in rows.iter().zip(&lines) {
        // Padding counts the colour codes too: pad the plain text, then colour.
        let (status, pad) = match row.last_outcome.as_ref().map(|r| r.status) {
            Some(s) => (out.status(s), last.saturating_sub(s.as_str().len())),
            None => ("-".to_owned(), last - 1),
        };
        println!(
            "{:<service$}  {:<image$}  {:<revision$}  {:<since$}  {status}{}  {}",
            fit(&line.service, service),
            fit(&line.image, image),
            fit(&line.revision, revision),
            line.since,
            " ".repeat(pad),
            line.healthy,
        );
        for detail in details(out, row) {
            println!("{detail}");
        }
    }
}

/// The main line's cells, as plain text.
struct Line {
    service: String,
    image: String,
    revision: String,
    since: String,
    healthy: String,
}

impl Line {
    fn of(row: &ServiceStatus) -> Self {
        let dash = || "-".to_owned();
        let running = row.running.as_ref();
        let image = running.and_then(|r| r.images.first()).map_or_else(dash, |i| {
            let repository = i.repository.as_deref().unwrap_or(&i.image);
            let name = i.tag.as_ref().map_or_else(|| repository.to_owned(), |t| format!("{repository}:{t}"));
            let more = running.map_or(0, |r| r.images.len().saturating_sub(1));
            if more == 0 { name } else { format!("{name} +{more}") }
        });
        let since = running
            .and_then(|r| r.since.as_deref())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map_or_else(dash, |t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string());
        Self {
            service: row.service.clone(),
            image,
            revision: running.map_or_else(dash, |r| r.revision.clone()),
            since,
            healthy: healthy(row),
        }
    }
}

/// `healthy/desired` of the worst group that has targets (the idle group of
/// a blue/green service has none); `-` without target groups.
fn healthy(row: &ServiceStatus) -> String {
    let groups = &row.target_groups;
    if groups.is_empty() {
        return "-".into();
    }
    let worst = groups.iter().filter(|g| g.registered > 0).min_by_key(|g| g.healthy).unwrap_or(&groups[0]);
    format!("{}/{}", worst.healthy, worst.desired)
}

/// The indented lines below a service's line.
fn details(out: &Output, row: &ServiceStatus) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(error) = &row.error {
        lines.extend(wrap("  error: ", error));
    }
    if let Some(running) = &row.running {
        for image in &running.images {
            let prefix = if running.images.len() == 1 {
                format!("  {} ", image.container)
            } else {
                let repository = image.repository.as_deref().unwrap_or(&image.image);
                let tag = image.tag.as_deref().map_or_else(String::new, |t| format!(":{t}"));
                format!("  {} {repository}{tag} ", image.container)
            };
            let digest = image.digest.as_deref().unwrap_or("(no digest: the image is named by tag)");
            lines.push(format!("{prefix}{}", fit(digest, WIDTH.saturating_sub(prefix.chars().count()).max(20))));
        }
    }
    if row.target_groups.len() > 1 {
        for g in &row.target_groups {
            lines.push(fit(&format!("  target group {} {}/{} healthy", g.name, g.healthy, g.desired), WIDTH));
        }
    }
    if let Some(f) = &row.frozen {
        lines.push(fit(&format!("  FROZEN since {} by {}", when(&f.at), f.by), WIDTH));
        lines.extend(wrap("    ", &f.reason));
    }
    if let Some(last) = &row.last_outcome
        && !matches!(last.status, DeploymentStatus::Succeeded | DeploymentStatus::Noop)
    {
        lines.push(record_line(out, "last ", last));
        if let Some(reason) = &last.failure_reason {
            lines.extend(wrap("    ", reason));
        }
    }
    for r in &row.in_flight {
        lines.push(record_line(out, "", r));
    }
    lines
}

/// `  QUEUED             d-…  web:v3  since 2026-12-01 10:00`.
fn record_line(out: &Output, label: &str, r: &Record) -> String {
    let image = r.tag.as_ref().map_or_else(|| r.digest.clone(), |t| format!("{}:{t}", r.repository));
    let since = DateTime::parse_from_rfc3339(&r.created_at)
        .map(|t| format!("  since {}", t.with_timezone(&Utc).format("%Y-%m-%d %H:%M")))
        .unwrap_or_default();
    let status = format!("{label}{}", r.status);
    // As wide as the widest status, AWAITING_APPROVAL.
    let pad = " ".repeat(17usize.saturating_sub(status.len()));
    let rest = format!("  {}  {image}{since}", r.deployment_id);
    // The width is that of the plain text; colour goes on the status only.
    let room = WIDTH.saturating_sub(2 + status.len() + pad.len());
    format!("  {label}{}{pad}{}", out.status(r.status), fit(&rest, room))
}

fn width<'a>(header: &str, cells: impl Iterator<Item = &'a String>) -> usize {
    cells.map(|c| c.chars().count()).chain([header.len()]).max().unwrap_or(header.len())
}

/// `text` cut to `width` characters, ending in `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` after `indent`, broken at spaces into lines that fit the width.
fn wrap(indent: &str, text: &str) -> Vec<String> {
    let room = WIDTH.saturating_sub(indent.chars().count()).max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(format!("{indent}{}", fit(&line, room)));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{}", fit(&line, room)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{fit, group_name, wrap};

    #[test]
    fn text_fits_the_width() {
        assert_eq!(fit("demo/web", 8), "demo/web");
        assert_eq!(fit("demo/website", 8), "demo/we…");
        let lines = wrap("    ", &"incident forty-two ".repeat(10));
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 80 && l.starts_with("    i")));
        assert_eq!(group_name("arn:aws:elasticloadbalancing:r:1:targetgroup/demo-web/0123abcd"), "demo-web");
        assert_eq!(group_name("demo-web"), "demo-web");
    }
}
