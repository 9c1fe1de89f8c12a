//! Looks at ECS, the load balancer and CloudWatch and decides how a watch stands.

use crate::domain::{
    Deployment, DeploymentStrategy, Outcome, Phase, ServiceDeploymentStatus, ServiceDeploymentView, ServiceSnapshot,
    Verdict, Watch, evaluate, evaluate_service_deployment, rolling_in_progress, short_tg,
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
        let now = self.clock.now();
        let verdict = if let Some(v) = rolling_in_progress(watch, &service, shifts_traffic(d, &service), now) {
            v
        } else {
            self.look(d, watch, &service).await?
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

    /// The full look: ECS's service deployment when it keeps one, else
    /// `deployments[]` with the service's tasks and target health.
    async fn look(&self, d: &Deployment, watch: &Watch, service: &ServiceSnapshot) -> Result<Verdict> {
        Ok(match self.service_deployment(d, watch, service).await? {
            Some(sd) => self.judge_service_deployment(d, watch, service, &sd).await?,
            // A traffic shift is judged only by its service deployment:
            // `deployments[]` says nothing of stages and traffic.
            None if shifts_traffic(d, service) => not_listed_yet(watch, self.clock.now()),
            None => {
                let tasks = self.ecs.service_tasks(&d.cluster, &d.service).await?;
                let health = self.health(&service.target_group_arns).await?;
                evaluate(watch, service, &tasks, &health, self.clock.now())
            }
        })
    }

    /// ECS's service deployment of the watch: the one it follows, or the one
    /// whose target revision is the watched ECS deployment's.
    async fn service_deployment(
        &self,
        d: &Deployment,
        watch: &Watch,
        service: &ServiceSnapshot,
    ) -> Result<Option<ServiceDeploymentView>> {
        if let Some(arn) = &watch.service_deployment_arn {
            return self.ecs.describe_service_deployment(arn).await;
        }
        // `currentServiceDeployment` is usually ours: one call instead of a list.
        if let Some(current) = &service.current_service_deployment
            && let Some(sd) = self.ecs.describe_service_deployment(current).await?
            && sd.targets(&watch.ecs_deployment_id)
        {
            return Ok(Some(sd));
        }
        self.ecs.find_service_deployment(&d.cluster, &d.service, &watch.ecs_deployment_id).await
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
                let production = self.ecs.production_target_groups(&target.arn).await?;
                let tasks = self.ecs.service_tasks(&d.cluster, &d.service).await?;
                let health = if !production.is_empty() {
                    self.health(&production).await?
                } else if shifts(sd.strategy.as_ref().or(d.strategy.as_ref()).or(service.strategy.as_ref())) {
                    // ECS did not say where production went; blue/green swaps
                    // the groups' roles at every deployment: the groups our
                    // tasks are registered in are the ones to judge.
                    let mut all = self.health(&service.all_target_groups()).await?;
                    let ips: Vec<&str> = tasks
                        .iter()
                        .filter(|t| t.started_by.as_deref() == Some(watch.ecs_deployment_id.as_str()))
                        .flat_map(|t| t.private_ips.iter().map(String::as_str))
                        .collect();
                    if all.iter().any(|(_, targets)| targets.iter().any(|t| ips.contains(&t.id.as_str()))) {
                        all.retain(|(_, targets)| targets.iter().any(|t| ips.contains(&t.id.as_str())));
                    }
                    all
                } else {
                    self.health(&service.target_group_arns).await?
                };
                (tasks, health)
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

/// Whether the rollout is a blue/green, linear or canary one, by the record
/// (the strategy when it was updated) or the service now.
fn shifts_traffic(d: &Deployment, service: &ServiceSnapshot) -> bool {
    shifts(d.strategy.as_ref().or(service.strategy.as_ref()))
}

fn shifts(strategy: Option<&DeploymentStrategy>) -> bool {
    strategy.is_some_and(|s| !matches!(s, DeploymentStrategy::Rolling | DeploymentStrategy::Other(_)))
}

/// A traffic shift whose service deployment ECS does not list (yet): in
/// progress until the deadline.
fn not_listed_yet(watch: &Watch, now: chrono::DateTime<chrono::Utc>) -> Verdict {
    let what = format!("ECS does not list a service deployment of ECS deployment {} yet", watch.ecs_deployment_id);
    if now >= watch.deadline {
        return Verdict::failed(watch, format!("timed out: {what}"), now);
    }
    Verdict { outcome: Outcome::InProgress, ..Verdict::failed(watch, what, now) }
}
