//! Looks at ECS and the load balancer and decides how a watch stands.

use crate::domain::{Deployment, Verdict, Watch, evaluate};
use crate::error::Result;
use crate::ports::{Clock, Ecs, TargetHealth};

/// The ports a look at a rollout needs.
pub struct Observer<'a, E, H, C> {
    pub ecs: &'a E,
    pub elb: &'a H,
    pub clock: &'a C,
}

impl<E: Ecs, H: TargetHealth, C: Clock> Observer<'_, E, H, C> {
    pub async fn observe(&self, d: &Deployment, watch: &Watch) -> Result<Verdict> {
        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let tasks = self.ecs.service_tasks(&d.cluster, &d.service).await?;
        let mut health = Vec::with_capacity(service.target_group_arns.len());
        for tg in &service.target_group_arns {
            health.push((tg.clone(), self.elb.describe(tg).await?));
        }
        Ok(evaluate(watch, &service, &tasks, &health, self.clock.now()))
    }
}
