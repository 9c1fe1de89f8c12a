//! ECS services and their deployments.

use std::collections::VecDeque;

use serde_json::{Map, Value};

use crate::sim::clock::SimTime;

/// ACTIVE, DRAINING (after DeleteService, tasks stopping) or INACTIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    Active,
    Draining,
    Inactive,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Draining => "DRAINING",
            Self::Inactive => "INACTIVE",
        }
    }
}

/// A deployment's `status`: the newest is PRIMARY, older ones still running tasks ACTIVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStatus {
    Primary,
    Active,
    Inactive,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "PRIMARY",
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
        }
    }
}

/// A deployment's `rolloutState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

/// `deploymentConfiguration.strategy` (botocore's `DeploymentStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rolling => "ROLLING",
            Self::BlueGreen => "BLUE_GREEN",
            Self::Linear => "LINEAR",
            Self::Canary => "CANARY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Rolling, Self::BlueGreen, Self::Linear, Self::Canary].into_iter().find(|v| v.as_str() == s)
    }

    /// BLUE_GREEN, LINEAR and CANARY move traffic between two target groups.
    pub fn shifts_traffic(self) -> bool {
        self != Self::Rolling
    }
}

/// How a traffic-shifting deployment moves production traffic, with its waits in minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftConfig {
    /// `bakeTimeInMinutes` (0–1440; 0 when absent).
    pub bake_minutes: i64,
    /// `linearConfiguration`: stepPercent (3.0–100.0, default 10), stepBakeTimeInMinutes (default 6).
    pub linear: (f64, i64),
    /// `canaryConfiguration`: canaryPercent (0.1–100.0, default 5), canaryBakeTimeInMinutes (default 10).
    pub canary: (f64, i64),
}

impl Default for ShiftConfig {
    fn default() -> Self {
        Self { bake_minutes: 0, linear: (10.0, 6), canary: (5.0, 10) }
    }
}

/// `deploymentConfiguration` of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentConfig {
    pub strategy: Strategy,
    pub shift: ShiftConfig,
    pub minimum_healthy_percent: i64,
    pub maximum_percent: i64,
    pub breaker_enable: bool,
    pub breaker_rollback: bool,
    /// `deploymentCircuitBreaker.resetOnHealthyTask` (default true).
    pub breaker_reset_on_healthy: bool,
    /// `deploymentCircuitBreaker.thresholdConfiguration` type and value
    /// (default BOUNDED_PERCENT, 50).
    pub breaker_threshold: (String, i64),
    /// Members of `deploymentCircuitBreaker` given explicitly, echoed back.
    pub breaker_raw: Map<String, Value>,
    /// `lifecycleHooks`, validated (echoed from `extra`).
    pub hooks: Vec<crate::sim::model::LifecycleHook>,
    /// Other members (alarms, strategy, …) kept verbatim so they round-trip.
    pub extra: Map<String, Value>,
}

impl DeploymentConfig {
    /// Tasks that must stay healthy: minimumHealthyPercent × desired, rounded up
    /// (ECS API reference, DeploymentConfiguration.minimumHealthyPercent).
    pub fn min_healthy(&self, desired: i64) -> i64 {
        (desired * self.minimum_healthy_percent + 99) / 100
    }

    /// Tasks allowed RUNNING or PENDING: maximumPercent × desired, rounded down
    /// (ECS API reference, DeploymentConfiguration.maximumPercent).
    pub fn max_total(&self, desired: i64) -> i64 {
        desired * self.maximum_percent / 100
    }

    /// Failed tasks that trip the circuit breaker. Default BOUNDED_PERCENT 50:
    /// clamp(ceil(0.5 × desired), 3, 200) (ECS Developer Guide, "Deployment circuit breaker").
    pub fn breaker_threshold(&self, desired: i64) -> i64 {
        let (kind, value) = (&self.breaker_threshold.0, self.breaker_threshold.1);
        let pct = (desired * value + 99) / 100;
        match kind.as_str() {
            "COUNT" => value.max(1),
            "UNBOUNDED_PERCENT" => pct.max(1),
            _ => pct.clamp(3, 200),
        }
    }
}

