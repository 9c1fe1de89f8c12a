use std::sync::Mutex;

use crate::domain::AlarmView;
use crate::error::Result;
use crate::ports::Alarms;

/// CloudWatch's alarms in memory: what `DescribeAlarms` would list.
#[derive(Debug, Default)]
pub struct MemoryAlarms(Mutex<Vec<AlarmView>>);

impl MemoryAlarms {
    /// Creates or replaces the alarm of that name.
    pub fn put(&self, alarm: AlarmView) {
        let mut all = super::lock(&self.0);
        all.retain(|a| a.name != alarm.name);
        all.push(alarm);
    }
}

impl Alarms for MemoryAlarms {
    async fn firing(&self, names: &[String], target_groups: &[String]) -> Result<Vec<AlarmView>> {
        Ok(super::lock(&self.0).iter().filter(|a| a.fails(names, target_groups)).cloned().collect())
    }
}
