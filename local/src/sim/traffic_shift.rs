//! ECS's traffic-shifting deployment strategies, BLUE_GREEN, LINEAR and CANARY (ECS
//! Developer Guide, "Amazon ECS blue/green deployments", "Amazon ECS linear
//! deployments", "Amazon ECS canary deployments"): the green side is started in full
//! next to blue, production traffic moves to it by the production listener rule's
//! weights, both sides run through the bake time, then blue is drained.
//!
//! Each stage lasts at least one step; a stage with lifecycle hooks attached lasts until
//! they all passed (`crate::sim::hooks`). The service deployment stays IN_PROGRESS
//! until CLEAN_UP has drained blue and green runs desiredCount healthy tasks; the
//! scheduler then completes the `deployments[]` entry as for a rolling update.

use crate::sim::events::{DEPLOYMENT_STATE_CHANGE, deployment_detail};
use crate::sim::model::{
    DeploymentStatus, LifecycleStage as Stage, RolloutState, ServiceDeploymentStatus as Status, ServiceLb, Shift,
    ShiftPair, Strategy,
};
use crate::sim::world::World;

/// ELB weights `(blue, green)` for `green_percent` of the traffic. One side at 100 %
/// is 100 / 0, what a rule shows after ECS finished a deployment (observed by peers);
/// anything between is in tenths of a percent, p × 10 and (100 − p) × 10, since ECS's
/// percentages are multiples of 0.1 and a weight is at most 999 (ELBv2 API reference,
/// TargetGroupTuple.Weight). ECS's own encoding is not published.
pub fn weights(green_percent: f64) -> (u32, u32) {
    if green_percent >= 100.0 {
        (0, 100)
    } else if green_percent <= 0.0 {
        (100, 0)
    } else {
        let green = ((green_percent * 10.0).round() as u32).clamp(1, 999);
        (1000 - green, green)
    }
}

/// `p` rounded to a tenth of a percent, the unit of ECS's percentages.
fn tenths(p: f64) -> f64 {
    (p * 10.0).round() / 10.0
}

/// What the scheduler may do to a service while a traffic shift runs.
pub(crate) struct ShiftHold {
    /// `deployments[]` entries whose tasks stay: blue, until CLEAN_UP.
    pub blue_ids: Vec<String>,
    /// Green tasks start from SCALE_UP on ("The green service revision has not started",
    /// PRE_SCALE_UP).
    pub may_launch: bool,
}

impl World {
    /// The IN_PROGRESS traffic-shifting service deployment of a service.
    pub(crate) fn active_shift(&self, svc: usize) -> Option<usize> {
        let arn = &self.services[svc].arn;
        self.service_deployments
            .iter()
            .rposition(|d| &d.service_arn == arn && d.status == Status::InProgress && d.shift.is_some())
    }

    pub(crate) fn shift_hold(&self, svc: usize) -> Option<ShiftHold> {
        let shift = self.service_deployments[self.active_shift(svc)?].shift.as_ref()?;
        let blue_ids = if shift.stage < Stage::CleanUp { shift.blue_ids.clone() } else { Vec::new() };
        Some(ShiftHold { blue_ids, may_launch: shift.stage >= Stage::ScaleUp })
    }

    /// Whether the service's PRIMARY may not complete yet: a traffic shift has not
    /// reached CLEAN_UP ("The green service revision is now the production service
    /// revision after this stage").
    pub(crate) fn shift_blocks_completion(&self, svc: usize) -> bool {
        self.active_shift(svc)
            .and_then(|i| self.service_deployments[i].shift.as_ref())
            .is_some_and(|s| s.stage < Stage::CleanUp)
    }

    /// `(production group, other group)` of a load balancer entry with an
    /// `advancedConfiguration`: the one its production rule weights more (ties:
    /// `targetGroupArn`).
    pub(crate) fn production_pair(&self, lb: &ServiceLb) -> Option<(String, String)> {
        let adv = lb.advanced.as_ref()?;
        let weights = self.rule_weights(&adv.production_listener_rule).unwrap_or_default();
        let weight = |tg: &str| weights.iter().find(|(a, _)| a == tg).map_or(0, |x| x.1);
        let (tg, alt) = (lb.target_group_arn.clone(), adv.alternate_target_group_arn.clone());
        Some(if weight(&alt) > weight(&tg) { (alt, tg) } else { (tg, alt) })
    }

