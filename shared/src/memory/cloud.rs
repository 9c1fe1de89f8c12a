//! Every port's in-memory twin in one place, and each step built from them:
//! the whole pipeline without AWS, as the tests drive it.

use super::{
    FakeEcs, ManualClock, MemoryAlarms, MemoryDecisions, MemoryHttp, MemoryLocks, MemoryRegistry, MemoryRuns,
    MemoryStore, MemoryTargetHealth, MemoryTargets, RecordingCallbacks, RecordingExecutions, RecordingNotifier,
};
use crate::domain::{ApprovalEndpoint, HookAnswer, HookInvocation};
use crate::events::EcrEvent;
use crate::steps::{
    ApprovalCall, ApprovalRequestInput, AwaitInput, AwaitOutput, AwaitRollout, AwaitService, AwaitServiceInput,
    AwaitServiceOutput, CheckInput, CheckOutput, CheckRollout, ClaimInput, ClaimOutput, ClaimService, DecideApproval,
    DeploymentInput, EcsEvent, GateOutput, Launcher, OnEcsEvent, OnImagePush, Operate, OutcomeInput, OutcomeOutput,
    PushReport, Reconcile, ReconcileInput, ReconcileReport, RecordOutcome, RegisterOutput, RegisterRevision,
    RequestApproval, RollBack, RollBackInput, RollBackOutput, Settings, SignalReport, Step, UpdateOutput,
    UpdateService, UrlCall, VerifyHook,
};

/// The twins share one store, one ECS and one clock, so steps built from the
/// same cloud see each other's writes as the deployed functions do.
#[derive(Debug)]
pub struct MemoryCloud {
    pub targets: MemoryTargets,
    /// ECR of the stack's account and region (and any other a test pushes to).
    pub images: MemoryRegistry,
    pub decisions: MemoryDecisions,
    pub store: MemoryStore,
    pub executions: RecordingExecutions,
    pub notifier: RecordingNotifier,
    pub ecs: FakeEcs,
    pub elb: MemoryTargetHealth,
    pub alarms: MemoryAlarms,
    /// What the verification hook's HTTP check gets.
    pub http: MemoryHttp,
    pub callbacks: RecordingCallbacks,
    pub locks: MemoryLocks,
    /// The executions that are still running (the others have stopped).
    pub runs: MemoryRuns,
    pub clock: ManualClock,
    pub settings: Settings,
    /// The stack's own registry.
    pub registry: String,
}

/// The account and region of AWS's documented samples and of the local cloud.
pub const MEMORY_REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub const MEMORY_ACCOUNT: &str = "123456789012";
pub const MEMORY_REGION: &str = "us-east-1";
/// The approval URL the twins' steps announce.
pub const MEMORY_APPROVAL_URL: &str = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/";

fn memory_endpoint() -> ApprovalEndpoint {
    ApprovalEndpoint { url: MEMORY_APPROVAL_URL.to_owned(), region: MEMORY_REGION.to_owned() }
}

impl Default for MemoryCloud {
    fn default() -> Self {
        Self {
            targets: MemoryTargets::default(),
            images: MemoryRegistry::new(MEMORY_ACCOUNT, MEMORY_REGION),
            decisions: MemoryDecisions::default(),
            store: MemoryStore::default(),
            executions: RecordingExecutions::default(),
            notifier: RecordingNotifier::default(),
            ecs: FakeEcs::default(),
            elb: MemoryTargetHealth::default(),
            alarms: MemoryAlarms::default(),
            http: MemoryHttp::default(),
            callbacks: RecordingCallbacks::default(),
            locks: MemoryLocks::default(),
            runs: MemoryRuns::default(),
            clock: ManualClock::default(),
            settings: Settings::default(),
            registry: MEMORY_REGISTRY.into(),
        }
    }
}

