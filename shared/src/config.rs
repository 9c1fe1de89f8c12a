//! Function configuration: the environment `template.yaml` gives each function.
//! Read through [`Vars`], so the local cloud can hand each function exactly
//! the variables the template sets for it instead of the process environment.

use std::collections::HashMap;

use chrono::Duration;

use crate::DeployError;

/// Where configuration comes from.
pub trait Vars {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment (what Lambda gives a function).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Vars for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The stack's name (`STACK_NAME`, set for every function): the `Stack`
/// dimension of its metrics.
pub fn stack_name(vars: &impl Vars) -> Option<String> {
    vars.var("STACK_NAME").filter(|s| !s.is_empty())
}

/// A required variable.
pub fn required(vars: &impl Vars, name: &str) -> Result<String, DeployError> {
    match vars.var(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(DeployError::InvalidInput(format!("environment variable {name} is not set"))),
    }
}

/// A whole number of seconds ≥ 0, with a default when unset.
pub fn seconds_or_zero(vars: &impl Vars, name: &str, default: i64) -> Result<i64, DeployError> {
    match vars.var(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(|| DeployError::InvalidInput(format!("{name}={v:?} is not a number of seconds"))),
    }
}

/// A positive whole number of seconds, with a default when unset.
pub fn seconds(vars: &impl Vars, name: &str, default: i64) -> Result<Duration, DeployError> {
    match vars.var(name) {
        None => Ok(Duration::seconds(default)),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::seconds)
            .ok_or_else(|| DeployError::InvalidInput(format!("{name}={v:?} is not a positive number of seconds"))),
    }
}

/// `POLL_INTERVAL_SECONDS`: the slow poll.
pub fn poll_interval(vars: &impl Vars) -> Result<Duration, DeployError> {
    seconds(vars, POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL)
}

/// `ROLLOUT_TIMEOUT_SECONDS`: how long a rollout may take.
pub fn rollout_timeout(vars: &impl Vars) -> Result<Duration, DeployError> {
    seconds(vars, ROLLOUT_TIMEOUT_SECONDS, DEFAULT_ROLLOUT_TIMEOUT)
}

/// `ROLLBACK_TIMEOUT_SECONDS`: how long a rollback may take.
pub fn rollback_timeout(vars: &impl Vars) -> Result<Duration, DeployError> {
    seconds(vars, ROLLBACK_TIMEOUT_SECONDS, DEFAULT_ROLLBACK_TIMEOUT)
}

/// `COALESCE_SECONDS`: the burst window (0 turns it off).
pub fn coalesce_seconds(vars: &impl Vars) -> Result<i64, DeployError> {
    seconds_or_zero(vars, COALESCE_SECONDS, DEFAULT_COALESCE_SECONDS)
}

/// The stack's own ECR registry, from `STACK_ACCOUNT_ID` and `STACK_REGION`
/// (`AWS::AccountId`, `AWS::Region`): never from an event.
pub fn stack_registry(vars: &impl Vars) -> Result<String, DeployError> {
    Ok(crate::domain::ImageRef::ecr_registry(&required(vars, STACK_ACCOUNT_ID)?, &required(vars, STACK_REGION)?))
}

/// The stack's own account and region (`STACK_ACCOUNT_ID`, `STACK_REGION`).
pub fn stack_home(vars: &impl Vars) -> Result<(String, String), DeployError> {
    Ok((required(vars, STACK_ACCOUNT_ID)?, required(vars, STACK_REGION)?))
}

pub const DEPLOYMENTS_TABLE: &str = "DEPLOYMENTS_TABLE";
pub const DECISIONS_TABLE: &str = "DECISIONS_TABLE";
pub const STACK_ACCOUNT_ID: &str = "STACK_ACCOUNT_ID";
pub const STACK_REGION: &str = "STACK_REGION";
pub const TARGETS_TABLE: &str = "TARGETS_TABLE";
pub const STATE_MACHINE_ARN: &str = "STATE_MACHINE_ARN";
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
pub const NOTIFICATION_TOPIC_ARN: &str = "NOTIFICATION_TOPIC_ARN";
pub const ROLLOUT_TIMEOUT_SECONDS: &str = "ROLLOUT_TIMEOUT_SECONDS";
pub const ROLLBACK_TIMEOUT_SECONDS: &str = "ROLLBACK_TIMEOUT_SECONDS";
pub const POLL_INTERVAL_SECONDS: &str = "POLL_INTERVAL_SECONDS";
pub const DEFAULT_ROLLOUT_TIMEOUT: i64 = 1800;
pub const DEFAULT_ROLLBACK_TIMEOUT: i64 = 1800;
pub const DEFAULT_POLL_INTERVAL: i64 = 60;
pub const COALESCE_SECONDS: &str = "COALESCE_SECONDS";
/// The approval entry point's function URL (empty: the stack has none).
pub const APPROVAL_URL: &str = "APPROVAL_URL";
pub const DEFAULT_COALESCE_SECONDS: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_seconds() {
        let vars: HashMap<String, String> = [
            ("A".into(), "x".into()),
            ("EMPTY".into(), String::new()),
            ("S".into(), "90".into()),
            ("BAD".into(), "-1".into()),
        ]
        .into();
        assert_eq!(required(&vars, "A").unwrap(), "x");
        assert_eq!(required(&vars, "EMPTY").unwrap_err().error_type(), "InvalidInput");
        assert!(required(&vars, "MISSING").unwrap_err().to_string().contains("MISSING"));
        assert_eq!(seconds(&vars, "S", 5).unwrap(), Duration::seconds(90));
        assert_eq!(seconds(&vars, "UNSET", 5).unwrap(), Duration::seconds(5));
        assert!(seconds(&vars, "BAD", 5).is_err());
    }
}