    /// Where a ROLLING deployment's tasks register when the service has an
    /// `advancedConfiguration` (it used a traffic-shifting strategy, or may): the group
    /// of each pair production uses now. `None` without one: the service's own groups.
    pub(crate) fn rolling_lbs(&self, svc: usize) -> Option<Vec<ServiceLb>> {
        let s = &self.services[svc];
        if s.load_balancers.iter().all(|l| l.advanced.is_none()) {
            return None;
        }
        let lbs = s.load_balancers.iter().map(|lb| match self.production_pair(lb) {
            Some((production, _)) => ServiceLb { target_group_arn: production, ..lb.clone() },
            None => lb.clone(),
        });
        Some(lbs.collect())
    }

    /// The `resolvedConfiguration` of a ROLLING deployment's revision: where its
    /// `deployments[]` entry `ecs_id` registers tasks.
    pub(crate) fn resolve_rolling(&mut self, svc: usize, ecs_id: &str, i: usize) {
        let s = &self.services[svc];
        let resolved = s
            .task_lbs(Some(ecs_id))
            .iter()
            .map(|l| (l.target_group_arn.clone(), l.advanced.as_ref().map(|a| a.production_listener_rule.clone())))
            .collect();
        let target = self.service_deployments[i].target_revision.clone();
        if let Some(r) = self.service_revisions.iter_mut().find(|r| r.arn == target) {
            r.resolved_lbs = resolved;
        }
    }

    /// Starts the shift of service deployment `i`, just opened for PRIMARY `green_id`:
    /// blue is, per pair, the target group the production rule sends traffic to ("A
    /// primary target group for the blue service revision (current production traffic)
    /// … An alternate target group for the green service revision", ECS Developer Guide,
    /// "Application Load Balancer resources for blue/green deployments"); green tasks
    /// register with the other one. The service's `targetGroupArn` is left as configured.
    pub(crate) fn begin_shift(&mut self, svc: usize, i: usize, green_id: &str) {
        let now = self.now();
        let s = &self.services[svc];
        let cfg = s.deployment_config.clone();
        let mut pairs = Vec::new();
        for lb in &s.load_balancers {
            let Some(((blue, green), adv)) = self.production_pair(lb).zip(lb.advanced.as_ref()) else { continue };
            pairs.push(ShiftPair {
                blue,
                green,
                production_rule: adv.production_listener_rule.clone(),
                test_rule: adv.test_listener_rule.clone(),
            });
        }
        // Blue: the older entries whose tasks are in the blue groups (all of them
        // without a load balancer).
        let blue_ids: Vec<String> = s
            .deployments
            .iter()
            .filter(|d| d.id != green_id)
            .filter(|d| {
                let first = s.task_lbs(Some(&d.id)).first().map(|l| l.target_group_arn.as_str());
                pairs.first().is_none_or(|p| first == Some(p.blue.as_str()))
            })
            .map(|d| d.id.clone())
            .collect();
        // With no blue side (the service's first deployment) there is nothing to keep
        // serving: green comes up in the group production already uses.
        if blue_ids.is_empty() {
            for p in &mut pairs {
                std::mem::swap(&mut p.blue, &mut p.green);
            }
        }
        let green_lbs: Vec<ServiceLb> = s
            .load_balancers
            .iter()
            .filter(|lb| lb.advanced.is_some())
            .zip(&pairs)
            .map(|(lb, p)| ServiceLb { target_group_arn: p.green.clone(), ..lb.clone() })
            .collect();
        // Green's share of each rule now: 0 unless green is where production already goes.
        let share = |rule: Option<&str>, green: &str| {
            let w = rule.and_then(|r| self.rule_weights(r)).unwrap_or_default();
            let sum: u32 = w.iter().map(|x| x.1).sum();
            let g = w.iter().find(|x| x.0 == green).map_or(0, |x| x.1);
            if sum == 0 { 0.0 } else { tenths(f64::from(g) * 100.0 / f64::from(sum)) }
        };
        let (production_percent, test_percent) = pairs.first().map_or((0.0, 0.0), |p| {
            (share(Some(&p.production_rule), &p.green), share(p.test_rule.as_deref(), &p.green))
        });
        let blue_revision =
            blue_ids.first().and_then(|id| self.service_revisions.iter().find(|r| r.runs(id))).map(|r| r.arn.clone());
        if !pairs.is_empty()
            && let Some(d) = self.services[svc].deployment_mut(green_id)
        {
            d.lb_override = Some(green_lbs);
        }
        let target = self.service_deployments[i].target_revision.clone();
        if let Some(r) = self.service_revisions.iter_mut().find(|r| r.arn == target) {
            r.resolved_lbs = pairs.iter().map(|p| (p.green.clone(), Some(p.production_rule.clone()))).collect();
        }
        self.service_deployments[i].shift = Some(Shift {
            strategy: cfg.strategy,
            // "RECONCILE_SERVICE … only happens when you start a new service deployment
            // with more than 1 service revision in an ACTIVE state"; the simulator always
            // passes through it, for one step.
            stage: Stage::ReconcileService,
            wait_until: now + 1000,
            green_id: green_id.to_owned(),
            blue_ids,
            blue_revision,
            pairs,
            production_percent,
            test_percent,
            config: cfg.shift,
            hook_config: cfg.hooks.clone(),
            hooks: Vec::new(),
            hook_stages_done: Vec::new(),
        });
    }

