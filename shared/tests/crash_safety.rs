//! Crash safety: every step that changes the world, retried after it did its
//! work. Each test lets the step make its AWS call and then fails it: the
//! write that records it fails (its request, or only its answer, is lost), the
//! announcement or callback after it fails, or the step's answer never
//! reaches the state machine. Then the step is retried, as the state machine,
//! EventBridge or a person retries it. However it failed, ECS registers one
//! revision and gets one UpdateService per deployment (and one for its
//! rollback), the record only moves forward and its timeline holds each move
//! once, and the retry answers what the same step answered in a twin world
//! where nothing failed.
//!
//! The failing ports wrap the world's in-memory twins and live here: they are
//! only useful to tests that retry a step, which is this module.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    ApprovalEndpoint, ApprovalPolicy, Deployment, DeploymentId, DeploymentStateChange, DeploymentStatus, HookAnswer,
    HookInvocation, HookVerdict, HumanMessage, LifecycleStage, OnTimeout, Outcome, Phase, RolloutProgress,
    RolloutState, TargetView, Transition, Verdict, aws_state,
};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{
    CheckLease, Clock, CreateOutcome, Delivery, DeploymentStore, Ecs, Executions, Notifier, ServiceLocks, StartOutcome,
    TaskCallbacks, TransitionOutcome,
};
use autodeploy_shared::steps::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::common;

use common::*;

use DeploymentStatus::*;

const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/demo/web";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/5d6e7f";

// ------------------------------------------------------------------ faults

/// What a failure loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lost {
    /// The call never reached AWS: nothing changed.
    Request,
    /// AWS did it, and its answer was lost (a timeout, a dropped connection).
    Answer,
}

/// A write to the deployments table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Move(DeploymentStatus),
    TaskToken,
    Verdict,
    Note,
    Hook,
    /// The end of a look's check lease.
    EndCheck,
}

fn transient(what: &str) -> DeployError {
    DeployError::Retryable(format!("{what}: injected fault: connection reset by peer"))
}

/// Failures armed on a port, each used up by the first call it matches.
struct Fuse<T>(Mutex<Vec<(T, Lost)>>);

impl<T> Default for Fuse<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T: PartialEq> Fuse<T> {
    fn arm(&self, on: T, lost: Lost) {
        self.0.lock().unwrap().push((on, lost));
    }

    fn trip(&self, on: &T) -> Option<Lost> {
        let mut armed = self.0.lock().unwrap();
        let i = armed.iter().position(|(t, _)| t == on)?;
        Some(armed.remove(i).1)
    }

    fn spent(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }

    /// Runs `call` through the fuse: as it is, not at all, or without its answer.
    async fn guard<R>(
        &self,
        on: T,
        what: &str,
        call: impl Future<Output = Result<R, DeployError>>,
    ) -> Result<R, DeployError> {
        match self.trip(&on) {
            None => call.await,
            Some(Lost::Request) => Err(transient(what)),
            Some(Lost::Answer) => {
                call.await?;
                Err(transient(what))
            }
        }
    }
}

/// The deployments table, whose writes fail as armed.
struct FlakyStore<'a> {
    inner: &'a MemoryStore,
    fuse: Fuse<Write>,
}

impl DeploymentStore for FlakyStore<'_> {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome, DeployError> {
        self.inner.create(d).await
    }

    async fn get(&self, id: &DeploymentId) -> Result<Option<Deployment>, DeployError> {
        self.inner.get(id).await
    }

    async fn transition(&self, id: &DeploymentId, t: &Transition) -> Result<TransitionOutcome, DeployError> {
        self.fuse.guard(Write::Move(t.to), "UpdateItem deployment status", self.inner.transition(id, t)).await
    }

    async fn store_task_token(
        &self,
        id: &DeploymentId,
        phase: Phase,
        ecs_deployment_id: &str,
        token: &str,
    ) -> Result<Deployment, DeployError> {
        let write = self.inner.store_task_token(id, phase, ecs_deployment_id, token);
        self.fuse.guard(Write::TaskToken, "UpdateItem task token", write).await
    }

    async fn record_verdict(&self, id: &DeploymentId, verdict: &Verdict) -> Result<Option<Deployment>, DeployError> {
        self.fuse.guard(Write::Verdict, "UpdateItem verdict", self.inner.record_verdict(id, verdict)).await
    }

    async fn record_progress(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        phase: Phase,
        ecs_deployment_id: &str,
        progress: &RolloutProgress,
        at: DateTime<Utc>,
    ) -> Result<Option<Deployment>, DeployError> {
        self.inner.record_progress(id, status, phase, ecs_deployment_id, progress, at).await
    }

    async fn note(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        at: DateTime<Utc>,
        detail: &str,
    ) -> Result<Option<Deployment>, DeployError> {
        self.fuse.guard(Write::Note, "UpdateItem note", self.inner.note(id, status, at, detail)).await
    }

    async fn record_hook_verdict(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        verdict: &HookVerdict,
    ) -> Result<Option<Deployment>, DeployError> {
        self.fuse
            .guard(Write::Hook, "UpdateItem hook verdict", self.inner.record_hook_verdict(id, status, verdict))
            .await
    }

    async fn record_approval(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        approval: &autodeploy_shared::domain::Approval,
    ) -> Result<Option<Deployment>, DeployError> {
        self.inner.record_approval(id, status, approval).await
    }

    async fn store_queue_token(
        &self,
        id: &DeploymentId,
        token: &str,
        waiting_in: DeploymentStatus,
    ) -> Result<Deployment, DeployError> {
        self.inner.store_queue_token(id, token, waiting_in).await
    }

    async fn active_watches(&self) -> Result<Vec<Deployment>, DeployError> {
        self.inner.active_watches().await
    }

    async fn watches_of_service(&self, service_arn: &str) -> Result<Vec<DeploymentId>, DeployError> {
        self.inner.watches_of_service(service_arn).await
    }

    async fn begin_check(
        &self,
        id: &DeploymentId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<CheckLease, DeployError> {
        self.inner.begin_check(id, now, until).await
    }

    async fn ask_recheck(&self, id: &DeploymentId, now: DateTime<Utc>) -> Result<bool, DeployError> {
        self.inner.ask_recheck(id, now).await
    }

    async fn end_check(&self, id: &DeploymentId, until: DateTime<Utc>, delivered: bool) -> Result<bool, DeployError> {
        self.fuse.guard(Write::EndCheck, "UpdateItem end of check", self.inner.end_check(id, until, delivered)).await
    }

    async fn history(&self, service_key: &str, limit: usize) -> Result<Vec<Deployment>, DeployError> {
        self.inner.history(service_key, limit).await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Deployment>, DeployError> {
        self.inner.recent(limit).await
    }
}

/// EventBridge and SNS, failing as armed for the announcement of a status.
struct FlakyNotifier<'a> {
    inner: &'a RecordingNotifier,
    fuse: Fuse<DeploymentStatus>,
}

impl Notifier for FlakyNotifier<'_> {
    async fn publish(&self, change: &DeploymentStateChange, human: Option<&HumanMessage>) -> Result<(), DeployError> {
        self.fuse.guard(change.status, "PutEvents", self.inner.publish(change, human)).await
    }
}

/// SendTaskSuccess, failing as armed.
struct FlakyCallbacks<'a> {
    inner: &'a RecordingCallbacks,
    fuse: Fuse<()>,
}

impl TaskCallbacks for FlakyCallbacks<'_> {
    async fn succeed(&self, task_token: &str, output: &Value) -> Result<Delivery, DeployError> {
        self.fuse.guard((), "SendTaskSuccess", self.inner.succeed(task_token, output)).await
    }
}

