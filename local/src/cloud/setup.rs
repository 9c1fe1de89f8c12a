//! Creates the template's resources in moto: tables, event bus, topic,
//! queues, the state machine with its substitutions resolved.

use serde_json::{Map, Value, json};

use super::template::{Template, TemplateError};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{0}: {1}")]
    Call(String, String),
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
    endpoint: &str,
    region: &str,
    service: &str,
    target: &str,
    body: &Value,
) -> Result<Value, SetupError> {
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
        .map_err(|e| SetupError::Call(target.into(), e.to_string()))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| SetupError::Call(target.into(), e.to_string()))?;
    if !status.is_success() {
        return Err(SetupError::Call(target.into(), format!("HTTP {status}: {text}")));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn pick(props: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter().filter_map(|k| props.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect()
}

pub async fn create_all(t: &Template, moto: &str) -> Result<Created, SetupError> {
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
        call(&http, moto, &region, "dynamodb", "DynamoDB_20120810.CreateTable", &Value::Object(req)).await?;
        if let Some(ttl) = props.get("TimeToLiveSpecification") {
            call(
                &http,
                moto,
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
        call(&http, moto, &region, "events", "AWSEvents.CreateEventBus", &json!({"Name": name})).await?;
        created.buses.push(name);
    }
    for (id, _) in t.of_type("AWS::SQS::Queue") {
        let name = t.physical_name(id)?;
        call(&http, moto, &region, "sqs", "AmazonSQS.CreateQueue", &json!({"QueueName": name})).await?;
        created.queues.push(name);
    }
    for (id, _) in t.of_type("AWS::SNS::Topic") {
        let name = t.physical_name(id)?;
        // SNS speaks awsQuery.
        let resp = http
            .post(moto)
            .header("Authorization", format!("AWS4-HMAC-SHA256 Credential=test/20260101/{region}/sns/aws4_request, SignedHeaders=host, Signature=0"))
            .form(&[("Action", "CreateTopic"), ("Version", "2010-03-31"), ("Name", name.as_str())])
            .send()
            .await
            .map_err(|e| SetupError::Call("SNS CreateTopic".into(), e.to_string()))?;
        if !resp.status().is_success() {
            return Err(SetupError::Call("SNS CreateTopic".into(), resp.text().await.unwrap_or_default()));
        }
        created.topics.push(name);
    }
    for (id, _) in t.of_type("AWS::Serverless::StateMachine") {
        let name = t.physical_name(id)?;
        let definition = t.state_machine_definition(id)?;
        let role = format!("arn:aws:iam::{}:role/{}-{id}Role", t.stack.account, t.stack.name);
        call(
            &http,
            moto,
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
