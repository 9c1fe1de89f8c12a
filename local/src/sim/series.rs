//! Recorded time series per service: how many tasks of each task definition are pending,
//! running, healthy and draining, next to the deployment limits, so tests can assert
//! "never below minimum healthy" and "maximumPercent never exceeded" over a whole rollout,
//! and — for services with a production listener rule — "production traffic never went
//! to a version without a healthy task".

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::sim::clock::iso_seconds;
use crate::sim::model::{ServiceDeploymentStatus, ServiceStatus, TargetState, TaskStatus};
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
    /// Percent of production traffic the production listener rules send to this
    /// version's tasks: each target group's share of a rule's weights, split between
    /// the versions by their healthy targets in it (by their registered, not draining,
    /// ones when none is healthy: ELB fails open), averaged over the service's load
    /// balancers. `None` without an `advancedConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_traffic: Option<f64>,
    /// The same for the test listener rules (`None` without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_traffic: Option<f64>,
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
    /// `lifecycleStage` of a traffic-shifting deployment in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    pub versions: Vec<VersionCount>,
}

impl Sample {
    fn same_counts(&self, o: &Sample) -> bool {
        (self.desired, self.min_healthy, self.max_allowed, self.alive, self.healthy)
            == (o.desired, o.min_healthy, o.max_allowed, o.alive, o.healthy)
            && self.primary_deployment == o.primary_deployment
            && self.rollout_state == o.rollout_state
            && self.lifecycle_stage == o.lifecycle_stage
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
    /// Percent of the traffic of `rules` (averaged) that reaches the tasks of task
    /// definition `task_def` of a service. Within a target group traffic goes to the
    /// healthy targets, or to every registered one when none is healthy ("If a target
    /// group contains only unhealthy registered targets, the load balancer routes
    /// requests to all those targets", ELB User Guide, "Health checks for Application
    /// Load Balancer target groups"); draining targets get none.
    fn traffic_share(&self, service_arn: &str, task_def: &str, rules: &[&str]) -> f64 {
        let mut total = 0.0;
        for rule in rules {
            let weights = self.rule_weights(rule).unwrap_or_default();
            let sum: u32 = weights.iter().map(|w| w.1).sum();
            if sum == 0 {
                continue;
            }
            for (tg, weight) in &weights {
                // (healthy, registered) targets: this version's, and every task's.
                let (mut mine, mut all) = ((0, 0), (0, 0));
                for t in self.service_tasks(service_arn) {
                    let Some(ip) = t.ip() else { continue };
                    let state = t
                        .targets
                        .iter()
                        .filter(|x| &x.target_group_arn == tg)
                        .find_map(|x| self.target_groups.get(tg)?.target(ip, x.port))
                        .map(|x| x.state)
                        .filter(|s| *s != TargetState::Draining);
                    let Some(state) = state else { continue };
                    let healthy = i32::from(state == TargetState::Healthy);
                    all = (all.0 + healthy, all.1 + 1);
                    if t.task_def_arn == task_def {
                        mine = (mine.0 + healthy, mine.1 + 1);
                    }
                }
                let (mine, all) = if all.0 > 0 { (mine.0, all.0) } else { (mine.1, all.1) };
                if all > 0 {
                    total += f64::from(*weight) * 100.0 / f64::from(sum) * f64::from(mine) / f64::from(all);
                }
            }
        }
        (total / rules.len() as f64 * 10.0).round() / 10.0
    }

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
                    production_traffic: None,
                    test_traffic: None,
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
            let rules: Vec<(&str, Option<&str>)> = s
                .load_balancers
                .iter()
                .filter_map(|l| l.advanced.as_ref())
                .map(|a| (a.production_listener_rule.as_str(), a.test_listener_rule.as_deref()))
                .collect();
            if !rules.is_empty() {
                let production: Vec<&str> = rules.iter().map(|r| r.0).collect();
                let test: Vec<&str> = rules.iter().filter_map(|r| r.1).collect();
                for v in versions.values_mut() {
                    v.production_traffic = Some(self.traffic_share(&s.arn, &v.task_definition, &production));
                    if !test.is_empty() {
                        v.test_traffic = Some(self.traffic_share(&s.arn, &v.task_definition, &test));
                    }
                }
            }
            let lifecycle_stage = self
                .service_deployments
                .iter()
                .rev()
                .find(|d| d.service_arn == s.arn && d.status == ServiceDeploymentStatus::InProgress)
                .and_then(|d| d.shift.as_ref())
                .map(|x| x.stage.as_str().to_string());
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
                    lifecycle_stage,
                    versions,
                },
            ));
        }
        for (arn, sample) in samples {
            self.series.push(&arn, sample);
        }
    }
}
