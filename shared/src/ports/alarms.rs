use std::future::Future;

use crate::domain::AlarmView;
use crate::error::Result;

/// CloudWatch alarms: what fails a rollout is read from CloudWatch, never
/// taken from an alarm event.
pub trait Alarms: Send + Sync {
    /// The metric alarms in ALARM now that are named in `names` or watch one
    /// of `target_groups` (`targetgroup/<name>/<id>`, the `TargetGroup`
    /// dimension the load balancer's metrics carry).
    fn firing(&self, names: &[String], target_groups: &[String])
    -> impl Future<Output = Result<Vec<AlarmView>>> + Send;
}
