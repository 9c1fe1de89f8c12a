//! Service locks, kept in the deployments table under `deploymentId =
//! lock#<cluster>/<service>` (no GSI key attributes, so no index sees them).
//! `leaseUntil` is epoch milliseconds. A freeze is the map `frozen` on the
//! same item, so that a claim's conditional write sees it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::errors::classify;
use crate::DeployError;
use crate::domain::{DeploymentId, Freeze};
use crate::error::Result;
use crate::ports::{Claim, FreezeRule, ServiceLockState, ServiceLocks, Serving};

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
        frozen: frozen(item)?,
    })
}

fn frozen(item: &std::collections::HashMap<String, AttributeValue>) -> Result<Option<Freeze>> {
    item.get("frozen")
        .map(|v| {
            serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(v.clone())
                .map_err(|e| DeployError::Aws(format!("service lock item, frozen: {e}")))
        })
        .transpose()
}

impl ServiceLocks for DynamoLocks {
    async fn acquire(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        rule: FreezeRule,
    ) -> Result<Claim> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .update_expression("SET #owner = :me, #lease = :until");
        req = match rule {
            FreezeRule::Pass => req.condition_expression("attribute_not_exists(#owner) OR #owner = :me OR #lease < :now"),
            FreezeRule::Respect => req
                .condition_expression(
                    "#owner = :me OR ((attribute_not_exists(#owner) OR #lease < :now) AND attribute_not_exists(#frozen))",
                )
                .expression_attribute_names("#frozen", "frozen"),
        };
        let sent = req
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
                if let (Some(f), FreezeRule::Respect) = (state.frozen, rule) {
                    return Ok(Claim::Frozen(f));
                }
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

    async fn freeze(&self, service_key: &str, freeze: &Freeze) -> Result<Freeze> {
        let value = serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(freeze)
            .map_err(|e| DeployError::InvalidInput(format!("freeze of {service_key}: {e}")))?;
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .update_expression("SET #frozen = if_not_exists(#frozen, :f)")
            .expression_attribute_names("#frozen", "frozen")
            .expression_attribute_values(":f", value)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| classify("UpdateItem freeze", e))?;
        let item = out.attributes.unwrap_or_default();
        frozen(&item)?.ok_or_else(|| DeployError::Aws(format!("freeze of {service_key} was not kept")))
    }

    async fn unfreeze(&self, service_key: &str) -> Result<Option<Freeze>> {
        let sent = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", Self::key(service_key))
            .update_expression("REMOVE #frozen")
            .condition_expression("attribute_exists(#frozen)")
            .expression_attribute_names("#frozen", "frozen")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match sent {
            Ok(out) => frozen(&out.attributes.unwrap_or_default()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(classify("UpdateItem unfreeze", e)),
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
