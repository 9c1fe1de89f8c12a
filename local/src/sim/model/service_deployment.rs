//! Service deployments and service revisions: ECS's own record of every rollout
//! (ECS Developer Guide, "View service history using Amazon ECS service
//! deployments" and "Amazon ECS service revisions"), for the rolling strategy and
//! the traffic-shifting ones (BLUE_GREEN, LINEAR, CANARY).

use serde_json::Value;

use crate::sim::clock::SimTime;
use crate::sim::model::Strategy;

/// `ServiceDeploymentStatus` (botocore's ECS model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceDeploymentStatus {
    Pending,
    InProgress,
    Successful,
    StopRequested,
    Stopped,
    RollbackRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
}

impl ServiceDeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::InProgress => "IN_PROGRESS",
            Self::Successful => "SUCCESSFUL",
            Self::StopRequested => "STOP_REQUESTED",
            Self::Stopped => "STOPPED",
            Self::RollbackRequested => "ROLLBACK_REQUESTED",
            Self::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            Self::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
            Self::RollbackFailed => "ROLLBACK_FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::InProgress,
            Self::Successful,
            Self::StopRequested,
            Self::Stopped,
            Self::RollbackRequested,
            Self::RollbackInProgress,
            Self::RollbackSuccessful,
            Self::RollbackFailed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// "Completed" in the guide's table: SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Successful | Self::Stopped | Self::RollbackSuccessful | Self::RollbackFailed)
    }
}

/// `ServiceDeploymentLifecycleStage` (botocore's ECS model), in the order a
/// traffic-shifting deployment goes through them. PRE_PRODUCTION_TRAFFIC_SHIFT is a
/// hook stage only: the model's stage enum does not list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LifecycleStage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
}

impl LifecycleStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReconcileService => "RECONCILE_SERVICE",
            Self::PreScaleUp => "PRE_SCALE_UP",
            Self::ScaleUp => "SCALE_UP",
            Self::PostScaleUp => "POST_SCALE_UP",
            Self::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Self::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Self::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Self::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            Self::BakeTime => "BAKE_TIME",
            Self::CleanUp => "CLEAN_UP",
        }
    }

    /// The stage after this one (CLEAN_UP is the last).
    pub fn next(self) -> Self {
        match self {
            Self::ReconcileService => Self::PreScaleUp,
            Self::PreScaleUp => Self::ScaleUp,
            Self::ScaleUp => Self::PostScaleUp,
            Self::PostScaleUp => Self::TestTrafficShift,
            Self::TestTrafficShift => Self::PostTestTrafficShift,
            Self::PostTestTrafficShift => Self::ProductionTrafficShift,
            Self::ProductionTrafficShift => Self::PostProductionTrafficShift,
            Self::PostProductionTrafficShift => Self::BakeTime,
            Self::BakeTime | Self::CleanUp => Self::CleanUp,
        }
    }
}

/// One `loadBalancers[]` entry of a traffic-shifting deployment: which group of the
/// pair is blue (serving production when it started) and which is green.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftPair {
    pub blue: String,
    pub green: String,
    pub production_rule: String,
    pub test_rule: Option<String>,
}

/// Where a BLUE_GREEN, LINEAR or CANARY deployment stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub strategy: Strategy,
    pub stage: LifecycleStage,
    /// When the current stage (or traffic step) may end, at the earliest.
    pub wait_until: SimTime,
    /// The `deployments[]` entry of the green side.
    pub green_id: String,
    /// `deployments[]` entries of the blue side (serving production at the start),
    /// newest first; the scheduler keeps their tasks until CLEAN_UP.
    pub blue_ids: Vec<String>,
    /// The revision blue runs, if any (none for the service's first deployment).
    pub blue_revision: Option<String>,
    pub pairs: Vec<ShiftPair>,
    /// Percent of production (and test) traffic ECS sends to green, 0.0–100.0.
    pub production_percent: f64,
    pub test_percent: f64,
    pub config: crate::sim::model::ShiftConfig,
    /// The service's lifecycle hooks when the deployment started.
    pub hook_config: Vec<crate::sim::model::LifecycleHook>,
    /// The hooks of the current hook stage (the last one run keeps its results).
    pub hooks: Vec<crate::sim::model::HookRun>,
    /// Hook stages of the current lifecycle stage whose hooks all passed.
    pub hook_stages_done: Vec<String>,
}

/// Task counts of a revision, as `ServiceRevisionSummary` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevisionCounts {
    pub requested: i64,
    pub running: i64,
    pub pending: i64,
}

/// An immutable service revision: what one deployment rolls out.
#[derive(Debug, Clone)]
pub struct ServiceRevision {
    pub arn: String,
    pub service_arn: String,
    pub cluster_arn: String,
    pub task_def_arn: String,
    /// The `deployments[]` entry that runs this revision: `ecs-svc/<revision id>`
    /// (a real CreateService response shows the two ids equal).
    pub ecs_deployment_id: String,
    /// `deployments[]` entries of rollbacks to this revision: a rollback runs an
    /// existing revision again under a new entry.
    pub rollback_ecs_ids: Vec<String>,
    pub launch_type: String,
    pub platform_version: Option<String>,
    pub load_balancers: Vec<Value>,
    pub network_configuration: Option<Value>,
    /// (container name, image, digest if the image is pinned by one).
    pub container_images: Vec<(String, String, Option<String>)>,
    /// `resolvedConfiguration.loadBalancers`: (target group serving production for
    /// this revision, production listener rule if any).
    pub resolved_lbs: Vec<(String, Option<String>)>,
    pub created_at: SimTime,
}

impl ServiceRevision {
    /// Whether `deployments[]` entry `ecs_id` runs this revision.
    pub fn runs(&self, ecs_id: &str) -> bool {
        self.ecs_deployment_id == ecs_id || self.rollback_ecs_ids.iter().any(|id| id == ecs_id)
    }
}

/// One service deployment.
#[derive(Debug, Clone)]
pub struct ServiceDeployment {
    pub arn: String,
    pub service_arn: String,
    pub cluster_arn: String,
    pub status: ServiceDeploymentStatus,
    pub status_reason: Option<String>,
    pub created_at: SimTime,
    pub started_at: Option<SimTime>,
    pub finished_at: Option<SimTime>,
    pub stopped_at: Option<SimTime>,
    pub updated_at: SimTime,
    pub source_revisions: Vec<String>,
    pub target_revision: String,
    /// The service's `deploymentConfiguration` when the deployment started, rendered.
    pub deployment_configuration: Value,
    /// (reason, started at, revision rolled back to, its `deployments[]` id).
    pub rollback: Option<(String, SimTime, String, String)>,
    /// Counts frozen when the deployment finished ("the number of tasks running
    /// when the deployment completed"), by revision ARN.
    pub final_counts: Option<Vec<(String, RevisionCounts)>>,
    pub breaker_enabled: bool,
    pub breaker_triggered: bool,
    /// The traffic shift of a BLUE_GREEN, LINEAR or CANARY deployment; `None` for ROLLING.
    pub shift: Option<Shift>,
}
