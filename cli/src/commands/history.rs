use std::process::ExitCode;

use autodeploy_shared::domain::ServiceRef;
use autodeploy_shared::ports::DeploymentStore;
use serde_json::json;

use super::{denied, took, what, when};
use crate::error::CliError;
use crate::output::Output;
use crate::stack::Stack;

/// `autodeploy history CLUSTER/SERVICE`: newest first.
pub async fn history(stack: &Stack, out: &Output, service: &str, limit: usize) -> Result<ExitCode, CliError> {
    let (cluster, name) = service
        .split_once('/')
        .ok_or_else(|| CliError::Invalid(format!("{service:?}: name the service as CLUSTER/SERVICE")))?;
    let key = ServiceRef::new(cluster, name).map_err(CliError::from)?.key();
    let deployments = stack
        .deployments
        .history(&key, limit)
        .await
        .map_err(|e| denied(e, "dynamodb:Query", &format!("{}/index/ByService", stack.deployments_table)))?;
    if out.json() {
        let rows: Vec<_> = deployments
            .iter()
            .map(|d| {
                json!({
                    "deploymentId": d.deployment_id,
                    "status": d.status,
                    "repository": d.repository,
                    "tag": d.tag,
                    "digest": d.digest.to_string(),
                    "foundBy": d.found_by,
                    "createdAt": d.created_at,
                    "updatedAt": d.updated_at,
                    "failureReason": d.failure_reason,
                    "decidedBy": d.approval.as_ref().and_then(|a| a.decided_by.clone()),
                })
            })
            .collect();
        out.document(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    if deployments.is_empty() {
        println!("no deployments of {key}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<26}  {:<17}  {:<19}  {:>9}  IMAGE", "DEPLOYMENT", "STATUS", "STARTED", "TOOK");
    for d in &deployments {
        let status = out.status(d.status);
        // Padding counts the colour codes too: pad the plain text, then colour.
        let pad = " ".repeat(17usize.saturating_sub(d.status.as_str().len()));
        println!(
            "{:<26}  {status}{pad}  {:<19}  {:>9}  {}",
            d.deployment_id.as_str(),
            when(&d.created_at),
            took(&d.created_at, &d.updated_at),
            what(d)
        );
    }
    Ok(ExitCode::SUCCESS)
}