/// StartExecution, failing as armed.
struct FlakyExecutions<'a> {
    inner: &'a RecordingExecutions,
    fuse: Fuse<()>,
}

impl Executions for FlakyExecutions<'_> {
    async fn start(&self, name: &str, input: &Value) -> Result<StartOutcome, DeployError> {
        self.fuse.guard((), "StartExecution", self.inner.start(name, input)).await
    }

    async fn exists(&self, name: &str) -> Result<bool, DeployError> {
        self.inner.exists(name).await
    }
}

/// The world's twins behind failing ports, and every step built from them
/// (the other ports are the world's own).
struct Faults<'a> {
    w: &'a World,
    store: FlakyStore<'a>,
    notifier: FlakyNotifier<'a>,
    callbacks: FlakyCallbacks<'a>,
    executions: FlakyExecutions<'a>,
}

impl<'a> Faults<'a> {
    fn of(w: &'a World) -> Self {
        Self {
            w,
            store: FlakyStore { inner: &w.store, fuse: Fuse::default() },
            notifier: FlakyNotifier { inner: &w.notifier, fuse: Fuse::default() },
            callbacks: FlakyCallbacks { inner: &w.callbacks, fuse: Fuse::default() },
            executions: FlakyExecutions { inner: &w.executions, fuse: Fuse::default() },
        }
    }

    /// Every armed failure happened (a test that arms one and sees no
    /// failure tests nothing).
    fn spent(&self) -> bool {
        self.store.fuse.spent()
            && self.notifier.fuse.spent()
            && self.callbacks.fuse.spent()
            && self.executions.fuse.spent()
    }

    fn endpoint() -> Option<ApprovalEndpoint> {
        Some(ApprovalEndpoint { url: MEMORY_APPROVAL_URL.into(), region: MEMORY_REGION.into() })
    }

    fn launcher(
        &self,
    ) -> Launcher<&FlakyStore<'a>, &FlakyExecutions<'a>, &FlakyNotifier<'a>, &ManualClock, &MemoryDecisions> {
        Launcher {
            store: &self.store,
            executions: &self.executions,
            notifier: &self.notifier,
            clock: &self.w.clock,
            decisions: &self.w.decisions,
            coalesce_seconds: self.w.settings.coalesce_seconds,
        }
    }

    fn on_image_push(&self) -> impl Step<Input = EcrEvent, Output = PushReport> + '_ {
        OnImagePush {
            targets: &self.w.targets,
            images: &self.w.images,
            launcher: self.launcher(),
            registry: self.w.registry.clone(),
        }
    }

    fn reconcile(&self) -> impl Step<Input = ReconcileInput, Output = ReconcileReport> + '_ {
        Reconcile {
            targets: &self.w.targets,
            images: &self.w.images,
            launcher: self.launcher(),
            registry: self.w.registry.clone(),
        }
    }

    fn operate(
        &self,
    ) -> impl Step<Input = UrlCall, Output = aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse> + '_
    {
        Operate {
            targets: &self.w.targets,
            images: &self.w.images,
            ecs: &self.w.ecs,
            locks: &self.w.locks,
            callbacks: &self.callbacks,
            launcher: self.launcher(),
            account: MEMORY_ACCOUNT.to_owned(),
            region: MEMORY_REGION.to_owned(),
        }
    }

    fn claim_service(&self) -> impl Step<Input = ClaimInput, Output = ClaimOutput> + '_ {
        ClaimService {
            store: &self.store,
            locks: &self.w.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.w.clock,
            runs: &self.w.runs,
            poll_interval: self.w.settings.poll_interval,
        }
    }

    fn register_revision(&self) -> impl Step<Input = DeploymentInput, Output = RegisterOutput> + '_ {
        RegisterRevision {
            store: &self.store,
            ecs: &self.w.ecs,
            locks: &self.w.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.w.clock,
        }
    }

    fn update_service(&self) -> impl Step<Input = DeploymentInput, Output = UpdateOutput> + '_ {
        UpdateService {
            store: &self.store,
            ecs: &self.w.ecs,
            notifier: &self.notifier,
            clock: &self.w.clock,
            timing: self.w.settings.rollout(),
        }
    }

    fn await_rollout(&self) -> impl Step<Input = AwaitInput, Output = AwaitOutput> + '_ {
        AwaitRollout { store: &self.store, locks: &self.w.locks, clock: &self.w.clock, lease: self.w.settings.lease() }
    }

    fn check_rollout(&self) -> impl Step<Input = CheckInput, Output = CheckOutput> + '_ {
        CheckRollout {
            store: &self.store,
            ecs: &self.w.ecs,
            elb: &self.w.elb,
            alarms: &self.w.alarms,
            locks: &self.w.locks,
            notifier: &self.notifier,
            clock: &self.w.clock,
            approval_endpoint: Self::endpoint(),
            lease: self.w.settings.lease(),
            poll_interval: self.w.settings.poll_interval,
        }
    }

    fn roll_back(&self) -> impl Step<Input = RollBackInput, Output = RollBackOutput> + '_ {
        RollBack {
            store: &self.store,
            ecs: &self.w.ecs,
            notifier: &self.notifier,
            clock: &self.w.clock,
            timing: self.w.settings.rollback(),
        }
    }

    fn record_outcome(&self) -> impl Step<Input = OutcomeInput, Output = OutcomeOutput> + '_ {
        RecordOutcome {
            store: &self.store,
            locks: &self.w.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.w.clock,
        }
    }

    fn request_approval(&self) -> impl Step<Input = ApprovalRequestInput, Output = GateOutput> + '_ {
        RequestApproval {
            store: &self.store,
            locks: &self.w.locks,
            callbacks: &self.callbacks,
            ecs: &self.w.ecs,
            notifier: &self.notifier,
            clock: &self.w.clock,
            endpoint: Self::endpoint(),
        }
    }

    fn decide_approval(
        &self,
    ) -> impl Step<Input = UrlCall, Output = aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse> + '_
    {
        DecideApproval {
            store: &self.store,
            ecs: &self.w.ecs,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.w.clock,
        }
    }

    fn on_ecs_event(&self) -> impl Step<Input = EcsEvent, Output = SignalReport> + '_ {
        OnEcsEvent {
            store: &self.store,
            ecs: &self.w.ecs,
            elb: &self.w.elb,
            alarms: &self.w.alarms,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.w.clock,
            approval_endpoint: Self::endpoint(),
        }
    }

    fn verify_hook(&self) -> impl Step<Input = HookInvocation, Output = HookAnswer> + '_ {
        VerifyHook {
            store: &self.store,
            ecs: &self.w.ecs,
            elb: &self.w.elb,
            alarms: &self.w.alarms,
            http: &self.w.http,
            notifier: &self.notifier,
            clock: &self.w.clock,
        }
    }
}

// ------------------------------------------------------------------ the world

/// Two worlds set up alike: one where the step fails and is retried, and a
/// twin where nothing fails, whose answers and records the retry must match.
async fn twins(approval: Option<ApprovalPolicy>) -> (World, World) {
    (world(approval.clone()).await, world(approval).await)
}

/// The failed attempt: a transient error, as the state machine retries.
fn failed<T: std::fmt::Debug>(attempt: Result<T, DeployError>) {
    assert_eq!(attempt.unwrap_err().error_type(), "Retryable", "the injected failure surfaces as Retryable");
}

/// The build of push `n` pushed again under `tag`, now (ECR keeps the time
/// the image was first pushed; the event says when the tag was).
async fn retag(w: &World, tag: &str, n: u8) -> DeploymentId {
    w.images.push("web", tag, &digest(n), w.clock.now());
    let mut event = push_event(tag, n);
    if let EcrEvent::Push(p) = &mut event {
        p.claimed_at = Some(w.clock.now());
    }
    w.on_image_push().run(event).await.unwrap().started[0].clone()
}

