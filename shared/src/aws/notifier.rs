//! Announcements: EventBridge for machines, SNS for people.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::errors::classify;
use crate::DeployError;
use crate::domain::{DeploymentStateChange, EVENT_DETAIL_TYPE, EVENT_SOURCE, HumanMessage};
use crate::error::Result;
use crate::ports::Notifier;

#[derive(Debug, Clone)]
pub struct AwsNotifier {
    events: aws_sdk_eventbridge::Client,
    sns: aws_sdk_sns::Client,
    event_bus: String,
    topic_arn: String,
}

impl AwsNotifier {
    pub fn new(
        events: aws_sdk_eventbridge::Client,
        sns: aws_sdk_sns::Client,
        event_bus: impl Into<String>,
        topic_arn: impl Into<String>,
    ) -> Self {
        Self { events, sns, event_bus: event_bus.into(), topic_arn: topic_arn.into() }
    }
}

impl Notifier for AwsNotifier {
    async fn publish(&self, change: &DeploymentStateChange, human: Option<&HumanMessage>) -> Result<()> {
        let detail = serde_json::to_string(change).map_err(|e| DeployError::Aws(e.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.event_bus)
            .source(EVENT_SOURCE)
            .detail_type(EVENT_DETAIL_TYPE)
            .detail(detail)
            .build();
        let out = self.events.put_events().entries(entry).send().await.map_err(|e| classify("PutEvents", e))?;
        if out.failed_entry_count() > 0 {
            let why = out
                .entries()
                .iter()
                .find_map(|e| e.error_code().map(|c| format!("{c}: {}", e.error_message().unwrap_or_default())))
                .unwrap_or_default();
            return Err(DeployError::Retryable(format!("PutEvents failed: {why}")));
        }
        if let Some(m) = human {
            self.sns
                .publish()
                .topic_arn(&self.topic_arn)
                .subject(&m.subject)
                .message(&m.body)
                .message_attributes(
                    "status",
                    aws_sdk_sns::types::MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(change.status.as_str())
                        .build()
                        .map_err(|e| DeployError::Aws(e.to_string()))?,
                )
                .send()
                .await
                .map_err(|e| classify("SNS Publish", e))?;
        }
        Ok(())
    }
}
