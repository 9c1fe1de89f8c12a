//! CloudWatch's `DescribeAlarms`: which alarms are in ALARM now, and what
//! they watch, as CloudWatch reports it.

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, MetricAlarm, StateValue};
use chrono::{DateTime, Utc};

use super::errors::classify;
use crate::domain::{AlarmView, aws_state};
use crate::error::Result;
use crate::ports::Alarms;

#[derive(Debug, Clone)]
pub struct CloudWatchAlarms {
    client: Client,
}

impl CloudWatchAlarms {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// The `TargetGroup` dimensions of an alarm's metric, or of its metric math's metrics.
fn target_groups(alarm: &MetricAlarm) -> Vec<String> {
    let of = |dims: &[Dimension]| -> Vec<String> {
        dims.iter().filter(|d| d.name() == Some("TargetGroup")).filter_map(|d| d.value().map(str::to_owned)).collect()
    };
    let mut found = of(alarm.dimensions());
    for query in alarm.metrics() {
        if let Some(metric) = query.metric_stat().and_then(|s| s.metric()) {
            found.extend(of(metric.dimensions()));
        }
    }
    found
}

fn view(alarm: &MetricAlarm) -> Option<AlarmView> {
    Some(AlarmView {
        name: alarm.alarm_name()?.to_owned(),
        state: aws_state(alarm.state_value()?.as_str()),
        reason: alarm.state_reason().unwrap_or_default().to_owned(),
        since: alarm
            .state_transitioned_timestamp()
            .or(alarm.state_updated_timestamp())
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos())),
        target_groups: target_groups(alarm),
    })
}

impl Alarms for CloudWatchAlarms {
    async fn firing(&self, names: &[String], target_groups: &[String]) -> Result<Vec<AlarmView>> {
        // Only the alarms in ALARM: few, and the only ones that can fail a rollout.
        let mut pages = self
            .client
            .describe_alarms()
            .state_value(StateValue::Alarm)
            .alarm_types(AlarmType::MetricAlarm)
            .into_paginator()
            .send();
        let mut firing = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("DescribeAlarms", e))?;
            firing.extend(page.metric_alarms().iter().filter_map(view).filter(|a| a.fails(names, target_groups)));
        }
        Ok(firing)
    }
}
