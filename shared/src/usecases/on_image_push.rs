//! ECR push → one deployment record and one state machine run per matching target.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::Recorder;
use crate::DeployError;
use crate::domain::{Deployment, DeploymentStatus, ImageDigest, ImageRef, NewDeployment};
use crate::error::Result;
use crate::ports::{Clock, CreateOutcome, DeployTargets, DeploymentStore, Executions, Notifier, StartOutcome};

/// A successful ECR push, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub digest: ImageDigest,
    /// Absent for a push by digest only.
    pub tag: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
}

impl ImagePush {
    pub fn registry(&self) -> String {
        ImageRef::ecr_registry(&self.account, &self.region)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    /// Deployments whose run this push started.
    pub started: Vec<String>,
    /// Deployments that existed already: a duplicate delivery, nothing started.
    pub duplicates: Vec<String>,
    /// Targets of the repository whose tag rule did not accept the tag.
    pub not_matching: Vec<String>,
}

/// Creates a record per matching target and starts its run.
///
/// Safe to repeat: ids derive from (service, digest), the record is created at
/// most once, and a record still PENDING (a run that may not have started,
/// e.g. after a crash between the two writes) gets its run started again under
/// the same execution name, which Step Functions starts at most once.
pub async fn on_image_push(
    push: &ImagePush,
    coalesce_seconds: i64,
    targets: &impl DeployTargets,
    store: &impl DeploymentStore,
    executions: &impl Executions,
    notifier: &impl Notifier,
    clock: &impl Clock,
) -> Result<PushReport> {
    let mut report = PushReport::default();
    let Some(tag) = push.tag.as_deref() else {
        tracing::info!(repository = %push.repository, digest = %push.digest, "push without a tag: no tag rule can match");
        return Ok(report);
    };
    let registry = push.registry();
    let recorder = Recorder { store, notifier, clock };
    let mut first_error: Option<DeployError> = None;

    for target in targets.for_repository(&push.repository).await? {
        if !target.enabled || !target.tag_rule.matches(tag) {
            report.not_matching.push(target.target_id.clone());
            continue;
        }
        let result = async {
            let service = target.service_ref()?;
            let new = Deployment::new(
                NewDeployment {
                    service: &service,
                    repository: &push.repository,
                    registry: &registry,
                    digest: &push.digest,
                    tag: Some(tag),
                    target_id: &target.target_id,
                    tag_rule: &target.tag_rule,
                    containers: &target.containers,
                    pushed_at: push.pushed_at,
                },
                clock.now(),
            );
            let record = match store.create(&new).await? {
                CreateOutcome::Created => {
                    recorder.announce(&new).await?;
                    new
                }
                CreateOutcome::Exists(existing) if existing.status != DeploymentStatus::Pending => {
                    tracing::info!(deployment = %existing.deployment_id, status = %existing.status, "duplicate push: deployment exists");
                    return Ok::<_, DeployError>((existing.deployment_id.to_string(), false));
                }
                CreateOutcome::Exists(existing) => *existing,
            };
            let name = record.deployment_id.execution_name(&service);
            // The input comes from the stored record, so a repeated start is
            // byte-identical and Step Functions treats it as the same run.
            let input = json!({
                "deploymentId": record.deployment_id,
                "cluster": record.cluster,
                "service": record.service,
                "image": record.image,
                "tag": record.tag,
                "coalesceSeconds": coalesce_seconds,
            });
            let started = match executions.start(&name, &input).await? {
                StartOutcome::Started { execution_arn } => {
                    tracing::info!(deployment = %record.deployment_id, %execution_arn, "run started");
                    true
                }
                StartOutcome::AlreadyStarted => false,
            };
            Ok((record.deployment_id.to_string(), started))
        }
        .await;
        match result {
            Ok((id, true)) => report.started.push(id),
            Ok((id, false)) => report.duplicates.push(id),
            Err(e) => {
                // Keep going: one broken target must not stop the others. The
                // error makes Lambda retry the asynchronous invocation (then the
                // dead-letter queue), and the retry is idempotent.
                tracing::error!(target = %target.target_id, error = %e, "could not start deployment");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}
