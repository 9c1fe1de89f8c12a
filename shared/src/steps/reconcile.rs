//! The reconciler: ECR's events are best effort, so on a schedule it reads
//! what each target's repository holds and deploys the newest matching image
//! whose push was never decided, through the same path and the same
//! deployment id as its event, so a late event starts nothing new.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;

use super::launcher::{CheckedPush, Launcher};
use super::{Step, StepInput};
use crate::DeployError;
use crate::domain::{
    DecisionOutcome, DecisionSource, DeployTarget, DeploymentId, DeploymentStatus, ImageRef, Metric, RegistryImage,
    newest_matching,
};
use crate::error::Result;
use crate::ports::{Clock, DeployTargets, DeploymentStore, Executions, ImageRegistry, Notifier, PushDecisions};

/// The scheduled event that wakes the reconciler. Nothing in it is used (it
/// only says "now"), so nothing in it needs believing; it must be an object.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileInput;

impl StepInput for ReconcileInput {
    fn parse(payload: Value) -> Result<Self> {
        crate::events::from_object::<serde_json::Map<String, Value>>(payload, "a scheduled event")?;
        Ok(Self)
    }

    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Deployments the reconciler started: pushes whose event never came.
    pub started: Vec<DeploymentId>,
    /// Targets whose newest matching image is deployed, in flight or decided.
    pub up_to_date: Vec<String>,
    /// Targets with no image the rule accepts.
    pub no_image: Vec<String>,
    /// Targets that are disabled or opted out of reconciling.
    pub skipped: Vec<String>,
}

pub struct Reconcile<T, R, S, X, N, C, P> {
    pub targets: T,
    pub images: R,
    pub launcher: Launcher<S, X, N, C, P>,
    /// The stack's own registry: the reconciler reads only this one.
    pub registry: String,
}

impl<T, R, S, X, N, C, P> Step for Reconcile<T, R, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    const NAME: &'static str = "reconcile";
    type Input = ReconcileInput;
    type Output = ReconcileReport;

    async fn run(&self, _: ReconcileInput) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        // Each repository is read once; one that cannot be read (access denied,
        // throttled) skips its targets this pass, not everyone's.
        let mut repositories: BTreeMap<String, Option<Vec<RegistryImage>>> = BTreeMap::new();
        let mut first_error: Option<DeployError> = None;
        for target in self.targets.all().await? {
            if !target.enabled || !target.reconcile {
                report.skipped.push(target.target_id.clone());
                continue;
            }
            if !repositories.contains_key(&target.repository) {
                let images = match self.images.tagged_images(&target.repository).await {
                    Ok(images) => Some(images),
                    Err(e) => {
                        tracing::error!(repository = %target.repository, error = %e, "could not read the repository");
                        first_error.get_or_insert(e);
                        None
                    }
                };
                repositories.insert(target.repository.clone(), images);
            }
            let Some(Some(images)) = repositories.get(&target.repository) else { continue };
            let span = tracing::info_span!(
                "reconcile",
                target = %target.target_id,
                deployment = Empty,
                cluster = %target.cluster,
                service = %target.service
            );
            if let Err(e) = self.reconcile(&target, images, &mut report).instrument(span.clone()).await {
                // One broken target must not stop the others; the next pass retries it.
                span.in_scope(|| tracing::error!(error = %e, "could not reconcile the target"));
                first_error.get_or_insert(e);
            }
        }
        // Only the runs this pass started (a retried pass finds them started).
        if !report.started.is_empty() {
            crate::emf::emit(&[Metric::pushes_reconciled(report.started.len())]);
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

impl<T, R, S, X, N, C, P> Reconcile<T, R, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    async fn reconcile(
        &self,
        target: &DeployTarget,
        images: &[RegistryImage],
        report: &mut ReconcileReport,
    ) -> Result<()> {
        let launcher = &self.launcher;
        let now = launcher.clock.now();
        let Some((image, tag)) = newest_matching(images, &target.tag_rule) else {
            tracing::info!(repository = %target.repository, "no image in ECR has a tag the rule accepts");
            report.no_image.push(target.target_id.clone());
            return Ok(());
        };
        let push = CheckedPush {
            repository: target.repository.clone(),
            registry: self.registry.clone(),
            digest: image.digest.clone(),
            tag: Some(tag.to_owned()),
            // No event: ECR's own time is the best witness there is.
            pushed_at: image.pushed_at.map_or(now, |t| t.min(now)),
            image_pushed_at: image.pushed_at,
            source: DecisionSource::Reconciler,
            note: Some("found in ECR by the reconciler: its push event never arrived".into()),
        };
        let service = target.service_ref()?;
        let id = DeploymentId::derive(&service, &image.digest, Some(tag));
        let decided = match launcher.store.get(&id).await? {
            // PENDING may be a run that never started: the launch starts it.
            Some(existing) if existing.status == DeploymentStatus::Pending => None,
            Some(existing) => Some((existing.deployment_id, format!("is {id}, {}", existing.status))),
            None => self.decided_otherwise(&service.key(), image).await?,
        };
        match decided {
            Some((by, why)) => {
                let why = format!("newest matching image {}:{tag} ({}) {why}", target.repository, image.digest);
                let decision = push.decision(target, DecisionOutcome::NothingNew, why, now).with_deployment(&by);
                launcher.decide(&decision).await?;
                report.up_to_date.push(target.target_id.clone());
            }
            None => {
                tracing::info!(image = %ImageRef::pinned(&self.registry, &target.repository, &image.digest), tag, "newest matching image not deployed yet: launching it");
                match launcher.launch(&push, target).await? {
                    (id, true) => report.started.push(id),
                    // PENDING with its run under way (still settling).
                    (_, false) => report.up_to_date.push(target.target_id.clone()),
                }
            }
        }
        Ok(())
    }

    /// Whether the service's history already settles `image` although no
    /// deployment has its id: the same build was deployed (or refused, or
    /// rolled back) under another tag or by an earlier version of this stack,
    /// or the service deployed something after the image was pushed, so the
    /// image is not a push whose event was lost. Records older than the
    /// table's retention are gone, and then the image deploys (a service that
    /// runs it already ends NOOP).
    async fn decided_otherwise(
        &self,
        service_key: &str,
        image: &RegistryImage,
    ) -> Result<Option<(DeploymentId, String)>> {
        let history = self.launcher.store.history(service_key, 100).await?;
        if let Some(same) = history.iter().find(|d| d.digest == image.digest) {
            let tag = same.tag.as_deref().unwrap_or("no tag");
            return Ok(Some((
                same.deployment_id.clone(),
                format!("was deployed as {tag}: {}, {}", same.deployment_id, same.status),
            )));
        }
        let latest = history.iter().max_by_key(|d| d.created_at);
        if let (Some(latest), Some(pushed)) = (latest, image.pushed_at)
            && pushed < latest.created_at
        {
            let why = format!(
                "was pushed before {} ({}) was deployed to the service: not a push whose event was lost",
                latest.deployment_id,
                latest.tag.as_deref().unwrap_or("no tag")
            );
            return Ok(Some((latest.deployment_id.clone(), why)));
        }
        Ok(None)
    }
}
