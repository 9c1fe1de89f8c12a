//! Step "Register new revision": clone the service's task definition with the new image.

use serde::{Deserialize, Serialize};

use super::{DeploymentInput, Recorder, ServiceQueue, Step, load};
use crate::DeployError;
use crate::domain::{
    DEPLOYMENT_TAG_KEY, Deployment, DeploymentStatus, IMAGE_TAG_KEY, ImagePlan, ImageRef, RecordPatch,
    fits_ecs_tag_value, plan_image_update,
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

/// How many of a family's newest revisions a retried registration looks
/// through for its own (others' registrations may have come after it).
const RECENT_REVISIONS: i32 = 10;

/// Runs while holding the service (see `ClaimService`); when it closes the
/// record (NOOP, SUPERSEDED) it releases the service itself.
pub struct RegisterRevision<S, E, L, K, N, C> {
    pub store: S,
    pub ecs: E,
    pub locks: L,
    pub callbacks: K,
    pub notifier: N,
    pub clock: C,
}

impl<S, E, L, K, N, C> Step for RegisterRevision<S, E, L, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "register-revision";
    type Input = DeploymentInput;
    type Output = RegisterOutput;

    async fn run(&self, input: DeploymentInput) -> Result<RegisterOutput> {
        let id = &input.deployment_id;
        let d = load(&self.store, id).await?;
        let recorder = Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock };
        let queue = ServiceQueue { store: &self.store, locks: &self.locks, callbacks: &self.callbacks };
        match d.status {
            DeploymentStatus::Pending
            | DeploymentStatus::Queued
            | DeploymentStatus::Held
            | DeploymentStatus::Registering => {}
            // A repeated step after the revision was registered: report what
            // was done, and announce it again (the attempt that wrote it may
            // have died before it could).
            DeploymentStatus::Updating => {
                recorder.announce(&d).await?;
                return Ok(closed(&d));
            }
            // A repeated step after it closed the record itself: that attempt
            // may have died before announcing it or freeing the service.
            DeploymentStatus::Noop | DeploymentStatus::Superseded => {
                recorder.announce(&d).await?;
                queue.release(&d).await?;
                return Ok(closed(&d));
            }
            s if s.is_terminal() => {
                tracing::info!(status = %s, "deployment closed before registering");
                return Ok(closed(&d));
            }
            s => {
                return Err(DeployError::StaleTransition {
                    id: id.clone(),
                    current: s,
                    wanted: DeploymentStatus::Registering,
                });
            }
        }
        // REGISTERING already: an attempt before this one may have registered
        // the revision and died before recording it.
        let retried = d.status == DeploymentStatus::Registering;
        let d = recorder
            .move_to(
                id,
                DeploymentStatus::Registering,
                format!("reading {}/{}", d.cluster, d.service),
                RecordPatch::default(),
            )
            .await?;

        let service = self.ecs.describe_service(&d.cluster, &d.service).await?;
        let current = self.ecs.describe_task_definition(&service.task_definition).await?;
        if let Some(revision) = d.request.as_ref().and_then(|r| r.task_definition.clone()) {
            return self.run_again(&d, &current.arn, &revision, &recorder, &queue).await;
        }
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
                queue.release(&d).await?;
                return Ok(closed(&d));
            }
            ImagePlan::Update { images, running_tag } => {
                let tag = d.tag.as_deref().unwrap_or_default();
                // A person may deploy any version; only pushes move forward.
                if d.request.is_none() && !d.tag_rule.allows_over(tag, running_tag.as_deref()) {
                    let running = running_tag.unwrap_or_default();
                    let d = recorder
                        .move_to(
                            id,
                            DeploymentStatus::Superseded,
                            format!("service runs {running}, which is not lower than {tag}: not moving it backwards"),
                            RecordPatch { previous_task_definition: Some(current.arn.clone()), ..Default::default() },
                        )
                        .await?;
                    queue.release(&d).await?;
                    return Ok(closed(&d));
                }
                images
            }
        };

        let mut tags = vec![(DEPLOYMENT_TAG_KEY.to_owned(), id.to_string())];
        // ECS would refuse the whole registration over a tag value it does not
        // take; the revision is registered without it and the record says so.
        let mut untagged = "";
        match &d.tag {
            Some(tag) if fits_ecs_tag_value(tag) => tags.push((IMAGE_TAG_KEY.to_owned(), tag.clone())),
            Some(_) => {
                untagged = "; the image tag is not kept as a task-definition tag: ECS tag values are at most \
                            256 letters, digits, spaces and _.:/=+-@"
            }
            None => {}
        }
        let earlier = if retried { self.registered_before(&current.family, id).await? } else { None };
        let new_arn = match earlier {
            Some(arn) => {
                tracing::info!(%arn, "the revision an earlier attempt registered is used");
                arn
            }
            None => self.ecs.register_revision(&current.arn, &images, &tags).await?,
        };
        let containers: Vec<&str> = images.keys().map(String::as_str).collect();
        let d = recorder
            .move_to(
                id,
                DeploymentStatus::Updating,
                format!(
                    "registered {} from {} (containers: {}){untagged}",
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
}

impl<S, E, L, K, N, C> RegisterRevision<S, E, L, K, N, C>
where
    S: DeploymentStore,
    E: Ecs,
    L: ServiceLocks,
    K: TaskCallbacks,
    N: Notifier,
    C: Clock,
{
    /// The revision of `family` an earlier attempt registered for deployment
    /// `id` (tagged with it), among the newest few: a retry registers none twice.
    async fn registered_before(&self, family: &str, id: &crate::domain::DeploymentId) -> Result<Option<String>> {
        for arn in self.ecs.recent_revisions(family, RECENT_REVISIONS).await? {
            let td = self.ecs.describe_task_definition(&arn).await?;
            if td.tag(DEPLOYMENT_TAG_KEY) == Some(id.as_str()) {
                return Ok(Some(td.arn));
            }
        }
        Ok(None)
    }

    /// A rollback: the service is pointed at `revision` as it is, once ECS
    /// confirms it is a revision of the service's own family.
    async fn run_again(
        &self,
        d: &Deployment,
        current: &str,
        revision: &str,
        recorder: &Recorder<'_, S, N, C>,
        queue: &ServiceQueue<'_, S, L, K>,
    ) -> Result<RegisterOutput> {
        let id = &d.deployment_id;
        let target = self.ecs.describe_task_definition(revision).await?;
        let family = |arn: &str| short_td(arn).rsplit_once(':').map(|(f, _)| f.to_owned());
        if family(&target.arn) != family(current) {
            return Err(DeployError::InvalidInput(format!(
                "{} is not a revision of {}'s task definition family ({})",
                short_td(&target.arn),
                d.service_key,
                short_td(current)
            )));
        }
        let patch = RecordPatch { previous_task_definition: Some(current.to_owned()), ..Default::default() };
        let d = if target.arn == current {
            let line = format!("{} runs {} already", d.service_key, short_td(current));
            let d = recorder.move_to(id, DeploymentStatus::Noop, line, patch).await?;
            queue.release(&d).await?;
            d
        } else {
            let line = format!("running {} again in place of {}", short_td(&target.arn), short_td(current));
            let patch = RecordPatch { new_task_definition: Some(target.arn.clone()), ..patch };
            recorder.move_to(id, DeploymentStatus::Updating, line, patch).await?
        };
        Ok(closed(&d))
    }
}

fn closed(d: &Deployment) -> RegisterOutput {
    RegisterOutput {
        outcome: if d.status == DeploymentStatus::Updating {
            RegisterOutcome::Registered
        } else {
            RegisterOutcome::Closed
        },
        status: d.status,
        previous_task_definition: d.previous_task_definition.clone(),
        new_task_definition: d.new_task_definition.clone(),
    }
}

/// `arn:...:task-definition/web:8` → `web:8`.
pub(crate) fn short_td(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
