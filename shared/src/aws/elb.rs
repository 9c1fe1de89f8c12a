//! Elastic Load Balancing v2 target health.

use aws_sdk_elasticloadbalancingv2::Client;

use super::errors::classify;
use crate::domain::{TargetView, aws_state};
use crate::error::Result;
use crate::ports::TargetHealth;

#[derive(Debug, Clone)]
pub struct ElbTargetHealth {
    client: Client,
}

impl ElbTargetHealth {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl TargetHealth for ElbTargetHealth {
    async fn describe(&self, target_group_arn: &str) -> Result<Vec<TargetView>> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| classify("DescribeTargetHealth", e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetView {
                id: d.target().and_then(|t| t.id()).unwrap_or_default().to_owned(),
                port: d.target().and_then(|t| t.port()),
                state: aws_state(d.target_health().and_then(|h| h.state()).map_or("", |s| s.as_str())),
                reason: d.target_health().and_then(|h| h.reason()).map(|r| aws_state(r.as_str())),
                task_arn: None,
            })
            .collect())
    }
}
