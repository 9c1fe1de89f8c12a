//! The stack's timing parameters. Each deployed step reads only the ones its
//! function is given (see `crate::aws::steps`); tests set them all at once.

use chrono::Duration;

use crate::config::{
    DEFAULT_COALESCE_SECONDS, DEFAULT_POLL_INTERVAL, DEFAULT_ROLLBACK_TIMEOUT, DEFAULT_ROLLOUT_TIMEOUT,
};

/// Every step's timing, with the template's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a rollout may take before it is rolled back.
    pub rollout_timeout: Duration,
    /// How long a rollback may take before the run is FAILED.
    pub rollback_timeout: Duration,
    /// The slow poll that covers lost events and lost wake-ups.
    pub poll_interval: Duration,
    /// Seconds a run waits for the rest of a burst before it takes the service.
    pub coalesce_seconds: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rollout_timeout: Duration::seconds(DEFAULT_ROLLOUT_TIMEOUT),
            rollback_timeout: Duration::seconds(DEFAULT_ROLLBACK_TIMEOUT),
            poll_interval: Duration::seconds(DEFAULT_POLL_INTERVAL),
            coalesce_seconds: DEFAULT_COALESCE_SECONDS,
        }
    }
}

impl Settings {
    pub fn lease(&self) -> Duration {
        lease(self.poll_interval)
    }

    pub fn rollout(&self) -> Timing {
        Timing { timeout: self.rollout_timeout, poll_interval: self.poll_interval }
    }

    pub fn rollback(&self) -> Timing {
        Timing { timeout: self.rollback_timeout, poll_interval: self.poll_interval }
    }
}

/// How long a lock holder may go without renewing: two polls and a margin,
/// since the waiting run renews at least once per poll.
pub fn lease(poll_interval: Duration) -> Duration {
    poll_interval * 2 + Duration::seconds(10)
}

/// How long a watch may last and how often the run looks when no event comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub timeout: Duration,
    pub poll_interval: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_outlives_two_polls() {
        let s = Settings { poll_interval: Duration::seconds(10), ..Settings::default() };
        assert_eq!(s.lease(), Duration::seconds(30));
        assert_eq!(Settings::default().lease(), Duration::seconds(130));
        assert_eq!(s.rollout(), Timing { timeout: Duration::minutes(30), poll_interval: Duration::seconds(10) });
    }
}
