//! EventBridge events the simulator emits, and where they go.
//!
//! Shapes follow the ECS Developer Guide, "Amazon ECS events" (samples in
//! `shared/aws-events/`): `source: aws.ecs`, detail-types "ECS Deployment State Change",
//! "ECS Service Action" and "ECS Task State Change".

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::sim::clock::{SimTime, iso_millis, iso_seconds};

pub const DEPLOYMENT_STATE_CHANGE: &str = "ECS Deployment State Change";
pub const SERVICE_ACTION: &str = "ECS Service Action";
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
/// ECS Developer Guide, "Amazon ECS deployment lifecycle hook state change events".
pub const HOOK_STATE_CHANGE: &str = "ECS Hook State Change";

/// Receives every event the simulator emits, in order.
///
/// Called with the simulator locked: implementations must not block or call back into
/// the simulator (queue the event instead).
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Value);
}

/// Forwards events into an unbounded channel (tests, in-process consumers).
pub struct ChannelSink(pub mpsc::UnboundedSender<Value>);

impl EventSink for ChannelSink {
    fn emit(&self, event: &Value) {
        // A dropped receiver just means nobody listens any more.
        let _ = self.0.send(event.clone());
    }
}

/// Calls a closure for every event.
pub struct FnSink<F>(pub F);

impl<F: Fn(&Value) + Send + Sync> EventSink for FnSink<F> {
    fn emit(&self, event: &Value) {
        (self.0)(event)
    }
}

/// Wraps a closure as a shareable sink.
pub fn callback(f: impl Fn(&Value) + Send + Sync + 'static) -> Arc<dyn EventSink> {
    Arc::new(FnSink(f))
}

/// The EventBridge envelope around a detail.
pub fn envelope(
    id: &str,
    account: &str,
    region: &str,
    time: SimTime,
    detail_type: &str,
    resources: Vec<String>,
    detail: Value,
) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": account,
        "time": iso_seconds(time),
        "region": region,
        "resources": resources,
        "detail": detail,
    })
}

/// `detail` of an ECS Deployment State Change event.
pub fn deployment_detail(event_name: &str, deployment_id: &str, now: SimTime, reason: &str) -> Value {
    let event_type = if event_name == "SERVICE_DEPLOYMENT_FAILED" { "ERROR" } else { "INFO" };
    json!({
        "eventType": event_type,
        "eventName": event_name,
        "deploymentId": deployment_id,
        "updatedAt": iso_seconds(now),
        "reason": reason,
    })
}

/// `detail` of an ECS Service Action event.
pub fn service_action_detail(event_type: &str, event_name: &str, cluster_arn: &str, now: SimTime) -> Value {
    json!({
        "eventType": event_type,
        "eventName": event_name,
        "clusterArn": cluster_arn,
        "createdAt": iso_millis(now),
    })
}