async fn claim(w: &World, id: &DeploymentId) -> ClaimOutput {
    w.claim_service().run(id.clone().into()).await.unwrap()
}

async fn register(w: &World, id: &DeploymentId) -> RegisterOutput {
    w.register_revision().run(id.clone().into()).await.unwrap()
}

async fn update(w: &World, id: &DeploymentId) -> UpdateOutput {
    w.update_service().run(id.clone().into()).await.unwrap()
}

/// Pushed, the service taken and the revision registered: UPDATING.
async fn registered(w: &World, tag: &str, n: u8) -> DeploymentId {
    let id = w.push(tag, &digest(n)).await;
    assert_eq!(claim(w, &id).await.outcome, ClaimOutcome::Granted);
    assert_eq!(register(w, &id).await.outcome, RegisterOutcome::Registered);
    id
}

/// ... and the service updated: WAITING on our ECS deployment, the run parked.
async fn rolling(w: &World, tag: &str, n: u8) -> (DeploymentId, UpdateOutput) {
    let id = registered(w, tag, n).await;
    let up = update(w, &id).await;
    let input = AwaitInput { deployment_id: id.clone(), phase: Phase::Rollout, task_token: "rollout-token".into() };
    w.await_rollout().run(input).await.unwrap();
    (id, up)
}

/// ECS finishes a deployment: its tasks run, healthy (or not) behind the balancer.
fn finish(w: &World, ecs_deployment_id: &str, td: &str, health: &str) {
    let ips = w.ecs.start_tasks(ecs_deployment_id, td, 2);
    w.ecs.set_rollout("demo", "web", ecs_deployment_id, RolloutState::Completed, None);
    w.elb.set(
        TG,
        ips.iter()
            .map(|ip| TargetView { id: ip.clone(), port: Some(80), state: aws_state(health), ..Default::default() })
            .collect(),
    );
}

async fn check(w: &World, id: &DeploymentId, phase: Phase) -> Verdict {
    w.check_rollout().run(CheckInput { deployment_id: id.clone(), phase }).await.unwrap().verdict
}

fn roll_back_input(id: &DeploymentId, reason: &str) -> RollBackInput {
    RollBackInput {
        deployment_id: id.clone(),
        verdict: Some(FailedVerdict { reason: Some(reason.into()) }),
        error: None,
    }
}

fn outcome(id: &DeploymentId, outcome: FinalOutcome, verdict: Option<Verdict>) -> OutcomeInput {
    OutcomeInput { deployment_id: id.clone(), outcome, verdict, error: None }
}

/// "Record failure" as the state machine calls it, with the error it caught.
fn record_failure(id: &DeploymentId, error: &str) -> OutcomeInput {
    let error = StepError { error: error.into(), cause: String::new() };
    OutcomeInput { deployment_id: id.clone(), outcome: FinalOutcome::Failed, verdict: None, error: Some(error) }
}

/// The revisions of the service's family.
async fn revisions(w: &World) -> usize {
    w.ecs.recent_revisions("web", 100).await.unwrap().len()
}

/// The statuses announced for `id`, in order.
fn announced(w: &World, id: &DeploymentId) -> Vec<DeploymentStatus> {
    w.notifier.events.lock().unwrap().iter().filter(|e| &e.deployment_id == id).map(|e| e.status).collect()
}

/// The moves of the record, in order, from its timeline: every one allowed
/// from the status before it (the record never moves backwards).
fn transitions(d: &Deployment) -> Vec<DeploymentStatus> {
    let mut moves: Vec<DeploymentStatus> = Vec::new();
    for e in &d.timeline {
        match moves.last() {
            Some(&last) if last == e.state => {}
            Some(&last) => {
                assert!(last.can_move_to(e.state), "{last} -> {} is not a move: {:?}", e.state, d.timeline);
                moves.push(e.state);
            }
            None => moves.push(e.state),
        }
    }
    assert_eq!(moves.last(), Some(&d.status), "the record's status is its last move");
    moves
}

/// [`transitions`], and no timeline entry written twice.
fn moves(d: &Deployment) -> Vec<DeploymentStatus> {
    let mut seen = HashSet::new();
    for e in &d.timeline {
        assert!(seen.insert((e.state, e.detail.clone())), "written twice: {e:?} in {:?}", d.timeline);
    }
    transitions(d)
}

async fn answer(r: aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse) -> (i64, Value) {
    (r.status_code, serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
}

// ------------------------------------------------------------------ claim-service

#[tokio::test]
async fn a_claim_retried_after_it_took_the_service_is_granted_though_a_newer_push_queued_meanwhile() {
    let w = world(None).await;
    let id = w.push("v2", &digest(2)).await;
    // The first attempt takes the lock; its answer never reaches the run.
    let first = claim(&w, &id).await;
    assert_eq!(first.outcome, ClaimOutcome::Granted);
    // Meanwhile a newer push queues behind it.
    w.clock.advance(Duration::seconds(1));
    let newer = w.push("v3", &digest(3)).await;
    assert_eq!(claim(&w, &newer).await.outcome, ClaimOutcome::Queued);

    let retry = claim(&w, &id).await;
    assert_eq!(retry, first, "granted, as the first attempt was: the lock is its own");
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner.as_ref(), Some(&id));
    assert_eq!(register(&w, &id).await.outcome, RegisterOutcome::Registered);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating]);
    assert_eq!(moves(&w.record(&newer).await), [Pending, Queued], "the newer push waits its turn");
}

#[tokio::test]
async fn a_claim_retried_after_it_queued_the_record_announces_it_once_more_and_not_at_every_poll() {
    let (w, clean) = twins(None).await;
    for w in [&w, &clean] {
        let holder = w.push("v2", &digest(2)).await;
        claim(w, &holder).await;
        w.clock.advance(Duration::seconds(1));
    }
    let id = w.push("v3", &digest(3)).await;
    clean.push("v3", &digest(3)).await;
    let f = Faults::of(&w);
    // QUEUED written, its announcement lost.
    f.notifier.fuse.arm(Queued, Lost::Request);
    failed(f.claim_service().run(id.clone().into()).await);
    assert!(f.spent());
    assert_eq!(w.record(&id).await.status, Queued);
    assert_eq!(announced(&w, &id), [Pending]);

    let retry = f.claim_service().run(id.clone().into()).await.unwrap();
    assert_eq!(retry, claim(&clean, &id).await);
    assert_eq!(announced(&w, &id), [Pending, Queued], "announced by the retry");
    // The run parks its token; its next claim (after the poll) announces nothing new.
    w.park(&id, "queued-token", Queued).await;
    assert_eq!(claim(&w, &id).await.outcome, ClaimOutcome::Queued);
    assert_eq!(announced(&w, &id), [Pending, Queued]);
    assert_eq!(moves(&w.record(&id).await), [Pending, Queued]);
}

// ------------------------------------------------------------------ register-revision

#[tokio::test]
async fn a_registration_retried_after_register_task_definition_registers_one_revision() {
    let (w, clean) = twins(None).await;
    let id = w.push("v2", &digest(2)).await;
    claim(&w, &id).await;
    assert_eq!(clean.push("v2", &digest(2)).await, id, "twins: the same ids");
    claim(&clean, &id).await;
    let f = Faults::of(&w);
    // RegisterTaskDefinition went through; the UPDATING write did not.
    f.store.fuse.arm(Write::Move(Updating), Lost::Request);
    failed(f.register_revision().run(id.clone().into()).await);
    assert!(f.spent());
    assert_eq!(revisions(&w).await, 2, "web:1 and ours");
    assert_eq!(w.record(&id).await.status, Registering);

    let retry = f.register_revision().run(id.clone().into()).await.unwrap();
    assert_eq!(retry, register(&clean, &id).await);
    assert_eq!(revisions(&w).await, 2, "none registered twice");
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating]);
}

