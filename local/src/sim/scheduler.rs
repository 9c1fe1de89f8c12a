//! The service scheduler's rolling update (ECS Developer Guide, "Deploy Amazon ECS
//! services by replacing tasks"), run once per step for every service:
//!
//! - tasks the load balancer (or a container health check) reports unhealthy are stopped,
//!   after `healthCheckGracePeriodSeconds`;
//! - old-deployment tasks (and PRIMARY tasks above desiredCount) are stopped while the
//!   number of healthy tasks stays ≥ minimumHealthyPercent × desired (rounded up);
//!   tasks that are not healthy can always be stopped;
//! - PRIMARY tasks are started while RUNNING + PENDING stays ≤ maximumPercent × desired
//!   (rounded down);
//! - the PRIMARY deployment is COMPLETED (steady state) when it alone runs desiredCount
//!   healthy tasks and every older deployment has drained.
//!
//! Services with a traffic-shifting strategy (BLUE_GREEN, LINEAR, CANARY) skip both
//! percent limits: green starts in full once the shift reaches SCALE_UP, blue is kept
//! (failed blue tasks replaced) until CLEAN_UP and then stopped at once, and the
//! deployment completes only from CLEAN_UP on (see `traffic_shift`).

use crate::sim::events::{DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, deployment_detail, service_action_detail};
use crate::sim::lifecycle::{FAILED_CONTAINER_CHECKS, FAILED_ELB_CHECKS, StopCause};
use crate::sim::model::{RolloutState, ServiceStatus, TargetState, Task, TaskStatus};
use crate::sim::world::World;

/// Without a load balancer or container health check, ECS counts a task towards the
/// minimum healthy percent 40 s after it is RUNNING (API reference, minimumHealthyPercent).
const NO_CHECK_HEALTHY_AFTER_MS: i64 = 40_000;

/// An alive task as the scheduler sees it.
struct Slot {
    id: String,
    /// Position of the task's deployment in `deployments` (0 = PRIMARY).
    age: usize,
    healthy: bool,
    created_at: i64,
}

impl World {
    pub(crate) fn step_services(&mut self) {
        for svc in 0..self.services.len() {
            if self.services[svc].status == ServiceStatus::Inactive {
                continue;
            }
            self.stop_unhealthy(svc);
            self.check_breaker(svc);
            self.retire_drained_deployments(svc);
            self.balance(svc);
            self.step_shift(svc);
            self.check_steady(svc);
        }
    }

    /// Whether ECS counts the task as healthy for minimumHealthyPercent: RUNNING, essential
    /// container health checks HEALTHY, and `healthy` in every target group of the service.
    pub fn task_healthy(&self, t: &Task) -> bool {
        let now = self.now();
        if !t.is_alive() || t.last_status != TaskStatus::Running {
            return false;
        }
        let checked = t.essential_health_checked();
        if checked && t.health_status(now) != "HEALTHY" {
            return false;
        }
        let svc = t.service_arn.as_deref().and_then(|a| self.service_by_arn(a));
        let lbs = svc.map(|s| s.task_lbs(t.deployment_id.as_deref())).unwrap_or_default();
        if lbs.is_empty() {
            return checked || t.started_at.is_some_and(|s| now >= s + NO_CHECK_HEALTHY_AFTER_MS);
        }
        let Some(ip) = t.ip() else { return false };
        lbs.iter().all(|lb| {
            self.target_groups
                .get(&lb.target_group_arn)
                .and_then(|tg| tg.target(ip, lb.container_port))
                .is_some_and(|x| x.state == TargetState::Healthy)
        })
    }

    /// Healthy tasks of the service (of its PRIMARY deployment only, if `primary_only`).
    pub(crate) fn healthy_tasks(&self, svc: usize, primary_only: bool) -> usize {
        let s = &self.services[svc];
        let primary = s.primary().map(|d| d.id.as_str());
        self.service_tasks(&s.arn)
            .filter(|t| !primary_only || t.deployment_id.as_deref() == primary)
            .filter(|t| self.task_healthy(t))
            .count()
    }

