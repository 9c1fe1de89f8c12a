//! Creating and retiring service deployments.

use crate::sim::events::{DEPLOYMENT_STATE_CHANGE, deployment_detail};
use crate::sim::model::{Deployment, DeploymentStatus, RolloutState, TaskStatus};
use crate::sim::world::World;

impl World {
    /// Starts a new PRIMARY deployment of `task_def_arn` (IN_PROGRESS) with a new
    /// service revision and the service deployment that rolls it out; the
    /// previous deployments become ACTIVE and are drained by the scheduler — at once
    /// for ROLLING, after the traffic shift for BLUE_GREEN, LINEAR and CANARY.
    /// Returns its id.
    pub fn start_deployment(&mut self, svc: usize, task_def_arn: &str) -> String {
        let sources: Vec<String> = self.services[svc].deployments.iter().map(|d| d.id.clone()).collect();
        let id = self.launch_deployment(svc, task_def_arn, None);
        self.open_service_deployment(svc, &id, &sources);
        let i = self.service_deployments.len() - 1;
        if self.services[svc].deployment_config.strategy.shifts_traffic() {
            self.begin_shift(svc, i, &id);
        } else {
            self.resolve_rolling(svc, &id, i);
        }
        id
    }

    /// A new PRIMARY `deployments[]` entry alone: a rollback runs one for the
    /// service deployment that failed, with no new service deployment or revision.
    pub(crate) fn launch_deployment(&mut self, svc: usize, task_def_arn: &str, reason: Option<String>) -> String {
        let now = self.now();
        let id = format!("ecs-svc/{}", self.rng.digits(19));
        let s = &mut self.services[svc];
        for d in &mut s.deployments {
            d.status = DeploymentStatus::Active;
        }
        s.deployments.insert(
            0,
            Deployment {
                id: id.clone(),
                status: DeploymentStatus::Primary,
                task_def_arn: task_def_arn.to_string(),
                desired_count: s.desired_count,
                failed_tasks: 0,
                created_at: now,
                updated_at: now,
                rollout_state: RolloutState::InProgress,
                rollout_state_reason: reason.unwrap_or_else(|| format!("ECS deployment {id} in progress.")),
                launch_type: s.launch_type.clone(),
                platform_version: s.platform_version.clone(),
                network_configuration: s.network_configuration.clone(),
                impaired_reported: false,
                last_failure: None,
                lb_override: None,
            },
        );
        s.task_def_arn = task_def_arn.to_string();
        s.steady = false;
        if !s.deployment_config.strategy.shifts_traffic() {
            let lbs = self.rolling_lbs(svc);
            self.services[svc].deployments[0].lb_override = lbs;
        }
        let s = &self.services[svc];
        let arn = s.arn.clone();
        let detail =
            deployment_detail("SERVICE_DEPLOYMENT_IN_PROGRESS", &id, now, &format!("ECS deployment {id} in progress."));
        self.emit(DEPLOYMENT_STATE_CHANGE, vec![arn], detail);
        id
    }

    /// Drops ACTIVE deployments that no longer have any task that is not STOPPED.
    pub(crate) fn retire_drained_deployments(&mut self, svc: usize) {
        let arn = self.services[svc].arn.clone();
        let live: Vec<String> = self
            .tasks
            .values()
            .filter(|t| t.service_arn.as_deref() == Some(arn.as_str()) && t.last_status != TaskStatus::Stopped)
            .filter_map(|t| t.deployment_id.clone())
            .collect();
        self.services[svc].deployments.retain(|d| d.status == DeploymentStatus::Primary || live.contains(&d.id));
    }
}