#[tokio::test]
async fn a_registration_retried_after_its_record_write_answers_the_same_and_announces_it() {
    for lost in [Lost::Request, Lost::Answer] {
        let (w, clean) = twins(None).await;
        let id = w.push("v2", &digest(2)).await;
        claim(&w, &id).await;
        clean.push("v2", &digest(2)).await;
        claim(&clean, &id).await;
        let f = Faults::of(&w);
        match lost {
            // UPDATING written, the answer lost.
            Lost::Answer => f.store.fuse.arm(Write::Move(Updating), Lost::Answer),
            // UPDATING written, its announcement lost.
            Lost::Request => f.notifier.fuse.arm(Updating, Lost::Request),
        }
        failed(f.register_revision().run(id.clone().into()).await);
        assert!(f.spent());
        let retry = f.register_revision().run(id.clone().into()).await.unwrap();
        assert_eq!(retry, register(&clean, &id).await, "{lost:?}");
        assert_eq!(revisions(&w).await, 2);
        assert_eq!(w.record(&id).await, clean.record(&id).await);
        assert_eq!(announced(&w, &id).last(), Some(&Updating), "{lost:?}");
    }
}

#[tokio::test]
async fn a_registration_retried_after_it_closed_the_record_noop_frees_the_service_and_wakes_the_next() {
    let w = world(None).await;
    // v2 rolls out and succeeds.
    let (done, up) = rolling(&w, "v2", 2).await;
    let td = w.record(&done).await.new_task_definition.unwrap();
    finish(&w, &up.ecs_deployment_id, &td, "healthy");
    let v = check(&w, &done, Phase::Rollout).await;
    w.record_outcome().run(outcome(&done, FinalOutcome::Succeeded, Some(v))).await.unwrap();
    // The same build again under a new tag: nothing to roll out. A newer push waits behind it.
    w.clock.advance(Duration::seconds(1));
    let id = retag(&w, "v2.1", 2).await;
    assert_eq!(claim(&w, &id).await.outcome, ClaimOutcome::Granted);
    w.clock.advance(Duration::seconds(1));
    let next = w.push("v3", &digest(3)).await;
    assert_eq!(claim(&w, &next).await.outcome, ClaimOutcome::Queued);
    w.park(&next, "next-token", Queued).await;

    let f = Faults::of(&w);
    // NOOP written, the answer lost: the service was not freed.
    f.store.fuse.arm(Write::Move(Noop), Lost::Answer);
    failed(f.register_revision().run(id.clone().into()).await);
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner.as_ref(), Some(&id));

    let retry = f.register_revision().run(id.clone().into()).await.unwrap();
    assert_eq!((retry.outcome, retry.status), (RegisterOutcome::Closed, Noop));
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner, None, "freed by the retry");
    assert!(w.callbacks.sent().iter().any(|(t, _)| t == "next-token"), "the queued push is woken");
    assert_eq!(announced(&w, &id), [Pending, Registering, Noop], "NOOP announced by the retry");
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Noop]);
    assert_eq!(w.ecs.updates().len(), 1, "v2's only");
}

// ------------------------------------------------------------------ update-service

async fn an_update_retried_after_update_service(service_deployments: bool) {
    let (w, clean) = twins(None).await;
    if !service_deployments {
        w.ecs.without_service_deployments();
        clean.ecs.without_service_deployments();
    }
    let id = registered(&w, "v2", 2).await;
    registered(&clean, "v2", 2).await;
    let f = Faults::of(&w);
    // UpdateService went through; the WAITING write did not.
    f.store.fuse.arm(Write::Move(Waiting), Lost::Request);
    failed(f.update_service().run(id.clone().into()).await);
    assert!(f.spent());
    assert_eq!(w.ecs.updates().len(), 1);
    assert_eq!(w.record(&id).await.status, Updating);

    let retry = f.update_service().run(id.clone().into()).await.unwrap();
    let clean_up = update(&clean, &id).await;
    assert_eq!(retry, clean_up, "the ECS deployment the first attempt started");
    assert_eq!(w.ecs.updates().len(), 1, "no second UpdateService");
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting]);
    // And the rollout goes on as it would have.
    let td = w.record(&id).await.new_task_definition.unwrap();
    finish(&w, &retry.ecs_deployment_id, &td, "healthy");
    assert_eq!(check(&w, &id, Phase::Rollout).await.outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn an_update_retried_after_update_service_calls_it_once() {
    an_update_retried_after_update_service(true).await;
}

#[tokio::test]
async fn an_update_retried_after_update_service_calls_it_once_without_service_deployments() {
    an_update_retried_after_update_service(false).await;
}

#[tokio::test]
async fn an_update_retried_after_ecs_rolled_its_deployment_back_does_not_start_it_again() {
    let w = world(None).await;
    let id = registered(&w, "v2", 2).await;
    let f = Faults::of(&w);
    f.store.fuse.arm(Write::Move(Waiting), Lost::Request);
    failed(f.update_service().run(id.clone().into()).await);
    // Before the retry, ECS's circuit breaker gives up on ours and goes back to web:1.
    let td = w.record(&id).await.new_task_definition.unwrap();
    let ours = w.ecs.service("demo", "web").unwrap().primary_of(&td).unwrap().id.clone();
    w.ecs.set_rollout("demo", "web", &ours, RolloutState::Failed, Some("ECS deployment circuit breaker: tasks failed"));
    let ecs_rollback = w.ecs.start_deployment("demo", "web", TD1);

    let retry = f.update_service().run(id.clone().into()).await.unwrap();
    assert_eq!(retry.ecs_deployment_id, ours, "ours, though ECS no longer runs it");
    assert_eq!(w.ecs.updates(), [td], "the failed revision is not rolled out again");
    // The run finds it failed and follows ECS back.
    assert_eq!(check(&w, &id, Phase::Rollout).await.outcome, Outcome::Failed);
    let rb = w.roll_back().run(roll_back_input(&id, "circuit breaker")).await.unwrap();
    assert_eq!(rb.ecs_deployment_id, ecs_rollback);
    assert_eq!(w.ecs.updates().len(), 1);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, RollingBack]);
}

#[tokio::test]
async fn an_update_retried_after_its_record_write_answers_the_same_and_announces_it() {
    for lost in [Lost::Request, Lost::Answer] {
        let (w, clean) = twins(None).await;
        let id = registered(&w, "v2", 2).await;
        registered(&clean, "v2", 2).await;
        let f = Faults::of(&w);
        match lost {
            // WAITING written, the answer lost.
            Lost::Answer => f.store.fuse.arm(Write::Move(Waiting), Lost::Answer),
            // WAITING written, its announcement lost.
            Lost::Request => f.notifier.fuse.arm(Waiting, Lost::Request),
        }
        failed(f.update_service().run(id.clone().into()).await);
        assert!(f.spent());
        let retry = f.update_service().run(id.clone().into()).await.unwrap();
        assert_eq!(retry, update(&clean, &id).await);
        assert_eq!(w.ecs.updates().len(), 1);
        assert_eq!(w.record(&id).await, clean.record(&id).await);
        assert_eq!(announced(&w, &id).last(), Some(&Waiting), "{lost:?}");
    }
}

