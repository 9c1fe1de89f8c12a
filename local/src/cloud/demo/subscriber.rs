//! A subscriber, set up the way a user of the stack would: one SQS queue on
//! the deployment bus (machine-readable state changes) and one on the SNS
//! topic (the messages people get).

use autodeploy_shared::aws::SdkConfig;
use autodeploy_shared::domain::{DeploymentStatus, EVENT_SOURCE};
use aws_sdk_eventbridge::error::BuildError;
use aws_sdk_eventbridge::types::PutTargetsResultEntry;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cloud::template::TemplateError;
use crate::cloud::{CallError, Cloud};

const BUS_QUEUE: &str = "demo-deployment-events";
const TOPIC_QUEUE: &str = "demo-notifications";
const RULE: &str = "demo-deployment-events";

/// One message a subscriber received.
#[derive(Debug, Clone)]
pub enum Notification {
    /// A `Deployment State Change` from the bus.
    Bus { deployment_id: String, status: DeploymentStatus, tag: Option<String> },
    /// A message from the SNS topic.
    Sns { subject: String, message: String },
}

/// The part of a `Deployment State Change` event the demo shows (three
/// fields, not the whole `DeploymentStateChange` schema).
#[derive(Deserialize)]
struct StateChange {
    detail: StateChangeDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateChangeDetail {
    deployment_id: String,
    status: DeploymentStatus,
    tag: Option<String>,
}

/// The two queues and where they listen.
pub struct Subscriber {
    sqs: aws_sdk_sqs::Client,
    bus_queue: String,
    topic_queue: String,
    pub bus: String,
    pub topic_arn: String,
}

/// Why subscribing or receiving failed.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// The bus or the topic could not be found in the template.
    #[error("{what}: {source}")]
    Template { what: &'static str, source: TemplateError },
    #[error("the NotificationTopic reference is not a string")]
    TopicNotString,
    #[error(transparent)]
    Call(#[from] CallError),
    /// A call succeeded but its answer lacks what the next call needs.
    #[error("{operation} returned no {what}")]
    Incomplete { operation: &'static str, what: &'static str },
    #[error("Target: {0}")]
    Target(BuildError),
    #[error("PutTargets: {0:?}")]
    TargetsFailed(Vec<PutTargetsResultEntry>),
}

impl Subscriber {
    /// Creates the queues, a rule on the stack's bus matching every event the
    /// stack publishes with the queue as target, and an SNS subscription.
    pub async fn subscribe(cloud: &Cloud, sdk: &SdkConfig) -> Result<Self, SubscriberError> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let events = aws_sdk_eventbridge::Client::new(sdk);
        let sns = aws_sdk_sns::Client::new(sdk);
        let bus = cloud
            .template
            .physical_name("DeploymentEventBus")
            .map_err(|source| SubscriberError::Template { what: "event bus", source })?;
        let topic_arn = cloud
            .template
            .resolve(&json!({"Ref": "NotificationTopic"}))
            .map_err(|source| SubscriberError::Template { what: "topic", source })?
            .as_str()
            .ok_or(SubscriberError::TopicNotString)?
            .to_owned();

        let (bus_queue, bus_queue_arn) = create_queue(&sqs, BUS_QUEUE).await?;
        let (topic_queue, topic_queue_arn) = create_queue(&sqs, TOPIC_QUEUE).await?;

        events
            .put_rule()
            .name(RULE)
            .event_bus_name(&bus)
            .event_pattern(json!({"source": [EVENT_SOURCE]}).to_string())
            .send()
            .await
            .map_err(CallError::of("PutRule"))?;
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("queue")
            .arn(&bus_queue_arn)
            .build()
            .map_err(SubscriberError::Target)?;
        let put = events
            .put_targets()
            .rule(RULE)
            .event_bus_name(&bus)
            .targets(target)
            .send()
            .await
            .map_err(CallError::of("PutTargets"))?;
        if put.failed_entry_count() > 0 {
            return Err(SubscriberError::TargetsFailed(put.failed_entries().to_vec()));
        }
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&topic_queue_arn)
            .send()
            .await
            .map_err(CallError::of("SNS Subscribe"))?;
        Ok(Self { sqs, bus_queue, topic_queue, bus, topic_arn })
    }

    /// Whatever arrived since the last call (received, then deleted).
    pub async fn receive(&self) -> Result<Vec<Notification>, SubscriberError> {
        let mut out = Vec::new();
        for body in self.drain(&self.bus_queue).await? {
            // Skipped like a body that is not JSON: a detail without a status the domain knows.
            let Ok(StateChange { detail }) = serde_json::from_str(&body) else { continue };
            out.push(Notification::Bus { deployment_id: detail.deployment_id, status: detail.status, tag: detail.tag });
        }
        for body in self.drain(&self.topic_queue).await? {
            // SNS wraps the message in its JSON envelope (no raw delivery).
            let Ok(envelope) = serde_json::from_str::<Value>(&body) else { continue };
            let text = |k: &str| envelope.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            out.push(Notification::Sns { subject: text("Subject"), message: text("Message") });
        }
        Ok(out)
    }

    async fn drain(&self, queue: &str) -> Result<Vec<String>, SubscriberError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(CallError::of("ReceiveMessage"))?;
        let mut bodies = Vec::new();
        for m in out.messages() {
            if let Some(handle) = m.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(CallError::of("DeleteMessage"))?;
            }
            bodies.extend(m.body().map(str::to_owned));
        }
        Ok(bodies)
    }
}

/// Creates a queue; returns its URL and ARN.
async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String), SubscriberError> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(CallError::of("CreateQueue"))?
        .queue_url()
        .ok_or(SubscriberError::Incomplete { operation: "CreateQueue", what: "URL" })?
        .to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(CallError::of("GetQueueAttributes"))?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .ok_or(SubscriberError::Incomplete { operation: "GetQueueAttributes", what: "QueueArn" })?
        .to_owned();
    Ok((url, arn))
}
