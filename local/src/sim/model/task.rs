//! ECS tasks and their containers.
//!
//! Lifecycle (ECS Developer Guide, "Task lifecycle"): PROVISIONING → PENDING →
//! ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED.

use serde_json::Value;

use crate::sim::clock::SimTime;
use crate::sim::images::Behavior;

/// A task's `lastStatus`, in lifecycle order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "PROVISIONING",
            Self::Pending => "PENDING",
            Self::Activating => "ACTIVATING",
            Self::Running => "RUNNING",
            Self::Deactivating => "DEACTIVATING",
            Self::Stopping => "STOPPING",
            Self::Deprovisioning => "DEPROVISIONING",
            Self::Stopped => "STOPPED",
        }
    }

    /// States ECS reports as pending in `pendingCount`.
    pub fn is_pending(self) -> bool {
        self < Self::Running
    }
}

/// The task's elastic network interface (awsvpc network mode).
#[derive(Debug, Clone)]
pub struct Eni {
    pub attachment_id: String,
    pub eni_id: String,
    pub mac: String,
    pub ip: String,
    pub subnet: String,
    /// PRECREATED, ATTACHED, DETACHING or DELETED.
    pub status: &'static str,
}

/// A container of a task.
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub arn: String,
    pub image: String,
    pub image_digest: Option<String>,
    pub runtime_id: String,
    /// `None` when the image is not in the catalogue (cannot be pulled).
    pub behavior: Option<Behavior>,
    pub essential: bool,
    /// Container health check `(interval, retries, startPeriod)` in seconds, if defined.
    pub health_check: Option<(i64, i64, i64)>,
    pub last_status: &'static str,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub cpu: String,
    pub memory: Option<String>,
}

/// A load balancer registration the task holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTarget {
    pub target_group_arn: String,
    pub container_name: String,
    pub port: i64,
}

/// An ECS task.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub arn: String,
    pub cluster: String,
    pub cluster_arn: String,
    /// ARN of the service that started the task, if any.
    pub service_arn: Option<String>,
    pub group: String,
    pub started_by: Option<String>,
    pub deployment_id: Option<String>,
    pub task_def_arn: String,
    pub last_status: TaskStatus,
    /// RUNNING or STOPPED.
    pub desired_status: &'static str,
    pub launch_type: String,
    pub platform_version: Option<String>,
    pub availability_zone: String,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub containers: Vec<Container>,
    pub eni: Option<Eni>,
    pub targets: Vec<TaskTarget>,
    pub tags: Vec<Value>,
    pub created_at: SimTime,
    pub updated_at: SimTime,
    pub pull_started_at: Option<SimTime>,
    pub pull_stopped_at: Option<SimTime>,
    pub connectivity_at: Option<SimTime>,
    pub started_at: Option<SimTime>,
    pub stopping_at: Option<SimTime>,
    pub execution_stopped_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub stop_code: Option<&'static str>,
    pub stopped_reason: Option<String>,
    /// Incremented on every state change, as ECS does.
    pub version: i64,
    /// When the current lifecycle phase's work is done.
    pub phase_until: SimTime,
    /// When an essential container exits on its own (`crash` images).
    pub crash_at: Option<SimTime>,
    /// Stay in DEACTIVATING until load balancer draining finishes.
    pub wait_for_drain: bool,
}

impl Task {
    /// Alive = counted by ECS as RUNNING or PENDING for `maximumPercent`.
    pub fn is_alive(&self) -> bool {
        self.desired_status == "RUNNING" && self.last_status <= TaskStatus::Running
    }

    pub fn ip(&self) -> Option<&str> {
        self.eni.as_ref().map(|e| e.ip.as_str())
    }

    /// The container answering the load balancer on `port`: the one registered on it, or
    /// the first essential one.
    pub fn container_for_port(&self, port: i64) -> Option<&Container> {
        let name = self.targets.iter().find(|t| t.port == port).map(|t| t.container_name.as_str());
        match name {
            Some(n) => self.containers.iter().find(|c| c.name == n),
            None => self.containers.iter().find(|c| c.essential),
        }
    }

    /// Behaviour of the container answering load balancer health checks on `port`.
    pub fn behavior_for_port(&self, port: i64) -> Option<Behavior> {
        self.container_for_port(port).and_then(|c| c.behavior)
    }

    /// Task `healthStatus`: UNHEALTHY if any checked container is, HEALTHY once every checked
    /// container has passed, UNKNOWN otherwise or when no container defines a health check.
    pub fn health_status(&self, now: SimTime) -> &'static str {
        let states: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| c.health_check.is_some())
            .map(|c| self.container_health(c, now))
            .collect();
        if states.contains(&"UNHEALTHY") {
            "UNHEALTHY"
        } else if !states.is_empty() && states.iter().all(|s| *s == "HEALTHY") {
            "HEALTHY"
        } else {
            "UNKNOWN"
        }
    }

    /// A container's health: UNKNOWN until its first check (startPeriod + interval), then
    /// HEALTHY, or UNHEALTHY once `retries` checks in a row have failed (ECS Developer Guide,
    /// "Determine Amazon ECS task health using container health checks").
    pub fn container_health(&self, c: &Container, now: SimTime) -> &'static str {
        let (Some((interval, retries, start_period)), Some(started), TaskStatus::Running) =
            (c.health_check, self.started_at, self.last_status)
        else {
            return "UNKNOWN";
        };
        if now < started + (start_period + interval) * 1000 {
            "UNKNOWN"
        } else if container_passes(c.behavior, Some(started), now) {
            "HEALTHY"
        } else if now >= started + (start_period + interval * retries.max(1)) * 1000 {
            "UNHEALTHY"
        } else {
            "UNKNOWN"
        }
    }

    /// Whether an essential container defines a health check.
    pub fn essential_health_checked(&self) -> bool {
        self.containers.iter().any(|c| c.essential && c.health_check.is_some())
    }
}

/// Whether a container with `behavior` answers health checks at `now` (ignoring `flaky`;
/// an `errors` build passes its own health check, as it does the load balancer's).
pub fn container_passes(behavior: Option<Behavior>, started_at: Option<SimTime>, now: SimTime) -> bool {
    match behavior {
        Some(Behavior::Healthy | Behavior::Flaky(_) | Behavior::Errors) => true,
        Some(Behavior::Slow(s)) => started_at.is_some_and(|t| now >= t + s as i64 * 1000),
        Some(Behavior::Unhealthy) | Some(Behavior::Crash) | None => false,
    }
}