    /// Moves the traffic shift of a service one step on.
    pub(crate) fn step_shift(&mut self, svc: usize) {
        let now = self.now();
        let Some(i) = self.active_shift(svc) else { return };
        let Some(shift) = self.service_deployments[i].shift.clone() else { return };
        if now < shift.wait_until {
            return;
        }
        match shift.stage {
            // "The stage when the green service revision scales up to 100% and launches
            // new tasks": done when every green task is healthy in its target groups.
            Stage::ScaleUp => {
                let s = &self.services[svc];
                let desired = s.deployment(&shift.green_id).map_or(0, |d| d.desired_count) as usize;
                let healthy = self
                    .service_tasks(&s.arn)
                    .filter(|t| t.deployment_id.as_deref() == Some(shift.green_id.as_str()))
                    .filter(|t| self.task_healthy(t))
                    .count();
                if healthy < desired {
                    return;
                }
            }
            Stage::ProductionTrafficShift if shift.production_percent < 100.0 => {
                let (next, bake) = match shift.strategy {
                    // "This bake time is not applied after reaching 100 percent traffic"
                    // (API reference, LinearConfiguration.stepBakeTimeInMinutes).
                    Strategy::Linear => {
                        (tenths(shift.production_percent + shift.config.linear.0).min(100.0), shift.config.linear.1)
                    }
                    _ => (100.0, 0),
                };
                // This step's PRODUCTION_TRAFFIC_SHIFT hooks, then the next step's
                // PRE_PRODUCTION_TRAFFIC_SHIFT ones, each step with new hook ids.
                if !self.hooks_pass(svc, i, true) {
                    return;
                }
                self.route_shift(i, next, shift.test_percent);
                self.set_wait(i, if next < 100.0 { now + bake * 60_000 } else { now + 1000 });
                if let Some(s) = self.service_deployments[i].shift.as_mut() {
                    s.hooks.clear();
                    s.hook_stages_done.clear();
                }
                return;
            }
            // CLEAN_UP ends when the scheduler completes green (blue drained).
            Stage::CleanUp => return,
            _ => {}
        }
        // A hook stage ends when its hooks all passed (see `crate::sim::hooks`).
        if !self.hooks_pass(svc, i, false) {
            return;
        }
        let stage = shift.stage.next();
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.stage = stage;
            s.wait_until = now + 1000;
            s.hooks.clear();
            s.hook_stages_done.clear();
        }
        self.service_deployments[i].updated_at = now;
        match stage {
            // "The green service revision is migrating from 0% to 100% of test traffic."
            Stage::TestTrafficShift if shift.pairs.iter().any(|p| p.test_rule.is_some()) => {
                self.route_shift(i, shift.production_percent, 100.0);
            }
            Stage::ProductionTrafficShift => {
                let (first, bake) = match shift.strategy {
                    // Without a blue side (the service's first deployment) there is
                    // nothing to shift gradually from: a step would send traffic to a
                    // group without targets.
                    _ if shift.blue_ids.is_empty() => (100.0, 0),
                    Strategy::Linear => (shift.config.linear.0.min(100.0), shift.config.linear.1),
                    // "first to the canary percentage, then to complete the deployment".
                    Strategy::Canary => (shift.config.canary.0, shift.config.canary.1),
                    _ => (100.0, 0),
                };
                self.route_shift(i, first, shift.test_percent);
                if first < 100.0 {
                    self.set_wait(i, now + bake * 60_000);
                }
            }
            // "The time, in minutes, Amazon ECS waits after shifting all production
            // traffic to the new service revision, before it terminates the old service
            // revision" (Deployment bake time).
            Stage::BakeTime => self.set_wait(i, now + (shift.config.bake_minutes * 60_000).max(1000)),
            _ => {}
        }
    }

    fn set_wait(&mut self, i: usize, until: i64) {
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.wait_until = until;
        }
    }

    /// Sets the production (and test) rules of every pair to send `production` (and
    /// `test`) percent to green, the rest to blue, keeping the rule's order of groups.
    pub(crate) fn route_shift(&mut self, i: usize, production: f64, test: f64) {
        let Some(shift) = self.service_deployments[i].shift.clone() else { return };
        let service_arn = self.service_deployments[i].service_arn.clone();
        let mut failed = Vec::new();
        for p in &shift.pairs {
            let mut rules = vec![(p.production_rule.clone(), production)];
            if let Some(t) = &p.test_rule {
                rules.push((t.clone(), test));
            }
            for (rule, percent) in rules {
                let (blue_w, green_w) = weights(percent);
                let mut order: Vec<String> = self
                    .rule_weights(&rule)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(a, _)| a)
                    .filter(|a| a == &p.blue || a == &p.green)
                    .collect();
                for g in [&p.blue, &p.green] {
                    if !order.contains(g) {
                        order.push(g.clone());
                    }
                }
                let list: Vec<(String, u32)> =
                    order.into_iter().map(|a| (a.clone(), if a == p.blue { blue_w } else { green_w })).collect();
                if let Err(e) = self.set_forward_weights(&rule, &list) {
                    failed.push(format!("could not shift traffic on (rule {rule}): {e}"));
                }
            }
        }
        if let Some(s) = self.service_deployments[i].shift.as_mut() {
            s.production_percent = production;
            s.test_percent = test;
        }
        if let Some(svc) = self.services.iter().rposition(|s| s.arn == service_arn) {
            let name = self.services[svc].name.clone();
            for msg in failed {
                self.service_event(svc, format!("(service {name}) {msg}"));
            }
        }
    }

    /// A newer deployment stops service deployment `i`: before CLEAN_UP its traffic goes
    /// back to blue at once and the new deployment starts from blue; from CLEAN_UP on
    /// green already serves production and stays there.
    pub(crate) fn supersede_shift(&mut self, i: usize) {
        if self.service_deployments[i].shift.as_ref().is_some_and(|s| s.stage < Stage::CleanUp) {
            self.route_shift(i, 0.0, 0.0);
        }
    }

    /// Whether service deployment `i` can roll back: it shifts traffic and has a blue side.
    pub(crate) fn shift_can_roll_back(&self, i: usize) -> bool {
        self.service_deployments[i].shift.as_ref().is_some_and(|s| !s.blue_ids.is_empty())
    }

    /// Rolls traffic-shifting deployment `i` back to blue: production and test traffic
    /// straight back to blue (blue was never scaled down), green's entry FAILED, blue's
    /// entry PRIMARY again (completed by the scheduler once green has drained), and the
    /// service deployment ROLLBACK_IN_PROGRESS naming blue's revision — no new
    /// revision ("Amazon ECS doesn't create a new service revision for a rollback").
    pub(crate) fn shift_rollback(&mut self, svc: usize, i: usize, reason: &str, why: &str) {
        let now = self.now();
        let Some(shift) = self.service_deployments[i].shift.clone() else { return };
        let Some(blue_id) = shift.blue_ids.first().cloned() else { return };
        self.route_shift(i, 0.0, 0.0);
        self.reinvoke_hooks_on_rollback(i);
        let s = &mut self.services[svc];
        if let Some(g) = s.deployment_mut(&shift.green_id)
            && g.rollout_state == RolloutState::InProgress
        {
            g.rollout_state = RolloutState::Failed;
            g.rollout_state_reason = reason.to_owned();
            g.updated_at = now;
        }
        let Some(pos) = s.deployments.iter().position(|d| d.id == blue_id) else { return };
        let mut blue = s.deployments.remove(pos);
        for d in &mut s.deployments {
            d.status = DeploymentStatus::Active;
        }
        blue.status = DeploymentStatus::Primary;
        blue.rollout_state = RolloutState::InProgress;
        blue.rollout_state_reason = why.to_owned();
        blue.desired_count = s.desired_count;
        blue.failed_tasks = 0;
        blue.impaired_reported = false;
        blue.updated_at = now;
        s.task_def_arn = blue.task_def_arn.clone();
        s.steady = false;
        s.deployments.insert(0, blue);
        let arn = s.arn.clone();
        let detail = deployment_detail("SERVICE_DEPLOYMENT_IN_PROGRESS", &blue_id, now, why);
        self.emit(DEPLOYMENT_STATE_CHANGE, vec![arn], detail);
        self.begin_rollback(i, reason, &blue_id, &blue_id, now);
    }
}

#[cfg(test)]
mod tests {
    use super::weights;

    #[test]
    fn weights_are_whole_at_the_ends_and_tenths_between() {
        assert_eq!(weights(0.0), (100, 0));
        assert_eq!(weights(100.0), (0, 100));
        assert_eq!(weights(10.0), (900, 100));
        assert_eq!(weights(5.0), (950, 50));
        assert_eq!(weights(0.1), (999, 1));
        assert_eq!(weights(99.9), (1, 999));
        assert_eq!(weights(33.3), (667, 333));
    }
}
