//! The one path from a checked push to a running deployment, shared by the
//! push event (`on-image-push`) and the reconciler, so a push found in ECR
//! after its event was lost is the same deployment the event would have made.

use chrono::{DateTime, Utc};
use serde_json::json;
use tracing::field::display;

use super::Recorder;
use crate::domain::{
    DecisionOutcome, DecisionSource, DeployTarget, Deployment, DeploymentId, DeploymentStatus, ImageDigest,
    NewDeployment, OperatorRequest, PushDecision, ServiceRef,
};
use crate::error::Result;
use crate::ports::{Clock, CreateOutcome, DeploymentStore, Executions, Notifier, PushDecisions, StartOutcome};

/// A push the stack has checked against ECR and its own configuration.
#[derive(Debug, Clone)]
pub struct CheckedPush {
    pub repository: String,
    /// The registry host the image is pulled from (the target allows it).
    pub registry: String,
    pub digest: ImageDigest,
    /// Absent for a manual deploy by digest.
    pub tag: Option<String>,
    /// When the push happened as the stack believes it.
    pub pushed_at: DateTime<Utc>,
    /// ECR's `imagePushedAt` of the image.
    pub image_pushed_at: Option<DateTime<Utc>>,
    pub source: DecisionSource,
    /// What the first timeline entry adds about how the push was checked.
    pub note: Option<String>,
}

impl CheckedPush {
    /// The decision about this push for `target`, as of `now`.
    pub fn decision(
        &self,
        target: &DeployTarget,
        outcome: DecisionOutcome,
        reason: impl Into<String>,
        now: DateTime<Utc>,
    ) -> PushDecision {
        PushDecision::new(
            (&self.repository, &self.digest, self.tag.as_deref()),
            Some(&target.target_id),
            outcome,
            reason,
            self.source,
            now,
        )
    }
}

/// The ports a launch writes to, shared by the steps that launch
/// (`on-image-push` and `reconcile`).
pub struct Launcher<S, X, N, C, P> {
    pub store: S,
    pub executions: X,
    pub notifier: N,
    pub clock: C,
    pub decisions: P,
    /// Seconds a run waits for the rest of a burst (part of the run's input).
    pub coalesce_seconds: i64,
}

