//! Looks at ECS, the load balancer and CloudWatch and decides how a watch stands.

use crate::domain::{Deployment, Outcome, Phase, Verdict, Watch, evaluate, short_tg};
use crate::error::Result;
use crate::ports::{Alarms, Clock, Ecs, TargetHealth};

/// The ports a look at a rollout needs.
pub struct Observer<'a, E, H, A, C> {
    pub ecs: &'a E,
    pub elb: &'a H,
    pub alarms: &'a A,
    pub clock: &'a C,
}

impl<E: Ecs, H: TargetHealth, A: Alarms, C: Clock> Observer<'_, E, H, A, C> {
    pub async fn observe(&self, d: &Deployment, watch: &Watch) -> Result<Verdict> {
        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let tasks = self.ecs.service_tasks(&d.cluster, &d.service).await?;
        let mut health = Vec::with_capacity(service.target_group_arns.len());
        for tg in &service.target_group_arns {
            health.push((tg.clone(), self.elb.describe(tg).await?));
        }
        let verdict = evaluate(watch, &service, &tasks, &health, self.clock.now());
        // An alarm fails a rollout (not the rollback recovering from one) whether
        // or not its event reached us: CloudWatch is asked on every look, about
        // the target groups ECS reports and the alarms the target names.
        if watch.phase != Phase::Rollout || verdict.outcome == Outcome::Failed {
            return Ok(verdict);
        }
        let target_groups: Vec<String> = service.target_group_arns.iter().map(|tg| short_tg(tg).to_owned()).collect();
        if d.alarms.is_empty() && target_groups.is_empty() {
            return Ok(verdict);
        }
        // Only an alarm that went to ALARM since the wait began: one that was
        // firing already would stop every fix of what it is about.
        let firing = self.alarms.firing(&d.alarms, &target_groups).await?;
        let new = firing.iter().find(|a| match (a.since, watch.started_at) {
            (Some(since), Some(started)) => since >= started,
            _ => true,
        });
        match new {
            Some(alarm) => Ok(Verdict::failed(
                watch,
                format!("alarm {} is in ALARM: {}", alarm.name, alarm.reason),
                self.clock.now(),
            )),
            None => Ok(verdict),
        }
    }
}
