use std::sync::Mutex;

use crate::domain::{DeploymentStateChange, HumanMessage};
use crate::error::Result;
use crate::ports::Notifier;

/// Keeps every announcement.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    pub events: Mutex<Vec<DeploymentStateChange>>,
    pub messages: Mutex<Vec<HumanMessage>>,
}

impl RecordingNotifier {
    pub fn statuses(&self) -> Vec<String> {
        super::lock(&self.events).iter().map(|e| e.status.to_string()).collect()
    }

    pub fn messages(&self) -> Vec<HumanMessage> {
        super::lock(&self.messages).clone()
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, change: &DeploymentStateChange, human: Option<&HumanMessage>) -> Result<()> {
        super::lock(&self.events).push(change.clone());
        if let Some(m) = human {
            super::lock(&self.messages).push(m.clone());
        }
        Ok(())
    }
}