#[tokio::test]
async fn an_update_retried_while_ecs_holds_the_rollout_at_a_pause_hook_answers_the_same() {
    let w = world(None).await;
    w.ecs.set_pause_hook("demo", "web", LifecycleStage::PostTestTrafficShift);
    let id = registered(&w, "v2", 2).await;
    // The first attempt's answer is lost; meanwhile ECS holds the rollout for a person.
    let first = update(&w, &id).await;
    w.hold_at_pause_hook(&first.ecs_deployment_id);
    check(&w, &id, Phase::Rollout).await;
    assert_eq!(w.record(&id).await.status, AwaitingApproval);

    let retry = update(&w, &id).await;
    assert_eq!(retry, first);
    assert_eq!(w.ecs.updates().len(), 1);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, AwaitingApproval]);
}

// ------------------------------------------------------------------ await-rollout, check-rollout

#[tokio::test]
async fn a_wait_retried_after_it_parked_its_token_parks_it_again() {
    let w = world(None).await;
    let id = registered(&w, "v2", 2).await;
    update(&w, &id).await;
    let f = Faults::of(&w);
    f.store.fuse.arm(Write::TaskToken, Lost::Answer);
    let input = || AwaitInput { deployment_id: id.clone(), phase: Phase::Rollout, task_token: "t-1".into() };
    failed(f.await_rollout().run(input()).await);
    let retry = f.await_rollout().run(input()).await.unwrap();
    assert_eq!(retry, AwaitOutput { waiting: true });
    let d = w.record(&id).await;
    assert_eq!(d.watch.unwrap().task_token.as_deref(), Some("t-1"));
    assert_eq!(w.locks.state("demo/web").await.unwrap().lease_until, Some(w.clock.now() + w.settings.lease()));
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting]);
}

#[tokio::test]
async fn a_check_retried_after_it_recorded_its_verdict_answers_the_same_verdict() {
    let (w, clean) = twins(None).await;
    for w in [&w, &clean] {
        let (id, up) = rolling(w, "v2", 2).await;
        let td = w.record(&id).await.new_task_definition.unwrap();
        finish(w, &up.ecs_deployment_id, &td, "healthy");
    }
    let id = w.store.all()[0].deployment_id.clone();
    let f = Faults::of(&w);
    f.store.fuse.arm(Write::Verdict, Lost::Answer);
    let input = || CheckInput { deployment_id: id.clone(), phase: Phase::Rollout };
    failed(f.check_rollout().run(input()).await);
    // ECS moves on meanwhile: the verdict recorded first stands.
    w.clock.advance(Duration::seconds(5));
    let retry = f.check_rollout().run(input()).await.unwrap().verdict;
    let clean_verdict = check(&clean, &id, Phase::Rollout).await;
    assert_eq!(retry, clean_verdict);
    assert_eq!(retry.outcome, Outcome::Succeeded);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting]);
}

// ------------------------------------------------------------------ roll-back

/// A rollout the run rolls back (why does not matter to the step).
async fn failing(w: &World) -> DeploymentId {
    let (id, _) = rolling(w, "v2", 2).await;
    id
}

#[tokio::test]
async fn a_rollback_retried_after_stop_service_deployment_asks_ecs_once() {
    let (w, clean) = twins(None).await;
    let id = failing(&w).await;
    failing(&clean).await;
    let f = Faults::of(&w);
    // StopServiceDeployment ROLLBACK went through; the ROLLING_BACK write did not.
    f.store.fuse.arm(Write::Move(RollingBack), Lost::Request);
    failed(f.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await);
    assert_eq!(w.ecs.rollbacks_requested().len(), 1);

    let retry = f.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await.unwrap();
    let clean_rb = clean.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await.unwrap();
    assert_eq!(
        (&retry.ecs_deployment_id, retry.poll_interval_seconds),
        (&clean_rb.ecs_deployment_id, clean_rb.poll_interval_seconds),
        "the same rollback is watched"
    );
    // The retry cannot tell its own rollback from one ECS started: it says it follows ECS's.
    assert!(!clean_rb.adopted && retry.adopted);
    assert_eq!(w.ecs.rollbacks_requested().len(), 1, "no second StopServiceDeployment");
    assert_eq!(w.ecs.updates().len(), 1, "and no UpdateService");
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, RollingBack]);
    finish(&w, &retry.ecs_deployment_id, TD1, "healthy");
    assert_eq!(check(&w, &id, Phase::Rollback).await.outcome, Outcome::Succeeded);
}

#[tokio::test]
async fn a_rollback_retried_after_update_service_updates_once() {
    let (w, clean) = twins(None).await;
    w.ecs.without_service_deployments();
    clean.ecs.without_service_deployments();
    let id = failing(&w).await;
    failing(&clean).await;
    let f = Faults::of(&w);
    // UpdateService back to web:1 went through; the ROLLING_BACK write did not.
    f.store.fuse.arm(Write::Move(RollingBack), Lost::Request);
    failed(f.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await);
    assert_eq!(w.ecs.updates().len(), 2, "ours and the rollback's");

    let retry = f.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await.unwrap();
    let clean_rb = clean.roll_back().run(roll_back_input(&id, "alarm web-5xx")).await.unwrap();
    assert_eq!(
        (&retry.ecs_deployment_id, retry.poll_interval_seconds),
        (&clean_rb.ecs_deployment_id, clean_rb.poll_interval_seconds)
    );
    assert_eq!(w.ecs.updates(), clean.ecs.updates(), "one UpdateService for the rollback");
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, RollingBack]);
    finish(&w, &retry.ecs_deployment_id, TD1, "healthy");
    let back = check(&w, &id, Phase::Rollback).await;
    assert_eq!(back.outcome, Outcome::Succeeded);
    let out = w.record_outcome().run(outcome(&id, FinalOutcome::RolledBack, Some(back))).await.unwrap();
    assert_eq!(out.status, RolledBack);
}

#[tokio::test]
async fn a_rollback_retried_after_its_record_write_answers_as_the_first_attempt() {
    // Ours rolled back by us (an alarm), and ECS's own rollback followed (circuit breaker).
    for ecs_rolls_back in [false, true] {
        let (w, clean) = twins(None).await;
        let id = failing(&w).await;
        failing(&clean).await;
        if ecs_rolls_back {
            for w in [&w, &clean] {
                let ours = w.record(&id).await.ecs_deployment_id.unwrap();
                w.ecs.set_rollout("demo", "web", &ours, RolloutState::Failed, Some("circuit breaker"));
                w.ecs.start_deployment("demo", "web", TD1);
            }
        }
        let f = Faults::of(&w);
        // ROLLING_BACK written, its announcement lost.
        f.notifier.fuse.arm(RollingBack, Lost::Request);
        failed(f.roll_back().run(roll_back_input(&id, "failed")).await);
        let retry = f.roll_back().run(roll_back_input(&id, "failed")).await.unwrap();
        let clean_rb = clean.roll_back().run(roll_back_input(&id, "failed")).await.unwrap();
        assert_eq!(retry, clean_rb, "ECS rolling back itself: {ecs_rolls_back}");
        assert_eq!(retry.adopted, ecs_rolls_back);
        assert_eq!(w.ecs.rollbacks_requested(), clean.ecs.rollbacks_requested());
        assert_eq!(w.ecs.updates(), clean.ecs.updates());
        assert_eq!(w.record(&id).await, clean.record(&id).await);
        assert_eq!(announced(&w, &id).last(), Some(&RollingBack));
    }
}

// ------------------------------------------------------------------ record-outcome

