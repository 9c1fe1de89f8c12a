//! Builds each adapter from the SDK configuration and the environment
//! `template.yaml` gives the functions. Clients are cheap handles over one
//! shared connection pool: build them once per process.

use aws_config::SdkConfig;

use super::{AwsNotifier, DynamoDeployments, DynamoTargets, EcsClient, ElbTargetHealth, SfnCallbacks, SfnExecutions};
use crate::config::{required, DEPLOYMENTS_TABLE, EVENT_BUS_NAME, NOTIFICATION_TOPIC_ARN, STATE_MACHINE_ARN, TARGETS_TABLE};
use crate::DeployError;

pub fn deployments(config: &SdkConfig) -> Result<DynamoDeployments, DeployError> {
    Ok(DynamoDeployments::new(aws_sdk_dynamodb::Client::new(config), required(DEPLOYMENTS_TABLE)?))
}

pub fn targets(config: &SdkConfig) -> Result<DynamoTargets, DeployError> {
    Ok(DynamoTargets::new(aws_sdk_dynamodb::Client::new(config), required(TARGETS_TABLE)?))
}

pub fn notifier(config: &SdkConfig) -> Result<AwsNotifier, DeployError> {
    Ok(AwsNotifier::new(
        aws_sdk_eventbridge::Client::new(config),
        aws_sdk_sns::Client::new(config),
        required(EVENT_BUS_NAME)?,
        required(NOTIFICATION_TOPIC_ARN)?,
    ))
}

pub fn executions(config: &SdkConfig) -> Result<SfnExecutions, DeployError> {
    Ok(SfnExecutions::new(aws_sdk_sfn::Client::new(config), required(STATE_MACHINE_ARN)?))
}

pub fn ecs(config: &SdkConfig) -> EcsClient {
    EcsClient::new(aws_sdk_ecs::Client::new(config))
}

pub fn elb(config: &SdkConfig) -> ElbTargetHealth {
    ElbTargetHealth::new(aws_sdk_elasticloadbalancingv2::Client::new(config))
}

pub fn callbacks(config: &SdkConfig) -> SfnCallbacks {
    SfnCallbacks::new(aws_sdk_sfn::Client::new(config))
}
