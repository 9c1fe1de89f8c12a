//! ECS and CloudWatch events → resume the run that waits for them.
//!
//! An ECS event names one service, so only that service's watches are read.
//! ECS sends events in bursts (a rollout ends with `SERVICE_DEPLOYMENT_COMPLETED`
//! and `SERVICE_STEADY_STATE` milliseconds apart), and one look at the rollout
//! answers them all: a look holds the watch's check lease, and an event that
//! finds it held asks for another look (the one under way may have read ECS
//! before the event's change) and calls nothing itself. Once the run has its
//! verdict, events are not looked into at all.

use chrono::Duration;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use super::{Observer, ProgressLog, Step, StepInput};
use crate::DeployError;
use crate::domain::{Deployment, DeploymentId, DeploymentStrategy, Phase, TaskStatus, Watch, short_tg};
use crate::error::Result;
use crate::events::parse_ecs_event;
use crate::ports::{Alarms, CheckLease, Clock, Delivery, DeploymentStore, Ecs, Notifier, TargetHealth, TaskCallbacks};

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

impl EcsSignal {
    /// The ARN of the one service the signal is about (a task's, from its
    /// cluster's ARN and its service's name). `None` for an alarm, which names
    /// target groups and alarms, and for a task whose cluster is not named by
    /// its ARN.
    pub fn service_arn(&self) -> Option<String> {
        match self {
            Self::Deployment { service_arn, .. }
            | Self::Service { service_arn, .. }
            | Self::Hook { service_arn, .. } => Some(service_arn.clone()),
            Self::Task { cluster_arn, service, .. } => service_arn_in(cluster_arn, service),
            Self::Alarm { .. } => None,
        }
    }
}

/// `arn:aws:ecs:r:a:cluster/demo` and `web` → `arn:aws:ecs:r:a:service/demo/web`:
/// the service's ARN as ECS writes it (the long format, the only one the
/// stack's IAM policies name).
fn service_arn_in(cluster_arn: &str, service: &str) -> Option<String> {
    let (prefix, cluster) = cluster_arn.split_once(":cluster/")?;
    let parts: Vec<&str> = prefix.split(':').collect();
    let ok = parts.len() == 5
        && parts[0] == "arn"
        && parts[2] == "ecs"
        && !cluster.is_empty()
        && !cluster.contains('/')
        && !service.is_empty()
        && !service.contains('/');
    ok.then(|| format!("{prefix}:service/{cluster}/{service}"))
}

/// How long a look at a rollout holds the watch's check lease: well over a
/// look's few calls, well under Lambda's first retry of an invocation that
/// died holding it (a minute).
pub const CHECK_LEASE_SECONDS: i64 = 10;

/// ECS's event that a deployment started.
const IN_PROGRESS: &str = "SERVICE_DEPLOYMENT_IN_PROGRESS";

/// Looks one invocation makes at one watch at most: each one after the first
/// answers events that came while the one before was under way.
const MAX_LOOKS: usize = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalReport {
    /// Deployments the event concerned.
    pub matched: Vec<DeploymentId>,
    /// Deployments whose run was resumed with a final verdict.
    pub resumed: Vec<DeploymentId>,
    /// Deployments another invocation was looking at: it looks again for this
    /// event, and this one called neither ECS nor the load balancer.
    pub deferred: Vec<DeploymentId>,
}

/// What one look at a watch came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    /// The rollout goes on.
    InProgress,
    /// Final and recorded; the run finds it when it waits (it parked no token yet).
    Recorded,
    /// Final, and the run was resumed with it.
    Resumed,
    /// Final; the run's token no longer works (resumed already, or its wait
    /// timed out into the fallback check, which reads the verdict).
    TokenGone,
    /// Another invocation is looking: it looks again for this event.
    Deferred,
    /// Nothing to look at: the watch ended, or the run has its verdict.
    Nothing,
}

