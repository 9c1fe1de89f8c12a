//! ECR push → one deployment record and one state machine run per matching
//! target, once ECR has confirmed the push.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;

use super::launcher::{CheckedPush, Launcher};
use super::{Step, StepInput};
use crate::DeployError;
use crate::domain::{
    DecisionOutcome, DecisionSource, DeployTarget, DeploymentId, ImageDigest, ImageRef, Metric, PushDecision,
    RefusalReason, believed_push_time, not_an_image,
};
use crate::error::{Result, clip};
use crate::events::{EcrEvent, parse_ecr_event};
use crate::ports::{Clock, DeployTargets, DeploymentStore, Executions, ImageRegistry, Notifier, PushDecisions};

/// A successful ECR push as its event describes it: well-formed, not yet
/// believed (ECR is asked before anything deploys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub digest: ImageDigest,
    /// Absent for a push by digest only.
    pub tag: Option<String>,
    /// The event's `time`: believed only within what ECR and the clock allow.
    pub claimed_at: Option<DateTime<Utc>>,
    pub manifest_media_type: Option<String>,
    pub artifact_media_type: Option<String>,
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
    /// Which rule refused it (the `Reason` of the `PushesRefused` metric).
    pub code: RefusalReason,
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

/// Checks a push against the stack's configuration and ECR, records what it
/// decided for each matching target, and starts the deployments it may.
pub struct OnImagePush<T, R, S, X, N, C, P> {
    pub targets: T,
    pub images: R,
    pub launcher: Launcher<S, X, N, C, P>,
    /// The stack's own registry (its account and region): the only one a
    /// target deploys from unless it lists others.
    pub registry: String,
}

