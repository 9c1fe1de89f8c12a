//! The deploy-targets table: partition key `repository`, sort key `targetId`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::errors::classify;
use crate::DeployError;
use crate::domain::DeployTarget;
use crate::error::Result;
use crate::ports::DeployTargets;

#[derive(Debug, Clone)]
pub struct DynamoTargets {
    client: Client,
    table: String,
}

impl DynamoTargets {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

/// The rows that parse; the others are skipped with a log line.
fn parse_rows(items: Vec<HashMap<String, AttributeValue>>, targets: &mut Vec<DeployTarget>) {
    for item in items {
        match from_item::<DeployTarget>(item) {
            Ok(t) => targets.push(t),
            Err(e) => tracing::warn!(error = %e, "skipping a deploy target that does not parse"),
        }
    }
}

impl DeployTargets for DynamoTargets {
    async fn for_repository(&self, repository: &str) -> Result<Vec<DeployTarget>> {
        let mut targets = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#r = :r")
                .expression_attribute_names("#r", "repository")
                .expression_attribute_values(":r", AttributeValue::S(repository.to_owned()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Query deploy targets", e))?;
            parse_rows(page.items.unwrap_or_default(), &mut targets);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(targets);
            }
        }
    }

    async fn all(&self) -> Result<Vec<DeployTarget>> {
        let mut targets = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Scan deploy targets", e))?;
            parse_rows(page.items.unwrap_or_default(), &mut targets);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(targets);
            }
        }
    }

    async fn put(&self, target: &DeployTarget) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(target)?))
            .send()
            .await
            .map_err(|e| classify("PutItem deploy target", e))?;
        Ok(())
    }

    async fn create(&self, target: &DeployTarget) -> Result<bool> {
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(target)?))
            .condition_expression("attribute_not_exists(#t)")
            .expression_attribute_names("#t", "targetId")
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("PutItem deploy target", e)),
        }
    }

    async fn remove(&self, repository: &str, target_id: &str) -> Result<bool> {
        let sent = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(repository, target_id)))
            .condition_expression("attribute_exists(#t)")
            .expression_attribute_names("#t", "targetId")
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("DeleteItem deploy target", e)),
        }
    }

    async fn set_enabled(&self, repository: &str, target_id: &str, enabled: bool) -> Result<Option<DeployTarget>> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(repository, target_id)))
            .update_expression("SET #e = :e")
            .condition_expression("attribute_exists(#t)")
            .expression_attribute_names("#e", "enabled")
            .expression_attribute_names("#t", "targetId")
            .expression_attribute_values(":e", AttributeValue::Bool(enabled))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match sent {
            Ok(out) => from_item(out.attributes.unwrap_or_default())
                .map(Some)
                .map_err(|e| DeployError::InvalidInput(format!("deploy target {repository}/{target_id}: {e}"))),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(classify("UpdateItem deploy target", e)),
        }
    }
}

/// A valid target as an item (`InvalidInput` otherwise).
fn item(target: &DeployTarget) -> Result<HashMap<String, AttributeValue>> {
    target.validate()?;
    to_item(target).map_err(|e| DeployError::InvalidInput(e.to_string()))
}

fn key(repository: &str, target_id: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("repository".to_owned(), AttributeValue::S(repository.to_owned())),
        ("targetId".to_owned(), AttributeValue::S(target_id.to_owned())),
    ])
}
