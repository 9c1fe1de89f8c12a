//! `on-image-push`: an ECR `PUSH` event becomes one deployment record and one
//! state machine run per matching deploy target. DELETE and FAILURE events are
//! logged and ignored; malformed events are a `MalformedEvent` error with
//! nothing written.

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::wiring::FromVars;
use autodeploy_shared::aws::{AwsNotifier, DynamoDeployments, DynamoTargets, SdkConfig, SfnExecutions, wiring};
use autodeploy_shared::config::{COALESCE_SECONDS, DEFAULT_COALESCE_SECONDS, Vars, seconds_or_zero};
use autodeploy_shared::events::{EcrEvent, parse_ecr_event};
use autodeploy_shared::ports::{Clock, DeployTargets, DeploymentStore, Executions, Notifier, SystemClock};
use autodeploy_shared::usecases::{PushReport, on_image_push};
use serde_json::Value;

pub struct Deps<T, S, X, N, C> {
    /// Seconds a run waits for the rest of a burst before it takes the service.
    pub coalesce_seconds: i64,
    pub targets: T,
    pub store: S,
    pub executions: X,
    pub notifier: N,
    pub clock: C,
}

impl FromVars for Deps<DynamoTargets, DynamoDeployments, SfnExecutions, AwsNotifier, SystemClock> {
    fn from_vars(config: &SdkConfig, vars: &impl Vars) -> Result<Self, DeployError> {
        Ok(Self {
            coalesce_seconds: seconds_or_zero(vars, COALESCE_SECONDS, DEFAULT_COALESCE_SECONDS)?,
            targets: wiring::targets(config, vars)?,
            store: wiring::deployments(config, vars)?,
            executions: wiring::executions(config, vars)?,
            notifier: wiring::notifier(config, vars)?,
            clock: SystemClock,
        })
    }
}

pub async fn handler<T, S, X, N, C>(deps: &Deps<T, S, X, N, C>, payload: Value) -> Result<PushReport, DeployError>
where
    T: DeployTargets,
    S: DeploymentStore,
    X: Executions,
    N: Notifier,
    C: Clock,
{
    match parse_ecr_event(payload)? {
        EcrEvent::Ignored(what) => {
            tracing::info!(%what, "not a successful push: ignored");
            Ok(PushReport::default())
        }
        EcrEvent::Push(push) => {
            let report = on_image_push(
                &push,
                deps.coalesce_seconds,
                &deps.targets,
                &deps.store,
                &deps.executions,
                &deps.notifier,
                &deps.clock,
            )
            .await?;
            if report.started.is_empty() && report.duplicates.is_empty() {
                tracing::info!(repository = %push.repository, tag = ?push.tag, "no deploy target matches this push");
            }
            Ok(report)
        }
    }
}
