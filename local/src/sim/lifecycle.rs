//! Task lifecycle (ECS Developer Guide, "Amazon ECS task lifecycle"):
//! PROVISIONING (ENI attached) → PENDING (image pull) → ACTIVATING (load balancer
//! registration) → RUNNING → DEACTIVATING (deregistration; waits for the target group's
//! deregistration delay) → STOPPING (SIGTERM) → DEPROVISIONING (ENI detached) → STOPPED.

use serde_json::Value;

use crate::sim::clock::SimTime;
use crate::sim::events::TASK_STATE_CHANGE;
use crate::sim::images::Behavior;
use crate::sim::model::task::TaskTarget;
use crate::sim::model::{Container, Eni, Task, TaskStatus};
use crate::sim::render::{self, Shape};
use crate::sim::world::World;

/// Seconds spent in each transient state.
const PROVISIONING_S: i64 = 2;
const PULL_S: i64 = 3;
const ACTIVATING_S: i64 = 1;
const DEACTIVATING_MIN_S: i64 = 1;
const STOPPING_S: i64 = 2;
const DEPROVISIONING_S: i64 = 2;
/// A `crash` image's essential container exits this long after the task is RUNNING.
const CRASH_AFTER_S: i64 = 2;

/// Why a task is being stopped.
pub struct StopCause {
    /// `stopCode` (TaskFailedToStart, EssentialContainerExited, UserInitiated, ServiceSchedulerInitiated).
    pub code: &'static str,
    pub reason: String,
    /// Counted in the deployment's `failedTasks` (and the circuit breaker), with this cause.
    pub failure: Option<&'static str>,
    /// Stay in DEACTIVATING until the load balancer has drained the targets.
    pub wait_for_drain: bool,
}

/// Circuit-breaker causes, as ECS words them in `rolloutStateReason`.
pub const FAILED_TO_START: &str = "task failed to start";
pub const FAILED_ELB_CHECKS: &str = "task failed ELB health checks";
pub const FAILED_CONTAINER_CHECKS: &str = "task failed container health checks";

