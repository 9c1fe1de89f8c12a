use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::PushDecision;
use crate::error::Result;
use crate::ports::PushDecisions;

/// The push-decisions table in memory, keyed as the DynamoDB table is.
#[derive(Debug, Default)]
pub struct MemoryDecisions(Mutex<BTreeMap<(String, String), PushDecision>>);

impl MemoryDecisions {
    /// Every decision, newest first.
    pub fn all(&self) -> Vec<PushDecision> {
        let mut all: Vec<_> = super::lock(&self.0).values().cloned().collect();
        all.sort_by_key(|d| std::cmp::Reverse(d.decided_at));
        all
    }
}

impl PushDecisions for MemoryDecisions {
    async fn record(&self, decision: &PushDecision) -> Result<()> {
        super::lock(&self.0).insert((decision.repository.clone(), decision.key()), decision.clone());
        Ok(())
    }

    async fn find(
        &self,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PushDecision>> {
        Ok(self
            .all()
            .into_iter()
            .filter(|d| d.repository == repository)
            .filter(|d| tag.is_none_or(|t| d.tag.as_deref() == Some(t)))
            .filter(|d| digest.is_none_or(|g| d.digest.as_str() == g))
            .take(limit)
            .collect())
    }
}
