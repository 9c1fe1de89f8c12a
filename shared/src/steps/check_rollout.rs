//! Step "Check …": the slow-poll fallback that covers lost events, and the
//! deadline.
//!
//! Events decide a rolling rollout; the poll only covers one that was lost,
//! so it backs off: each check still in progress waits as long again as the
//! rollout has run so far plus `PollIntervalSeconds`, at most four times
//! that interval (checks at 1, 3, 7, 11, 15, … intervals). A five-minute
//! rollout with a one-minute interval is checked twice, not five times: the
//! calls a rollout costs hardly grow with how long it takes. A
//! traffic-shifting rollout is checked every interval: ECS sends no event for
//! its stages, which the timeline shows.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{ForDeployment, Observer, ProgressLog, Step, load};
use crate::DeployError;
use crate::domain::{DeploymentId, DeploymentStrategy, Phase, Verdict};
use crate::error::Result;
use crate::ports::{Alarms, Clock, DeploymentStore, Ecs, Notifier, ServiceLocks, TargetHealth};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInput {
    pub deployment_id: DeploymentId,
    pub phase: Phase,
}

impl ForDeployment for CheckInput {
    fn deployment_id(&self) -> &DeploymentId {
        &self.deployment_id
    }
}

/// A check's verdict, and how long the run waits before it checks again (when it is in progress).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutput {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub poll_interval_seconds: i64,
}

/// The longest wait between two checks, in poll intervals.
pub const MAX_POLL_INTERVALS: i32 = 4;

/// The wait before the next check: what the rollout has run so far plus one
/// `interval`, between one and [`MAX_POLL_INTERVALS`] intervals, and never
/// past the deadline (the check there fails the rollout on time).
pub fn next_poll(
    interval: Duration,
    started: Option<DateTime<Utc>>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Duration {
    let ran = started.map_or(Duration::zero(), |s| (now - s).max(Duration::zero()));
    let wait = (ran + interval).clamp(interval, interval * MAX_POLL_INTERVALS);
    wait.min((deadline - now).max(Duration::seconds(1)))
}

/// Also renews the service lease (the poll passes here at least once per interval).
pub struct CheckRollout<S, E, H, A, L, N, C> {
    pub store: S,
    pub ecs: E,
    pub elb: H,
    pub alarms: A,
    pub locks: L,
    /// Announces each stage or traffic change it sees.
    pub notifier: N,
    pub clock: C,
    /// Where a person decides when ECS holds the rollout at a PAUSE hook.
    pub approval_endpoint: Option<crate::domain::ApprovalEndpoint>,
    /// How far each pass extends the service lease (see [`lease`](super::lease)).
    pub lease: Duration,
    /// `PollIntervalSeconds`: the first wait, and the unit of the back-off.
    pub poll_interval: Duration,
}

impl<S, E, H, A, L, N, C> Step for CheckRollout<S, E, H, A, L, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    H: TargetHealth,
    A: Alarms,
    L: ServiceLocks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "check-rollout";
    type Input = CheckInput;
    type Output = CheckOutput;

    async fn run(&self, input: CheckInput) -> Result<CheckOutput> {
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        if !self.locks.renew(&d.service_key, id, self.clock.now() + self.lease).await? {
            tracing::warn!("service lease lost: another deployment took the service over");
        }
        let watch = d
            .watch
            .clone()
            .filter(|w| w.phase == input.phase)
            .ok_or_else(|| DeployError::InvalidInput(format!("deployment {id} has no {:?} watch", input.phase)))?;
        let now = self.clock.now();
        // A traffic-shifting rollout's stages and weights are seen only by
        // looking (ECS sends no event for them): its checks keep their pace.
        let rolling = matches!(d.strategy, None | Some(DeploymentStrategy::Rolling));
        let next = if rolling {
            next_poll(self.poll_interval, watch.started_at, watch.deadline, now)
        } else {
            self.poll_interval
        };
        let out = |verdict| CheckOutput { verdict, poll_interval_seconds: next.num_seconds() };
        // An event already decided: that verdict stands.
        if let Some(v) = watch.verdict.clone().filter(Verdict::is_final) {
            return Ok(out(v));
        }
        let verdict = Observer { ecs: &self.ecs, elb: &self.elb, alarms: &self.alarms, clock: &self.clock }
            .observe(&d, &watch)
            .await?;
        ProgressLog {
            store: &self.store,
            notifier: &self.notifier,
            clock: &self.clock,
            endpoint: self.approval_endpoint.as_ref(),
        }
        .note(&d, &watch, &verdict)
        .await?;
        if verdict.is_final() {
            // The first verdict recorded wins (an event may have decided meanwhile).
            let stored = self.store.record_verdict(id, &verdict).await?;
            if let Some(v) = stored.and_then(|d| d.watch).and_then(|w| w.verdict) {
                return Ok(out(v));
            }
        }
        Ok(out(verdict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_backs_off_to_four_intervals_and_never_waits_past_the_deadline() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let minute = Duration::minutes(1);
        let far = start + Duration::hours(1);
        let at = |m: i64| start + Duration::minutes(m);
        let next = |m| next_poll(minute, Some(start), far, at(m)).num_minutes();
        // Checks at 1, 3, 7, 11 minutes: a five-minute rollout is checked twice.
        assert_eq!([next(1), next(3), next(7), next(11)], [2, 4, 4, 4]);
        assert_eq!(next_poll(minute, None, far, at(5)), minute);
        assert_eq!(next_poll(minute, Some(start), at(8), at(7)), minute);
        assert_eq!(next_poll(minute, Some(start), at(7), at(9)), Duration::seconds(1));
        assert_eq!(next_poll(minute, Some(at(9)), far, at(7)), minute, "a start in the future counts as none");
    }
}