impl<T, R, S, X, N, C, P> Step for OnImagePush<T, R, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    const NAME: &'static str = "on-image-push";
    type Input = EcrEvent;
    type Output = PushReport;

    async fn run(&self, event: EcrEvent) -> Result<PushReport> {
        let push = match event {
            EcrEvent::Ignored(what) => {
                tracing::info!(%what, "not a successful push: ignored");
                return Ok(PushReport { ignored: Some(what), ..PushReport::default() });
            }
            EcrEvent::Push(push) => push,
        };
        let mut report = PushReport::default();
        let Some(tag) = push.tag.clone() else {
            tracing::info!(repository = %push.repository, digest = %push.digest, "push without a tag: no tag rule can match");
            return Ok(report);
        };
        let launcher = &self.launcher;
        let now = launcher.clock.now();
        let registry = push.registry();
        let event_decision = |target: &DeployTarget, outcome, reason: String| {
            PushDecision::new(
                (&push.repository, &push.digest, Some(&tag)),
                Some(&target.target_id),
                outcome,
                reason,
                DecisionSource::Event,
                now,
            )
        };

        // Which targets this push is for, and which of them may take it.
        let mut allowed = Vec::new();
        for target in self.targets.for_repository(&push.repository).await? {
            if !target.enabled || !target.tag_rule.matches(&tag) {
                report.not_matching.push(target.target_id.clone());
            } else if !target.allows_registry(&registry, &self.registry) {
                let reason = format!(
                    "pushed to {}, which is not this stack's registry ({}) nor one target {} lists in `registries`",
                    clip(&registry),
                    self.registry,
                    target.target_id
                );
                let decision = event_decision(&target, DecisionOutcome::Refused, reason);
                self.refuse(&mut report, RefusalReason::ForeignRegistry, decision).await?;
            } else {
                allowed.push(target);
            }
        }
        if allowed.is_empty() {
            if report.refused.is_empty() {
                tracing::info!(repository = %push.repository, tag, "no deploy target matches this push");
            }
            return Ok(report);
        }

        // Nothing in the event is believed until ECR confirms it.
        let checked = match self.check_with_ecr(&push, &tag, &registry, now).await? {
            Ok(checked) => checked,
            Err(stopped) => {
                let (outcome, code, reason) = match stopped {
                    Stopped::Refused(code, reason) => (DecisionOutcome::Refused, Some(code), reason),
                    Stopped::Ignored(reason) => {
                        report.ignored = Some(reason.clone());
                        (DecisionOutcome::Ignored, None, reason)
                    }
                };
                for target in &allowed {
                    let decision = event_decision(target, outcome, reason.clone());
                    match code {
                        Some(code) => self.refuse(&mut report, code, decision).await?,
                        None => launcher.decide(&decision).await?,
                    }
                }
                return Ok(report);
            }
        };

        let mut first_error: Option<DeployError> = None;
        for target in allowed {
            let span = tracing::info_span!(
                "deployment",
                target = %target.target_id,
                deployment = Empty,
                cluster = %target.cluster,
                service = %target.service
            );
            match launcher.launch(&checked, &target).instrument(span.clone()).await {
                Ok((id, true)) => report.started.push(id),
                Ok((id, false)) => report.duplicates.push(id),
                Err(e) => {
                    // Keep going: one broken target must not stop the others. The
                    // error makes Lambda retry the asynchronous invocation (then the
                    // on-failure queue), and the retry is idempotent.
                    span.in_scope(|| tracing::error!(error = %e, "could not start deployment"));
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

/// Why ECR's answer stops a push.
enum Stopped {
    /// Refused for the matching targets, by this rule, for this reason.
    Refused(RefusalReason, String),
    /// Not an image push at all: ignored.
    Ignored(String),
}

impl<T, R, S, X, N, C, P> OnImagePush<T, R, S, X, N, C, P>
where
    T: DeployTargets,
    R: ImageRegistry,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    async fn refuse(&self, report: &mut PushReport, code: RefusalReason, decision: PushDecision) -> Result<()> {
        tracing::warn!(target = decision.target_id.as_deref().unwrap_or("-"), %code, reason = %decision.reason, "push refused");
        self.launcher.decide(&decision).await?;
        // Counted each time the event comes (a redelivered push is refused again).
        crate::emf::emit(&[Metric::push_refused(code)]);
        report.refused.push(Refusal {
            target_id: decision.target_id.unwrap_or_default(),
            code,
            reason: decision.reason,
        });
        Ok(())
    }

    /// The push as ECR knows it: the image exists, the tag still names it,
    /// it is a container image, and when it was pushed.
    async fn check_with_ecr(
        &self,
        push: &ImagePush,
        tag: &str,
        registry: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<CheckedPush, Stopped>> {
        let Some(image) =
            self.images.describe_image(&push.account, &push.region, &push.repository, &push.digest).await?
        else {
            let why = format!(
                "ECR has no image {} in {registry}/{}: the event does not describe an image that exists (it may have been deleted since)",
                push.digest, push.repository
            );
            return Ok(Err(Stopped::Refused(RefusalReason::ImageNotInEcr, why)));
        };
        // ECR's media types where it reports them, the event's where it does not.
        let manifest = image.manifest_media_type.as_deref().or(push.manifest_media_type.as_deref());
        let artifact = image.artifact_media_type.as_deref().or(push.artifact_media_type.as_deref());
        if let Some(why) = not_an_image(manifest, artifact) {
            return Ok(Err(Stopped::Ignored(format!("push to {}: {why}", push.repository))));
        }
        if !image.has_tag(tag) {
            let why = format!(
                "ECR's {}:{} no longer names {}: the tag has moved on, and its newer push deploys instead",
                push.repository,
                clip(tag),
                push.digest
            );
            return Ok(Err(Stopped::Refused(RefusalReason::TagMoved, why)));
        }
        let pushed_at = believed_push_time(push.claimed_at, image.pushed_at, now);
        let note = match push.claimed_at {
            Some(claimed) if claimed != pushed_at => Some(format!(
                "the event's time {} is outside what ECR and the clock allow: ordered as pushed at {}",
                claimed.to_rfc3339(),
                pushed_at.to_rfc3339()
            )),
            _ => None,
        };
        Ok(Ok(CheckedPush {
            repository: push.repository.clone(),
            registry: registry.to_owned(),
            digest: push.digest.clone(),
            tag: Some(tag.to_owned()),
            pushed_at,
            image_pushed_at: image.pushed_at,
            source: DecisionSource::Event,
            note,
        }))
    }
}
