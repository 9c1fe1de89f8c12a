use std::process::ExitCode;

use aws_config::SdkConfig;
use serde_json::json;

use super::deployment_id;
use crate::error::CliError;
use crate::output::Output;
use crate::signed;
use crate::stack::Stack;

/// `autodeploy approve|reject DEPLOYMENT`: through the stack's approval URL,
/// as the caller's IAM identity.
pub async fn decide(
    config: &SdkConfig,
    stack: &Stack,
    out: &Output,
    id: &str,
    decision: &str,
    reason: Option<&str>,
) -> Result<ExitCode, CliError> {
    let id = deployment_id(id)?;
    let url = stack.approval_url.as_deref().ok_or_else(|| {
        CliError::Invalid("the stack names no approval URL (output ApprovalUrl, or AUTODEPLOY_APPROVAL_URL)".into())
    })?;
    let mut body = json!({ "deploymentId": id, "decision": decision });
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    let (status, answer) = signed::post(config, url, &stack.region, &body).await?;
    let message = || answer["message"].as_str().or(answer["Message"].as_str()).unwrap_or("").to_owned();
    match status {
        200 => {
            if out.json() {
                out.document(&answer);
            } else {
                let verb = if decision == "APPROVE" { "approved" } else { "rejected" };
                let now = answer["status"].as_str().unwrap_or("?");
                println!("{id} {verb}: it is {now}");
            }
            Ok(ExitCode::SUCCESS)
        }
        403 => Err(CliError::AccessDenied {
            action: "lambda:InvokeFunctionUrl",
            resource: url.to_owned(),
            message: message(),
        }),
        404 => Err(CliError::NotFound(id.to_string())),
        400 | 405 | 409 => Err(CliError::Refused(message())),
        _ => Err(CliError::Aws(format!("the approval URL answered {status}: {answer}"))),
    }
}
