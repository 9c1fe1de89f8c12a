//! Where ECS's service deployment stands, written down as it moves.

use super::Recorder;
use crate::domain::{Deployment, Verdict, Watch};
use crate::error::Result;
use crate::ports::{Clock, DeploymentStore, Notifier};

/// Turns what a look at a rollout saw (stage, traffic weights) into a
/// timeline entry and a bus event, once per change.
pub struct ProgressLog<'a, S, N, C> {
    pub store: &'a S,
    pub notifier: &'a N,
    pub clock: &'a C,
}

impl<S: DeploymentStore, N: Notifier, C: Clock> ProgressLog<'_, S, N, C> {
    /// Records `verdict`'s progress unless it is final (its own status change
    /// says it all), has no stage or weights, or the watch has it already.
    pub async fn note(&self, d: &Deployment, watch: &Watch, verdict: &Verdict) -> Result<()> {
        // A rolling update has no stages or traffic weights: its progress is
        // the status change the verdict brings.
        let Some(progress) = verdict.progress.as_ref().filter(|p| !verdict.is_final() && p.shifts_traffic()) else {
            return Ok(());
        };
        if watch.progress.as_deref() == Some(progress.key().as_str()) {
            return Ok(());
        }
        let written = self
            .store
            .record_progress(
                &d.deployment_id,
                d.status,
                watch.phase,
                &watch.ecs_deployment_id,
                progress,
                verdict.observed_at,
            )
            .await?;
        if let Some(after) = written {
            tracing::info!(progress = %progress.line(), "service deployment moved");
            // Written already: a retry would find it and announce nothing, so
            // a failed announcement is logged, not retried.
            let recorder = Recorder { store: self.store, notifier: self.notifier, clock: self.clock };
            if let Err(e) = recorder.announce(&after).await {
                tracing::warn!(error = %e, "stage change recorded but not announced");
            }
        }
        Ok(())
    }
}