#[tokio::test]
async fn a_success_recorded_again_after_its_write_frees_the_service_and_answers_the_same() {
    let (w, clean) = twins(None).await;
    let mut verdicts = Vec::new();
    for w in [&w, &clean] {
        let (id, up) = rolling(w, "v2", 2).await;
        let td = w.record(&id).await.new_task_definition.unwrap();
        finish(w, &up.ecs_deployment_id, &td, "healthy");
        verdicts.push(check(w, &id, Phase::Rollout).await);
        // A newer push waits for the service.
        w.clock.advance(Duration::seconds(1));
        let next = w.push("v3", &digest(3)).await;
        assert_eq!(claim(w, &next).await.outcome, ClaimOutcome::Queued);
        w.park(&next, "next-token", Queued).await;
    }
    let id = clean.store.all().into_iter().find(|d| d.tag.as_deref() == Some("v2")).unwrap().deployment_id;
    let f = Faults::of(&w);
    // SUCCEEDED written, the answer lost: the service not freed yet.
    f.store.fuse.arm(Write::Move(Succeeded), Lost::Answer);
    assert_eq!(verdicts[0], verdicts[1]);
    let input = || outcome(&id, FinalOutcome::Succeeded, Some(verdicts[0].clone()));
    failed(f.record_outcome().run(input()).await);
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner.as_ref(), Some(&id));

    let retry = f.record_outcome().run(input()).await.unwrap();
    assert_eq!(retry, clean.record_outcome().run(input()).await.unwrap());
    let lock = w.locks.state("demo/web").await.unwrap();
    assert_eq!((lock.owner, lock.serving.map(|s| s.deployment_id)), (None, Some(id.clone())));
    assert!(w.callbacks.sent().iter().any(|(t, _)| t == "next-token"), "the next push is woken");
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, Succeeded]);
    assert_eq!(w.ecs.updates().len(), 1);
}

#[tokio::test]
async fn a_failure_recorded_twice_changes_nothing_the_second_time() {
    let w = world(None).await;
    let id = registered(&w, "v2", 2).await;
    let first = w.record_outcome().run(record_failure(&id, "UpdateRejected")).await.unwrap();
    assert_eq!(first.status, Failed);
    let before = w.record(&id).await;
    // Again, as a retry of "Record failure" (with another error, even).
    let again = w.record_outcome().run(record_failure(&id, "States.Timeout")).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(w.record(&id).await, before);
    assert_eq!(moves(&before), [Pending, Registering, Updating, Failed]);
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner, None);
}

#[tokio::test]
async fn a_failure_recorded_over_an_ended_record_leaves_it_as_it_ended() {
    // SUCCEEDED, and NOOP: "Record failure" after the step that ended it failed later.
    let w = world(None).await;
    let (id, up) = rolling(&w, "v2", 2).await;
    let td = w.record(&id).await.new_task_definition.unwrap();
    finish(&w, &up.ecs_deployment_id, &td, "healthy");
    let v = check(&w, &id, Phase::Rollout).await;
    w.record_outcome().run(outcome(&id, FinalOutcome::Succeeded, Some(v))).await.unwrap();
    w.clock.advance(Duration::seconds(1));
    let noop = retag(&w, "v2.1", 2).await;
    claim(&w, &noop).await;
    assert_eq!(register(&w, &noop).await.status, Noop);

    for (id, ended) in [(&id, Succeeded), (&noop, Noop)] {
        let before = w.record(id).await;
        let out = w.record_outcome().run(record_failure(id, "Lambda.Unknown")).await.unwrap();
        assert_eq!(out.status, ended, "the answer says how it ended: the run ends so too");
        assert_eq!(out.failure_reason, None);
        assert_eq!(w.record(id).await, before, "nothing moves backwards");
    }
}

#[tokio::test]
async fn record_failure_after_a_success_that_could_not_free_the_service_answers_succeeded_and_frees_it() {
    let w = world(None).await;
    let (id, up) = rolling(&w, "v2", 2).await;
    let td = w.record(&id).await.new_task_definition.unwrap();
    finish(&w, &up.ecs_deployment_id, &td, "healthy");
    let v = check(&w, &id, Phase::Rollout).await;
    let f = Faults::of(&w);
    // "Record success": written, then it fails (every retry of it, say).
    f.store.fuse.arm(Write::Move(Succeeded), Lost::Answer);
    failed(f.record_outcome().run(outcome(&id, FinalOutcome::Succeeded, Some(v))).await);
    // Its Catch: "Record failure".
    let out = f.record_outcome().run(record_failure(&id, "Retryable")).await.unwrap();
    assert_eq!(out.status, Succeeded);
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner, None, "freed after all");
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, Succeeded]);
}

// ------------------------------------------------------------------ request-approval

async fn ask(f: &Faults<'_>, id: &DeploymentId, expired: bool) -> Result<GateOutput, DeployError> {
    f.request_approval().run(ApprovalRequestInput { deployment_id: id.clone(), expired }).await
}

async fn ask_clean(w: &World, id: &DeploymentId, expired: bool) -> GateOutput {
    w.request_approval().run(ApprovalRequestInput { deployment_id: id.clone(), expired }).await.unwrap()
}

fn approval_requests(w: &World) -> usize {
    w.notifier.messages().iter().filter(|m| m.subject.contains("APPROVAL")).count()
}

#[tokio::test]
async fn a_request_for_approval_retried_after_it_was_written_is_announced() {
    let (w, clean) = twins(Some(ApprovalPolicy::default())).await;
    let id = w.push("v2", &digest(2)).await;
    clean.push("v2", &digest(2)).await;
    let f = Faults::of(&w);
    // AWAITING_APPROVAL written, the request's announcement lost: nobody would hear of it.
    f.notifier.fuse.arm(AwaitingApproval, Lost::Request);
    failed(ask(&f, &id, false).await);
    assert_eq!((w.record(&id).await.status, approval_requests(&w)), (AwaitingApproval, 0));

    let retry = ask(&f, &id, false).await.unwrap();
    assert_eq!(retry, ask_clean(&clean, &id, false).await);
    assert_eq!(approval_requests(&w), 1, "a person hears of it");
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert_eq!(moves(&w.record(&id).await), [Pending, AwaitingApproval]);
}

#[tokio::test]
async fn a_request_for_approval_retried_supersedes_the_older_push_it_holds_back() {
    let (w, clean) = twins(Some(ApprovalPolicy::default())).await;
    for w in [&w, &clean] {
        let old = w.push("v2", &digest(2)).await;
        ask_clean(w, &old, false).await;
        w.park(&old, "old-token", AwaitingApproval).await;
        w.clock.advance(Duration::seconds(30));
        w.push("v3", &digest(3)).await;
    }
    let newest = |w: &World| w.store.all()[0].clone();
    let (id, old) = (newest(&w).deployment_id, w.store.all()[1].deployment_id.clone());
    let f = Faults::of(&w);
    // The newer one is held; superseding the older one failed.
    f.store.fuse.arm(Write::Move(Superseded), Lost::Request);
    failed(ask(&f, &id, false).await);
    assert_eq!(w.record(&old).await.status, AwaitingApproval);

    let retry = ask(&f, &id, false).await.unwrap();
    assert_eq!(retry, ask_clean(&clean, &id, false).await);
    assert_eq!(w.record(&old).await, clean.record(&old).await);
    assert_eq!(moves(&w.record(&old).await), [Pending, AwaitingApproval, Superseded]);
    assert!(w.callbacks.sent().iter().any(|(t, _)| t == "old-token"), "the older run is woken to end");
}