impl Look {
    fn is_final(self) -> bool {
        matches!(self, Self::Recorded | Self::Resumed | Self::TokenGone)
    }

    /// The run has the verdict: later events have nothing to do.
    fn delivered(self) -> bool {
        matches!(self, Self::Resumed | Self::TokenGone)
    }
}

/// Whether the signal is about the watch: what picks an alarm's watches out
/// of every service's.
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
    /// the runs that have a final verdict. An ECS event names one service:
    /// only its watches are read. Errors on one deployment do not stop the
    /// others; the first is returned at the end so EventBridge retries the event.
    async fn run(&self, event: EcsEvent) -> Result<SignalReport> {
        let mut report = SignalReport::default();
        let EcsEvent::Signal(signal) = event else { return Ok(report) };
        let mut first_error: Option<DeployError> = None;
        for id in self.candidates(&signal).await? {
            report.matched.push(id.clone());
            let span = tracing::info_span!(
                "deployment",
                deployment = %id,
                cluster = tracing::field::Empty,
                service = tracing::field::Empty
            );
            match self.settle(&signal, &id, &span).instrument(span.clone()).await {
                Ok(Look::Resumed) => report.resumed.push(id),
                Ok(Look::Deferred) => report.deferred.push(id),
                Ok(_) => {}
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
    /// The waiting deployments the signal may concern: its service's, or for
    /// an alarm every watch it concerns.
    async fn candidates(&self, signal: &EcsSignal) -> Result<Vec<DeploymentId>> {
        if let Some(service_arn) = signal.service_arn() {
            return self.store.watches_of_service(&service_arn).await;
        }
        let watching = self.store.active_watches().await?;
        Ok(watching
            .into_iter()
            .filter(|d| d.watch.as_ref().is_some_and(|w| concerns(signal, d, w)))
            .map(|d| d.deployment_id)
            .collect())
    }

    /// Looks at the watch under its check lease, or leaves the look to the
    /// invocation that holds it; looks again if an event came meanwhile.
    async fn settle(&self, signal: &EcsSignal, id: &DeploymentId, span: &tracing::Span) -> Result<Look> {
        let mut named = false;
        let mut name = |d: &Deployment| {
            if !std::mem::replace(&mut named, true) {
                span.record("cluster", tracing::field::display(&d.cluster));
                span.record("service", tracing::field::display(&d.service));
            }
        };
        for _ in 0..MAX_LOOKS {
            let now = self.clock.now();
            let until = now + Duration::seconds(CHECK_LEASE_SECONDS);
            let d = match self.store.begin_check(id, now, until).await? {
                CheckLease::Taken(d) => d,
                CheckLease::Refused(None) => return Ok(Look::Nothing),
                CheckLease::Refused(Some(d)) => {
                    name(&d);
                    let Some(watch) = &d.watch else { return Ok(Look::Nothing) };
                    if watch.is_settled() {
                        tracing::debug!("the run has its verdict already");
                        return Ok(Look::Nothing);
                    }
                    if watch.is_being_checked(now) && self.store.ask_recheck(id, now).await? {
                        tracing::info!("another invocation is looking at the rollout: it looks again for this event");
                        return Ok(Look::Deferred);
                    }
                    // That look is over: take the lease.
                    continue;
                }
            };
            name(&d);
            let looked = self.look(signal, &d).await;
            let delivered = looked.as_ref().is_ok_and(|l| l.delivered());
            let again = match (self.store.end_check(id, until, delivered).await, &looked) {
                (Ok(again), _) => again,
                // The lease runs out by itself; the look's own error says more.
                (Err(e), Err(_)) => {
                    tracing::warn!(error = %e, "check lease not released");
                    false
                }
                (Err(e), Ok(_)) => return Err(e),
            };
            let look = looked?;
            if !again || look.is_final() {
                return Ok(look);
            }
            tracing::info!("an event came while looking: looking again");
        }
        Err(DeployError::Retryable(format!("deployment {id}: the rollout kept changing while it was looked at")))
    }

    /// One look at the watch: the verdict, recorded and sent to the run when
    /// it is final.
    async fn look(&self, signal: &EcsSignal, d: &Deployment) -> Result<Look> {
        let Some(watch) = &d.watch else { return Ok(Look::Nothing) };
        // Decided already (by a look whose delivery failed, or the fallback
        // check): that verdict stands, and the run may still wait for it.
        if watch.verdict.is_some() {
            return self.deliver(d).await;
        }
        // ECS saying a rolling deployment is in progress gives a look nothing
        // to decide or announce (its end, either way, comes with events of
        // its own): no calls for it. A traffic-shifting one is looked at: its
        // stages and weights go on the timeline.
        if let EcsSignal::Deployment { event_name, .. } = signal
            && event_name == IN_PROGRESS
            && matches!(d.strategy, None | Some(DeploymentStrategy::Rolling))
        {
            tracing::debug!("a rolling deployment in progress: nothing to look at");
            return Ok(Look::InProgress);
        }
        // Every signal, an alarm's too, is only a reason to look: the verdict
        // comes from ECS, the load balancer and CloudWatch.
        let observer = Observer { ecs: &self.ecs, elb: &self.elb, alarms: &self.alarms, clock: &self.clock };
        let verdict = observer.observe(d, watch).await?;
        if let EcsSignal::Alarm { alarm_name, .. } = signal
            && !verdict.is_final()
            && concerns(signal, d, watch)
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
            return Ok(Look::InProgress);
        }
        // Record first, then read the token from the same write: either the run
        // stored its token before (we send it) or it will find the verdict (and
        // check instead of waiting). Nothing is lost in between.
        match self.store.record_verdict(&d.deployment_id, &verdict).await? {
            Some(after) => self.deliver(&after).await,
            None => Ok(Look::Nothing),
        }
    }

    /// Sends the recorded verdict to the run, if it parked its token.
    async fn deliver(&self, d: &Deployment) -> Result<Look> {
        let Some(w) = &d.watch else { return Ok(Look::Nothing) };
        let (Some(token), Some(decided)) = (&w.task_token, &w.verdict) else {
            tracing::info!("verdict recorded; the run will pick it up");
            return Ok(Look::Recorded);
        };
        let output = serde_json::to_value(decided).map_err(|e| DeployError::Aws(e.to_string()))?;
        match self.callbacks.succeed(token, &output).await? {
            Delivery::Sent => {
                tracing::info!(outcome = ?decided.outcome, "run resumed");
                Ok(Look::Resumed)
            }
            Delivery::Gone => {
                tracing::info!("task token no longer valid (already resumed or timed out)");
                Ok(Look::TokenGone)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::service_arn_in;

    #[test]
    fn a_tasks_service_arn_is_its_clusters_with_the_service_name() {
        assert_eq!(
            service_arn_in("arn:aws:ecs:us-west-2:1:cluster/demo", "web").as_deref(),
            Some("arn:aws:ecs:us-west-2:1:service/demo/web")
        );
        assert_eq!(
            service_arn_in("arn:aws-cn:ecs:cn-north-1:1:cluster/demo", "web").as_deref(),
            Some("arn:aws-cn:ecs:cn-north-1:1:service/demo/web")
        );
        for (cluster, service) in [
            ("demo", "web"),
            ("arn:aws:ecs:us-west-2:1:cluster/", "web"),
            ("arn:aws:ecs:us-west-2:1:cluster/demo", ""),
            ("arn:aws:ecs:us-west-2:1:cluster/demo/x", "web"),
            ("arn:aws:ecs:us-west-2:1:cluster/demo", "a/b"),
            ("arn:aws:ec2:us-west-2:1:cluster/demo", "web"),
        ] {
            assert_eq!(service_arn_in(cluster, service), None, "{cluster} {service}");
        }
    }
}
