//! Where the stack's resources are: its CloudFormation outputs (`--stack`),
//! or variables for a stack deployed some other way.

use autodeploy_shared::aws::DynamoDeployments;
use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use crate::error::CliError;

/// The resources the commands use.
pub struct Stack {
    pub deployments: DynamoDeployments,
    pub deployments_table: String,
    /// The approval entry point (output `ApprovalUrl`); absent on older stacks.
    pub approval_url: Option<String>,
    /// The region requests are signed for.
    pub region: String,
}

const TABLE_VAR: &str = "AUTODEPLOY_DEPLOYMENTS_TABLE";
const URL_VAR: &str = "AUTODEPLOY_APPROVAL_URL";

pub async fn find(config: &SdkConfig, name: Option<&str>) -> Result<Stack, CliError> {
    let region = config
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| CliError::Invalid("no AWS region: set AWS_REGION (or a profile's region)".into()))?;
    let (table, url) = match name {
        Some(name) => outputs(config, name, &region).await?,
        None => match std::env::var(TABLE_VAR) {
            Ok(table) if !table.is_empty() => (table, std::env::var(URL_VAR).ok().filter(|u| !u.is_empty())),
            _ => return Err(CliError::NoStack),
        },
    };
    Ok(Stack {
        deployments: DynamoDeployments::new(aws_sdk_dynamodb::Client::new(config), table.clone()),
        deployments_table: table,
        approval_url: url,
        region,
    })
}

/// (DeploymentsTableName, ApprovalUrl) of stack `name`.
async fn outputs(config: &SdkConfig, name: &str, region: &str) -> Result<(String, Option<String>), CliError> {
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
    Ok((table, output("ApprovalUrl")))
}
