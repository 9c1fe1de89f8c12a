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
pub use wiring::FromVars;

/// Loads the SDK configuration once per process (region, credentials,
/// `AWS_ENDPOINT_URL` for the local cloud).
pub async fn load_config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