    pub(crate) fn service_tasks<'a>(&'a self, arn: &'a str) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks.values().filter(move |t| t.service_arn.as_deref() == Some(arn))
    }

    /// ECS replaces tasks that fail ELB or container health checks, ignoring ELB health for
    /// `healthCheckGracePeriodSeconds` after the task starts.
    fn stop_unhealthy(&mut self, svc: usize) {
        let now = self.now();
        let s = &self.services[svc];
        let grace = s.health_check_grace_period.unwrap_or(0) * 1000;
        let mut doomed = Vec::new();
        for t in self.service_tasks(&s.arn).filter(|t| t.is_alive() && t.last_status == TaskStatus::Running) {
            let started = t.started_at.unwrap_or(now);
            if t.essential_health_checked() && t.health_status(now) == "UNHEALTHY" {
                let reason = "Task failed container health checks".to_string();
                doomed.push((t.id.clone(), reason, FAILED_CONTAINER_CHECKS, None));
                continue;
            }
            if now < started + grace {
                continue;
            }
            let Some(ip) = t.ip() else { continue };
            for lb in s.task_lbs(t.deployment_id.as_deref()) {
                let tg = self.target_groups.get(&lb.target_group_arn);
                let target = tg.and_then(|tg| tg.target(ip, lb.container_port));
                if target.is_some_and(|x| x.state == TargetState::Unhealthy) {
                    let reason = format!("Task failed ELB health checks in (target-group {})", lb.target_group_arn);
                    let msg = format!(
                        "(service {}) (task {}) (port {}) is unhealthy in (target-group {}) due to (reason Health checks failed).",
                        s.name, t.id, lb.container_port, lb.target_group_arn
                    );
                    doomed.push((t.id.clone(), reason, FAILED_ELB_CHECKS, Some(msg)));
                    break;
                }
            }
        }
        for (id, reason, kind, msg) in doomed {
            if let Some(msg) = msg {
                self.service_event(svc, msg);
            }
            let cause =
                StopCause { code: "ServiceSchedulerInitiated", reason, failure: Some(kind), wait_for_drain: true };
            self.stop_task(&id, cause);
        }
    }

    /// Stops surplus tasks within minimumHealthyPercent, then starts PRIMARY tasks within
    /// maximumPercent.
    fn balance(&mut self, svc: usize) {
        let s = &self.services[svc];
        let Some(primary) = s.primary() else { return };
        let draining = s.status == ServiceStatus::Draining;
        let desired = if draining { 0 } else { s.desired_count };
        let cfg = &s.deployment_config;
        // A FAILED deployment without rollback stops launching tasks (API reference,
        // DeploymentCircuitBreaker); keep what is serving.
        let frozen = primary.rollout_state == RolloutState::Failed && !cfg.breaker_rollback;
        // BLUE_GREEN, LINEAR and CANARY scale green "up to 100%" next to blue and stop
        // blue at CLEAN_UP (ECS Developer Guide, "Amazon ECS blue/green deployments"):
        // minimumHealthyPercent and maximumPercent do not apply.
        let hold = self.shift_hold(svc);
        let shifting = cfg.strategy.shifts_traffic() || hold.is_some();
        // A deleted service stops every task, blue too.
        let held = hold.as_ref().filter(|_| !draining).map(|h| h.blue_ids.clone()).unwrap_or_default();
        let may_launch = hold.as_ref().is_none_or(|h| h.may_launch);
        let (min_healthy, max_total) =
            if shifting { (0, i64::MAX) } else { (cfg.min_healthy(desired), cfg.max_total(desired)) };
        let (name, primary_id) = (s.name.clone(), primary.id.clone());
        // Blue keeps its scale while it is held: failed blue tasks are replaced.
        let blue_missing: Vec<(String, i64)> = held
            .iter()
            .filter_map(|id| s.deployment(id))
            .map(|d| {
                let alive = self
                    .service_tasks(&s.arn)
                    .filter(|t| t.is_alive() && t.deployment_id.as_ref() == Some(&d.id))
                    .count() as i64;
                (d.id.clone(), if frozen { 0 } else { (d.desired_count - alive).max(0) })
            })
            .collect();
        let slots: Vec<Slot> = self
            .service_tasks(&s.arn)
            .filter(|t| t.is_alive())
            .filter(|t| t.deployment_id.as_ref().is_none_or(|d| !held.contains(d)))
            .map(|t| Slot {
                id: t.id.clone(),
                age: s.deployments.iter().position(|d| Some(&d.id) == t.deployment_id.as_ref()).unwrap_or(usize::MAX),
                healthy: self.task_healthy(t),
                created_at: t.created_at,
            })
            .collect();
        let healthy_total = slots.iter().filter(|x| x.healthy).count() as i64;
        let (mut primary_slots, mut candidates): (Vec<&Slot>, Vec<&Slot>) = slots.iter().partition(|x| x.age == 0);
        let surplus = (primary_slots.len() as i64 - desired).max(0) as usize;
        // Surplus PRIMARY tasks: the least useful (not healthy, newest) go first.
        primary_slots.sort_by_key(|x| (x.healthy, std::cmp::Reverse(x.created_at)));
        candidates.extend(primary_slots.iter().take(surplus));
        // Not-healthy tasks first, then the oldest deployment's oldest tasks.
        candidates.sort_by_key(|x| (x.healthy, std::cmp::Reverse(x.age), x.created_at));
        let mut budget = if frozen { 0 } else { (healthy_total - min_healthy).max(0) };
        let mut stop = Vec::new();
        for c in candidates {
            if !c.healthy {
                stop.push(c.id.clone());
            } else if budget > 0 {
                budget -= 1;
                stop.push(c.id.clone());
            }
        }
        let primary_left = primary_slots.iter().filter(|x| !stop.contains(&x.id)).count() as i64;
        let alive_left = slots.len() as i64 - stop.len() as i64;
        let start = if frozen || draining || !may_launch {
            0
        } else {
            (desired - primary_left).min(max_total - alive_left).max(0)
        };

        let mut drained = 0;
        for id in &stop {
            let had_targets = self.tasks.get(id).is_some_and(|t| !t.targets.is_empty());
            let cause = StopCause {
                code: "ServiceSchedulerInitiated",
                reason: format!("Scaling activity initiated by (deployment {primary_id})"),
                failure: None,
                wait_for_drain: true,
            };
            if self.stop_task(id, cause) && had_targets {
                drained += 1;
            }
        }
        if !stop.is_empty() {
            let list: String = stop.iter().map(|id| format!(" (task {id})")).collect();
            self.service_event(svc, format!("(service {name}) has stopped {} running tasks:{list}.", stop.len()));
        }
        if drained > 0 {
            self.service_event(svc, format!("(service {name}) has begun draining connections on {drained} tasks."));
        }
        let mut started: Vec<String> = (0..start).filter_map(|_| self.launch_task(svc, &primary_id)).collect();
        for (id, missing) in blue_missing {
            started.extend((0..missing).filter_map(|_| self.launch_task(svc, &id)));
        }
        if !started.is_empty() {
            let list: String = started.iter().map(|id| format!(" (task {id})")).collect();
            self.service_event(svc, format!("(service {name}) has started {} tasks:{list}.", started.len()));
        }
    }

    /// Marks the PRIMARY deployment COMPLETED and reports steady state when it alone runs
    /// desiredCount healthy tasks; a DRAINING service with no tasks left becomes INACTIVE.
    fn check_steady(&mut self, svc: usize) {
        let now = self.now();
        let s = &self.services[svc];
        let arn = s.arn.clone();
        let live_tasks = self.service_tasks(&arn).filter(|t| t.last_status != TaskStatus::Stopped).count();
        if s.status == ServiceStatus::Draining {
            if live_tasks == 0 {
                self.services[svc].status = ServiceStatus::Inactive;
            }
            return;
        }
        let Some(p) = s.primary() else { return };
        let alive = self.service_tasks(&arn).filter(|t| t.is_alive()).count() as i64;
        let healthy = self.healthy_tasks(svc, true) as i64;
        let settled = s.deployments.len() == 1
            && alive == s.desired_count
            && healthy == s.desired_count
            && !self.shift_blocks_completion(svc);
        let (name, cluster_arn, id, td) = (s.name.clone(), s.cluster_arn.clone(), p.id.clone(), p.task_def_arn.clone());
        if !settled {
            self.services[svc].steady = false;
            return;
        }
        if p.rollout_state == RolloutState::InProgress {
            let reason = format!("ECS deployment {id} completed.");
            if let Some(p) = self.services[svc].primary_mut() {
                p.rollout_state = RolloutState::Completed;
                p.rollout_state_reason = reason.clone();
                p.updated_at = now;
            }
            self.services[svc].last_completed_task_def = Some((id.clone(), td));
            self.service_deployment_completed(svc, &id);
            self.emit(
                DEPLOYMENT_STATE_CHANGE,
                vec![arn.clone()],
                deployment_detail("SERVICE_DEPLOYMENT_COMPLETED", &id, now, &reason),
            );
            self.service_event(svc, format!("(service {name}) (deployment {id}) deployment completed."));
        }
        if !self.services[svc].steady {
            self.services[svc].steady = true;
            self.service_event(svc, format!("(service {name}) has reached a steady state."));
            let detail = service_action_detail("INFO", "SERVICE_STEADY_STATE", &cluster_arn, now);
            self.emit(SERVICE_ACTION, vec![arn], detail);
        }
    }
}
