//! Deployment domain: values that validate on construction, the deploy-target
//! rules, the deployment record and its status machine, and the rules that
//! decide how a rollout went. No AWS SDK and no Lambda runtime in here.

mod alarm;
mod approval;
mod aws_states;
mod decision;
mod deployment;
mod freeze;
mod hook;
mod image;
mod lifecycle_hook;
mod metric;
mod notification;
mod operator_request;
mod registry_image;
mod revision;
mod rollout;
mod service_deployment;
mod status;
mod tag_rule;
mod target;

pub use alarm::AlarmView;
pub use approval::{
    Approval, ApprovalEndpoint, ApprovalGate, ApprovalOutcome, ApprovalPolicy, DEFAULT_APPROVAL_MINUTES, Decision,
    DecisionPlan, MAX_APPROVAL_MINUTES, MAX_REASON_CHARS, OnTimeout, after_decision, plan_decision,
};
pub use aws_states::{
    AlarmStateValue, EcrActionResult, EcrActionType, EcsDeploymentStatus, RolloutState, ServiceStatus,
    TargetHealthReason, TargetHealthState, TaskStatus, aws_state,
};
pub use decision::{DecisionOutcome, DecisionSource, PushDecision};
pub use deployment::{
    Deployment, DeploymentId, NewDeployment, Phase, RETENTION_DAYS, RecordPatch, TimelineEntry, Transition, Watch, iso,
    short_revision,
};
pub use freeze::{Freeze, MAX_FREEZE_REASON_CHARS};
pub use hook::{
    DEFAULT_CALL_BACK_SECONDS, GroupCheck, HOOK_DETAILS_KEY, HookAnswer, HookChecks, HookExecution, HookFindings,
    HookInvocation, HookStage, HookStatus, HookVerdict, HttpCheck, HttpFinding, MAX_SOAK_SECONDS, decide,
};
pub use image::{ECR_TAG_MAX, ImageDigest, ImageRef, is_ecr_repository_name, not_an_image};
pub use lifecycle_hook::{HookAction, HookRunStatus, HookTargetType, LifecycleHookDetail, PausedAt, paused_at};
pub use metric::{Metric, MetricName, MetricUnit, NAMESPACE, RefusalReason, STACK_DIMENSION, transition_metrics};
pub use notification::{DeploymentStateChange, EVENT_DETAIL_TYPE, EVENT_SOURCE, HumanMessage};
pub use operator_request::{MAX_REQUEST_REASON_CHARS, OperatorRequest, RequestKind, validate_token};
pub use registry_image::{RegistryImage, believed_push_time, newest_matching};
pub use revision::{
    ContainerImage, DEPLOYMENT_TAG_KEY, ECS_TAG_VALUE_MAX, IMAGE_TAG_KEY, ImagePlan, TaskDefinitionView,
    fits_ecs_tag_value, plan_image_update,
};
pub use rollout::{
    EcsDeploymentView, Outcome, ServiceSnapshot, TargetGroupHealth, TargetView, TaskView, Verdict, evaluate,
    rolling_in_progress, short_tg,
};
pub use service_deployment::{
    DeploymentStrategy, LifecycleStage, RevisionSummary, RolloutProgress, ServiceDeploymentStatus,
    ServiceDeploymentView, evaluate_service_deployment, short_arn, targets_revision,
};
pub use status::DeploymentStatus;
pub use tag_rule::TagRule;
pub use target::{DeployTarget, ServiceRef};
