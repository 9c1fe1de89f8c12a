use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use autodeploy_shared::domain::{Deployment, DeploymentId};
use autodeploy_shared::ports::DeploymentStore;
use chrono::Utc;

use super::history::service_key;
use super::{denied, deployment_id, record, what};
use crate::error::CliError;
use crate::exit;
use crate::output::Output;
use crate::render;
use crate::stack::Stack;

/// How often the record is read while following it.
const EVERY: Duration = Duration::from_secs(2);
/// How often a terminal's status line is redrawn (its elapsed time ticks).
const TICK: Duration = Duration::from_secs(1);
/// Reads in a row that may fail (throttling, a network blip) before the
/// follow gives up with the error: a long watch in CI should not die of one.
const READ_RETRIES: u32 = 3;
/// How many of a service's deployments are looked at for one in flight.
const RECENT: usize = 20;

/// `autodeploy watch DEPLOYMENT|CLUSTER/SERVICE`: follow the deployment, or
/// the service's newest one that has not ended, until it ends; the exit
/// status says how it ended. A service with none in flight is not waited
/// for: its latest deployment's exit status is the answer.
pub async fn watch(stack: &Stack, out: &Output, target: &str, timeout: Duration) -> Result<ExitCode, CliError> {
    if !target.contains('/') {
        return follow(stack, out, &deployment_id(target)?, timeout).await;
    }
    let key = service_key(target)?;
    let recent = stack
        .deployments
        .history(&key, RECENT)
        .await
        .map_err(|e| denied(e, "dynamodb:Query", &format!("{}/index/ByService", stack.deployments_table)))?;
    if recent.is_empty() {
        // Nothing to wait for and nothing to answer with: say so (a CI job
        // that watches before its push is recorded must not pass).
        super::known_service(stack, &key).await?;
        return Err(CliError::Invalid(format!(
            "no deployment of {key} on record yet: watch the one a push or `autodeploy deploy` started"
        )));
    }
    match in_flight(&recent) {
        Some(d) => {
            if !out.json() {
                eprintln!("following {} ({}, {}) of {key}", d.deployment_id, what(d), d.status);
            }
            follow(stack, out, &d.deployment_id, timeout).await
        }
        None => {
            let latest = recent.first();
            if out.json() {
                out.document(&latest);
            } else {
                print!("{}", render::nothing_in_flight(&key, latest, &out.style()));
            }
            Ok(latest.map_or(ExitCode::SUCCESS, |d| exit::of(d.status)))
        }
    }
}

/// The newest of `recent` (newest first) that has not ended.
fn in_flight(recent: &[Deployment]) -> Option<&Deployment> {
    recent.iter().find(|d| !d.status.is_terminal())
}

/// Follows deployment `id` until it ends or `timeout` passes: each new
/// timeline entry once as it appears; on a terminal, under them, a status
/// line redrawn in place; with `--output json`, the final record. The exit
/// status is [`exit::of`] the final status, or [`exit::GAVE_UP`].
/// (`deploy --wait` and `rollback --wait` follow what they started with it.)
pub async fn follow(stack: &Stack, out: &Output, id: &DeploymentId, timeout: Duration) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    let mut screen = render::Screen::new(out.style(), out.tty());
    let tick = if out.tty() { TICK } else { EVERY };
    let mut last: Option<Deployment> = None;
    let mut failures = 0;
    let mut next_read = started;
    loop {
        if Instant::now() >= next_read {
            next_read = Instant::now() + EVERY;
            match record(stack, id).await {
                Ok(d) => {
                    failures = 0;
                    last = Some(d);
                }
                // A read that may work next time: the last record stays shown.
                Err(CliError::Aws(_)) if last.is_some() && failures < READ_RETRIES => failures += 1,
                Err(e) => {
                    write(&screen.finish());
                    return Err(e);
                }
            }
        }
        let Some(d) = &last else {
            return Err(CliError::NotFound(id.to_string()));
        };
        if !out.json() {
            write(&screen.update(d, Utc::now()));
        }
        if d.status.is_terminal() {
            if out.json() {
                out.document(d);
            }
            return Ok(exit::of(d.status));
        }
        if started.elapsed() >= timeout {
            if out.json() {
                out.document(d);
            } else {
                write(&screen.finish());
                eprintln!("autodeploy: gave up after {} s: {} is still {}", timeout.as_secs(), id, d.status);
            }
            return Ok(ExitCode::from(exit::GAVE_UP));
        }
        tokio::time::sleep(tick).await;
    }
}

/// Writes and flushes (a status line has no newline to flush it); a closed
/// stdout is not an error worth stopping the follow for.
fn write(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::records;

    #[test]
    fn the_newest_deployment_not_ended_is_followed() {
        let all = records();
        let picked = in_flight(&all).map(|d| d.status);
        assert_eq!(picked, Some(autodeploy_shared::domain::DeploymentStatus::AwaitingApproval));
        let ended: Vec<_> = all.into_iter().filter(|d| d.status.is_terminal()).collect();
        assert!(in_flight(&ended).is_none());
    }
}
