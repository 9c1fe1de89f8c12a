//! The simulator's state: ECS clusters, task definitions, services, tasks, and ELB
//! target groups, load balancers, listeners and rules. Plain data; behaviour lives in the
//! scheduler, lifecycle and health modules.

pub mod cluster;
pub mod elb;
pub mod hook;
pub mod listener;
pub mod load_balancer;
pub mod service;
pub mod service_deployment;
pub mod task;
pub mod taskdef;

pub use cluster::Cluster;
pub use elb::{HealthCheck, Target, TargetGroup, TargetState};
pub use hook::{HOOK_STAGES, HookAction, HookCall, HookRun, HookStatus, HookTarget, LifecycleHook};
pub use listener::{Action, ActionKind, Condition, Forward, ForwardError, Listener, Priority, Rule};
pub use load_balancer::{LbType, LoadBalancer};
pub use service::{
    AdvancedConfig, Deployment, DeploymentConfig, DeploymentStatus, RolloutState, Service, ServiceLb, ServiceStatus,
    ShiftConfig, Strategy,
};
pub use service_deployment::{
    LifecycleStage, RevisionCounts, ServiceDeployment, ServiceDeploymentStatus, ServiceRevision, Shift, ShiftPair,
};
pub use task::{Container, Eni, Task, TaskStatus};
pub use taskdef::TaskDef;
