use std::sync::Mutex;

use crate::domain::DeployTarget;
use crate::error::Result;
use crate::ports::DeployTargets;

#[derive(Debug, Default)]
pub struct MemoryTargets(Mutex<Vec<DeployTarget>>);

fn same_key(t: &DeployTarget, repository: &str, target_id: &str) -> bool {
    t.repository == repository && t.target_id == target_id
}

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
        all.retain(|t| !same_key(t, &target.repository, &target.target_id));
        all.push(target.clone());
        Ok(())
    }

    async fn create(&self, target: &DeployTarget) -> Result<bool> {
        target.validate()?;
        let mut all = super::lock(&self.0);
        if all.iter().any(|t| same_key(t, &target.repository, &target.target_id)) {
            return Ok(false);
        }
        all.push(target.clone());
        Ok(true)
    }

    async fn remove(&self, repository: &str, target_id: &str) -> Result<bool> {
        let mut all = super::lock(&self.0);
        let before = all.len();
        all.retain(|t| !same_key(t, repository, target_id));
        Ok(all.len() < before)
    }

    async fn set_enabled(&self, repository: &str, target_id: &str, enabled: bool) -> Result<Option<DeployTarget>> {
        let mut all = super::lock(&self.0);
        Ok(all.iter_mut().find(|t| same_key(t, repository, target_id)).map(|t| {
            t.enabled = enabled;
            t.clone()
        }))
    }
}
