//! ECS and CloudWatch events → resume the run that waits for them.

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use super::{Observer, ProgressLog, Step, StepInput};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentId, Phase, TaskStatus, Watch, short_tg};
use crate::error::Result;
use crate::events::parse_ecs_event;
use crate::ports::{Alarms, Clock, Delivery, DeploymentStore, Ecs, Notifier, TargetHealth, TaskCallbacks};

/// What an incoming event says, reduced to what finds the waiting run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsSignal {
    /// `ECS Deployment State Change`.
    Deployment { service_arn: String, deployment_id: String, event_name: String },
    /// `ECS Service Action`.
    Service { service_arn: String, event_name: String },
    /// `ECS Hook State Change`: a lifecycle hook started, waits for action
    /// (a PAUSE hook), succeeded, failed or timed out.
    Hook { service_arn: String, service_deployment_arn: String, event_name: String },
    /// `ECS Task State Change` of a service's task (`group` = `service:<name>`).
    Task { cluster_arn: String, service: String, started_by: Option<String>, last_status: TaskStatus },
    /// `CloudWatch Alarm State Change` to ALARM, with the target groups it says
    /// it watches: only a hint of which rollouts to look at, since CloudWatch
    /// is asked before any rollout fails.
    Alarm { alarm_name: String, reason: String, target_groups: Vec<String> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalReport {
    /// Deployments the event concerned.
    pub matched: Vec<DeploymentId>,
    /// Deployments whose run was resumed with a final verdict.
    pub resumed: Vec<DeploymentId>,
}

fn concerns(signal: &EcsSignal, d: &Deployment, w: &Watch) -> bool {
    match signal {
        EcsSignal::Deployment { service_arn, deployment_id, .. } => {
            deployment_id == &w.ecs_deployment_id || service_arn == &w.service_arn
        }
        EcsSignal::Service { service_arn, .. } => service_arn == &w.service_arn,
        EcsSignal::Hook { service_arn, service_deployment_arn, .. } => {
            w.service_deployment_arn.as_ref() == Some(service_deployment_arn)
                || d.service_deployment_arn.as_ref() == Some(service_deployment_arn)
                || service_arn == &w.service_arn
        }
        EcsSignal::Task { cluster_arn, service, .. } => {
            service == &d.service && (cluster_arn == &d.cluster || cluster_arn.ends_with(&format!("/{}", d.cluster)))
        }
        // An alarm fails a rollout, not the rollback that is recovering from one.
        EcsSignal::Alarm { alarm_name, target_groups, .. } => {
            w.phase == Phase::Rollout
                && (d.alarms.contains(alarm_name)
                    || w.target_group_arns.iter().any(|tg| target_groups.iter().any(|a| a == short_tg(tg))))
        }
    }
}

/// What `on-ecs-event` receives: a signal, or an event that says nothing we
/// act on (an alarm going back to OK, a task not started by a service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcsEvent {
    Signal(EcsSignal),
    Ignored,
}

impl StepInput for EcsEvent {
    fn parse(payload: Value) -> Result<Self> {
        Ok(parse_ecs_event(payload)?.map_or(Self::Ignored, Self::Signal))
    }

    /// An event names ECS resources, not our deployments: each deployment it
    /// concerns gets a span of its own.
    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

/// ECS and CloudWatch events resume the runs that wait for them.
pub struct OnEcsEvent<S, E, H, A, K, N, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub alarms: A,
    pub callbacks: K,
    /// Announces each stage or traffic change it sees.
    pub notifier: N,
    pub clock: C,
    /// Where a person decides when ECS holds the rollout at a PAUSE hook.
    pub approval_endpoint: Option<crate::domain::ApprovalEndpoint>,
}

impl<S, E, H, A, K, N, C> Step for OnEcsEvent<S, E, H, A, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "on-ecs-event";
    type Input = EcsEvent;
    type Output = SignalReport;

    /// Re-evaluates every waiting deployment the event concerns and resumes
    /// the runs that have a final verdict. Errors on one deployment do not
    /// stop the others; the first is returned at the end so EventBridge
    /// retries the event.
    async fn run(&self, event: EcsEvent) -> Result<SignalReport> {
        let mut report = SignalReport::default();
        let EcsEvent::Signal(signal) = event else { return Ok(report) };
        let mut first_error: Option<DeployError> = None;
        for d in self.store.active_watches().await? {
            let Some(watch) = d.watch.clone().filter(|w| concerns(&signal, &d, w)) else { continue };
            report.matched.push(d.deployment_id.clone());
            let span = tracing::info_span!(
                "deployment",
                deployment = %d.deployment_id,
                cluster = %d.cluster,
                service = %d.service
            );
            match self.settle(&signal, &d, &watch).instrument(span.clone()).await {
                Ok(true) => report.resumed.push(d.deployment_id.clone()),
                Ok(false) => {}
                Err(e) => {
                    span.in_scope(|| tracing::error!(error = %e, "could not evaluate"));
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

impl<S, E, H, A, K, N, C> OnEcsEvent<S, E, H, A, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    /// Decides the watch and, when the verdict is final, resumes its run.
    async fn settle(&self, signal: &EcsSignal, d: &Deployment, watch: &Watch) -> Result<bool> {
        // Every signal, an alarm's too, is only a reason to look: the verdict
        // comes from ECS, the load balancer and CloudWatch.
        let observer = Observer { ecs: &self.ecs, elb: &self.elb, alarms: &self.alarms, clock: &self.clock };
        let verdict = observer.observe(d, watch).await?;
        if let EcsSignal::Alarm { alarm_name, .. } = signal
            && !verdict.is_final()
        {
            tracing::warn!(alarm = %alarm_name, "alarm event not confirmed by CloudWatch: the rollout goes on");
        }
        ProgressLog {
            store: &self.store,
            notifier: &self.notifier,
            clock: &self.clock,
            endpoint: self.approval_endpoint.as_ref(),
        }
        .note(d, watch, &verdict)
        .await?;
        if !verdict.is_final() {
            tracing::debug!(reason = %verdict.reason, "still in progress");
            return Ok(false);
        }
        // Record first, then read the token from the same write: either the run
        // stored its token before (we send it) or it will find the verdict (and
        // check instead of waiting). Nothing is lost in between.
        let Some(after) = self.store.record_verdict(&d.deployment_id, &verdict).await? else {
            return Ok(false);
        };
        let Some(w) = after.watch else { return Ok(false) };
        let (Some(token), Some(decided)) = (w.task_token, w.verdict) else {
            tracing::info!("verdict recorded; the run will pick it up");
            return Ok(false);
        };
        let output = serde_json::to_value(&decided).map_err(|e| DeployError::Aws(e.to_string()))?;
        match self.callbacks.succeed(&token, &output).await? {
            Delivery::Sent => {
                tracing::info!(outcome = ?decided.outcome, "run resumed");
                Ok(true)
            }
            Delivery::Gone => {
                tracing::info!("task token no longer valid (already resumed or timed out)");
                Ok(false)
            }
        }
    }
}
