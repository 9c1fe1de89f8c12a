use std::future::Future;

use crate::domain::PushDecision;
use crate::error::Result;

/// The push-decisions table: one item per decision, keyed by repository.
pub trait PushDecisions: Send + Sync {
    /// Writes the decision, replacing one with the same key (a retried
    /// invocation deciding the same again).
    fn record(&self, decision: &PushDecision) -> impl Future<Output = Result<()>> + Send;

    /// The repository's decisions about `tag` or `digest` (either may be
    /// given, both narrow), newest first, at most `limit`; the reconciler's
    /// latest "nothing new" of each target is included.
    fn find(
        &self,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PushDecision>>> + Send;
}