impl World {
    /// Creates a task for a service deployment in PROVISIONING; returns its id.
    pub(crate) fn launch_task(&mut self, svc: usize, deployment_id: &str) -> Option<String> {
        let now = self.now();
        let s = &self.services[svc];
        let dep = s.deployment(deployment_id)?.clone();
        let td = self.task_def(&dep.task_def_arn)?.clone();
        let (cluster, cluster_arn, group, service_arn) =
            (s.cluster.clone(), s.cluster_arn.clone(), s.group(), s.arn.clone());
        let tags = match s.extra.get("propagateTags").and_then(Value::as_str) {
            Some("SERVICE") => s.tags.clone(),
            Some("TASK_DEFINITION") => td.tags.clone(),
            _ => Vec::new(),
        };
        let id = self.rng.hex(32);
        let containers = td.containers().iter().enumerate().map(|(n, c)| self.container(&cluster, &id, n, c)).collect();
        let subnets: Vec<String> = dep
            .network_configuration
            .as_ref()
            .and_then(|n| n.pointer("/awsvpcConfiguration/subnets"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        let pick = (self.rng.next_u64() % subnets.len().max(1) as u64) as usize;
        let availability_zone = format!("{}{}", self.region, ['a', 'b', 'c'][pick % 3]);
        let eni = (td.network_mode() == "awsvpc").then(|| Eni {
            attachment_id: self.rng.uuid(),
            eni_id: format!("eni-{}", self.rng.hex(17)),
            mac: mac(&self.rng.hex(12)),
            ip: self.alloc_ip(),
            subnet: subnets.get(pick).cloned().unwrap_or_else(|| "subnet-00000000".into()),
            status: "PRECREATED",
        });
        let task = Task {
            arn: self.arn("ecs", &format!("task/{cluster}/{id}")),
            id: id.clone(),
            cluster,
            cluster_arn,
            service_arn: Some(service_arn),
            group,
            started_by: Some(dep.id.clone()),
            deployment_id: Some(dep.id.clone()),
            task_def_arn: td.arn.clone(),
            last_status: TaskStatus::Provisioning,
            desired_status: "RUNNING",
            platform_version: (dep.launch_type == "FARGATE").then(|| "1.4.0".to_string()),
            launch_type: dep.launch_type.clone(),
            availability_zone,
            cpu: td.string_field("cpu").map(String::from),
            memory: td.string_field("memory").map(String::from),
            containers,
            eni,
            targets: Vec::new(),
            tags,
            created_at: now,
            updated_at: now,
            pull_started_at: None,
            pull_stopped_at: None,
            connectivity_at: None,
            started_at: None,
            stopping_at: None,
            execution_stopped_at: None,
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            version: 1,
            phase_until: now + PROVISIONING_S * 1000,
            crash_at: None,
            wait_for_drain: false,
        };
        self.tasks.insert(id.clone(), task);
        self.emit_task_event(&id);
        Some(id)
    }

    fn container(&mut self, cluster: &str, task_id: &str, n: usize, def: &Value) -> Container {
        let image = def.get("image").and_then(Value::as_str).unwrap_or_default().to_string();
        let entry = self.images.resolve(&image);
        let hc = def.get("healthCheck").filter(|h| h.is_object()).map(|h| {
            let num = |k: &str, d: i64| h.get(k).and_then(Value::as_i64).unwrap_or(d);
            // Container health check defaults and limits (ECS API reference, HealthCheck):
            // interval 30 s (5–300), retries 3 (1–10), startPeriod 0 (0–300).
            (num("interval", 30).clamp(5, 300), num("retries", 3).clamp(1, 10), num("startPeriod", 0).clamp(0, 300))
        });
        let uuid = self.rng.uuid();
        Container {
            name: def.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            arn: self.arn("ecs", &format!("container/{cluster}/{task_id}/{uuid}")),
            image,
            image_digest: entry.as_ref().and_then(|e| e.digest.clone()),
            runtime_id: format!("{task_id}-{}", 1_000_000_000 + n as u64 * 7_919 + self.rng.next_u64() % 1_000_000),
            behavior: entry.map(|e| e.behavior),
            essential: def.get("essential").and_then(Value::as_bool).unwrap_or(true),
            health_check: hc,
            last_status: "PENDING",
            exit_code: None,
            reason: None,
            cpu: def.get("cpu").and_then(Value::as_i64).unwrap_or(0).to_string(),
            memory: def.get("memory").and_then(Value::as_i64).map(|m| m.to_string()),
        }
    }

    /// Advances every task whose current phase is done.
    pub(crate) fn step_tasks(&mut self) {
        let ids: Vec<String> =
            self.tasks.values().filter(|t| t.last_status != TaskStatus::Stopped).map(|t| t.id.clone()).collect();
        for id in ids {
            self.advance_task(&id);
        }
    }

    fn advance_task(&mut self, id: &str) {
        let now = self.now();
        let Some(t) = self.tasks.get(id) else { return };
        let due = now >= t.phase_until;
        match t.last_status {
            TaskStatus::Provisioning if due => {
                self.with_task(id, |t| {
                    if let Some(e) = t.eni.as_mut() {
                        e.status = "ATTACHED";
                    }
                    t.connectivity_at = Some(now);
                    t.pull_started_at = Some(now);
                    t.phase_until = now + PULL_S * 1000;
                });
                self.set_status(id, TaskStatus::Pending);
            }
            TaskStatus::Pending if due => self.finish_pull(id, now),
            TaskStatus::Activating if due => {
                self.with_task(id, |t| {
                    t.started_at = Some(now);
                    for c in &mut t.containers {
                        c.last_status = "RUNNING";
                    }
                    let crashes = t.containers.iter().any(|c| c.essential && c.behavior == Some(Behavior::Crash));
                    t.crash_at = crashes.then_some(now + CRASH_AFTER_S * 1000);
                });
                self.set_status(id, TaskStatus::Running);
            }
            TaskStatus::Running if t.crash_at.is_some_and(|c| now >= c) => {
                // "Essential container in task exited": stopCode EssentialContainerExited.
                self.with_task(id, |t| {
                    t.crash_at = None;
                    for c in t.containers.iter_mut().filter(|c| c.behavior == Some(Behavior::Crash)) {
                        c.last_status = "STOPPED";
                        c.exit_code = Some(1);
                    }
                });
                let cause = StopCause {
                    code: "EssentialContainerExited",
                    reason: "Essential container in task exited".into(),
                    failure: Some(FAILED_TO_START),
                    wait_for_drain: false,
                };
                self.stop_task(id, cause);
            }
            TaskStatus::Deactivating => {
                let draining = t.wait_for_drain && self.task_targets_registered(t);
                if due && !draining {
                    self.with_task(id, |t| t.phase_until = now + STOPPING_S * 1000);
                    self.set_status(id, TaskStatus::Stopping);
                }
            }
            TaskStatus::Stopping if due => {
                self.with_task(id, |t| {
                    for c in &mut t.containers {
                        if c.last_status != "STOPPED" {
                            c.last_status = "STOPPED";
                            // Exits cleanly on SIGTERM; 0 for containers that never started too.
                            c.exit_code.get_or_insert(0);
                        }
                    }
                    t.execution_stopped_at = Some(now);
                    if let Some(e) = t.eni.as_mut() {
                        e.status = "DETACHING";
                    }
                    t.phase_until = now + DEPROVISIONING_S * 1000;
                });
                self.set_status(id, TaskStatus::Deprovisioning);
            }
            TaskStatus::Deprovisioning if due => {
                self.with_task(id, |t| {
                    t.stopped_at = Some(now);
                    t.execution_stopped_at.get_or_insert(now);
                    if let Some(e) = t.eni.as_mut() {
                        e.status = "DELETED";
                    }
                });
                self.set_status(id, TaskStatus::Stopped);
            }
            _ => {}
        }
    }

    /// End of PENDING: an image missing from the catalogue cannot be pulled (stopCode
    /// TaskFailedToStart, CannotPullContainerError); otherwise the task registers with the
    /// service's target groups while ACTIVATING.
    fn finish_pull(&mut self, id: &str, now: SimTime) {
        let Some(t) = self.tasks.get(id) else { return };
        if let Some(bad) = t.containers.iter().find(|c| c.behavior.is_none()) {
            let reason = format!(
                "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {}: not found",
                bad.image
            );
            let bad_name = bad.name.clone();
            self.with_task(id, |t| {
                t.pull_stopped_at = Some(now);
                for c in &mut t.containers {
                    c.last_status = "STOPPED";
                    if c.name == bad_name {
                        c.reason = Some(reason.clone());
                    }
                }
            });
            let cause =
                StopCause { code: "TaskFailedToStart", reason, failure: Some(FAILED_TO_START), wait_for_drain: false };
            self.stop_task(id, cause);
            return;
        }
        self.with_task(id, |t| {
            t.pull_stopped_at = Some(now);
            t.phase_until = now + ACTIVATING_S * 1000;
        });
        self.register_task_targets(id);
        self.set_status(id, TaskStatus::Activating);
    }

    /// Registers an awsvpc task as an `ip` target (Id = private IP, Port = containerPort) in
    /// every target group of its service.
    fn register_task_targets(&mut self, id: &str) {
        let Some(t) = self.tasks.get(id) else { return };
        let (Some(ip), Some(svc_arn)) = (t.ip().map(String::from), t.service_arn.clone()) else {
            return;
        };
        let az = t.availability_zone.clone();
        let Some(svc) = self.services.iter().rposition(|s| s.arn == svc_arn) else {
            return;
        };
        for lb in self.services[svc].task_lbs(t.deployment_id.as_deref()).to_vec() {
            if self.elb_register(&lb.target_group_arn, &ip, lb.container_port, Some(az.clone())) {
                self.with_task(id, |t| {
                    t.targets.push(TaskTarget {
                        target_group_arn: lb.target_group_arn.clone(),
                        container_name: lb.container_name.clone(),
                        port: lb.container_port,
                    })
                });
                let name = self.services[svc].name.clone();
                self.service_event(
                    svc,
                    format!("(service {name}) registered 1 targets in (target-group {})", lb.target_group_arn),
                );
            }
        }
    }

    /// Whether any of the task's targets is still registered or draining.
    pub(crate) fn task_targets_registered(&self, t: &Task) -> bool {
        let Some(ip) = t.ip() else { return false };
        t.targets
            .iter()
            .any(|x| self.target_groups.get(&x.target_group_arn).is_some_and(|tg| tg.target(ip, x.port).is_some()))
    }

    /// Sets desiredStatus STOPPED and starts the stop path; returns false if already stopping.
    pub fn stop_task(&mut self, id: &str, cause: StopCause) -> bool {
        let now = self.now();
        let Some(t) = self.tasks.get(id) else {
            return false;
        };
        if t.desired_status == "STOPPED" {
            return false;
        }
        let next = match t.last_status {
            TaskStatus::Provisioning | TaskStatus::Pending => TaskStatus::Deprovisioning,
            TaskStatus::Activating | TaskStatus::Running => TaskStatus::Deactivating,
            s => s,
        };
        let (dep, svc_arn) = (t.deployment_id.clone(), t.service_arn.clone());
        self.with_task(id, |t| {
            t.desired_status = "STOPPED";
            t.stop_code = Some(cause.code);
            t.stopped_reason = Some(cause.reason.clone());
            t.stopping_at = Some(now);
            t.wait_for_drain = cause.wait_for_drain;
            t.crash_at = None;
            t.phase_until = now
                + match next {
                    TaskStatus::Deactivating => DEACTIVATING_MIN_S,
                    _ => DEPROVISIONING_S,
                } * 1000;
            if next == TaskStatus::Deprovisioning {
                t.execution_stopped_at = Some(now);
                if let Some(e) = t.eni.as_mut() {
                    e.status = "DETACHING";
                }
            }
        });
        if next == TaskStatus::Deactivating {
            self.deregister_task_targets(id);
        }
        if let (Some(kind), Some(dep), Some(svc_arn)) = (cause.failure, dep, svc_arn)
            && let Some(svc) = self.services.iter_mut().rev().find(|s| s.arn == svc_arn)
            && let Some(d) = svc.deployment_mut(&dep)
        {
            d.failed_tasks += 1;
            d.last_failure = Some(kind);
            d.updated_at = now;
        }
        self.set_status(id, next);
        true
    }

    fn deregister_task_targets(&mut self, id: &str) {
        let Some(t) = self.tasks.get(id) else { return };
        let Some(ip) = t.ip().map(String::from) else {
            return;
        };
        let svc = t.service_arn.as_ref().and_then(|a| self.services.iter().rposition(|s| &s.arn == a));
        for x in t.targets.clone() {
            if self.elb_deregister(&x.target_group_arn, &ip, x.port)
                && let Some(svc) = svc
            {
                let name = self.services[svc].name.clone();
                self.service_event(
                    svc,
                    format!("(service {name}) deregistered 1 targets in (target-group {})", x.target_group_arn),
                );
            }
        }
    }

    /// Changes lastStatus (or just re-announces desiredStatus) and emits a Task State Change.
    fn set_status(&mut self, id: &str, status: TaskStatus) {
        let now = self.now();
        self.with_task(id, |t| {
            t.last_status = status;
            t.updated_at = now;
            t.version += 1;
        });
        self.emit_task_event(id);
    }

    fn emit_task_event(&mut self, id: &str) {
        let now = self.now();
        let Some(t) = self.tasks.get(id) else { return };
        let detail = render::task(t, now, Shape::Event, false);
        let resources = vec![t.arn.clone()];
        self.emit(TASK_STATE_CHANGE, resources, detail);
    }

    fn with_task(&mut self, id: &str, f: impl FnOnce(&mut Task)) {
        if let Some(t) = self.tasks.get_mut(id) {
            f(t)
        }
    }
}

fn mac(hex: &str) -> String {
    let b = hex.as_bytes();
    (0..6).map(|i| String::from_utf8_lossy(&b[i * 2..i * 2 + 2]).into_owned()).collect::<Vec<_>>().join(":")
}