impl MemoryCloud {
    pub fn on_image_push(&self) -> impl Step<Input = EcrEvent, Output = PushReport> + '_ {
        OnImagePush {
            targets: &self.targets,
            images: &self.images,
            launcher: self.launcher(),
            registry: self.registry.clone(),
        }
    }

    pub fn reconcile(&self) -> impl Step<Input = ReconcileInput, Output = ReconcileReport> + '_ {
        Reconcile {
            targets: &self.targets,
            images: &self.images,
            launcher: self.launcher(),
            registry: self.registry.clone(),
        }
    }

    /// What `on-image-push` and `reconcile` launch deployments with.
    pub fn launcher(
        &self,
    ) -> Launcher<&MemoryStore, &RecordingExecutions, &RecordingNotifier, &ManualClock, &MemoryDecisions> {
        Launcher {
            store: &self.store,
            executions: &self.executions,
            notifier: &self.notifier,
            clock: &self.clock,
            decisions: &self.decisions,
            coalesce_seconds: self.settings.coalesce_seconds,
        }
    }

    pub fn claim_service(&self) -> impl Step<Input = ClaimInput, Output = ClaimOutput> + '_ {
        ClaimService {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
            poll_interval: self.settings.poll_interval,
            runs: &self.runs,
        }
    }

    pub fn await_service(&self) -> impl Step<Input = AwaitServiceInput, Output = AwaitServiceOutput> + '_ {
        AwaitService { store: &self.store }
    }

    pub fn register_revision(&self) -> impl Step<Input = DeploymentInput, Output = RegisterOutput> + '_ {
        RegisterRevision {
            store: &self.store,
            ecs: &self.ecs,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        }
    }

    pub fn update_service(&self) -> impl Step<Input = DeploymentInput, Output = UpdateOutput> + '_ {
        UpdateService {
            store: &self.store,
            ecs: &self.ecs,
            notifier: &self.notifier,
            clock: &self.clock,
            timing: self.settings.rollout(),
        }
    }

    pub fn await_rollout(&self) -> impl Step<Input = AwaitInput, Output = AwaitOutput> + '_ {
        AwaitRollout { store: &self.store, locks: &self.locks, clock: &self.clock, lease: self.settings.lease() }
    }

    pub fn check_rollout(&self) -> impl Step<Input = CheckInput, Output = CheckOutput> + '_ {
        CheckRollout {
            store: &self.store,
            ecs: &self.ecs,
            elb: &self.elb,
            alarms: &self.alarms,
            locks: &self.locks,
            notifier: &self.notifier,
            clock: &self.clock,
            lease: self.settings.lease(),
            poll_interval: self.settings.poll_interval,
            approval_endpoint: Some(memory_endpoint()),
        }
    }

    pub fn roll_back(&self) -> impl Step<Input = RollBackInput, Output = RollBackOutput> + '_ {
        RollBack {
            store: &self.store,
            ecs: &self.ecs,
            notifier: &self.notifier,
            clock: &self.clock,
            timing: self.settings.rollback(),
        }
    }

    pub fn record_outcome(&self) -> impl Step<Input = OutcomeInput, Output = OutcomeOutput> + '_ {
        RecordOutcome {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        }
    }

    pub fn on_ecs_event(&self) -> impl Step<Input = EcsEvent, Output = SignalReport> + '_ {
        OnEcsEvent {
            store: &self.store,
            ecs: &self.ecs,
            elb: &self.elb,
            alarms: &self.alarms,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
            approval_endpoint: Some(memory_endpoint()),
        }
    }

    pub fn request_approval(&self) -> impl Step<Input = ApprovalRequestInput, Output = GateOutput> + '_ {
        RequestApproval {
            store: &self.store,
            locks: &self.locks,
            callbacks: &self.callbacks,
            ecs: &self.ecs,
            notifier: &self.notifier,
            clock: &self.clock,
            endpoint: Some(memory_endpoint()),
        }
    }

    pub fn decide_approval(
        &self,
    ) -> impl Step<Input = ApprovalCall, Output = aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse> + '_
    {
        DecideApproval {
            store: &self.store,
            ecs: &self.ecs,
            callbacks: &self.callbacks,
            notifier: &self.notifier,
            clock: &self.clock,
        }
    }

    pub fn operate(
        &self,
    ) -> impl Step<Input = UrlCall, Output = aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse> + '_
    {
        Operate {
            targets: &self.targets,
            images: &self.images,
            ecs: &self.ecs,
            locks: &self.locks,
            callbacks: &self.callbacks,
            launcher: self.launcher(),
            account: MEMORY_ACCOUNT.to_owned(),
            region: MEMORY_REGION.to_owned(),
        }
    }

    pub fn verify_hook(&self) -> impl Step<Input = HookInvocation, Output = HookAnswer> + '_ {
        VerifyHook {
            store: &self.store,
            ecs: &self.ecs,
            elb: &self.elb,
            alarms: &self.alarms,
            http: &self.http,
            notifier: &self.notifier,
            clock: &self.clock,
        }
    }
}
