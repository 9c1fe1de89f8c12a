//! Function configuration from the environment `template.yaml` sets.

use chrono::Duration;

use crate::DeployError;

/// A required environment variable.
pub fn required(name: &str) -> Result<String, DeployError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(DeployError::InvalidInput(format!("environment variable {name} is not set"))),
    }
}

/// A whole number of seconds, with a default when unset.
pub fn seconds(name: &str, default: i64) -> Result<Duration, DeployError> {
    match std::env::var(name) {
        Err(_) => Ok(Duration::seconds(default)),
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::seconds)
            .ok_or_else(|| DeployError::InvalidInput(format!("{name}={v:?} is not a positive number of seconds"))),
    }
}

pub const DEPLOYMENTS_TABLE: &str = "DEPLOYMENTS_TABLE";
pub const TARGETS_TABLE: &str = "TARGETS_TABLE";
pub const STATE_MACHINE_ARN: &str = "STATE_MACHINE_ARN";
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const NOTIFICATION_TOPIC_ARN: &str = "NOTIFICATION_TOPIC_ARN";
pub const ROLLOUT_TIMEOUT_SECONDS: &str = "ROLLOUT_TIMEOUT_SECONDS";
pub const ROLLBACK_TIMEOUT_SECONDS: &str = "ROLLBACK_TIMEOUT_SECONDS";
pub const POLL_INTERVAL_SECONDS: &str = "POLL_INTERVAL_SECONDS";
pub const DEFAULT_POLL_INTERVAL: i64 = 60;
pub const DEFAULT_ROLLOUT_TIMEOUT: i64 = 1800;
pub const DEFAULT_ROLLBACK_TIMEOUT: i64 = 1800;
