//! AWS SDK adapters of the ports. The only module that knows the SDK.

mod callbacks;
mod cloudwatch;
mod dynamo_decisions;
mod dynamo_deployments;
mod dynamo_locks;
mod dynamo_targets;
mod ecr;
mod ecs;
mod ecs_service_deployments;
mod elb;
mod errors;
mod executions;
mod http_probe;
mod notifier;
mod runs;
mod sdk_config;
pub mod steps;
pub mod task_definition_json;
pub mod wiring;

pub use aws_config::SdkConfig;

pub use callbacks::SfnCallbacks;
pub use cloudwatch::CloudWatchAlarms;
pub use dynamo_decisions::DynamoDecisions;
pub use dynamo_deployments::DynamoDeployments;
pub use dynamo_locks::DynamoLocks;
pub use dynamo_targets::DynamoTargets;
pub use ecr::EcrImages;
pub use ecs::EcsClient;
pub use elb::ElbTargetHealth;
pub use executions::SfnExecutions;
pub use http_probe::ReqwestProbe;
pub use notifier::AwsNotifier;
pub use runs::SfnRuns;
pub use sdk_config::{https_client, install_ring_tls, lambda_sdk_config};
pub use wiring::FromVars;

/// Attempts per AWS call, the first included: the SDK's standard retry mode
/// retries throttling, 5xx and connection errors with exponential backoff and
/// jitter. What is still failing after them goes back to the state machine
/// as `Retryable` (see `errors::classify`), whose own Retry waits longer
/// (2 s, doubling, up to 30 s, 5 attempts). Adaptive mode is not used: its
/// client-side rate limiter learns per process, and a function lives seconds.
pub const SDK_MAX_ATTEMPTS: u32 = 3;
