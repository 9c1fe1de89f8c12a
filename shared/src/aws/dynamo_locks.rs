//! Service locks, kept in the deployments table under `deploymentId =
//! lock#<cluster>/<service>` (no GSI key attributes, so no index sees them).
//! `leaseUntil` is epoch milliseconds.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::errors::classify;
use crate::DeployError;
use crate::domain::DeploymentId;
use crate::error::Result;
use crate::ports::{Claim, ServiceLockState, ServiceLocks, Serving};

#[derive(Debug, Clone)]
pub struct DynamoLocks {
    client: Client,
    table: String,
}

impl DynamoLocks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn key(service_key: &str) -> AttributeValue {
        AttributeValue::S(format!("lock#{service_key}"))
    }
}

fn millis(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(t.timestamp_millis().to_string())
}

/// A lock item names deployments by id; anything else in it is a corrupt item.
fn parse_state(item: Option<&std::collections::HashMap<String, AttributeValue>>) -> Result<ServiceLockState> {
    let Some(item) = item else { return Ok(ServiceLockState::default()) };
    let id = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .map(|s| DeploymentId::parse(s).map_err(|e| DeployError::Aws(format!("service lock item, {k}: {e}"))))
            .transpose()
    };
    Ok(ServiceLockState {
        owner: id("owner")?,
        lease_until: item
            .get("leaseUntil")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis),
        serving: id("servingDeploymentId")?.map(|deployment_id| Serving { deployment_id }),
    })
}

impl ServiceLocks for DynamoLocks {
    async fn acquire(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Claim> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .update_expression("SET #owner = :me, #lease = :until")
            .condition_expression("attribute_not_exists(#owner) OR #owner = :me OR #lease < :now")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#lease", "leaseUntil")
            .expression_attribute_values(":me", AttributeValue::S(owner.to_string()))
            .expression_attribute_values(":until", millis(until))
            .expression_attribute_values(":now", millis(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match sent {
            Ok(out) => {
                let previous = parse_state(out.attributes.as_ref())?.owner.filter(|o| o != owner);
                Ok(Claim::Acquired { previous_owner: previous })
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                let state = self.state(service_key).await?;
                match (state.owner, state.lease_until) {
                    (Some(owner), Some(lease_until)) => Ok(Claim::Busy { owner, lease_until }),
                    // Released between the two calls: the caller tries again.
                    _ => Err(DeployError::Retryable(format!("lock of {service_key} changed while claiming"))),
                }
            }
            Err(e) => Err(classify("UpdateItem service lock", e)),
        }
    }

    async fn renew(&self, service_key: &str, owner: &DeploymentId, until: DateTime<Utc>) -> Result<bool> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .update_expression("SET #lease = :until")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#lease", "leaseUntil")
            .expression_attribute_values(":me", AttributeValue::S(owner.to_string()))
            .expression_attribute_values(":until", millis(until))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("UpdateItem lease", e)),
        }
    }

    async fn release(&self, service_key: &str, owner: &DeploymentId, serving: Option<&Serving>) -> Result<()> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#lease", "leaseUntil")
            .expression_attribute_values(":me", AttributeValue::S(owner.to_string()));
        req = match serving {
            Some(s) => req
                .update_expression("REMOVE #owner, #lease SET #serving = :serving")
                .expression_attribute_names("#serving", "servingDeploymentId")
                .expression_attribute_values(":serving", AttributeValue::S(s.deployment_id.to_string())),
            None => req.update_expression("REMOVE #owner, #lease"),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(classify("UpdateItem release lock", e)),
        }
    }

    async fn state(&self, service_key: &str) -> Result<ServiceLockState> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem service lock", e))?;
        parse_state(out.item.as_ref())
    }
}
