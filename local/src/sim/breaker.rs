//! Deployment circuit breaker (ECS Developer Guide, "How the Amazon ECS deployment circuit
//! breaker detects failures"): the PRIMARY deployment's `failedTasks` counts tasks that
//! failed to start or failed health checks and were stopped; it resets while a task of the
//! deployment is healthy (`resetOnHealthyTask`, default true). At the threshold
//! (default clamp(ceil(0.5 × desired), 3, 200)) the deployment is FAILED and stops
//! launching tasks; with `rollback` a new deployment of the last COMPLETED task definition
//! starts.

use crate::sim::events::{DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, deployment_detail, service_action_detail};
use crate::sim::lifecycle::FAILED_TO_START;
use crate::sim::model::{LifecycleStage, RolloutState};
use crate::sim::world::World;

impl World {
    pub(crate) fn check_breaker(&mut self, svc: usize) {
        let now = self.now();
        // A traffic-shifting deployment's breaker watches green's launch: the SCALE_UP
        // stage (the developer guide's "Amazon ECS deployment failure detection" names
        // blue/green deployments; the API reference says rolling only).
        let shift = self.active_shift(svc);
        if let Some(i) = shift
            && self.service_deployments[i].shift.as_ref().is_some_and(|s| s.stage != LifecycleStage::ScaleUp)
        {
            return;
        }
        let healthy_primary = self.healthy_tasks(svc, true) > 0;
        let s = &mut self.services[svc];
        let cfg = s.deployment_config.clone();
        let threshold = cfg.breaker_threshold(s.desired_count);
        let Some(p) = s.deployments.first_mut() else {
            return;
        };
        if p.rollout_state != RolloutState::InProgress {
            return;
        }
        if healthy_primary && cfg.breaker_reset_on_healthy {
            p.failed_tasks = 0;
        }
        if p.failed_tasks < threshold {
            return;
        }
        let (dep_id, cause) = (p.id.clone(), p.last_failure.unwrap_or(FAILED_TO_START));
        let (name, arn, cluster_arn) = (s.name.clone(), s.arn.clone(), s.cluster_arn.clone());
        if !p.impaired_reported {
            p.impaired_reported = true;
            let detail = service_action_detail("WARN", "SERVICE_TASK_START_IMPAIRED", &cluster_arn, now);
            self.emit(SERVICE_ACTION, vec![arn.clone()], detail);
            self.service_event(
                svc,
                format!("(service {name}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."),
            );
        }
        if !cfg.breaker_enable {
            return;
        }
        let reason = format!("ECS deployment circuit breaker: {cause}.");
        if let Some(p) = self.services[svc].deployments.first_mut() {
            p.rollout_state = RolloutState::Failed;
            p.rollout_state_reason = reason.clone();
            p.updated_at = now;
        }
        self.emit(
            DEPLOYMENT_STATE_CHANGE,
            vec![arn],
            deployment_detail("SERVICE_DEPLOYMENT_FAILED", &dep_id, now, &reason),
        );
        self.service_event(svc, format!("(service {name}) (deployment {dep_id}) deployment failed: {cause}."));
        if let Some(i) = shift {
            self.service_deployments[i].breaker_triggered = true;
            let blue = self.service_deployments[i].shift.as_ref().and_then(|s| s.blue_ids.first().cloned());
            if let Some(blue_id) = blue.filter(|_| cfg.breaker_rollback) {
                let why = format!("ECS deployment circuit breaker: rolling back to deploymentId {blue_id}.");
                self.shift_rollback(svc, i, &reason, &why);
                self.service_event(
                    svc,
                    format!("(service {name}) (deployment {blue_id}) rolling back to deployment {blue_id}."),
                );
            } else {
                self.service_deployment_failed(svc, &dep_id, &reason, None);
            }
            return;
        }
        let good = self.services[svc].last_completed_task_def.clone().filter(|_| cfg.breaker_rollback);
        let Some((good_id, good_td)) = good else {
            self.service_deployment_failed(svc, &dep_id, &reason, None);
            return;
        };
        let why = format!("ECS deployment circuit breaker: rolling back to deploymentId {good_id}.");
        let new_id = self.launch_deployment(svc, &good_td, Some(why));
        self.service_deployment_failed(svc, &dep_id, &reason, Some((&new_id, &good_id)));
        self.service_event(
            svc,
            format!("(service {name}) (deployment {new_id}) rolling back to deployment {good_id}."),
        );
    }
}
