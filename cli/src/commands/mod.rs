//! One function per command: read the stack's records or call its entry
//! points, print, and say with the exit status how it went.

pub mod close_names;
mod decide;
mod history;
mod operate;
mod show;
mod status;
mod targets;
mod watch;
mod why;

pub use decide::decide;
pub use history::history;
pub use operate::{Wait, deploy, freeze, rollback, unfreeze};
pub use show::show;
pub use status::status;
pub use targets::{TargetsCommand, targets};
pub use watch::watch;
pub use why::why;

use autodeploy_shared::domain::{Deployment, DeploymentId};
use autodeploy_shared::ports::DeploymentStore;

use crate::error::CliError;
use crate::stack::Stack;

fn deployment_id(text: &str) -> Result<DeploymentId, CliError> {
    DeploymentId::parse(text)
        .map_err(|_| CliError::Invalid(format!("{text:?} is not a deployment id (d-<24 hex digits>)")))
}

/// The record, or why it cannot be read (naming the IAM action when denied).
async fn record(stack: &Stack, id: &DeploymentId) -> Result<Deployment, CliError> {
    match stack.deployments.get(id).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(CliError::NotFound(id.to_string())),
        Err(e) => Err(denied(e, "dynamodb:GetItem", &stack.deployments_table)),
    }
}

/// An AWS error, with the action a person must be granted when it is a denial.
fn denied(e: autodeploy_shared::DeployError, action: &'static str, resource: &str) -> CliError {
    let message = e.to_string();
    if message.contains("AccessDenied") {
        CliError::AccessDenied { action, resource: resource.to_owned(), message }
    } else {
        e.into()
    }
}

/// `2026-12-01T10:00:00.123Z` → `2026-12-01 10:00:00`.
pub(crate) fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `42 s`, `3 min 5 s`, `2 h 4 min`.
pub(crate) fn took(from: &chrono::DateTime<chrono::Utc>, to: &chrono::DateTime<chrono::Utc>) -> String {
    let s = (*to - *from).num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// `web:v2`, or the digest when the push had no tag.
pub(crate) fn what(d: &Deployment) -> String {
    d.tag.as_deref().map_or_else(|| d.digest.to_string(), |t| format!("{}:{t}", d.repository))
}

/// Who or what started it, when it was not a push event: `reconciler`,
/// `deploy by alice`, `rollback by bob` (the last part of the caller's ARN).
pub(crate) fn trigger(d: &Deployment) -> Option<String> {
    use autodeploy_shared::domain::{DecisionSource, RequestKind};
    match (&d.request, d.found_by) {
        (Some(r), _) => {
            let who = r.by.rsplit('/').next().unwrap_or(&r.by);
            let kind = if r.kind == RequestKind::Rollback { "rollback" } else { "deploy" };
            Some(format!("{kind} by {who}"))
        }
        (None, DecisionSource::Reconciler) => Some("reconciler".to_owned()),
        (None, _) => None,
    }
}

/// Whether `key` (`cluster/service`) is a service of the stack's deploy
/// targets; an unknown one is an error with the close names. Without a
/// targets table (a stack named by variables only) nothing can be checked.
async fn known_service(stack: &Stack, key: &str) -> Result<(), CliError> {
    use autodeploy_shared::ports::DeployTargets;
    let Some((targets, table)) = &stack.targets else { return Ok(()) };
    let all = targets.all().await.map_err(|e| denied(e, "dynamodb:Scan", table))?;
    let mut known: Vec<String> = all.iter().filter_map(|t| t.service_ref().ok()).map(|s| s.key()).collect();
    known.sort();
    known.dedup();
    if known.iter().any(|k| k == key) { Ok(()) } else { Err(close_names::unknown_service(key, &known)) }
}
