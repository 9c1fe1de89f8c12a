//! Incoming EventBridge events (ECR, ECS, CloudWatch) turned into step
//! inputs. `aws_lambda_events` has the envelope (`EventBridgeEvent`) but not
//! these `detail` shapes, so they are typed here from AWS's documented samples.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::DeployError;
use crate::domain::{
    AlarmStateValue, ECR_TAG_MAX, EcrActionResult, EcrActionType, ImageDigest, TaskStatus, is_ecr_repository_name,
};
use crate::error::{clip, quote};
use crate::steps::{EcsSignal, ImagePush};

/// Reads `what` (an event, a step's input) from a payload that must be a
/// JSON object: serde would also read a struct from a JSON array, field by
/// field, so anything else is a `MalformedEvent` first.
pub(crate) fn from_object<T: serde::de::DeserializeOwned>(payload: Value, what: &str) -> Result<T, DeployError> {
    if !payload.is_object() {
        return Err(DeployError::malformed(format!("{what} is a JSON object, not {}", kind(&payload))));
    }
    serde_json::from_value(payload).map_err(DeployError::malformed)
}

fn event(payload: Value) -> Result<EventBridgeEvent<Value>, DeployError> {
    from_object(payload, "an event")
}

/// What a JSON value is, for an error message that does not echo it.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `ECR Image Action` detail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct EcrImageAction {
    action_type: EcrActionType,
    result: EcrActionResult,
    repository_name: String,
    #[serde(default)]
    image_digest: Option<String>,
    #[serde(default)]
    image_tag: Option<String>,
    #[serde(default)]
    manifest_media_type: Option<String>,
    #[serde(default)]
    artifact_media_type: Option<String>,
}

/// What an incoming ECR event means for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcrEvent {
    Push(ImagePush),
    /// Not a successful push (DELETE, FAILURE, ...): logged and ignored.
    Ignored(String),
}

