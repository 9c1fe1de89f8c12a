//! The status machine of one deployment record.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Pending,
    /// Waiting for the service: another deployment of it is in flight.
    Queued,
    Registering,
    Updating,
    Waiting,
    RollingBack,
    Succeeded,
    Noop,
    RolledBack,
    Failed,
    Superseded,
}

use DeploymentStatus::*;

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 11] =
        [Pending, Queued, Registering, Updating, Waiting, RollingBack, Succeeded, Noop, RolledBack, Failed, Superseded];

    pub fn as_str(self) -> &'static str {
        match self {
            Pending => "PENDING",
            Queued => "QUEUED",
            Registering => "REGISTERING",
            Updating => "UPDATING",
            Waiting => "WAITING",
            RollingBack => "ROLLING_BACK",
            Succeeded => "SUCCEEDED",
            Noop => "NOOP",
            RolledBack => "ROLLED_BACK",
            Failed => "FAILED",
            Superseded => "SUPERSEDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Succeeded | Noop | RolledBack | Failed | Superseded)
    }

    /// Holding the service's lock: registering, updating, waiting, rolling back.
    pub fn holds_service(self) -> bool {
        matches!(self, Registering | Updating | Waiting | RollingBack)
    }

    /// The statuses a record may be in for a move to `self`. This list is the
    /// condition of every status write, so the record only ever moves forward.
    pub fn allowed_from(self) -> &'static [DeploymentStatus] {
        match self {
            Pending => &[],
            Queued => &[Pending],
            Registering => &[Pending, Queued],
            Updating => &[Registering],
            Waiting => &[Updating],
            RollingBack => &[Waiting, Updating],
            Succeeded => &[Waiting],
            Noop => &[Registering],
            RolledBack => &[RollingBack],
            Failed => &[Pending, Queued, Registering, Updating, Waiting, RollingBack],
            Superseded => &[Pending, Queued, Registering],
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
    fn no_move_goes_backwards() {
        // Order of progress; every allowed move goes strictly forward in it.
        let rank = |s: DeploymentStatus| match s {
            Pending => 0,
            Queued => 1,
            Registering => 2,
            Updating => 3,
            Waiting => 4,
            RollingBack => 5,
            _ => 6,
        };
        for from in DeploymentStatus::ALL {
            for to in DeploymentStatus::ALL {
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
