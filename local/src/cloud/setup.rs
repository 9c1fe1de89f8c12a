//! Creates the template's resources in moto: tables, event bus, topic,
//! queues, the state machine with its substitutions resolved.

use serde_json::{Map, Value, json};

use super::moto::MotoEndpoints;
use super::template::{Template, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// moto could not be reached, or its answer could not be read.
    #[error("{call}: {source}")]
    Unreachable { call: String, source: reqwest::Error },
    /// moto answered with an error status.
    #[error("{call}: HTTP {status}: {body}")]
    Refused { call: String, status: reqwest::StatusCode, body: String },
}

impl SetupError {
    fn unreachable(call: &str) -> impl FnOnce(reqwest::Error) -> Self + '_ {
        move |source| Self::Unreachable { call: call.to_owned(), source }
    }
}

/// What was created, for printing and for tests.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub tables: Vec<String>,
    pub buses: Vec<String>,
    pub topics: Vec<String>,
    pub queues: Vec<String>,
    pub state_machines: Vec<String>,
}

/// A JSON-protocol call to moto (signature-free; moto reads the region from
/// the credential scope of the Authorization header).
async fn call(
    http: &reqwest::Client,
    motos: &MotoEndpoints,
    region: &str,
    service: &str,
    target: &str,
    body: &Value,
) -> Result<Value, SetupError> {
    let endpoint = motos.of(service);
    // DynamoDB, EventBridge, SQS and Step Functions all speak awsJson1_0.
    let content_type = "application/x-amz-json-1.0";
    let resp = http
        .post(endpoint)
        .header("X-Amz-Target", target)
        .header("Content-Type", content_type)
        .header("Authorization", format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"))
        .body(body.to_string())
        .send()
        .await
        .map_err(SetupError::unreachable(target))?;
    let status = resp.status();
    let text = resp.text().await.map_err(SetupError::unreachable(target))?;
    if !status.is_success() {
        return Err(SetupError::Refused { call: target.into(), status, body: text });
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn pick(props: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter().filter_map(|k| props.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect()
}

pub async fn create_all(t: &Template, motos: &MotoEndpoints) -> Result<Created, SetupError> {
    let http = reqwest::Client::new();
    let region = t.stack.region.clone();
    let mut created = Created::default();

    for (id, r) in t.of_type("AWS::DynamoDB::Table") {
        let props = t.resolve(&r.properties)?;
        let name = t.physical_name(id)?;
        let mut req = pick(
            &props,
            &[
                "KeySchema",
                "AttributeDefinitions",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "BillingMode",
                "ProvisionedThroughput",
                "StreamSpecification",
            ],
        );
        req.insert("TableName".into(), json!(name));
        call(&http, motos, &region, "dynamodb", "DynamoDB_20120810.CreateTable", &Value::Object(req)).await?;
        if let Some(ttl) = props.get("TimeToLiveSpecification") {
            call(
                &http,
                motos,
                &region,
                "dynamodb",
                "DynamoDB_20120810.UpdateTimeToLive",
                &json!({"TableName": name, "TimeToLiveSpecification": ttl}),
            )
            .await?;
        }
        created.tables.push(name);
    }
    for (id, _) in t.of_type("AWS::Events::EventBus") {
        let name = t.physical_name(id)?;
        call(&http, motos, &region, "events", "AWSEvents.CreateEventBus", &json!({"Name": name})).await?;
        created.buses.push(name);
    }
    for (id, _) in t.of_type("AWS::SQS::Queue") {
        let name = t.physical_name(id)?;
        call(&http, motos, &region, "sqs", "AmazonSQS.CreateQueue", &json!({"QueueName": name})).await?;
        created.queues.push(name);
    }
    for (id, _) in t.of_type("AWS::SNS::Topic") {
        let name = t.physical_name(id)?;
        // SNS speaks awsQuery.
        let resp = http
            .post(motos.of("sns"))
            .header("Authorization", format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/sns/aws4_request, SignedHeaders=host, Signature=0"))
            .form(&[("Action", "CreateTopic"), ("Version", "2010-03-31"), ("Name", name.as_str())])
            .send()
            .await
            .map_err(SetupError::unreachable("SNS CreateTopic"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.map_err(SetupError::unreachable("SNS CreateTopic"))?;
            return Err(SetupError::Refused { call: "SNS CreateTopic".into(), status, body });
        }
        created.topics.push(name);
    }
    for (id, _) in t.of_type("AWS::Serverless::StateMachine") {
        let name = t.physical_name(id)?;
        let definition = t.state_machine_definition(id)?;
        let role = format!("arn:aws:iam::{}:role/{}-{id}Role", t.stack.account, t.stack.name);
        call(
            &http,
            motos,
            &region,
            "states",
            "AWSStepFunctions.CreateStateMachine",
            &json!({"name": name, "definition": definition, "roleArn": role, "type": "STANDARD"}),
        )
        .await?;
        created.state_machines.push(name);
    }
    Ok(created)
}
