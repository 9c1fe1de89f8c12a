//! Builds each adapter from the SDK configuration and the variables
//! `template.yaml` gives the functions. Clients are cheap handles over one
//! shared connection pool: build them once per process.

use aws_config::SdkConfig;

use super::{
    AwsNotifier, CloudWatchAlarms, DynamoDecisions, DynamoDeployments, DynamoLocks, DynamoTargets, EcrImages,
    EcsClient, ElbTargetHealth, SfnCallbacks, SfnExecutions,
};
use crate::DeployError;
use crate::config::{
    APPROVAL_URL, DECISIONS_TABLE, DEPLOYMENTS_TABLE, EVENT_BUS_NAME, NOTIFICATION_TOPIC_ARN, ProcessEnv,
    STACK_ACCOUNT_ID, STACK_REGION, STATE_MACHINE_ARN, TARGETS_TABLE, Vars, required,
};
use crate::domain::ApprovalEndpoint;

/// A function's dependencies, built once per process from the SDK
/// configuration and the function's variables.
pub trait FromVars: Sized {
    /// Configuration from `vars` (the local cloud passes the template's variables).
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError>;

    /// The deployed function: configuration from the process environment.
    fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Self::from_vars(config, &ProcessEnv)
    }
}

pub fn deployments(config: &SdkConfig, vars: &impl Vars) -> Result<DynamoDeployments, DeployError> {
    Ok(DynamoDeployments::new(aws_sdk_dynamodb::Client::new(config), required(vars, DEPLOYMENTS_TABLE)?))
}

/// Service locks live in the deployments table.
pub fn locks(config: &SdkConfig, vars: &impl Vars) -> Result<DynamoLocks, DeployError> {
    Ok(DynamoLocks::new(aws_sdk_dynamodb::Client::new(config), required(vars, DEPLOYMENTS_TABLE)?))
}

pub fn decisions(config: &SdkConfig, vars: &impl Vars) -> Result<DynamoDecisions, DeployError> {
    Ok(DynamoDecisions::new(aws_sdk_dynamodb::Client::new(config), required(vars, DECISIONS_TABLE)?))
}

/// ECR, asked in the stack's own account and region unless a push names another.
pub fn images(config: &SdkConfig, vars: &impl Vars) -> Result<EcrImages, DeployError> {
    Ok(EcrImages::new(
        aws_sdk_ecr::Client::new(config),
        required(vars, STACK_ACCOUNT_ID)?,
        required(vars, STACK_REGION)?,
    ))
}

pub fn targets(config: &SdkConfig, vars: &impl Vars) -> Result<DynamoTargets, DeployError> {
    Ok(DynamoTargets::new(aws_sdk_dynamodb::Client::new(config), required(vars, TARGETS_TABLE)?))
}

pub fn notifier(config: &SdkConfig, vars: &impl Vars) -> Result<AwsNotifier, DeployError> {
    Ok(AwsNotifier::new(
        aws_sdk_eventbridge::Client::new(config),
        aws_sdk_sns::Client::new(config),
        required(vars, EVENT_BUS_NAME)?,
        required(vars, NOTIFICATION_TOPIC_ARN)?,
    ))
}

/// Where people decide approvals: the `decide-approval` function URL and the
/// region to sign for. `None` when the stack gives an empty URL.
pub fn approval_endpoint(vars: &impl Vars) -> Result<Option<ApprovalEndpoint>, DeployError> {
    let url = required(vars, APPROVAL_URL)?;
    if url.is_empty() {
        return Ok(None);
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(DeployError::InvalidInput(format!("{APPROVAL_URL} {url:?} is not a URL")));
    }
    Ok(Some(ApprovalEndpoint { url, region: required(vars, STACK_REGION)? }))
}

pub fn executions(config: &SdkConfig, vars: &impl Vars) -> Result<SfnExecutions, DeployError> {
    Ok(SfnExecutions::new(aws_sdk_sfn::Client::new(config), required(vars, STATE_MACHINE_ARN)?))
}

pub fn ecs(config: &SdkConfig) -> EcsClient {
    EcsClient::new(aws_sdk_ecs::Client::new(config))
}

pub fn alarms(config: &SdkConfig) -> CloudWatchAlarms {
    CloudWatchAlarms::new(aws_sdk_cloudwatch::Client::new(config))
}

pub fn elb(config: &SdkConfig) -> ElbTargetHealth {
    ElbTargetHealth::new(aws_sdk_elasticloadbalancingv2::Client::new(config))
}

pub fn callbacks(config: &SdkConfig) -> SfnCallbacks {
    SfnCallbacks::new(aws_sdk_sfn::Client::new(config))
}
