//! The service deployment and service revision behind every rolling
//! deployment, kept in step with `deployments[]` (ECS Developer Guide, "View
//! service history using Amazon ECS service deployments").

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::sim::api::ecs::render;
use crate::sim::model::{
    RevisionCounts, ServiceDeployment, ServiceDeploymentStatus as Status, ServiceRevision, TaskStatus,
};
use crate::sim::world::World;

/// The ID alphabet real service deployment ARNs use (21 characters of `[A-Za-z0-9_-]`).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// A service deployment id derived from its `deployments[]` id: stable, and
/// drawing nothing from the simulator's seeded sequence.
fn deployment_id(ecs_deployment_id: &str) -> String {
    Sha256::digest(ecs_deployment_id.as_bytes())
        .iter()
        .take(21)
        .map(|b| ID_ALPHABET[usize::from(b % 64)] as char)
        .collect()
}

impl World {
    fn short_names(&self, svc: usize) -> (String, String) {
        let s = &self.services[svc];
        (s.cluster.clone(), s.name.clone())
    }

    /// A new revision of the service for `deployments[]` entry `ecs_id`, and
    /// the service deployment that rolls it out. Earlier unfinished service
    /// deployments are stopped: "moves to STOP_REQUESTED when … a user starts a
    /// new service deployment. The state moves to STOPPED" (the guide's
    /// "Service deployment states").
    pub(crate) fn open_service_deployment(&mut self, svc: usize, ecs_id: &str, source_ecs_ids: &[String]) {
        let now = self.now();
        let (cluster, name) = self.short_names(svc);
        let (region, account) = (self.region.clone(), self.account.clone());
        let numeric = ecs_id.trim_start_matches("ecs-svc/");
        let revision_arn = format!("arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{name}/{numeric}");
        let arn =
            format!("arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{name}/{}", deployment_id(ecs_id));
        let s = &self.services[svc];
        let container_images = self
            .task_def(&s.task_def_arn)
            .and_then(|td| td.body.get("containerDefinitions"))
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| {
                        let name = c.get("name")?.as_str()?.to_owned();
                        let image = c.get("image")?.as_str()?.to_owned();
                        let digest = image.split_once('@').map(|(_, d)| d.to_owned());
                        Some((name, image, digest))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // ROLLING tasks register with the service's own target groups; a
        // traffic-shifting deployment replaces this with its green groups.
        let resolved_lbs = s
            .load_balancers
            .iter()
            .map(|l| (l.target_group_arn.clone(), l.advanced.as_ref().map(|a| a.production_listener_rule.clone())))
            .collect();
        let revision = ServiceRevision {
            arn: revision_arn.clone(),
            service_arn: s.arn.clone(),
            cluster_arn: s.cluster_arn.clone(),
            task_def_arn: s.task_def_arn.clone(),
            ecs_deployment_id: ecs_id.to_owned(),
            rollback_ecs_ids: Vec::new(),
            launch_type: s.launch_type.clone(),
            platform_version: s.platform_version.clone(),
            load_balancers: s.load_balancers.iter().map(|l| l.raw.clone()).collect(),
            network_configuration: s.network_configuration.clone(),
            container_images,
            resolved_lbs,
            created_at: now,
        };
        let sources: Vec<String> = source_ecs_ids
            .iter()
            .filter_map(|id| self.service_revisions.iter().find(|r| r.runs(id)).map(|r| r.arn.clone()))
            .collect();
        let deployment = ServiceDeployment {
            arn,
            service_arn: s.arn.clone(),
            cluster_arn: s.cluster_arn.clone(),
            // The simulator starts a deployment in the same instant it is created.
            status: Status::InProgress,
            status_reason: None,
            created_at: now,
            started_at: Some(now),
            finished_at: None,
            stopped_at: None,
            updated_at: now,
            source_revisions: sources,
            target_revision: revision_arn,
            deployment_configuration: render::deployment_configuration(&s.deployment_config),
            rollback: None,
            final_counts: None,
            breaker_enabled: s.deployment_config.breaker_enable,
            breaker_triggered: false,
            shift: None,
        };
        let service_arn = s.arn.clone();
        for i in 0..self.service_deployments.len() {
            let d = &self.service_deployments[i];
            if d.service_arn == service_arn && !d.status.is_finished() {
                self.supersede_shift(i);
                self.finish_service_deployment(i, Status::Stopped, Some("A newer service deployment started.".into()));
            }
        }
        self.service_revisions.push(revision);
        self.service_deployments.push(deployment);
    }

    /// The unfinished service deployment of the service that `ecs_id` belongs to, as
    /// its target (`false`) or as the rollback it is running (`true`).
    fn service_deployment_of(&self, service_arn: &str, ecs_id: &str) -> Option<(usize, bool)> {
        self.service_deployments.iter().enumerate().rev().find_map(|(i, d)| {
            if d.service_arn != service_arn || d.status.is_finished() {
                return None;
            }
            let target = self.service_revisions.iter().find(|r| r.arn == d.target_revision)?;
            if target.ecs_deployment_id == ecs_id {
                return Some((i, false));
            }
            d.rollback.as_ref().filter(|r| r.3 == ecs_id).map(|_| (i, true))
        })
    }

    /// `deployments[]` entry `ecs_id` reached COMPLETED.
    pub(crate) fn service_deployment_completed(&mut self, svc: usize, ecs_id: &str) {
        let arn = self.services[svc].arn.clone();
        match self.service_deployment_of(&arn, ecs_id) {
            Some((i, false)) => self.finish_service_deployment(i, Status::Successful, None),
            Some((i, true)) => self.finish_service_deployment(i, Status::RollbackSuccessful, None),
            None => {}
        }
    }

    /// The circuit breaker failed `deployments[]` entry `ecs_id`; `rollback` is the
    /// rollback deployment ECS started (id, and the `deployments[]` id it rolls
    /// back to), if it did.
    pub(crate) fn service_deployment_failed(
        &mut self,
        svc: usize,
        ecs_id: &str,
        reason: &str,
        rollback: Option<(&str, &str)>,
    ) {
        let now = self.now();
        let arn = self.services[svc].arn.clone();
        let Some((i, was_rollback)) = self.service_deployment_of(&arn, ecs_id) else { return };
        self.service_deployments[i].breaker_triggered = true;
        if was_rollback {
            // "ROLLBACK_IN_PROGRESS … moves to ROLLBACK_SUCCESSFUL, or ROLLBACK_FAILED."
            self.finish_service_deployment(i, Status::RollbackFailed, Some(reason.to_owned()));
            return;
        }
        match rollback {
            // "ROLLBACK_IN_PROGRESS - when the rollback option is in use for the failure
            // detection mechanism (the circuit breaker or alarm-based) and the service fails."
            Some((rollback_ecs_id, to_ecs_id)) => self.begin_rollback(i, reason, rollback_ecs_id, to_ecs_id, now),
            // Without the rollback option the deployment moves to STOP_REQUESTED, then STOPPED.
            None => {
                self.service_deployments[i].stopped_at = Some(now);
                self.finish_service_deployment(i, Status::Stopped, Some(reason.to_owned()));
            }
        }
    }

    pub(crate) fn begin_rollback(&mut self, i: usize, reason: &str, rollback_ecs_id: &str, to_ecs_id: &str, now: i64) {
        // "Amazon ECS doesn't create a new service revision for a rollback operation.
        // Amazon ECS uses the last successful service revision" ("Amazon ECS service revisions").
        let to_revision = self.service_revisions.iter_mut().find(|r| r.runs(to_ecs_id)).map(|r| {
            // A traffic-shifting rollback runs the blue entry itself again.
            if !r.runs(rollback_ecs_id) {
                r.rollback_ecs_ids.push(rollback_ecs_id.to_owned());
            }
            r.arn.clone()
        });
        let d = &mut self.service_deployments[i];
        d.status = Status::RollbackInProgress;
        d.status_reason = Some(reason.to_owned());
        d.updated_at = now;
        d.rollback = Some((reason.to_owned(), now, to_revision.unwrap_or_default(), rollback_ecs_id.to_owned()));
    }

    pub(crate) fn finish_service_deployment(&mut self, i: usize, status: Status, reason: Option<String>) {
        let now = self.now();
        let counts = self.revision_counts_of(i);
        let d = &mut self.service_deployments[i];
        d.status = status;
        if reason.is_some() {
            d.status_reason = reason;
        }
        d.finished_at = Some(now);
        d.updated_at = now;
        d.final_counts = Some(counts);
    }

    /// Live counts of every revision the deployment names (target, sources, rollback).
    fn revision_counts_of(&self, i: usize) -> Vec<(String, RevisionCounts)> {
        let d = &self.service_deployments[i];
        let mut arns = d.source_revisions.clone();
        arns.push(d.target_revision.clone());
        arns.into_iter()
            .map(|arn| {
                let counts = self.live_counts(&arn);
                (arn, counts)
            })
            .collect()
    }

    /// Tasks of a revision now: requested is its `deployments[]` entry's desired
    /// count while it is listed, running and pending from its tasks.
    pub fn live_counts(&self, revision_arn: &str) -> RevisionCounts {
        let Some(r) = self.service_revisions.iter().find(|r| r.arn == revision_arn) else {
            return RevisionCounts::default();
        };
        let requested = self
            .services
            .iter()
            .find(|s| s.arn == r.service_arn)
            .map_or(0, |s| s.deployments.iter().filter(|d| r.runs(&d.id)).map(|d| d.desired_count).sum());
        let mut counts = RevisionCounts { requested, ..RevisionCounts::default() };
        for t in self.tasks.values().filter(|t| t.deployment_id.as_deref().is_some_and(|id| r.runs(id))) {
            match t.last_status {
                TaskStatus::Running => counts.running += 1,
                s if s.is_pending() => counts.pending += 1,
                _ => {}
            }
        }
        counts
    }

    /// What a revision's counts are in a deployment: frozen once it finished.
    pub fn counts_in(&self, d: &ServiceDeployment, revision_arn: &str) -> RevisionCounts {
        match &d.final_counts {
            Some(frozen) => frozen.iter().find(|(a, _)| a == revision_arn).map(|(_, c)| *c).unwrap_or_default(),
            None => self.live_counts(revision_arn),
        }
    }
}
