//! Recorded time series per service: how many tasks of each task definition are pending,
//! running, healthy and draining, next to the deployment limits, so tests can assert
//! "never below minimum healthy" and "maximumPercent never exceeded" over a whole rollout.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::sim::clock::iso_seconds;
use crate::sim::model::{ServiceStatus, TaskStatus};
use crate::sim::world::World;

/// Samples kept per service (oldest dropped first).
const MAX_SAMPLES: usize = 50_000;

/// Task counts for one task definition revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionCount {
    pub task_definition: String,
    /// Container images of the revision, in definition order.
    pub images: Vec<String>,
    pub pending: i64,
    pub running: i64,
    /// Counted healthy by ECS (healthy in every target group of the service).
    pub healthy: i64,
    /// Stopping while the load balancer drains their targets (DEACTIVATING).
    pub draining: i64,
}

/// The service at one simulated instant; recorded whenever a count changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// Simulated epoch seconds.
    pub t: i64,
    pub time: String,
    pub desired: i64,
    /// ceil(minimumHealthyPercent × desired).
    pub min_healthy: i64,
    /// floor(maximumPercent × desired).
    pub max_allowed: i64,
    /// RUNNING + PENDING tasks (what maximumPercent limits).
    pub alive: i64,
    pub healthy: i64,
    pub primary_deployment: String,
    pub rollout_state: String,
    pub versions: Vec<VersionCount>,
}

impl Sample {
    fn same_counts(&self, o: &Sample) -> bool {
        (self.desired, self.min_healthy, self.max_allowed, self.alive, self.healthy)
            == (o.desired, o.min_healthy, o.max_allowed, o.alive, o.healthy)
            && self.primary_deployment == o.primary_deployment
            && self.rollout_state == o.rollout_state
            && self.versions == o.versions
    }

    /// Counts for one task definition ARN (zero if absent).
    pub fn version(&self, task_definition: &str) -> Option<&VersionCount> {
        self.versions.iter().find(|v| v.task_definition == task_definition)
    }
}

/// Samples per service ARN.
#[derive(Debug, Default)]
pub struct Series {
    pub by_service: BTreeMap<String, Vec<Sample>>,
}

impl Series {
    fn push(&mut self, service_arn: &str, sample: Sample) {
        let v = self.by_service.entry(service_arn.to_string()).or_default();
        if v.last().is_some_and(|last| last.same_counts(&sample)) {
            return;
        }
        if v.len() >= MAX_SAMPLES {
            v.remove(0);
        }
        v.push(sample);
    }
}

impl World {
    /// Appends a sample for every live service whose counts changed.
    pub(crate) fn record_series(&mut self) {
        let now = self.now();
        let mut samples = Vec::new();
        for s in self.services.iter().filter(|s| s.status != ServiceStatus::Inactive) {
            let Some(p) = s.primary() else { continue };
            let desired = if s.status == ServiceStatus::Draining { 0 } else { s.desired_count };
            let mut versions: BTreeMap<String, VersionCount> = BTreeMap::new();
            for t in self.service_tasks(&s.arn) {
                let alive = t.is_alive();
                let draining = t.last_status == TaskStatus::Deactivating;
                if !alive && !draining {
                    continue;
                }
                let v = versions.entry(t.task_def_arn.clone()).or_insert_with(|| VersionCount {
                    task_definition: t.task_def_arn.clone(),
                    images: self
                        .task_def(&t.task_def_arn)
                        .map(|td| {
                            td.containers()
                                .iter()
                                .filter_map(|c| c.get("image").and_then(Value::as_str))
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    pending: 0,
                    running: 0,
                    healthy: 0,
                    draining: 0,
                });
                match () {
                    _ if draining => v.draining += 1,
                    _ if t.last_status == TaskStatus::Running => v.running += 1,
                    _ => v.pending += 1,
                }
                if self.task_healthy(t) {
                    v.healthy += 1;
                }
            }
            let versions: Vec<VersionCount> = versions.into_values().collect();
            samples.push((
                s.arn.clone(),
                Sample {
                    t: now / 1000,
                    time: iso_seconds(now),
                    desired,
                    min_healthy: s.deployment_config.min_healthy(desired),
                    max_allowed: s.deployment_config.max_total(desired),
                    alive: versions.iter().map(|v| v.pending + v.running).sum(),
                    healthy: versions.iter().map(|v| v.healthy).sum(),
                    primary_deployment: p.id.clone(),
                    rollout_state: p.rollout_state.as_str().to_string(),
                    versions,
                },
            ));
        }
        for (arn, sample) in samples {
            self.series.push(&arn, sample);
        }
    }
}
