//! ELB target registration, health checks and connection draining (Elastic Load
//! Balancing User Guide, "Health checks for Application Load Balancer target groups" and
//! "Deregistration delay").
//!
//! A new target is `initial` (Elb.RegistrationInProgress, then Elb.InitialHealthChecking)
//! until HealthyThresholdCount consecutive checks pass (→ `healthy`) or
//! UnhealthyThresholdCount consecutive checks fail (→ `unhealthy`); checks run every
//! HealthCheckIntervalSeconds. A deregistered target is `draining`
//! (Target.DeregistrationInProgress) for `deregistration_delay.timeout_seconds`, then removed.

use std::collections::BTreeMap;

use crate::sim::clock::SimTime;
use crate::sim::images::Behavior;
use crate::sim::model::{Target, TargetState, Task, TaskStatus};
use crate::sim::rng::Rng;
use crate::sim::world::World;

/// Time from registration to the first health check.
const REGISTRATION_S: i64 = 3;

type Failure = (&'static str, String);

impl World {
    /// Registers `ip:port`; a draining target starts over as `initial`. False if the target
    /// group does not exist.
    pub fn elb_register(&mut self, tg_arn: &str, ip: &str, port: i64, az: Option<String>) -> bool {
        let now = self.now();
        let Some(tg) = self.target_groups.get_mut(tg_arn) else {
            return false;
        };
        let fresh = Target {
            id: ip.to_string(),
            port,
            availability_zone: az,
            state: TargetState::Initial,
            reason: Some(("Elb.RegistrationInProgress", "Target registration is in progress".into())),
            registered_at: now,
            next_check_at: now + REGISTRATION_S * 1000,
            checks_done: 0,
            ok_streak: 0,
            fail_streak: 0,
            drain_until: None,
        };
        match tg.targets.iter_mut().find(|t| t.id == ip && t.port == port) {
            Some(t) if t.state == TargetState::Draining => *t = fresh,
            Some(_) => {}
            None => tg.targets.push(fresh),
        }
        true
    }

    /// Starts draining `ip:port`; false if it is not registered (or already draining).
    pub fn elb_deregister(&mut self, tg_arn: &str, ip: &str, port: i64) -> bool {
        let now = self.now();
        let Some(tg) = self.target_groups.get_mut(tg_arn) else {
            return false;
        };
        let delay = tg.deregistration_delay();
        match tg.targets.iter_mut().find(|t| t.id == ip && t.port == port) {
            Some(t) if t.state != TargetState::Draining => {
                t.state = TargetState::Draining;
                t.reason = Some(("Target.DeregistrationInProgress", "Target deregistration is in progress".into()));
                t.drain_until = Some(now + delay * 1000);
                true
            }
            _ => false,
        }
    }

    /// Runs due health checks and removes targets whose draining has finished.
    pub(crate) fn step_health(&mut self) {
        let now = self.now();
        let by_ip: BTreeMap<&str, &Task> = self
            .tasks
            .values()
            .filter(|t| {
                matches!(t.last_status, TaskStatus::Activating | TaskStatus::Running | TaskStatus::Deactivating)
            })
            .filter_map(|t| t.ip().map(|ip| (ip, t)))
            .collect();
        let rng = &mut self.rng;
        for tg in self.target_groups.values_mut() {
            tg.targets.retain(|t| t.drain_until.is_none_or(|d| now < d));
            let hc = tg.health_check.clone();
            for t in tg.targets.iter_mut().filter(|t| t.state != TargetState::Draining) {
                if now < t.next_check_at {
                    continue;
                }
                t.next_check_at = now + hc.interval_seconds * 1000;
                t.checks_done += 1;
                let outcome = probe(by_ip.get(t.id.as_str()).copied(), t.port, now, rng);
                apply(t, outcome, hc.healthy_threshold, hc.unhealthy_threshold);
            }
        }
    }
}

/// One health check against the task holding the target's IP.
fn probe(task: Option<&Task>, port: i64, now: SimTime, rng: &mut Rng) -> Result<(), Failure> {
    let timeout = || ("Target.Timeout", "Request timed out".to_string());
    let code = |c: u16| ("Target.ResponseCodeMismatch", format!("Health checks failed with these codes: [{c}]"));
    let Some(task) = task else {
        return Err(timeout());
    };
    let answering = task.last_status == TaskStatus::Running || task.last_status == TaskStatus::Deactivating;
    match task.behavior_for_port(port) {
        _ if !answering => Err(timeout()),
        // `errors` answers its health check path and fails everything else (see requests.rs).
        Some(Behavior::Healthy | Behavior::Errors) => Ok(()),
        Some(Behavior::Unhealthy) => Err(code(500)),
        Some(Behavior::Slow(s)) => match task.started_at {
            Some(t) if now >= t + s as i64 * 1000 => Ok(()),
            _ => Err(timeout()),
        },
        Some(Behavior::Flaky(p)) => {
            if rng.unit() < p {
                Err(code(503))
            } else {
                Ok(())
            }
        }
        Some(Behavior::Crash) | None => Err(timeout()),
    }
}

fn apply(t: &mut Target, outcome: Result<(), Failure>, healthy_threshold: i64, unhealthy_threshold: i64) {
    match outcome {
        Ok(()) => {
            t.ok_streak += 1;
            t.fail_streak = 0;
            if t.ok_streak >= healthy_threshold {
                t.state = TargetState::Healthy;
                t.reason = None;
            } else if t.state == TargetState::Initial {
                t.reason = Some(("Elb.InitialHealthChecking", "Initial health checks in progress".into()));
            }
        }
        Err(failure) => {
            t.fail_streak += 1;
            t.ok_streak = 0;
            if t.fail_streak >= unhealthy_threshold || t.state == TargetState::Unhealthy {
                t.state = TargetState::Unhealthy;
                t.reason = Some(failure);
            } else if t.state == TargetState::Initial {
                t.reason = Some(("Elb.InitialHealthChecking", "Initial health checks in progress".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            id: "10.0.0.2".into(),
            port: 80,
            availability_zone: None,
            state: TargetState::Initial,
            reason: None,
            registered_at: 0,
            next_check_at: 0,
            checks_done: 0,
            ok_streak: 0,
            fail_streak: 0,
            drain_until: None,
        }
    }

    #[test]
    fn thresholds_gate_state_changes() {
        let mut t = target();
        apply(&mut t, Ok(()), 2, 2);
        assert_eq!(
            (t.state, t.reason.as_ref().map(|r| r.0)),
            (TargetState::Initial, Some("Elb.InitialHealthChecking"))
        );
        apply(&mut t, Ok(()), 2, 2);
        assert_eq!((t.state, t.reason.is_none()), (TargetState::Healthy, true));
        apply(&mut t, Err(("Target.Timeout", "x".into())), 2, 2);
        assert_eq!(t.state, TargetState::Healthy);
        apply(&mut t, Err(("Target.Timeout", "x".into())), 2, 2);
        assert_eq!((t.state, t.reason.as_ref().map(|r| r.0)), (TargetState::Unhealthy, Some("Target.Timeout")));
    }
}
