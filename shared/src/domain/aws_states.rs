//! The states ECS and Elastic Load Balancing report, as types. Each enum has
//! the values AWS documents today and an `Other` variant that keeps any value
//! added later: a new state is never a parse failure, and the rules compare
//! variants, never strings. They serialize as the strings AWS uses.

use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{Display, EnumString};

/// `Service.status` (DescribeServices).
#[derive(Debug, Clone, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceStatus {
    #[default]
    Active,
    Draining,
    Inactive,
    #[strum(default)]
    Other(String),
}

/// `Deployment.status` of one ECS deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum EcsDeploymentStatus {
    /// The newest deployment: the one ECS is rolling out.
    #[default]
    Primary,
    /// An older deployment still running tasks.
    Active,
    Inactive,
    #[strum(default)]
    Other(String),
}

/// `Deployment.rolloutState`: tracked for services with the rolling update
/// (`ECS`) deployment controller.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
    #[strum(default)]
    Other(String),
}

/// `Task.lastStatus` (the task lifecycle in the ECS developer guide).
#[derive(Debug, Clone, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Provisioning,
    #[default]
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
    Deleted,
    #[strum(default)]
    Other(String),
}

/// `TargetHealth.state` (DescribeTargetHealth).
#[derive(Debug, Clone, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "snake_case")]
pub enum TargetHealthState {
    #[default]
    Initial,
    Healthy,
    Unhealthy,
    #[strum(serialize = "unhealthy.draining")]
    UnhealthyDraining,
    Unused,
    Draining,
    Unavailable,
    #[strum(default)]
    Other(String),
}

/// `TargetHealth.reason` (DescribeTargetHealth), e.g. `Elb.InitialHealthChecking`.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
pub enum TargetHealthReason {
    #[strum(serialize = "Elb.RegistrationInProgress")]
    RegistrationInProgress,
    #[strum(serialize = "Elb.InitialHealthChecking")]
    InitialHealthChecking,
    #[strum(serialize = "Target.ResponseCodeMismatch")]
    ResponseCodeMismatch,
    #[strum(serialize = "Target.Timeout")]
    Timeout,
    #[strum(serialize = "Target.FailedHealthChecks")]
    FailedHealthChecks,
    #[strum(serialize = "Target.NotRegistered")]
    NotRegistered,
    #[strum(serialize = "Target.NotInUse")]
    NotInUse,
    #[strum(serialize = "Target.DeregistrationInProgress")]
    DeregistrationInProgress,
    #[strum(serialize = "Target.InvalidState")]
    InvalidState,
    #[strum(serialize = "Target.IpUnusable")]
    IpUnusable,
    #[strum(serialize = "Target.HealthCheckDisabled")]
    HealthCheckDisabled,
    #[strum(serialize = "Elb.InternalError")]
    InternalError,
    #[strum(default)]
    Other(String),
}

/// `detail.action-type` of an ECR Image Action event.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum EcrActionType {
    Push,
    Delete,
    #[strum(default)]
    Other(String),
}

/// `detail.result` of an ECR Image Action event.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum EcrActionResult {
    Success,
    Failure,
    #[strum(default)]
    Other(String),
}

/// `state.value` of a CloudWatch alarm.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmStateValue {
    Ok,
    Alarm,
    InsufficientData,
    #[strum(default)]
    Other(String),
}

/// Parses any of these from the string AWS sent; never fails.
pub fn aws_state<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap_or_else(|e| unreachable!("a state with an Other variant always parses: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(known: &[&str])
    where
        T: std::str::FromStr + std::fmt::Display + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
        T::Err: std::fmt::Debug,
    {
        for s in known.iter().copied().chain(["SOMETHING_NEW_2027"]) {
            let v: T = aws_state(s);
            assert_eq!(v.to_string(), s, "{v:?}");
            let json = serde_json::to_value(&v).unwrap();
            assert_eq!(json, serde_json::json!(s));
            assert_eq!(serde_json::from_value::<T>(json).unwrap().to_string(), s);
        }
    }

    #[test]
    fn every_documented_value_round_trips_and_new_ones_are_kept() {
        round_trip::<ServiceStatus>(&["ACTIVE", "DRAINING", "INACTIVE"]);
        round_trip::<EcsDeploymentStatus>(&["PRIMARY", "ACTIVE", "INACTIVE"]);
        round_trip::<RolloutState>(&["IN_PROGRESS", "COMPLETED", "FAILED"]);
        round_trip::<TaskStatus>(&[
            "PROVISIONING",
            "PENDING",
            "ACTIVATING",
            "RUNNING",
            "DEACTIVATING",
            "STOPPING",
            "DEPROVISIONING",
            "STOPPED",
            "DELETED",
        ]);
        round_trip::<TargetHealthState>(&[
            "initial",
            "healthy",
            "unhealthy",
            "unhealthy.draining",
            "unused",
            "draining",
            "unavailable",
        ]);
        round_trip::<AlarmStateValue>(&["OK", "ALARM", "INSUFFICIENT_DATA"]);
        round_trip::<EcrActionType>(&["PUSH", "DELETE"]);
        round_trip::<EcrActionResult>(&["SUCCESS", "FAILURE"]);
        round_trip::<TargetHealthReason>(&[
            "Elb.RegistrationInProgress",
            "Elb.InitialHealthChecking",
            "Target.ResponseCodeMismatch",
            "Target.Timeout",
            "Target.FailedHealthChecks",
            "Target.NotRegistered",
            "Target.NotInUse",
            "Target.DeregistrationInProgress",
            "Target.InvalidState",
            "Target.IpUnusable",
            "Target.HealthCheckDisabled",
            "Elb.InternalError",
        ]);
    }

    #[test]
    fn an_unknown_value_is_kept_not_mistaken_for_a_known_one() {
        assert_eq!(aws_state::<RolloutState>("PAUSED"), RolloutState::Other("PAUSED".into()));
        assert_eq!(aws_state::<TargetHealthState>("Healthy"), TargetHealthState::Other("Healthy".into()));
    }
}
