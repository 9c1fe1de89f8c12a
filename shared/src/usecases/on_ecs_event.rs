//! ECS and CloudWatch events → resume the run that waits for them.

use serde::Serialize;

use super::observe;
use crate::DeployError;
use crate::domain::{Deployment, Phase, Verdict, Watch, short_tg};
use crate::error::Result;
use crate::ports::{Clock, Delivery, DeploymentStore, Ecs, TargetHealth, TaskCallbacks};

/// What an incoming event says, reduced to what finds the waiting run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsSignal {
    /// `ECS Deployment State Change`.
    Deployment { service_arn: String, deployment_id: String, event_name: String },
    /// `ECS Service Action`.
    Service { service_arn: String, event_name: String },
    /// `ECS Task State Change` of a service's task (`group` = `service:<name>`).
    Task { cluster_arn: String, service: String, started_by: Option<String>, last_status: String },
    /// `CloudWatch Alarm State Change` to ALARM, with the target groups it watches.
    Alarm { alarm_name: String, reason: String, target_groups: Vec<String> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalReport {
    /// Deployments the event concerned.
    pub matched: Vec<String>,
    /// Deployments whose run was resumed with a final verdict.
    pub resumed: Vec<String>,
}

fn concerns(signal: &EcsSignal, d: &Deployment, w: &Watch) -> bool {
    match signal {
        EcsSignal::Deployment { service_arn, deployment_id, .. } => {
            deployment_id == &w.ecs_deployment_id || service_arn == &w.service_arn
        }
        EcsSignal::Service { service_arn, .. } => service_arn == &w.service_arn,
        EcsSignal::Task { cluster_arn, service, .. } => {
            service == &d.service && (cluster_arn == &d.cluster || cluster_arn.ends_with(&format!("/{}", d.cluster)))
        }
        // An alarm fails a rollout, not the rollback that is recovering from one.
        EcsSignal::Alarm { target_groups, .. } => {
            w.phase == Phase::Rollout
                && w.target_group_arns.iter().any(|tg| target_groups.iter().any(|a| a == short_tg(tg)))
        }
    }
}

/// Re-evaluates every waiting deployment the event concerns and resumes the
/// runs that have a final verdict. Errors on one deployment do not stop the
/// others; the first is returned at the end so EventBridge retries the event.
pub async fn on_ecs_event(
    signal: &EcsSignal,
    store: &impl DeploymentStore,
    ecs: &impl Ecs,
    elb: &impl TargetHealth,
    callbacks: &impl TaskCallbacks,
    clock: &impl Clock,
) -> Result<SignalReport> {
    let mut report = SignalReport::default();
    let mut first_error: Option<DeployError> = None;
    for d in store.active_watches().await? {
        let Some(watch) = d.watch.clone().filter(|w| concerns(signal, &d, w)) else { continue };
        report.matched.push(d.deployment_id.to_string());
        match settle(signal, &d, &watch, store, ecs, elb, callbacks, clock).await {
            Ok(true) => report.resumed.push(d.deployment_id.to_string()),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(deployment = %d.deployment_id, error = %e, "could not evaluate");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

#[allow(clippy::too_many_arguments)]
async fn settle(
    signal: &EcsSignal,
    d: &Deployment,
    watch: &Watch,
    store: &impl DeploymentStore,
    ecs: &impl Ecs,
    elb: &impl TargetHealth,
    callbacks: &impl TaskCallbacks,
    clock: &impl Clock,
) -> Result<bool> {
    let verdict = match signal {
        EcsSignal::Alarm { alarm_name, reason, .. } => {
            Verdict::failed(watch, format!("alarm {alarm_name} went to ALARM: {reason}"), clock.now())
        }
        _ => observe(d, watch, ecs, elb, clock).await?,
    };
    if !verdict.is_final() {
        tracing::debug!(deployment = %d.deployment_id, reason = %verdict.reason, "still in progress");
        return Ok(false);
    }
    // Record first, then read the token from the same write: either the run
    // stored its token before (we send it) or it will find the verdict (and
    // check instead of waiting). Nothing is lost in between.
    let Some(after) = store.record_verdict(&d.deployment_id, &verdict).await? else {
        return Ok(false);
    };
    let Some(w) = after.watch else { return Ok(false) };
    let (Some(token), Some(decided)) = (w.task_token, w.verdict) else {
        tracing::info!(deployment = %d.deployment_id, "verdict recorded; the run will pick it up");
        return Ok(false);
    };
    let output = serde_json::to_value(&decided).map_err(|e| DeployError::Aws(e.to_string()))?;
    match callbacks.succeed(&token, &output).await? {
        Delivery::Sent => {
            tracing::info!(deployment = %d.deployment_id, outcome = ?decided.outcome, "run resumed");
            Ok(true)
        }
        Delivery::Gone => {
            tracing::info!(deployment = %d.deployment_id, "task token no longer valid (already resumed or timed out)");
            Ok(false)
        }
    }
}
