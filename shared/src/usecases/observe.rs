//! Looks at ECS and the load balancer and decides how a watch stands.

use crate::domain::{Deployment, Verdict, Watch, evaluate};
use crate::error::Result;
use crate::ports::{Clock, Ecs, TargetHealth};

pub async fn observe(
    d: &Deployment,
    watch: &Watch,
    ecs: &impl Ecs,
    elb: &impl TargetHealth,
    clock: &impl Clock,
) -> Result<Verdict> {
    let service = ecs.describe_service(&d.cluster, &d.service).await?;
    let tasks = ecs.service_tasks(&d.cluster, &d.service).await?;
    let mut health = Vec::with_capacity(service.target_group_arns.len());
    for tg in &service.target_group_arns {
        health.push((tg.clone(), elb.describe(tg).await?));
    }
    Ok(evaluate(watch, &service, &tasks, &health, clock.now()))
}
