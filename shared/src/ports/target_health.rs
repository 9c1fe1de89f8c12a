use std::future::Future;

use crate::domain::TargetView;
use crate::error::Result;

/// Elastic Load Balancing target health.
pub trait TargetHealth: Send + Sync {
    /// Every target registered in the group with its health state.
    fn describe(&self, target_group_arn: &str) -> impl Future<Output = Result<Vec<TargetView>>> + Send;
}