/// Parses an `aws.ecr` / `ECR Image Action` event. Anything that is not that
/// event, or is a successful push without repository or digest, is `MalformedEvent`.
pub fn parse_ecr_event(payload: Value) -> Result<EcrEvent, DeployError> {
    let event = event(payload)?;
    if event.source != "aws.ecr" || event.detail_type != "ECR Image Action" {
        return Err(DeployError::malformed(format!(
            "expected aws.ecr ECR Image Action, got {} {}",
            event.source, event.detail_type
        )));
    }
    let detail: EcrImageAction = serde_json::from_value(event.detail).map_err(DeployError::malformed)?;
    // What ECR would never send is refused before anything quotes or stores it.
    if !is_ecr_repository_name(&detail.repository_name) {
        return Err(DeployError::malformed(format!(
            "repository-name {} is not an ECR repository name",
            quote(&detail.repository_name)
        )));
    }
    if detail.action_type != EcrActionType::Push || detail.result != EcrActionResult::Success {
        return Ok(EcrEvent::Ignored(clip(&format!(
            "{} {} of {}",
            detail.action_type, detail.result, detail.repository_name
        ))));
    }
    if let Some(tag) = detail.image_tag.as_deref().filter(|t| t.len() > ECR_TAG_MAX) {
        return Err(DeployError::malformed(format!(
            "image-tag {} is longer than ECR's {ECR_TAG_MAX} characters",
            quote(tag)
        )));
    }
    let digest = ImageDigest::parse(
        detail.image_digest.as_deref().ok_or_else(|| DeployError::malformed("push without image-digest"))?,
    )?;
    let account =
        event.account.filter(|a| !a.is_empty()).ok_or_else(|| DeployError::malformed("event without account"))?;
    let region =
        event.region.filter(|r| !r.is_empty()).ok_or_else(|| DeployError::malformed("event without region"))?;
    Ok(EcrEvent::Push(ImagePush {
        account,
        region,
        repository: detail.repository_name,
        digest,
        tag: detail.image_tag.filter(|t| !t.is_empty()),
        claimed_at: event.time,
        manifest_media_type: detail.manifest_media_type,
        artifact_media_type: detail.artifact_media_type,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcsDeploymentDetail {
    event_name: String,
    deployment_id: String,
}

/// `ECS Hook State Change`: a lifecycle hook of a service deployment moved.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcsHookDetail {
    event_name: String,
    service_arn: String,
    service_deployment_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcsServiceActionDetail {
    event_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcsTaskDetail {
    cluster_arn: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    started_by: Option<String>,
    last_status: TaskStatus,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDetail {
    alarm_name: String,
    state: AlarmState,
    #[serde(default)]
    configuration: Option<AlarmConfiguration>,
}

#[derive(Debug, Deserialize)]
struct AlarmState {
    value: AlarmStateValue,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
struct AlarmConfiguration {
    #[serde(default)]
    metrics: Vec<AlarmMetric>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmMetric {
    #[serde(default)]
    metric_stat: Option<MetricStat>,
}

#[derive(Debug, Deserialize)]
struct MetricStat {
    metric: Metric,
}

#[derive(Debug, Deserialize)]
struct Metric {
    #[serde(default)]
    dimensions: std::collections::BTreeMap<String, String>,
}

/// Parses the events `on-ecs-event` receives. `Ok(None)` for events that are
/// well formed but say nothing we act on (an alarm going back to OK, a task
/// not started by a service).
pub fn parse_ecs_event(payload: Value) -> Result<Option<EcsSignal>, DeployError> {
    let event = event(payload)?;
    let first_resource = || {
        event
            .resources
            .as_ref()
            .and_then(|r| r.first().cloned())
            .ok_or_else(|| DeployError::malformed(format!("{} without resources", event.detail_type)))
    };
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.ecs", "ECS Deployment State Change") => {
            let d: EcsDeploymentDetail =
                serde_json::from_value(event.detail.clone()).map_err(DeployError::malformed)?;
            Ok(Some(EcsSignal::Deployment {
                service_arn: first_resource()?,
                deployment_id: d.deployment_id,
                event_name: d.event_name,
            }))
        }
        ("aws.ecs", "ECS Service Action") => {
            let d: EcsServiceActionDetail =
                serde_json::from_value(event.detail.clone()).map_err(DeployError::malformed)?;
            Ok(Some(EcsSignal::Service { service_arn: first_resource()?, event_name: d.event_name }))
        }
        ("aws.ecs", "ECS Hook State Change") => {
            let d: EcsHookDetail = serde_json::from_value(event.detail).map_err(DeployError::malformed)?;
            Ok(Some(EcsSignal::Hook {
                service_arn: d.service_arn,
                service_deployment_arn: d.service_deployment_arn,
                event_name: d.event_name,
            }))
        }
        ("aws.ecs", "ECS Task State Change") => {
            let d: EcsTaskDetail = serde_json::from_value(event.detail).map_err(DeployError::malformed)?;
            let Some(service) = d.group.as_deref().and_then(|g| g.strip_prefix("service:")) else {
                return Ok(None);
            };
            Ok(Some(EcsSignal::Task {
                cluster_arn: d.cluster_arn,
                service: service.to_owned(),
                started_by: d.started_by,
                last_status: d.last_status,
            }))
        }
        ("aws.cloudwatch", "CloudWatch Alarm State Change") => {
            let d: AlarmDetail = serde_json::from_value(event.detail).map_err(DeployError::malformed)?;
            if d.state.value != AlarmStateValue::Alarm {
                return Ok(None);
            }
            let target_groups = d
                .configuration
                .map(|c| c.metrics)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.metric_stat.and_then(|s| s.metric.dimensions.get("TargetGroup").cloned()))
                .collect();
            Ok(Some(EcsSignal::Alarm { alarm_name: d.alarm_name, reason: d.state.reason, target_groups }))
        }
        (source, kind) => Err(DeployError::malformed(format!("unexpected event {source} {kind}"))),
    }
}
