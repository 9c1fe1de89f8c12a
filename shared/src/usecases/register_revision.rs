//! Step "Register new revision": clone the service's task definition with the new image.

use serde::{Deserialize, Serialize};

use super::{Recorder, load};
use crate::DeployError;
use crate::domain::{
    DEPLOYMENT_TAG_KEY, DeploymentId, DeploymentStatus, IMAGE_TAG_KEY, ImagePlan, ImageRef, RecordPatch,
    plan_image_update,
};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Ecs, Notifier, ServiceLocks, TaskCallbacks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegisterOutcome {
    /// A new revision is registered; go on and update the service.
    Registered,
    /// Nothing to do; the record is terminal (NOOP, SUPERSEDED, ...).
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterOutput {
    pub outcome: RegisterOutcome,
    pub status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_task_definition: Option<String>,
}

/// Runs while holding the service (see `claim_service`); when it closes the
/// record (NOOP, SUPERSEDED) it releases the service itself.
#[allow(clippy::too_many_arguments)]
pub async fn register_revision(
    id: &DeploymentId,
    store: &impl DeploymentStore,
    ecs: &impl Ecs,
    locks: &impl ServiceLocks,
    callbacks: &impl TaskCallbacks,
    notifier: &impl Notifier,
    clock: &impl Clock,
) -> Result<RegisterOutput> {
    let d = load(store, id).await?;
    let closed = |d: &crate::domain::Deployment| RegisterOutput {
        outcome: if d.status == DeploymentStatus::Updating {
            RegisterOutcome::Registered
        } else {
            RegisterOutcome::Closed
        },
        status: d.status,
        previous_task_definition: d.previous_task_definition.clone(),
        new_task_definition: d.new_task_definition.clone(),
    };
    match d.status {
        DeploymentStatus::Pending | DeploymentStatus::Queued | DeploymentStatus::Registering => {}
        // A repeated step after the revision was registered: report what was done.
        DeploymentStatus::Updating => return Ok(closed(&d)),
        s if s.is_terminal() => {
            tracing::info!(deployment = %id, status = %s, "deployment closed before registering");
            return Ok(closed(&d));
        }
        s => {
            return Err(DeployError::StaleTransition {
                id: id.to_string(),
                current: s,
                wanted: DeploymentStatus::Registering,
            });
        }
    }
    let recorder = Recorder { store, notifier, clock };
    let d = recorder
        .move_to(
            id,
            DeploymentStatus::Registering,
            format!("reading {}/{}", d.cluster, d.service),
            RecordPatch::default(),
        )
        .await?;

    let service = ecs.describe_service(&d.cluster, &d.service).await?;
    let current = ecs.describe_task_definition(&service.task_definition).await?;
    let image = ImageRef::parse(&d.image)
        .and_then(|r| r.registry)
        .ok_or_else(|| DeployError::InvalidInput(format!("deployment image {:?} has no registry", d.image)))?;
    let plan = plan_image_update(&current, &image, &d.repository, &d.image, &d.containers)?;

    let images = match plan {
        ImagePlan::AlreadyRunning => {
            let d = recorder
                .move_to(
                    id,
                    DeploymentStatus::Noop,
                    format!("{} already runs {}", current.arn, d.image),
                    RecordPatch { previous_task_definition: Some(current.arn.clone()), ..Default::default() },
                )
                .await?;
            super::release_service(&d, store, locks, callbacks).await?;
            return Ok(closed(&d));
        }
        ImagePlan::Update { images, running_tag } => {
            let tag = d.tag.as_deref().unwrap_or_default();
            if !d.tag_rule.allows_over(tag, running_tag.as_deref()) {
                let running = running_tag.unwrap_or_default();
                let d = recorder
                    .move_to(
                        id,
                        DeploymentStatus::Superseded,
                        format!("service runs {running}, which is not lower than {tag}: not moving it backwards"),
                        RecordPatch { previous_task_definition: Some(current.arn.clone()), ..Default::default() },
                    )
                    .await?;
                super::release_service(&d, store, locks, callbacks).await?;
                return Ok(closed(&d));
            }
            images
        }
    };

    let mut tags = vec![(DEPLOYMENT_TAG_KEY.to_owned(), id.to_string())];
    if let Some(tag) = &d.tag {
        tags.push((IMAGE_TAG_KEY.to_owned(), tag.clone()));
    }
    let new_arn = ecs.register_revision(&current.arn, &images, &tags).await?;
    let containers: Vec<&str> = images.keys().map(String::as_str).collect();
    let d = recorder
        .move_to(
            id,
            DeploymentStatus::Updating,
            format!(
                "registered {} from {} (containers: {})",
                short_td(&new_arn),
                short_td(&current.arn),
                containers.join(", ")
            ),
            RecordPatch {
                previous_task_definition: Some(current.arn.clone()),
                new_task_definition: Some(new_arn),
                ..Default::default()
            },
        )
        .await?;
    Ok(closed(&d))
}

/// `arn:...:task-definition/web:8` → `web:8`.
pub(crate) fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
