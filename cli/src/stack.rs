//! Where the stack's resources are: its CloudFormation outputs (`--stack`),
//! or variables for a stack deployed some other way.

use autodeploy_shared::aws::{
    DynamoDecisions, DynamoDeployments, DynamoLocks, DynamoTargets, EcsClient, ElbTargetHealth,
};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use crate::error::CliError;

/// The resources the commands use.
pub struct Stack {
    pub deployments: DynamoDeployments,
    pub deployments_table: String,
    /// The service locks and freezes (items of the deployments table).
    pub locks: DynamoLocks,
    /// The deploy targets (output `TargetsTableName`); absent when the
    /// stack was named by variables without `AUTODEPLOY_TARGETS_TABLE`.
    pub targets: Option<(DynamoTargets, String)>,
    /// The operator entry point for deploy, rollback, freeze and unfreeze
    /// (output `OperatorUrl`).
    pub operator_url: Option<String>,
    /// ECS and ELBv2 as the caller sees them (what runs, target health).
    pub ecs: EcsClient,
    pub elb: ElbTargetHealth,
    /// The caller's AWS configuration (credentials for signed calls).
    pub config: SdkConfig,
    /// What the trigger decided about each push (output `DecisionsTableName`).
    pub decisions: Option<(DynamoDecisions, String)>,
    /// The approval entry point (output `ApprovalUrl`); absent on older stacks.
    pub approval_url: Option<String>,
    /// The region requests are signed for.
    pub region: String,
}

const TABLE_VAR: &str = "AUTODEPLOY_DEPLOYMENTS_TABLE";
const DECISIONS_VAR: &str = "AUTODEPLOY_DECISIONS_TABLE";
const URL_VAR: &str = "AUTODEPLOY_APPROVAL_URL";
const TARGETS_VAR: &str = "AUTODEPLOY_TARGETS_TABLE";
const OPERATOR_VAR: &str = "AUTODEPLOY_OPERATOR_URL";

/// What a stack's outputs (or the variables) name.
struct Names {
    deployments: String,
    decisions: Option<String>,
    approval_url: Option<String>,
    targets: Option<String>,
    operator_url: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub async fn find(config: &SdkConfig, name: Option<&str>) -> Result<Stack, CliError> {
    let region = config
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| CliError::Invalid("no AWS region: set AWS_REGION (or a profile's region)".into()))?;
    let names = match name {
        Some(name) => outputs(config, name, &region).await?,
        None => Names {
            deployments: var(TABLE_VAR).ok_or(CliError::NoStack)?,
            decisions: var(DECISIONS_VAR),
            approval_url: var(URL_VAR),
            targets: var(TARGETS_VAR),
            operator_url: var(OPERATOR_VAR),
        },
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    Ok(Stack {
        deployments: DynamoDeployments::new(dynamodb.clone(), names.deployments.clone()),
        locks: DynamoLocks::new(dynamodb.clone(), names.deployments.clone()),
        deployments_table: names.deployments,
        decisions: names.decisions.map(|t| (DynamoDecisions::new(dynamodb.clone(), t.clone()), t)),
        targets: names.targets.map(|t| (DynamoTargets::new(dynamodb, t.clone()), t)),
        approval_url: names.approval_url,
        operator_url: names.operator_url,
        ecs: EcsClient::new(aws_sdk_ecs::Client::new(config)),
        elb: ElbTargetHealth::new(aws_sdk_elasticloadbalancingv2::Client::new(config)),
        config: config.clone(),
        region,
    })
}

/// What stack `name`'s outputs name.
async fn outputs(config: &SdkConfig, name: &str, region: &str) -> Result<Names, CliError> {
    let cf = aws_sdk_cloudformation::Client::new(config);
    let described = cf.describe_stacks().stack_name(name).send().await.map_err(|e| {
        let code = e.code().unwrap_or_default().to_owned();
        let message = e.message().unwrap_or_default().to_owned();
        match code.as_str() {
            "AccessDenied" | "AccessDeniedException" => CliError::AccessDenied {
                action: "cloudformation:DescribeStacks",
                resource: format!("stack {name}"),
                message,
            },
            "ValidationError" => {
                CliError::Stack { name: name.into(), why: format!("no such stack in {region} ({message})") }
            }
            _ => CliError::Stack {
                name: name.into(),
                why: format!("DescribeStacks failed: {}", autodeploy_shared::error::clip(&format!("{e:?}"))),
            },
        }
    })?;
    let stack = described
        .stacks()
        .first()
        .ok_or_else(|| CliError::Stack { name: name.into(), why: format!("no such stack in {region}") })?;
    let output = |key: &str| {
        stack.outputs().iter().find(|o| o.output_key() == Some(key)).and_then(|o| o.output_value()).map(str::to_owned)
    };
    let table = output("DeploymentsTableName").ok_or_else(|| CliError::Stack {
        name: name.into(),
        why: "it has no output DeploymentsTableName: is it an ecs-autodeploy stack?".into(),
    })?;
    Ok(Names {
        deployments: table,
        decisions: output("DecisionsTableName"),
        approval_url: output("ApprovalUrl"),
        targets: output("TargetsTableName"),
        operator_url: output("OperatorUrl"),
    })
}
