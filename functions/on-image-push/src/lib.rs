//! `on-image-push`: an ECR `PUSH` event becomes one deployment record and one
//! state machine run per matching deploy target. DELETE and FAILURE events are
//! logged and ignored; malformed events are a `MalformedEvent` error with
//! nothing written.

use autodeploy_shared::aws::{wiring, AwsNotifier, DynamoDeployments, DynamoTargets, SdkConfig, SfnExecutions};
use autodeploy_shared::events::{parse_ecr_event, EcrEvent};
use autodeploy_shared::ports::{Clock, DeployTargets, DeploymentStore, Executions, Notifier, SystemClock};
use autodeploy_shared::usecases::{on_image_push, PushReport};
use autodeploy_shared::DeployError;
use serde_json::Value;

pub struct Deps<T, S, X, N, C> {
    pub targets: T,
    pub store: S,
    pub executions: X,
    pub notifier: N,
    pub clock: C,
}

impl Deps<DynamoTargets, DynamoDeployments, SfnExecutions, AwsNotifier, SystemClock> {
    pub fn from_env(config: &SdkConfig) -> Result<Self, DeployError> {
        Ok(Self {
            targets: wiring::targets(config)?,
            store: wiring::deployments(config)?,
            executions: wiring::executions(config)?,
            notifier: wiring::notifier(config)?,
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
            let report = on_image_push(&push, &deps.targets, &deps.store, &deps.executions, &deps.notifier, &deps.clock).await?;
            if report.started.is_empty() && report.duplicates.is_empty() {
                tracing::info!(repository = %push.repository, tag = ?push.tag, "no deploy target matches this push");
            }
            Ok(report)
        }
    }
}
