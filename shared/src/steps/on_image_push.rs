//! ECR push → one deployment record and one state machine run per matching target.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::Instrument;
use tracing::field::{Empty, display};

use super::{Recorder, Step, StepInput};
use crate::DeployError;
use crate::domain::{DeployTarget, Deployment, DeploymentId, DeploymentStatus, ImageDigest, ImageRef, NewDeployment};
use crate::error::{Result, clip};
use crate::events::{EcrEvent, parse_ecr_event};
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
    pub started: Vec<DeploymentId>,
    /// Deployments that existed already: a duplicate delivery, nothing started.
    pub duplicates: Vec<DeploymentId>,
    /// Targets of the repository whose tag rule did not accept the tag.
    pub not_matching: Vec<String>,
    /// Why the whole event was ignored (not a successful push of an image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// Targets that matched but may not deploy this push, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
}

/// A matching target that did not deploy a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub target_id: String,
    pub reason: String,
}

impl StepInput for EcrEvent {
    fn parse(payload: Value) -> Result<Self> {
        parse_ecr_event(payload)
    }

    /// A push names an image, not a deployment: each deployment it creates
    /// gets a span of its own.
    fn deployment_id(&self) -> Option<&DeploymentId> {
        None
    }
}

/// Creates a record per matching target and starts its run.
///
/// Safe to repeat: ids derive from (service, digest), the record is created at
/// most once, and a record still PENDING (a run that may not have started,
/// e.g. after a crash between the two writes) gets its run started again under
/// the same execution name, which Step Functions starts at most once.
pub struct OnImagePush<T, S, X, N, C> {
    pub targets: T,
    pub store: S,
    pub executions: X,
    pub notifier: N,
    pub clock: C,
    /// Seconds a run waits for the rest of a burst (part of the run's input).
    pub coalesce_seconds: i64,
    /// The stack's own registry (its account and region): the only one a
    /// target deploys from unless it lists others.
    pub registry: String,
}

impl<T, S, X, N, C> Step for OnImagePush<T, S, X, N, C>
where
    T: DeployTargets,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
{
    const NAME: &'static str = "on-image-push";
    type Input = EcrEvent;
    type Output = PushReport;

    async fn run(&self, event: EcrEvent) -> Result<PushReport> {
        let push = match event {
            EcrEvent::Ignored(what) => {
                tracing::info!(%what, "not a successful push of an image: ignored");
                return Ok(PushReport { ignored: Some(what), ..PushReport::default() });
            }
            EcrEvent::Push(push) => push,
        };
        let mut report = PushReport::default();
        let Some(tag) = push.tag.as_deref() else {
            tracing::info!(repository = %push.repository, digest = %push.digest, "push without a tag: no tag rule can match");
            return Ok(report);
        };
        let registry = push.registry();
        let mut first_error: Option<DeployError> = None;
        for target in self.targets.for_repository(&push.repository).await? {
            if !target.enabled || !target.tag_rule.matches(tag) {
                report.not_matching.push(target.target_id.clone());
                continue;
            }
            if !target.allows_registry(&registry, &self.registry) {
                let reason = format!(
                    "pushed to {}, which is not this stack's registry ({}) nor one target {} lists in `registries`",
                    clip(&registry),
                    self.registry,
                    target.target_id
                );
                tracing::warn!(target = %target.target_id, %reason, "push refused");
                report.refused.push(Refusal { target_id: target.target_id.clone(), reason });
                continue;
            }
            let span = tracing::info_span!(
                "deployment",
                target = %target.target_id,
                deployment = Empty,
                cluster = %target.cluster,
                service = %target.service
            );
            match self.start(&push, &registry, tag, &target).instrument(span.clone()).await {
                Ok((id, true)) => report.started.push(id),
                Ok((id, false)) => report.duplicates.push(id),
                Err(e) => {
                    // Keep going: one broken target must not stop the others. The
                    // error makes Lambda retry the asynchronous invocation (then the
                    // dead-letter queue), and the retry is idempotent.
                    span.in_scope(|| tracing::error!(error = %e, "could not start deployment"));
                    first_error.get_or_insert(e);
                }
            }
        }
        if report.started.is_empty()
            && report.duplicates.is_empty()
            && report.refused.is_empty()
            && first_error.is_none()
        {
            tracing::info!(repository = %push.repository, tag, "no deploy target matches this push");
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

impl<T, S, X, N, C> OnImagePush<T, S, X, N, C>
where
    T: DeployTargets,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
{
    /// The record of one target's deployment and its run; `true` when this
    /// call started the run.
    /// `registry` is the push's, which the caller checked the target allows.
    async fn start(
        &self,
        push: &ImagePush,
        registry: &str,
        tag: &str,
        target: &DeployTarget,
    ) -> Result<(DeploymentId, bool)> {
        let service = target.service_ref()?;
        let new = Deployment::new(
            NewDeployment {
                service: &service,
                repository: &push.repository,
                registry,
                digest: &push.digest,
                tag: Some(tag),
                target_id: &target.target_id,
                tag_rule: &target.tag_rule,
                containers: &target.containers,
                pushed_at: push.pushed_at,
            },
            self.clock.now(),
        );
        tracing::Span::current().record("deployment", display(&new.deployment_id));
        let record = match self.store.create(&new).await? {
            CreateOutcome::Created => {
                Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }.announce(&new).await?;
                new
            }
            CreateOutcome::Exists(existing) if existing.status != DeploymentStatus::Pending => {
                tracing::info!(status = %existing.status, "duplicate push: deployment exists");
                return Ok((existing.deployment_id, false));
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
            "coalesceSeconds": self.coalesce_seconds,
        });
        let started = match self.executions.start(&name, &input).await? {
            StartOutcome::Started { execution_arn } => {
                tracing::info!(%execution_arn, "run started");
                true
            }
            StartOutcome::AlreadyStarted => false,
        };
        Ok((record.deployment_id, started))
    }
}