#[tokio::test]
async fn a_request_for_approval_on_a_service_ecs_pauses_notes_it_once() {
    let w = world(Some(ApprovalPolicy::default())).await;
    w.ecs.set_pause_hook("demo", "web", LifecycleStage::PostTestTrafficShift);
    let id = w.push("v2", &digest(2)).await;
    let f = Faults::of(&w);
    f.store.fuse.arm(Write::Note, Lost::Answer);
    failed(ask(&f, &id, false).await);
    let retry = ask(&f, &id, false).await.unwrap();
    assert_eq!(retry.outcome, GateOutcome::Pass);
    let d = w.record(&id).await;
    assert_eq!(d.timeline.iter().filter(|e| e.detail.contains("ECS holds the rollout at its PAUSE hook")).count(), 1);
    assert_eq!(moves(&d), [Pending]);
}

#[tokio::test]
async fn an_expired_request_retried_after_it_was_closed_is_announced() {
    let policy = ApprovalPolicy { timeout_minutes: 30, on_timeout: OnTimeout::Reject };
    let (w, clean) = twins(Some(policy)).await;
    for w in [&w, &clean] {
        let id = w.push("v2", &digest(2)).await;
        ask_clean(w, &id, false).await;
        w.clock.advance(Duration::minutes(30));
    }
    let id = w.store.all()[0].deployment_id.clone();
    let f = Faults::of(&w);
    // REJECTED written, its announcement lost.
    f.notifier.fuse.arm(Rejected, Lost::Request);
    failed(ask(&f, &id, true).await);
    let retry = ask(&f, &id, true).await.unwrap();
    assert_eq!(retry, ask_clean(&clean, &id, true).await);
    assert_eq!(retry.outcome, GateOutcome::Closed);
    assert_eq!(announced(&w, &id), [Pending, AwaitingApproval, Rejected]);
    assert!(w.notifier.messages().iter().any(|m| m.subject.contains("REJECTED")));
    assert_eq!(w.record(&id).await, clean.record(&id).await);
}

// ------------------------------------------------------------------ decide-approval

fn decision(id: &DeploymentId, decision: &str) -> Value {
    json!({"deploymentId": id, "decision": decision})
}

#[tokio::test]
async fn a_decision_sent_again_after_its_record_write_resumes_the_held_run() {
    let (w, clean) = twins(Some(ApprovalPolicy::default())).await;
    for w in [&w, &clean] {
        let id = w.push("v2", &digest(2)).await;
        ask_clean(w, &id, false).await;
        w.park(&id, "approval-token", AwaitingApproval).await;
    }
    let id = w.store.all()[0].deployment_id.clone();
    let f = Faults::of(&w);
    // QUEUED written; SendTaskSuccess failed: the run would wait until its approval timed out.
    f.callbacks.fuse.arm((), Lost::Request);
    assert_eq!(
        f.decide_approval().run(call(Some(ALICE), "POST", &decision(&id, "APPROVE"))).await.unwrap_err().error_type(),
        "Retryable"
    );
    assert!(w.callbacks.sent().is_empty());

    let retry =
        answer(f.decide_approval().run(call(Some(ALICE), "POST", &decision(&id, "APPROVE"))).await.unwrap()).await;
    let first =
        answer(clean.decide_approval().run(call(Some(ALICE), "POST", &decision(&id, "APPROVE"))).await.unwrap()).await;
    assert_eq!(retry, first);
    assert_eq!(w.callbacks.sent(), clean.callbacks.sent(), "the held run is resumed");
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert_eq!(moves(&w.record(&id).await), [Pending, AwaitingApproval, Queued]);
}

#[tokio::test]
async fn a_decision_at_ecs_pause_hook_sent_again_after_continue_service_deployment_asks_ecs_once() {
    let w = world(Some(ApprovalPolicy::default())).await;
    w.ecs.set_pause_hook("demo", "web", LifecycleStage::PostTestTrafficShift);
    let id = w.push("v2", &digest(2)).await;
    assert_eq!(ask_clean(&w, &id, false).await.outcome, GateOutcome::Pass);
    claim(&w, &id).await;
    register(&w, &id).await;
    let up = update(&w, &id).await;
    w.hold_at_pause_hook(&up.ecs_deployment_id);
    check(&w, &id, Phase::Rollout).await;
    assert_eq!(w.record(&id).await.status, AwaitingApproval);
    let f = Faults::of(&w);
    // ContinueServiceDeployment went through; the WAITING write did not.
    f.store.fuse.arm(Write::Move(Waiting), Lost::Request);
    let step = f.decide_approval();
    let send = || step.run(call(Some(ALICE), "POST", &decision(&id, "APPROVE")));
    assert_eq!(send().await.unwrap_err().error_type(), "Retryable");
    assert_eq!(w.ecs.continues().len(), 1);

    let (status, body) = answer(send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("WAITING")), "{body}");
    assert_eq!(w.ecs.continues().len(), 1, "ECS is not asked again: the hook no longer waits");
    assert_eq!(moves(&w.record(&id).await), [Pending, Registering, Updating, Waiting, AwaitingApproval, Waiting]);
    assert_eq!(w.ecs.updates().len(), 1);
}

// ------------------------------------------------------------------ operate

#[tokio::test]
async fn a_deploy_request_sent_again_after_start_execution_failed_starts_its_run() {
    let (w, clean) = twins(None).await;
    for w in [&w, &clean] {
        w.images.push("web", "v3", &digest(3), w.clock.now());
    }
    let body =
        json!({"action": "DEPLOY", "service": "demo/web", "image": "web:v3", "requestToken": "0123456789abcdef"});
    let f = Faults::of(&w);
    // The record written and announced; StartExecution failed (the caller gets a 502 and retries).
    f.executions.fuse.arm((), Lost::Request);
    assert_eq!(f.operate().run(call(Some(ALICE), "POST", &body)).await.unwrap_err().error_type(), "Retryable");
    assert!(w.executions.started().is_empty());

    let retry = answer(f.operate().run(call(Some(ALICE), "POST", &body)).await.unwrap()).await;
    let first = answer(clean.operate().run(call(Some(ALICE), "POST", &body)).await.unwrap()).await;
    assert_eq!(retry, first, "202: this call started it");
    assert_eq!(w.executions.started(), clean.executions.started());
    assert_eq!(w.decisions.all(), clean.decisions.all());
    // Sent once more: the run is under way, nothing starts again.
    let again = answer(f.operate().run(call(Some(ALICE), "POST", &body)).await.unwrap()).await;
    assert_eq!((again.0, &again.1["started"]), (200, &json!(false)));
    assert_eq!(w.executions.started().len(), 1);
}

// ------------------------------------------------------------------ on-image-push, reconcile

fn push_event(tag: &str, n: u8) -> EcrEvent {
    EcrEvent::Push(ImagePush {
        account: MEMORY_ACCOUNT.into(),
        region: MEMORY_REGION.into(),
        repository: "web".into(),
        digest: digest(n),
        tag: Some(tag.into()),
        claimed_at: None,
        manifest_media_type: None,
        artifact_media_type: None,
    })
}

#[tokio::test]
async fn a_push_retried_after_its_record_was_written_but_not_announced_is_announced_and_started_once() {
    let (w, clean) = twins(None).await;
    for w in [&w, &clean] {
        w.images.push("web", "v2", &digest(2), w.clock.now());
    }
    let f = Faults::of(&w);
    // The record written, its announcement lost.
    f.notifier.fuse.arm(Pending, Lost::Request);
    failed(f.on_image_push().run(push_event("v2", 2)).await);
    assert!(w.executions.started().is_empty());

    let retry = f.on_image_push().run(push_event("v2", 2)).await.unwrap();
    assert_eq!(retry, clean.on_image_push().run(push_event("v2", 2)).await.unwrap());
    let id = retry.started[0].clone();
    assert_eq!(announced(&w, &id), [Pending]);
    assert_eq!(w.executions.started(), clean.executions.started());
    assert_eq!(w.decisions.all(), clean.decisions.all());
    assert_eq!(w.record(&id).await, clean.record(&id).await);
}

