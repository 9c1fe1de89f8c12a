use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::DeploymentId;
use crate::error::Result;

/// What the service runs, as far as our deployments know: the newest one that
/// succeeded. A push older than this never deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    pub deployment_id: DeploymentId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the service until `release` (or the lease runs out).
    /// `previous_owner` is set when an expired lease was taken over.
    Acquired { previous_owner: Option<DeploymentId> },
    /// Another deployment holds it.
    Busy { owner: DeploymentId, lease_until: DateTime<Utc> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceLockState {
    pub owner: Option<DeploymentId>,
    pub lease_until: Option<DateTime<Utc>>,
    pub serving: Option<Serving>,
}

/// One lock per service: at most one of our rollouts in flight on it.
pub trait ServiceLocks: Send + Sync {
    /// Takes the lock if it is free, ours already, or its lease ended before
    /// `now` (a run that died); otherwise `Busy`.
    fn acquire(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim>> + Send;

    /// Extends the lease; `false` if the caller no longer holds the lock.
    fn renew(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Frees the lock if the caller holds it (no-op otherwise), recording
    /// `serving` when the caller's deployment succeeded.
    fn release(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        serving: Option<&Serving>,
    ) -> impl Future<Output = Result<()>> + Send;

    fn state(&self, service_key: &str) -> impl Future<Output = Result<ServiceLockState>> + Send;
}
