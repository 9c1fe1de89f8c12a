//! The deploy-targets table: partition key `repository`, sort key `targetId`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
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
        target.validate()?;
        let item = to_item(target).map_err(|e| DeployError::InvalidInput(e.to_string()))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("PutItem deploy target", e))?;
        Ok(())
    }
}
