use std::collections::HashMap;
use std::sync::Mutex;

use crate::DeployError;
use crate::domain::TargetView;
use crate::error::Result;
use crate::ports::TargetHealth;

#[derive(Debug, Default)]
pub struct MemoryTargetHealth {
    groups: Mutex<HashMap<String, Vec<TargetView>>>,
    /// The target groups described, in order.
    calls: Mutex<Vec<String>>,
}

impl MemoryTargetHealth {
    pub fn set(&self, target_group_arn: &str, targets: Vec<TargetView>) {
        super::lock(&self.groups).insert(target_group_arn.to_owned(), targets);
    }

    /// The target groups `DescribeTargetHealth` was asked about, in order.
    pub fn calls(&self) -> Vec<String> {
        super::lock(&self.calls).clone()
    }
}

impl TargetHealth for MemoryTargetHealth {
    async fn describe(&self, target_group_arn: &str) -> Result<Vec<TargetView>> {
        super::lock(&self.calls).push(target_group_arn.to_owned());
        super::lock(&self.groups)
            .get(target_group_arn)
            .cloned()
            .ok_or_else(|| DeployError::Aws(format!("TargetGroupNotFound: {target_group_arn}")))
    }
}
