use std::process::ExitCode;

use autodeploy_shared::domain::ServiceRef;
use autodeploy_shared::ports::DeploymentStore;
use serde_json::json;

use super::denied;
use crate::error::CliError;
use crate::output::Output;
use crate::render;
use crate::stack::Stack;

/// `autodeploy history CLUSTER/SERVICE`: newest first.
pub async fn history(stack: &Stack, out: &Output, service: &str, limit: usize) -> Result<ExitCode, CliError> {
    let key = service_key(service)?;
    let deployments = stack
        .deployments
        .history(&key, limit)
        .await
        .map_err(|e| denied(e, "dynamodb:Query", &format!("{}/index/ByService", stack.deployments_table)))?;
    if deployments.is_empty() {
        // Nothing on record: most often a mistyped name.
        super::known_service(stack, &key).await?;
    }
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
                    "request": d.request,
                })
            })
            .collect();
        out.document(&rows);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render::history(&key, &deployments, &out.style()));
    Ok(ExitCode::SUCCESS)
}

/// `CLUSTER/SERVICE` → the service's key, checked.
pub(super) fn service_key(service: &str) -> Result<String, CliError> {
    let (cluster, name) = service
        .split_once('/')
        .ok_or_else(|| CliError::Invalid(format!("{service:?}: name the service as CLUSTER/SERVICE")))?;
    Ok(ServiceRef::new(cluster, name).map_err(CliError::from)?.key())
}
