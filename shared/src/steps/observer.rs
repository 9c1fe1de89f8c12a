//! Looks at ECS, the load balancer and CloudWatch and decides how a watch stands.

use crate::domain::{
    Deployment, Outcome, Phase, ServiceDeploymentStatus, ServiceDeploymentView, ServiceSnapshot, Verdict, Watch,
    evaluate, evaluate_service_deployment, short_tg,
};
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
        let verdict = match self.service_deployment(d, watch).await? {
            Some(sd) => self.judge_service_deployment(d, watch, &service, &sd).await?,
            None => {
                let tasks = self.ecs.service_tasks(&d.cluster, &d.service).await?;
                let health = self.health(&service.target_group_arns).await?;
                evaluate(watch, &service, &tasks, &health, self.clock.now())
            }
        };
        // An alarm fails a rollout (not the rollback recovering from one) whether
        // or not its event reached us: CloudWatch is asked on every look, about
        // the target groups ECS reports and the alarms the target names.
        if watch.phase != Phase::Rollout || verdict.outcome == Outcome::Failed {
            return Ok(verdict);
        }
        // A traffic shift serves from the alternate groups too: their alarms count.
        let target_groups: Vec<String> = service.all_target_groups().iter().map(|tg| short_tg(tg).to_owned()).collect();
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

    /// ECS's service deployment of the watch: the one it follows, or the one
    /// whose target revision is the watched ECS deployment's.
    async fn service_deployment(&self, d: &Deployment, watch: &Watch) -> Result<Option<ServiceDeploymentView>> {
        match &watch.service_deployment_arn {
            Some(arn) => self.ecs.describe_service_deployment(arn).await,
            None => self.ecs.find_service_deployment(&d.cluster, &d.service, &watch.ecs_deployment_id).await,
        }
    }

    /// The verdict from ECS's service deployment. Target health is read only
    /// once ECS says SUCCESSFUL, in the target groups that then serve
    /// production (for blue/green, the one that was the alternate).
    async fn judge_service_deployment(
        &self,
        d: &Deployment,
        watch: &Watch,
        service: &ServiceSnapshot,
        sd: &ServiceDeploymentView,
    ) -> Result<Verdict> {
        let forward = !(watch.phase == Phase::Rollback && watch.in_place_rollback);
        let (tasks, health) = match (&sd.status, &sd.target) {
            (ServiceDeploymentStatus::Successful, Some(target)) if forward => {
                let mut production = self.ecs.production_target_groups(&target.arn).await?;
                if production.is_empty() {
                    production.clone_from(&service.target_group_arns);
                }
                (self.ecs.service_tasks(&d.cluster, &d.service).await?, self.health(&production).await?)
            }
            _ => (Vec::new(), Vec::new()),
        };
        Ok(evaluate_service_deployment(watch, sd, service, &tasks, &health, self.clock.now()))
    }

    async fn health(&self, target_groups: &[String]) -> Result<Vec<(String, Vec<crate::domain::TargetView>)>> {
        let mut health = Vec::with_capacity(target_groups.len());
        for tg in target_groups {
            health.push((tg.clone(), self.elb.describe(tg).await?));
        }
        Ok(health)
    }
}