impl Default for DeploymentConfig {
    /// ECS defaults for the rolling-update (ECS) deployment controller: 100 / 200.
    fn default() -> Self {
        Self {
            strategy: Strategy::Rolling,
            shift: ShiftConfig::default(),
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            breaker_enable: false,
            breaker_rollback: false,
            breaker_reset_on_healthy: true,
            breaker_threshold: ("BOUNDED_PERCENT".into(), 50),
            breaker_raw: Map::new(),
            hooks: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// One deployment of a service.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// `ecs-svc/` + 19 digits; tasks it starts carry it as `startedBy`.
    pub id: String,
    pub status: DeploymentStatus,
    pub task_def_arn: String,
    pub desired_count: i64,
    pub failed_tasks: i64,
    pub created_at: SimTime,
    pub updated_at: SimTime,
    pub rollout_state: RolloutState,
    pub rollout_state_reason: String,
    pub launch_type: String,
    pub platform_version: Option<String>,
    pub network_configuration: Option<Value>,
    /// SERVICE_TASK_START_IMPAIRED already reported for this deployment.
    pub impaired_reported: bool,
    /// Cause of the latest failed task, for the circuit breaker's reason.
    pub last_failure: Option<&'static str>,
    /// The load balancers this deployment's tasks register with, when they are not the
    /// service's: a traffic-shifting deployment's green side uses the other target group
    /// of each pair.
    pub lb_override: Option<Vec<ServiceLb>>,
}

/// A `loadBalancers` entry of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLb {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: i64,
    pub advanced: Option<AdvancedConfig>,
    /// The request object, echoed verbatim.
    pub raw: Value,
}

/// `loadBalancers[].advancedConfiguration`: the second target group and the listener
/// rules ECS moves traffic with (BLUE_GREEN, LINEAR, CANARY).
#[derive(Debug, Clone, PartialEq)]
pub struct AdvancedConfig {
    pub alternate_target_group_arn: String,
    /// A rule ARN (ALB) or a listener ARN (NLB).
    pub production_listener_rule: String,
    pub test_listener_rule: Option<String>,
}

/// A message in the service's `events`.
#[derive(Debug, Clone)]
pub struct ServiceEvent {
    pub id: String,
    pub created_at: SimTime,
    pub message: String,
}

/// An ECS service.
#[derive(Debug, Clone)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub cluster: String,
    pub cluster_arn: String,
    pub status: ServiceStatus,
    pub desired_count: i64,
    pub task_def_arn: String,
    pub launch_type: String,
    pub platform_version: Option<String>,
    pub deployment_config: DeploymentConfig,
    /// Newest first; index 0 is the PRIMARY deployment.
    pub deployments: Vec<Deployment>,
    pub load_balancers: Vec<ServiceLb>,
    pub network_configuration: Option<Value>,
    pub health_check_grace_period: Option<i64>,
    /// Newest first, at most [`Service::MAX_EVENTS`].
    pub events: VecDeque<ServiceEvent>,
    pub created_at: SimTime,
    pub tags: Vec<Value>,
    /// Other CreateService members echoed in DescribeServices (roleArn, propagateTags, …).
    pub extra: Map<String, Value>,
    /// Task definition of the last deployment that reached COMPLETED (rollback target).
    pub last_completed_task_def: Option<(String, String)>,
    /// Whether the last "has reached a steady state" still holds.
    pub steady: bool,
}

impl Service {
    /// ECS keeps the 100 most recent service events.
    pub const MAX_EVENTS: usize = 100;

    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.first()
    }

    pub fn primary_mut(&mut self) -> Option<&mut Deployment> {
        self.deployments.first_mut()
    }

    pub fn deployment(&self, id: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.id == id)
    }

    pub fn deployment_mut(&mut self, id: &str) -> Option<&mut Deployment> {
        self.deployments.iter_mut().find(|d| d.id == id)
    }

    /// The load balancers the tasks of `deployments[]` entry `deployment_id` register
    /// with: its own (a traffic-shifting green side, or a rolling entry following
    /// production) or the service's.
    pub fn task_lbs(&self, deployment_id: Option<&str>) -> &[ServiceLb] {
        deployment_id
            .and_then(|id| self.deployment(id))
            .and_then(|d| d.lb_override.as_deref())
            .unwrap_or(&self.load_balancers)
    }

    pub fn group(&self) -> String {
        format!("service:{}", self.name)
    }
}
