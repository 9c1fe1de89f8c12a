//! The functions' embedded-metric documents, kept as CloudWatch Logs would
//! receive them (`GET /_local/metrics`). The `metrics` facade has one
//! recorder per process, so the collector and this log are the process's:
//! every local cloud in it writes here, and a reader picks its own
//! documents out by their dimensions.

use std::sync::{Mutex, OnceLock, PoisonError};

use metrics_cloudwatch_embedded::Collector;
use serde_json::Value;

static COLLECTOR: OnceLock<Option<&'static Collector>> = OnceLock::new();
static DOCUMENTS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

/// Installs the collector once per process, its `Stack` the first cloud's stack name.
pub fn install(stack: &str) {
    COLLECTOR.get_or_init(|| {
        autodeploy_shared::emf::install(stack).inspect_err(|e| tracing::warn!(error = %e, "metrics not collected")).ok()
    });
}

/// What was counted since the last flush, as documents in the log (after
/// each invocation, as the Lambda entry flushes to stdout).
pub fn flush() {
    let Some(Some(collector)) = COLLECTOR.get() else { return };
    let mut out = Vec::new();
    if let Err(e) = autodeploy_shared::emf::flush(collector, &mut out) {
        tracing::warn!(error = %e, "metrics not flushed");
        return;
    }
    let documents: Vec<Value> =
        out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| serde_json::from_slice(l).ok()).collect();
    if !documents.is_empty() {
        DOCUMENTS.lock().unwrap_or_else(PoisonError::into_inner).extend(documents);
    }
}

/// Every document written so far, oldest first.
pub fn documents() -> Vec<Value> {
    DOCUMENTS.lock().unwrap_or_else(PoisonError::into_inner).clone()
}
