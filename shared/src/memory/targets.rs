use std::sync::Mutex;

use crate::domain::DeployTarget;
use crate::error::Result;
use crate::ports::DeployTargets;

#[derive(Debug, Default)]
pub struct MemoryTargets(Mutex<Vec<DeployTarget>>);

impl DeployTargets for MemoryTargets {
    async fn for_repository(&self, repository: &str) -> Result<Vec<DeployTarget>> {
        Ok(super::lock(&self.0).iter().filter(|t| t.repository == repository).cloned().collect())
    }

    async fn all(&self) -> Result<Vec<DeployTarget>> {
        Ok(super::lock(&self.0).clone())
    }

    async fn put(&self, target: &DeployTarget) -> Result<()> {
        target.validate()?;
        let mut all = super::lock(&self.0);
        all.retain(|t| !(t.repository == target.repository && t.target_id == target.target_id));
        all.push(target.clone());
        Ok(())
    }
}
