//! An [`EventSink`] that forwards events to an EventBridge `PutEvents` endpoint (the
//! local cloud's event bus), batching up to 10 entries per call as PutEvents allows.

use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::sim::events::EventSink;

/// PutEvents accepts at most 10 entries per request.
const MAX_BATCH: usize = 10;

/// Sends events to `PutEvents` on a background task; delivery failures are logged.
pub struct EventBridgeSink {
    tx: mpsc::UnboundedSender<Value>,
}

impl EventBridgeSink {
    /// Starts the forwarder. Must be called inside a Tokio runtime. The endpoint is local,
    /// so requests are signed with static placeholder credentials.
    pub fn spawn(endpoint_url: &str, region: &str, event_bus_name: &str) -> Self {
        let config = aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint_url)
            .credentials_provider(Credentials::new("test", "test", None, None, "autodeploy-local"))
            .http_client(autodeploy_shared::aws::https_client())
            .build();
        let client = aws_sdk_eventbridge::Client::from_conf(config);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(forward(client, rx, event_bus_name.to_string()));
        Self { tx }
    }
}

impl EventSink for EventBridgeSink {
    fn emit(&self, event: &Value) {
        let _ = self.tx.send(event.clone());
    }
}

async fn forward(client: aws_sdk_eventbridge::Client, mut rx: mpsc::UnboundedReceiver<Value>, bus: String) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let entries: Vec<PutEventsRequestEntry> = batch.iter().map(|e| entry(e, &bus)).collect();
        match client.put_events().set_entries(Some(entries)).send().await {
            Ok(out) if out.failed_entry_count() > 0 => {
                tracing::warn!(failed = out.failed_entry_count(), "PutEvents rejected some simulator events")
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "PutEvents failed")
            }
        }
    }
}

fn entry(event: &Value, bus: &str) -> PutEventsRequestEntry {
    let text = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let resources = event
        .get("resources")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect());
    let time =
        chrono::DateTime::parse_from_rfc3339(&text("time")).ok().map(|t| DateTime::from_millis(t.timestamp_millis()));
    PutEventsRequestEntry::builder()
        .source(text("source"))
        .detail_type(text("detail-type"))
        .detail(event.get("detail").map(Value::to_string).unwrap_or_default())
        .set_resources(resources)
        .set_time(time)
        .event_bus_name(bus)
        .build()
}
