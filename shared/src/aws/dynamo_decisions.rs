//! The push-decisions table: partition key `repository`, sort key
//! `decisionKey` ([`PushDecision::key`]), TTL `expiresAt`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::errors::classify;
use crate::DeployError;
use crate::domain::PushDecision;
use crate::error::Result;
use crate::ports::PushDecisions;

const SORT_KEY: &str = "decisionKey";

#[derive(Debug, Clone)]
pub struct DynamoDecisions {
    client: Client,
    table: String,
}

impl DynamoDecisions {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

impl PushDecisions for DynamoDecisions {
    async fn record(&self, decision: &PushDecision) -> Result<()> {
        let mut item = to_item(decision).map_err(|e| DeployError::InvalidInput(e.to_string()))?;
        item.insert(SORT_KEY.into(), AttributeValue::S(decision.key()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("PutItem push decision", e))?;
        Ok(())
    }

    async fn find(
        &self,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PushDecision>> {
        // One repository's decisions are one partition; the filter keeps the
        // asked-for tag or digest (the reconciler's items carry both too).
        let mut filters = Vec::new();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#r = :r")
            .expression_attribute_names("#r", "repository")
            .expression_attribute_values(":r", AttributeValue::S(repository.to_owned()));
        if let Some(tag) = tag {
            filters.push("#t = :t");
            query = query
                .expression_attribute_names("#t", "tag")
                .expression_attribute_values(":t", AttributeValue::S(tag.to_owned()));
        }
        if let Some(digest) = digest {
            filters.push("#d = :d");
            query = query
                .expression_attribute_names("#d", "digest")
                .expression_attribute_values(":d", AttributeValue::S(digest.to_owned()));
        }
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Query push decisions", e))?;
            for item in page.items.unwrap_or_default() {
                match from_item::<PushDecision>(item) {
                    Ok(d) => found.push(d),
                    Err(e) => tracing::warn!(repository, error = %e, "skipping a push decision that does not parse"),
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        found.sort_by_key(|d| std::cmp::Reverse(d.decided_at));
        found.truncate(limit);
        Ok(found)
    }
}
