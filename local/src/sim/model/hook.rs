//! ECS deployment lifecycle hooks (`deploymentConfiguration.lifecycleHooks`, botocore's
//! ECS model, DeploymentLifecycleHook) and the runs of them a traffic shift makes
//! (DeploymentLifecycleHookDetail).

use serde_json::Value;

use crate::sim::clock::SimTime;

/// DeploymentLifecycleHookStage: the stages a hook can be attached to.
pub const HOOK_STAGES: [&str; 8] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
];

/// DeploymentLifecycleHookTargetType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookTarget {
    Lambda,
    Pause,
}

impl HookTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lambda => "AWS_LAMBDA",
            Self::Pause => "PAUSE",
        }
    }
}

/// DeploymentLifecycleHookAction: what a timeout (or ContinueServiceDeployment) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    Continue,
    Rollback,
}

impl HookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continue => "CONTINUE",
            Self::Rollback => "ROLLBACK",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CONTINUE" => Some(Self::Continue),
            "ROLLBACK" => Some(Self::Rollback),
            _ => None,
        }
    }
}

/// One validated `lifecycleHooks[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleHook {
    pub target: HookTarget,
    /// `hookTargetArn`: the Lambda function (AWS_LAMBDA only).
    pub arn: Option<String>,
    pub stages: Vec<String>,
    /// `hookDetails`, passed to the function on every invocation.
    pub details: Option<Value>,
    pub timeout_minutes: i64,
    pub timeout_action: HookAction,
}

/// DeploymentLifecycleHookStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStatus {
    AwaitingAction,
    InProgress,
    Succeeded,
    Failed,
    TimedOut,
}

impl HookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAction => "AWAITING_ACTION",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
        }
    }

    /// The eventName of the ECS Hook State Change event announcing this status.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::AwaitingAction => "HOOK_AWAITING_ACTION",
            Self::InProgress => "HOOK_IN_PROGRESS",
            Self::Succeeded => "HOOK_SUCCEEDED",
            Self::Failed => "HOOK_FAILED",
            Self::TimedOut => "HOOK_TIMED_OUT",
        }
    }

    pub fn is_waiting(self) -> bool {
        matches!(self, Self::AwaitingAction | Self::InProgress)
    }
}

/// One hook running at one stage of one service deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    pub id: String,
    /// The hook stage (DeploymentLifecycleHookStage) it runs at.
    pub stage: String,
    pub target: HookTarget,
    pub arn: Option<String>,
    pub status: HookStatus,
    pub expires_at: SimTime,
    pub timeout_action: HookAction,
    /// The payload's `executionId`: one per run, kept across re-invocations.
    pub execution_id: String,
    /// `hookDetails` of the next invocation: the configured ones, merged with what
    /// IN_PROGRESS answers returned.
    pub details: Option<Value>,
    /// When the function is to be invoked (again); `None` while an invocation is out.
    pub next_invoke_at: Option<SimTime>,
    /// Why it failed or timed out, for the rollback reason.
    pub reason: Option<String>,
}

impl HookRun {
    /// Done, and the deployment may move on.
    pub fn passed(&self) -> bool {
        self.status == HookStatus::Succeeded
            || (self.status == HookStatus::TimedOut && self.timeout_action == HookAction::Continue)
    }

    /// Done, and the deployment rolls back.
    pub fn failed(&self) -> bool {
        self.status == HookStatus::Failed
            || (self.status == HookStatus::TimedOut && self.timeout_action == HookAction::Rollback)
    }
}

/// A Lambda invocation the simulator asks for; the answer comes back through
/// [`crate::sim::World::hook_answer`].
#[derive(Debug, Clone)]
pub struct HookCall {
    pub deployment_arn: String,
    pub hook_id: String,
    pub function_arn: String,
    pub payload: Value,
    /// A re-invocation during a rollback: its answer changes nothing.
    pub ignore_answer: bool,
}
