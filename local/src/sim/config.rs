//! Simulator settings.

use crate::sim::clock::SimTime;
use crate::sim::images::Behavior;

/// Settings fixed when a [`crate::sim::Sim`] is created.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Region in every ARN (default us-east-1).
    pub region: String,
    /// Account id in every ARN (default 123456789012).
    pub account: String,
    /// Seed for ids, IP allocation and `flaky` draws.
    pub seed: u64,
    /// Simulated start time; `None` means the wall-clock time at creation.
    pub start_time: Option<SimTime>,
    /// Simulated seconds per real second in real-time mode.
    pub speed: f64,
    /// Start in manual-step mode (time moves only through `advance`).
    pub manual_clock: bool,
    /// Behaviour of images missing from the catalogue; `None` = CannotPullContainerError.
    pub default_image_behavior: Option<Behavior>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            seed: 1,
            start_time: None,
            speed: 1.0,
            manual_clock: false,
            default_image_behavior: None,
        }
    }
}
