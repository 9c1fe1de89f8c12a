use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{DeploymentId, Freeze};
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
    /// A person froze the service: no rollout starts (unless the caller's
    /// deployment may pass a freeze).
    Frozen(Freeze),
}

/// Whether a claim respects a freeze of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeRule {
    /// A push: it waits while the service is frozen.
    Respect,
    /// A forced manual deploy or a rollback: a freeze does not stop it.
    Pass,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceLockState {
    pub owner: Option<DeploymentId>,
    pub lease_until: Option<DateTime<Utc>>,
    pub serving: Option<Serving>,
    /// Set while a person holds the service's rollouts.
    pub frozen: Option<Freeze>,
}

/// One lock per service: at most one of our rollouts in flight on it.
pub trait ServiceLocks: Send + Sync {
    /// Takes the lock if it is ours already, or if it is free or its lease
    /// ended before `now` (a run that died) and the service is not frozen
    /// (or `rule` passes a freeze); otherwise `Busy` or `Frozen`. The freeze
    /// is part of the same conditional write, so a freeze and a claim
    /// cannot both win.
    fn acquire(
        &self,
        service_key: &str,
        owner: &DeploymentId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        rule: FreezeRule,
    ) -> impl Future<Output = Result<Claim>> + Send;

    /// Freezes the service; returns the freeze in force, which is the
    /// earlier one when it was frozen already (a repeated call changes nothing).
    fn freeze(&self, service_key: &str, freeze: &Freeze) -> impl Future<Output = Result<Freeze>> + Send;

    /// Ends a freeze; returns the freeze it ended (`None`: it was not frozen).
    fn unfreeze(&self, service_key: &str) -> impl Future<Output = Result<Option<Freeze>>> + Send;

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