impl<S, X, N, C, P> Launcher<S, X, N, C, P>
where
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
    P: PushDecisions,
{
    /// The record of `target`'s deployment of `push` and its run, with the
    /// decision recorded; `true` when this call started the run.
    ///
    /// Safe to repeat: the id derives from (service, digest, tag), the record
    /// is created at most once, and a record still PENDING (a run that may not
    /// have started, e.g. after a crash between the two writes) gets its run
    /// started again under the same execution name, which Step Functions
    /// starts at most once.
    pub async fn launch(&self, push: &CheckedPush, target: &DeployTarget) -> Result<(DeploymentId, bool)> {
        let service = target.service_ref()?;
        let new = Deployment::new(new_deployment(push, target, &service), self.clock.now());
        self.start(push, target, &service, new).await
    }

    /// As [`Self::launch`], for a deployment a person asked for: its id
    /// derives from the request's token, so a retried request starts nothing new.
    pub async fn launch_requested(
        &self,
        push: &CheckedPush,
        target: &DeployTarget,
        request: OperatorRequest,
    ) -> Result<(DeploymentId, bool)> {
        let service = target.service_ref()?;
        let new = Deployment::requested(new_deployment(push, target, &service), request, self.clock.now());
        self.start(push, target, &service, new).await
    }

    async fn start(
        &self,
        push: &CheckedPush,
        target: &DeployTarget,
        service: &ServiceRef,
        new: Deployment,
    ) -> Result<(DeploymentId, bool)> {
        tracing::Span::current().record("deployment", display(&new.deployment_id));
        let (record, created) = match self.store.create(&new).await? {
            CreateOutcome::Created => {
                Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }.announce(&new).await?;
                (new, true)
            }
            CreateOutcome::Exists(existing) if existing.status != DeploymentStatus::Pending => {
                tracing::info!(status = %existing.status, "duplicate push: deployment exists");
                let why = format!("{} exists already ({})", existing.deployment_id, existing.status);
                let decision = push
                    .decision(target, DecisionOutcome::Duplicate, why, self.clock.now())
                    .with_deployment(&existing.deployment_id);
                self.decisions.record(&decision).await?;
                return Ok((existing.deployment_id, false));
            }
            CreateOutcome::Exists(existing) => (*existing, false),
        };
        let started = if created { self.start_run(&record, service).await? } else { self.resume(&record).await? };
        // A PENDING record whose run was running already is a duplicate too.
        let decision = if started {
            let why = format!("deploying {} to {}", record.image, record.service_key);
            push.decision(target, DecisionOutcome::Started, why, record.created_at)
        } else {
            let why = format!("{} exists already ({}), its run is under way", record.deployment_id, record.status);
            push.decision(target, DecisionOutcome::Duplicate, why, self.clock.now())
        };
        self.decisions.record(&decision.with_deployment(&record.deployment_id)).await?;
        Ok((record.deployment_id, started))
    }

    /// Starts the run of `record`, still PENDING, in case the call that wrote
    /// it died before StartExecution; `true` when this call started it. The
    /// record is then announced again: that call may have died before
    /// announcing it too. (Started already, nothing is announced: the call
    /// that started it had announced it first.)
    async fn resume(&self, record: &Deployment) -> Result<bool> {
        let service = record.service_ref()?;
        // The call that wrote the record may have started its run already:
        // StartExecution would answer that run as if it were new.
        if self.executions.exists(&record.deployment_id.execution_name(&service)).await? {
            return Ok(false);
        }
        let started = self.start_run(record, &service).await?;
        if started {
            Recorder { store: &self.store, notifier: &self.notifier, clock: &self.clock }.announce(record).await?;
        }
        Ok(started)
    }

    /// StartExecution for `record`, named after it; `true` when this call started it.
    async fn start_run(&self, record: &Deployment, service: &ServiceRef) -> Result<bool> {
        let name = record.deployment_id.execution_name(service);
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
        Ok(match self.executions.start(&name, &input).await? {
            StartOutcome::Started { execution_arn } => {
                tracing::info!(%execution_arn, "run started");
                true
            }
            StartOutcome::AlreadyStarted => false,
        })
    }

    /// [`Self::resume`] for a record whose push is not at hand (a person's
    /// request sent again): the decision that this call started its run is
    /// the record's own, as the first call would have recorded it.
    pub async fn resume_recorded(&self, record: &Deployment) -> Result<bool> {
        let started = self.resume(record).await?;
        if started {
            let why = format!("deploying {} to {}", record.image, record.service_key);
            let push = (record.repository.as_str(), &record.digest, record.tag.as_deref());
            let decision = PushDecision::new(
                push,
                Some(&record.target_id),
                DecisionOutcome::Started,
                why,
                record.found_by,
                record.created_at,
            );
            self.decisions.record(&decision.with_deployment(&record.deployment_id)).await?;
        }
        Ok(started)
    }

    /// Records a decision that starts nothing.
    pub async fn decide(&self, decision: &PushDecision) -> Result<()> {
        tracing::info!(outcome = %decision.outcome, target = decision.target_id.as_deref().unwrap_or("-"), reason = %decision.reason, "push decision");
        self.decisions.record(decision).await
    }
}

/// What `push` asks of `target`, before it becomes a record.
fn new_deployment<'a>(push: &'a CheckedPush, target: &'a DeployTarget, service: &'a ServiceRef) -> NewDeployment<'a> {
    NewDeployment {
        service,
        repository: &push.repository,
        registry: &push.registry,
        digest: &push.digest,
        tag: push.tag.as_deref(),
        target_id: &target.target_id,
        tag_rule: &target.tag_rule,
        containers: &target.containers,
        alarms: &target.alarms,
        approval: target.approval.as_ref(),
        found_by: push.source,
        pushed_at: Some(push.pushed_at),
        image_pushed_at: push.image_pushed_at,
        note: push.note.as_deref(),
    }
}
