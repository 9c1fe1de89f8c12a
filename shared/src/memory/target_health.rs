use std::collections::HashMap;
use std::sync::Mutex;

use crate::DeployError;
use crate::domain::TargetView;
use crate::error::Result;
use crate::ports::TargetHealth;

#[derive(Debug, Default)]
pub struct MemoryTargetHealth(Mutex<HashMap<String, Vec<TargetView>>>);

impl MemoryTargetHealth {
    pub fn set(&self, target_group_arn: &str, targets: Vec<TargetView>) {
        super::lock(&self.0).insert(target_group_arn.to_owned(), targets);
    }
}

impl TargetHealth for MemoryTargetHealth {
    async fn describe(&self, target_group_arn: &str) -> Result<Vec<TargetView>> {
        super::lock(&self.0)
            .get(target_group_arn)
            .cloned()
            .ok_or_else(|| DeployError::Aws(format!("TargetGroupNotFound: {target_group_arn}")))
    }
}
