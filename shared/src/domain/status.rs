//! The status machine of one deployment record.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Pending,
    /// Held until a person decides: by the pipeline before anything changes
    /// on the service, or by ECS at a PAUSE lifecycle hook mid-rollout.
    AwaitingApproval,
    /// Waiting for the service: another deployment of it is in flight.
    Queued,
    /// Waiting for the service to be unfrozen: a person froze its rollouts.
    Held,
    Registering,
    Updating,
    Waiting,
    RollingBack,
    Succeeded,
    Noop,
    RolledBack,
    Failed,
    Superseded,
    /// Not deployed: a person rejected it, or its approval timed out.
    Rejected,
}

use DeploymentStatus::*;

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 14] = [
        Pending,
        AwaitingApproval,
        Queued,
        Held,
        Registering,
        Updating,
        Waiting,
        RollingBack,
        Succeeded,
        Noop,
        RolledBack,
        Failed,
        Superseded,
        Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Pending => "PENDING",
            AwaitingApproval => "AWAITING_APPROVAL",
            Queued => "QUEUED",
            Held => "HELD",
            Registering => "REGISTERING",
            Updating => "UPDATING",
            Waiting => "WAITING",
            RollingBack => "ROLLING_BACK",
            Succeeded => "SUCCEEDED",
            Noop => "NOOP",
            RolledBack => "ROLLED_BACK",
            Failed => "FAILED",
            Superseded => "SUPERSEDED",
            Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Succeeded | Noop | RolledBack | Failed | Superseded | Rejected)
    }

    /// Holding the service's lock: registering, updating, waiting, rolling
    /// back. (A record AWAITING_APPROVAL at ECS's PAUSE hook holds it too: see
    /// [`crate::domain::Deployment::holds_service`].)
    pub fn holds_service(self) -> bool {
        matches!(self, Registering | Updating | Waiting | RollingBack)
    }

    /// The statuses a record may be in for a move to `self`. This list is the
    /// condition of every status write, so the record only ever moves forward.
    pub fn allowed_from(self) -> &'static [DeploymentStatus] {
        match self {
            Pending => &[],
            // Held by the pipeline before it takes the service, or by ECS
            // at a PAUSE hook while the rollout is watched.
            AwaitingApproval => &[Pending, Waiting],
            // Unfrozen while another deployment holds the service.
            Queued => &[Pending, AwaitingApproval, Held],
            // The service is frozen (found on a claim, first or after a wait).
            Held => &[Pending, Queued],
            Registering => &[Pending, Queued, AwaitingApproval, Held],
            Updating => &[Registering],
            // Back from ECS's pause once it was decided (or timed out).
            Waiting => &[Updating, AwaitingApproval],
            RollingBack => &[Waiting, Updating, AwaitingApproval],
            Succeeded => &[Waiting],
            Noop => &[Registering],
            RolledBack => &[RollingBack],
            Failed => &[Pending, AwaitingApproval, Queued, Held, Registering, Updating, Waiting, RollingBack],
            Superseded => &[Pending, AwaitingApproval, Queued, Held, Registering],
            Rejected => &[AwaitingApproval],
        }
    }

    pub fn can_move_to(self, to: DeploymentStatus) -> bool {
        to.allowed_from().contains(&self)
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_never_move() {
        for from in DeploymentStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in DeploymentStatus::ALL {
                assert!(!from.can_move_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn no_move_goes_backwards_but_ecs_pausing_a_rollout_and_a_freeze() {
        // Order of progress; every allowed move goes strictly forward in it,
        // except the round trip of a rollout ECS holds at a PAUSE hook, and
        // a waiting push going from the queue to a freeze and back.
        let rank = |s: DeploymentStatus| match s {
            Pending => 0,
            AwaitingApproval => 1,
            Queued | Held => 2,
            Registering => 3,
            Updating => 4,
            Waiting => 5,
            RollingBack => 6,
            _ => 7,
        };
        for from in DeploymentStatus::ALL {
            for to in DeploymentStatus::ALL {
                if matches!((from, to), (Waiting, AwaitingApproval) | (Queued, Held) | (Held, Queued)) {
                    continue;
                }
                if from.can_move_to(to) {
                    assert!(rank(to) > rank(from), "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn success_only_from_waiting_and_rolled_back_only_after_rolling_back() {
        assert_eq!(Succeeded.allowed_from(), &[Waiting]);
        assert_eq!(RolledBack.allowed_from(), &[RollingBack]);
        assert!(!RollingBack.can_move_to(Succeeded));
    }

    #[test]
    fn string_round_trip() {
        for s in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
    }
}
