//! CloudWatch alarms as CloudWatch itself reports them.

use chrono::{DateTime, Utc};

use super::AlarmStateValue;

/// One metric alarm, from `DescribeAlarms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmView {
    pub name: String,
    pub state: AlarmStateValue,
    pub reason: String,
    /// When it last changed state (`StateTransitionedTimestamp`, else
    /// `StateUpdatedTimestamp`), if CloudWatch says.
    pub since: Option<DateTime<Utc>>,
    /// The `TargetGroup` dimensions of its metrics (`targetgroup/<name>/<id>`).
    pub target_groups: Vec<String>,
}

impl AlarmView {
    /// In ALARM and either named in `names` or watching one of `target_groups`.
    pub fn fails(&self, names: &[String], target_groups: &[String]) -> bool {
        self.state == AlarmStateValue::Alarm
            && (names.contains(&self.name) || self.target_groups.iter().any(|tg| target_groups.contains(tg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aws_state;

    #[test]
    fn an_alarm_fails_a_rollout_only_in_alarm_and_only_when_it_concerns_it() {
        let tg = "targetgroup/demo-web/0123456789abcdef".to_owned();
        let alarm = AlarmView {
            name: "web-5xx".into(),
            state: aws_state("ALARM"),
            reason: "Threshold Crossed".into(),
            since: None,
            target_groups: vec![tg.clone()],
        };
        assert!(alarm.fails(&[], std::slice::from_ref(&tg)));
        assert!(alarm.fails(&["web-5xx".into()], &[]));
        assert!(!alarm.fails(&["other".into()], &["targetgroup/other/1".into()]));
        let ok = AlarmView { state: aws_state("OK"), ..alarm };
        assert!(!ok.fails(&["web-5xx".into()], &[tg]));
    }
}