#[tokio::test]
async fn a_push_retried_after_its_run_started_starts_nothing_new() {
    let w = world(None).await;
    w.images.push("web", "v2", &digest(2), w.clock.now());
    let f = Faults::of(&w);
    // StartExecution went through; its answer was lost.
    f.executions.fuse.arm((), Lost::Answer);
    failed(f.on_image_push().run(push_event("v2", 2)).await);
    let retry = f.on_image_push().run(push_event("v2", 2)).await.unwrap();
    assert_eq!(retry.duplicates.len(), 1);
    let id = &retry.duplicates[0];
    assert_eq!(w.executions.started().len(), 1);
    assert_eq!(w.store.all().len(), 1);
    assert_eq!(announced(&w, id), [Pending]);
    assert_eq!(moves(&w.record(id).await), [Pending]);
}

#[tokio::test]
async fn a_reconcile_pass_after_start_execution_failed_starts_the_run_once() {
    let (w, clean) = twins(None).await;
    for w in [&w, &clean] {
        // Pushed, its event lost.
        w.images.push("web", "v2", &digest(2), w.clock.now());
    }
    let f = Faults::of(&w);
    f.executions.fuse.arm((), Lost::Request);
    failed(f.reconcile().run(ReconcileInput).await);
    let retry = f.reconcile().run(ReconcileInput).await.unwrap();
    assert_eq!(retry, clean.reconcile().run(ReconcileInput).await.unwrap());
    assert_eq!(w.executions.started(), clean.executions.started());
    let id = retry.started[0].clone();
    assert_eq!(w.record(&id).await, clean.record(&id).await);
    assert!(announced(&w, &id).iter().all(|s| *s == Pending), "PENDING, at least once");
    // The next pass finds it deployed: nothing new.
    assert_eq!(f.reconcile().run(ReconcileInput).await.unwrap().started, Vec::<DeploymentId>::new());
}

// ------------------------------------------------------------------ on-ecs-event

#[tokio::test]
async fn an_ecs_event_retried_after_its_verdict_was_recorded_resumes_the_run_once_with_it() {
    for lost in [Lost::Request, Lost::Answer] {
        let (w, clean) = twins(None).await;
        for w in [&w, &clean] {
            let (id, up) = rolling(w, "v2", 2).await;
            let td = w.record(&id).await.new_task_definition.unwrap();
            finish(w, &up.ecs_deployment_id, &td, "healthy");
        }
        let d = w.store.all()[0].clone();
        let signal = || {
            EcsEvent::Signal(EcsSignal::Deployment {
                service_arn: SERVICE_ARN.into(),
                deployment_id: d.ecs_deployment_id.clone().unwrap(),
                event_name: "SERVICE_DEPLOYMENT_COMPLETED".into(),
            })
        };
        let f = Faults::of(&w);
        // The verdict recorded; SendTaskSuccess failed, or went through and its answer was lost.
        f.callbacks.fuse.arm((), lost);
        failed(f.on_ecs_event().run(signal()).await);
        let retry = f.on_ecs_event().run(signal()).await.unwrap();
        let clean_report = clean.on_ecs_event().run(signal()).await.unwrap();
        assert_eq!(retry.matched, clean_report.matched);
        assert_eq!(w.callbacks.sent(), clean.callbacks.sent(), "resumed once, with the verdict: {lost:?}");
        assert_eq!(w.record(&d.deployment_id).await, clean.record(&d.deployment_id).await);
        assert_eq!(moves(&w.record(&d.deployment_id).await), [Pending, Registering, Updating, Waiting]);
    }
}

#[tokio::test]
async fn an_ecs_event_retried_after_the_end_of_its_look_failed_resumes_the_run_once() {
    for lost in [Lost::Request, Lost::Answer] {
        let (w, clean) = twins(None).await;
        for w in [&w, &clean] {
            let (id, up) = rolling(w, "v2", 2).await;
            let td = w.record(&id).await.new_task_definition.unwrap();
            finish(w, &up.ecs_deployment_id, &td, "healthy");
        }
        let d = w.store.all()[0].clone();
        let signal = || {
            EcsEvent::Signal(EcsSignal::Service {
                service_arn: SERVICE_ARN.into(),
                event_name: "SERVICE_STEADY_STATE".into(),
            })
        };
        let f = Faults::of(&w);
        // The run resumed; the write that ends the look (lease off, verdict
        // delivered) failed, or went through and its answer was lost.
        f.store.fuse.arm(Write::EndCheck, lost);
        failed(f.on_ecs_event().run(signal()).await);
        // EventBridge retries a minute later: a lease left behind has run out.
        w.clock.advance(Duration::minutes(1));
        let ecs_calls = w.ecs.calls().len();
        f.on_ecs_event().run(signal()).await.unwrap();
        clean.on_ecs_event().run(signal()).await.unwrap();
        assert_eq!(w.ecs.calls().len(), ecs_calls, "the verdict stands: ECS is not asked again ({lost:?})");
        assert_eq!(w.callbacks.sent(), clean.callbacks.sent(), "resumed once, with the verdict: {lost:?}");
        assert_eq!(w.record(&d.deployment_id).await, clean.record(&d.deployment_id).await, "{lost:?}");
    }
}

// ------------------------------------------------------------------ verify-hook

#[tokio::test]
async fn a_hook_invocation_retried_after_its_answer_was_recorded_answers_the_same_and_moves_nothing() {
    let (w, clean) = twins(None).await;
    let mut payload = Value::Null;
    for w in [&w, &clean] {
        w.ecs.set_alternate_target_groups("demo", "web", &[GREEN]);
        let id = registered(w, "v2", 2).await;
        let up = update(w, &id).await;
        let td = w.record(&id).await.new_task_definition.unwrap();
        let ips = w.ecs.start_tasks(&up.ecs_deployment_id, &td, 2);
        w.elb.set(
            GREEN,
            ips.into_iter()
                .map(|id| TargetView { id, port: Some(80), state: aws_state("healthy"), ..Default::default() })
                .collect(),
        );
        let sd = w.ecs.service_deployment_of(&up.ecs_deployment_id).unwrap();
        payload = json!({
            "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5",
            "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "resourceArn": sd.arn,
            "executionDetails": {
                "serviceArn": SERVICE_ARN,
                "targetServiceRevisionArn": sd.target.unwrap().arn,
                "testTrafficWeights": {},
                "productionTrafficWeights": {}
            }
        });
    }
    let id = w.store.all()[0].deployment_id.clone();
    let f = Faults::of(&w);
    // The answer written to the record; the invocation then failed, and ECS invokes the hook again.
    f.store.fuse.arm(Write::Hook, Lost::Answer);
    // (Parsed and run, not through `steps::handle`: its span is what
    // `spans.rs` watches from its own thread.)
    let invocation = || HookInvocation::parse(payload.clone()).unwrap();
    failed(f.verify_hook().run(invocation()).await);
    let retry = f.verify_hook().run(invocation()).await.unwrap();
    assert_eq!(retry, clean.verify_hook().run(invocation()).await.unwrap());
    let d = w.record(&id).await;
    assert_eq!(d.status, Waiting);
    assert_eq!(d.hook_verdict, clean.record(&id).await.hook_verdict);
    // Each answer is a line of its own in the status it was given in; no move.
    assert_eq!(transitions(&d), [Pending, Registering, Updating, Waiting]);
}
