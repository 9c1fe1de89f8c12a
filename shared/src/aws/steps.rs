//! The steps as deployed: each built once per process from the SDK
//! configuration and the variables `template.yaml` gives its function.

use aws_config::SdkConfig;

use super::SfnExecutions;
use super::wiring::{self, FromVars};
use super::{
    AwsNotifier, CloudWatchAlarms, DynamoDecisions, DynamoDeployments, DynamoLocks, DynamoTargets, EcrImages,
    EcsClient, ElbTargetHealth, ReqwestProbe, SfnCallbacks, SfnRuns,
};
use crate::DeployError;
use crate::config::{self, Vars};
use crate::ports::SystemClock;
use crate::steps::{self, Timing, lease};

pub type OnImagePush = steps::OnImagePush<
    DynamoTargets,
    EcrImages,
    DynamoDeployments,
    SfnExecutions,
    AwsNotifier,
    SystemClock,
    DynamoDecisions,
>;
pub type Reconcile = steps::Reconcile<
    DynamoTargets,
    EcrImages,
    DynamoDeployments,
    SfnExecutions,
    AwsNotifier,
    SystemClock,
    DynamoDecisions,
>;
pub type ClaimService =
    steps::ClaimService<DynamoDeployments, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock, SfnRuns>;
pub type AwaitService = steps::AwaitService<DynamoDeployments>;
pub type RegisterRevision =
    steps::RegisterRevision<DynamoDeployments, EcsClient, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock>;
pub type UpdateService = steps::UpdateService<DynamoDeployments, EcsClient, AwsNotifier, SystemClock>;
pub type AwaitRollout = steps::AwaitRollout<DynamoDeployments, DynamoLocks, SystemClock>;
pub type CheckRollout = steps::CheckRollout<
    DynamoDeployments,
    EcsClient,
    ElbTargetHealth,
    CloudWatchAlarms,
    DynamoLocks,
    AwsNotifier,
    SystemClock,
>;
pub type RollBack = steps::RollBack<DynamoDeployments, EcsClient, AwsNotifier, SystemClock>;
pub type RecordOutcome = steps::RecordOutcome<DynamoDeployments, DynamoLocks, SfnCallbacks, AwsNotifier, SystemClock>;
pub type OnEcsEvent = steps::OnEcsEvent<
    DynamoDeployments,
    EcsClient,
    ElbTargetHealth,
    CloudWatchAlarms,
    SfnCallbacks,
    AwsNotifier,
    SystemClock,
>;

pub type VerifyHook = steps::VerifyHook<
    DynamoDeployments,
    EcsClient,
    ElbTargetHealth,
    CloudWatchAlarms,
    ReqwestProbe,
    AwsNotifier,
    SystemClock,
>;

pub type RequestApproval =
    steps::RequestApproval<DynamoDeployments, DynamoLocks, SfnCallbacks, EcsClient, AwsNotifier, SystemClock>;
pub type DecideApproval = steps::DecideApproval<DynamoDeployments, EcsClient, SfnCallbacks, AwsNotifier, SystemClock>;

pub type Operate = steps::Operate<
    DynamoTargets,
    EcrImages,
    EcsClient,
    DynamoLocks,
    SfnCallbacks,
    DynamoDeployments,
    SfnExecutions,
    AwsNotifier,
    SystemClock,
    DynamoDecisions,
>;

/// What `on-image-push`, `reconcile` and `operate` launch deployments with.
type Launcher = steps::Launcher<DynamoDeployments, SfnExecutions, AwsNotifier, SystemClock, DynamoDecisions>;

fn launcher(config: &SdkConfig, vars: &impl Vars) -> Result<Launcher, DeployError> {
    Ok(Launcher {
        store: wiring::deployments(config, vars)?,
        executions: wiring::executions(config, vars)?,
        notifier: wiring::notifier(config, vars)?,
        clock: SystemClock,
        decisions: wiring::decisions(config, vars)?,
        coalesce_seconds: config::coalesce_seconds(vars)?,
    })
}

impl FromVars for OnImagePush {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            targets: wiring::targets(config, vars)?,
            images: wiring::images(config, vars)?,
            launcher: launcher(config, vars)?,
            registry: config::stack_registry(vars)?,
        })
    }
}

impl FromVars for Reconcile {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            targets: wiring::targets(config, vars)?,
            images: wiring::images(config, vars)?,
            launcher: launcher(config, vars)?,
            registry: config::stack_registry(vars)?,
        })
    }
}

impl FromVars for ClaimService {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            poll_interval: config::poll_interval(vars)?,
            runs: SfnRuns::new(aws_sdk_sfn::Client::new(config)),
        })
    }
}

impl FromVars for AwaitService {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self { store: wiring::deployments(config, vars)? })
    }
}

impl FromVars for RegisterRevision {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

impl FromVars for UpdateService {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            timing: Timing { timeout: config::rollout_timeout(vars)?, poll_interval: config::poll_interval(vars)? },
        })
    }
}

impl FromVars for AwaitRollout {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            clock: SystemClock,
            lease: lease(config::poll_interval(vars)?),
        })
    }
}

impl FromVars for CheckRollout {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            alarms: wiring::alarms(config),
            locks: wiring::locks(config, vars)?,
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            lease: lease(config::poll_interval(vars)?),
            poll_interval: config::poll_interval(vars)?,
            approval_endpoint: wiring::approval_endpoint(vars)?,
        })
    }
}

impl FromVars for RollBack {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            timing: Timing { timeout: config::rollback_timeout(vars)?, poll_interval: config::poll_interval(vars)? },
        })
    }
}

impl FromVars for RecordOutcome {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

impl FromVars for OnEcsEvent {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            alarms: wiring::alarms(config),
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            approval_endpoint: wiring::approval_endpoint(vars)?,
        })
    }
}

impl FromVars for VerifyHook {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            elb: wiring::elb(config),
            alarms: wiring::alarms(config),
            http: ReqwestProbe::new()?,
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

impl FromVars for RequestApproval {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            ecs: wiring::ecs(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
            endpoint: wiring::approval_endpoint(vars)?,
        })
    }
}

impl FromVars for DecideApproval {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            store: wiring::deployments(config, vars)?,
            ecs: wiring::ecs(config),
            callbacks: wiring::callbacks(config),
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

impl FromVars for Operate {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        let (account, region) = config::stack_home(vars)?;
        Ok(Self {
            targets: wiring::targets(config, vars)?,
            images: wiring::images(config, vars)?,
            ecs: wiring::ecs(config),
            locks: wiring::locks(config, vars)?,
            callbacks: wiring::callbacks(config),
            launcher: launcher(config, vars)?,
            account,
            region,
        })
    }
}
