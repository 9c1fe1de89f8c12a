//! Where the stack's resources are: its CloudFormation outputs (`--stack`),
//! or variables for a stack deployed some other way.

use autodeploy_shared::aws::{DynamoDecisions, DynamoDeployments};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use crate::error::CliError;

/// The resources the commands use.
pub struct Stack {
    pub deployments: DynamoDeployments,
    pub deployments_table: String,
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

/// What a stack's outputs (or the variables) name.
struct Names {
    deployments: String,
    decisions: Option<String>,
    approval_url: Option<String>,
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
        },
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    Ok(Stack {
        deployments: DynamoDeployments::new(dynamodb.clone(), names.deployments.clone()),
        deployments_table: names.deployments,
        decisions: names.decisions.map(|t| (DynamoDecisions::new(dynamodb, t.clone()), t)),
        approval_url: names.approval_url,
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
    Ok(Names { deployments: table, decisions: output("DecisionsTableName"), approval_url: output("ApprovalUrl") })
}
