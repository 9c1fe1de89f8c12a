//! Simulated time: milliseconds since the Unix epoch, advanced in whole-second steps.
//!
//! The clock never reads wall time after construction, so a run driven by manual steps
//! is fully deterministic. In real-time mode a driver task (see `Sim::start_clock`)
//! converts elapsed wall time × `speed` into steps.

use chrono::{DateTime, SecondsFormat, Utc};

/// One simulation step. Every timer in the simulator is a multiple of this.
pub const STEP_MS: i64 = 1_000;

/// Simulated time in milliseconds since the Unix epoch.
pub type SimTime = i64;

/// How the clock advances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockMode {
    /// Simulated seconds per real second (real-time mode only).
    pub speed: f64,
    /// When true, time moves only through explicit `advance` calls.
    pub manual: bool,
}

/// The simulated clock.
#[derive(Debug, Clone)]
pub struct Clock {
    now: SimTime,
    pub mode: ClockMode,
}

impl Clock {
    /// A clock starting at `start` (rounded down to a whole step).
    pub fn new(start: SimTime, mode: ClockMode) -> Self {
        Self { now: start - start.rem_euclid(STEP_MS), mode }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Moves the clock one step forward and returns the new time.
    pub fn step(&mut self) -> SimTime {
        self.now += STEP_MS;
        self.now
    }
}

/// awsJson1_1 timestamp: epoch seconds as a JSON number.
pub fn epoch_seconds(t: SimTime) -> serde_json::Value {
    if t % 1000 == 0 { serde_json::Value::from(t / 1000) } else { serde_json::Value::from(t as f64 / 1000.0) }
}

/// ISO 8601 with whole seconds, as in the `time` field of an EventBridge envelope.
pub fn iso_seconds(t: SimTime) -> String {
    to_utc(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// ISO 8601 with milliseconds, as in the timestamps inside ECS event details.
pub fn iso_millis(t: SimTime) -> String {
    to_utc(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn to_utc(t: SimTime) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(t).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Wall-clock now, used once to pick a start time when none is configured.
pub fn wall_now() -> SimTime {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps_as_the_protocols_expect() {
        let t = 1_590_237_074_000; // 2020-05-23T12:31:14Z
        assert_eq!(iso_seconds(t), "2020-05-23T12:31:14Z");
        assert_eq!(iso_millis(t + 695), "2020-05-23T12:31:14.695Z");
        assert_eq!(epoch_seconds(t), serde_json::json!(1_590_237_074));
        let mut c = Clock::new(t + 10, ClockMode { speed: 1.0, manual: true });
        assert_eq!(c.now(), t);
        assert_eq!(c.step(), t + STEP_MS);
    }
}
