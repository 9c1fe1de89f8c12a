//! The stack's metrics out: each [`Metric`] through the `metrics` facade
//! into `metrics_cloudwatch_embedded`'s collector, which the Lambda entry
//! flushes after every invocation as CloudWatch embedded metric format
//! lines on stdout (CloudWatch Logs turns them into metrics; no API call, no
//! IAM permission, nothing lost when the function is throttled afterwards).
//!
//! Each metric's dimension set is its labels plus `Stack`: one set per
//! metric, so a metric that is wanted both per stack and per service is two
//! metrics (`Deployments`, `ServiceDeployments`).

use std::io::Write;

use metrics_cloudwatch_embedded::Collector;
use strum::IntoEnumIterator;

use crate::domain::{Metric, MetricName, MetricUnit, NAMESPACE, STACK_DIMENSION};

/// Counts `metrics` for the next flush. Without an installed collector (a
/// unit test, a tool) they go nowhere.
pub fn emit(metrics: &[Metric]) {
    for m in metrics {
        let labels: Vec<metrics::Label> = m.labels().map(|(k, v)| metrics::Label::new(k, v.to_owned())).collect();
        let name: &'static str = m.name.into();
        match m.name.unit() {
            // Counts are whole: a metric of n things is n.
            MetricUnit::Count => metrics::counter!(name, labels).increment(m.value.max(0.0).round() as u64),
            MetricUnit::Seconds => metrics::histogram!(name, labels).record(m.value),
        }
    }
}

/// Installs the process's collector: namespace [`NAMESPACE`], the `Stack`
/// dimension on everything, each metric's unit. Once per process; a second
/// call fails (the facade has one recorder).
pub fn install(stack: &str) -> Result<&'static Collector, String> {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension(STACK_DIMENSION, stack.to_owned())
        .init()
        .map_err(|e| e.to_string())?;
    for name in MetricName::iter() {
        let key: &'static str = name.into();
        match name.unit() {
            MetricUnit::Count => metrics::describe_counter!(key, metrics::Unit::Count, ""),
            MetricUnit::Seconds => metrics::describe_histogram!(key, metrics::Unit::Seconds, ""),
        }
    }
    Ok(collector)
}

/// Writes what was counted since the last flush, one JSON document per
/// line, into `out` at once (holding the writer, so no log line lands
/// inside a document).
pub fn flush(collector: &Collector, out: &mut impl Write) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    collector.flush(&mut buffer)?;
    if !buffer.is_empty() {
        out.write_all(&buffer)?;
        out.flush()?;
    }
    Ok(())
}
