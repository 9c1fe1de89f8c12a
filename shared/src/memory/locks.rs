use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::{DeploymentId, Freeze};
use crate::error::Result;
use crate::ports::{Claim, FreezeRule, ServiceLockState, ServiceLocks, Serving};

/// Service locks in a map, with the adapter's conditional semantics.
#[derive(Debug, Default)]
pub struct MemoryLocks(Mutex<HashMap<String, ServiceLockState>>);

impl ServiceLocks for MemoryLocks {
    async fn acquire(
        &self,
        key: &str,
        owner: &DeploymentId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        rule: FreezeRule,
    ) -> Result<Claim> {
        let mut map = super::lock(&self.0);
        let s = map.entry(key.to_owned()).or_default();
        if let Some(f) = &s.frozen
            && rule == FreezeRule::Respect
            && s.owner.as_ref() != Some(owner)
        {
            return Ok(Claim::Frozen(f.clone()));
        }
        match (&s.owner, s.lease_until) {
            (Some(o), Some(lease)) if o != owner && lease >= now => {
                Ok(Claim::Busy { owner: o.clone(), lease_until: lease })
            }
            (previous, _) => {
                let previous_owner = previous.clone().filter(|o| o != owner);
                s.owner = Some(owner.clone());
                s.lease_until = Some(until);
                Ok(Claim::Acquired { previous_owner })
            }
        }
    }

    async fn renew(&self, key: &str, owner: &DeploymentId, until: DateTime<Utc>) -> Result<bool> {
        let mut map = super::lock(&self.0);
        match map.get_mut(key) {
            Some(s) if s.owner.as_ref() == Some(owner) => {
                s.lease_until = Some(until);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, key: &str, owner: &DeploymentId, serving: Option<&Serving>) -> Result<()> {
        let mut map = super::lock(&self.0);
        if let Some(s) = map.get_mut(key).filter(|s| s.owner.as_ref() == Some(owner)) {
            s.owner = None;
            s.lease_until = None;
            if let Some(v) = serving {
                s.serving = Some(v.clone());
            }
        }
        Ok(())
    }

    async fn freeze(&self, key: &str, freeze: &Freeze) -> Result<Freeze> {
        let mut map = super::lock(&self.0);
        let s = map.entry(key.to_owned()).or_default();
        Ok(s.frozen.get_or_insert_with(|| freeze.clone()).clone())
    }

    async fn unfreeze(&self, key: &str) -> Result<Option<Freeze>> {
        Ok(super::lock(&self.0).get_mut(key).and_then(|s| s.frozen.take()))
    }

    async fn state(&self, key: &str) -> Result<ServiceLockState> {
        Ok(super::lock(&self.0).get(key).cloned().unwrap_or_default())
    }
}
