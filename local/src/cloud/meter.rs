//! What the local cloud saw, counted for the benchmark (`autodeploy-local
//! bench`): every signed AWS call by caller and `service:Operation`, the
//! DynamoDB items the stack read, each function's invocations and how long
//! they ran, and the wall-clock instants of the ECS deployment events the
//! simulator sent and of the stack's verdict calls.
//!
//! Counting is a map update under a short lock per call; nothing here
//! decides anything, so the meter is always on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// The caller name of the stack's own calls (its functions' and its state machine's).
pub const STACK: &str = "stack";

/// One instant worth timing, in wall-clock milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    pub at_ms: f64,
    /// `ECS Deployment State Change:SERVICE_DEPLOYMENT_COMPLETED`, `states:SendTaskSuccess`, …
    pub what: String,
    /// The service ARN an ECS event names (empty for calls).
    pub subject: String,
    /// The ECS deployment an event is about (empty for calls).
    pub deployment: String,
}

/// Counts at one moment; [`Snapshot::since`] gives what happened between two.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Calls by caller (`stack` or the access key), then `service:Operation`.
    pub calls: BTreeMap<String, BTreeMap<String, u64>>,
    /// DynamoDB items the stack's GetItem, Query and Scan calls returned.
    pub items_read: u64,
    /// Invocations by function binary.
    pub invocations: BTreeMap<String, Invocations>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocations {
    pub count: u64,
    pub total_ms: f64,
    /// Invocations by the event that caused them (`ECS Task State Change:STOPPED`),
    /// for functions EventBridge invokes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_event: BTreeMap<String, u64>,
}

impl Snapshot {
    /// What `self` counted beyond `before`.
    pub fn since(&self, before: &Snapshot) -> Snapshot {
        let mut calls = BTreeMap::new();
        for (caller, ops) in &self.calls {
            let earlier = before.calls.get(caller);
            let diff: BTreeMap<String, u64> = ops
                .iter()
                .map(|(op, n)| (op.clone(), n - earlier.and_then(|e| e.get(op)).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect();
            if !diff.is_empty() {
                calls.insert(caller.clone(), diff);
            }
        }
        let invocations = self
            .invocations
            .iter()
            .filter_map(|(f, now)| {
                let was = before.invocations.get(f).cloned().unwrap_or_default();
                let count = now.count - was.count;
                let by_event = now
                    .by_event
                    .iter()
                    .map(|(e, n)| (e.clone(), n - was.by_event.get(e).copied().unwrap_or(0)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                (count > 0).then(|| (f.clone(), Invocations { count, total_ms: now.total_ms - was.total_ms, by_event }))
            })
            .collect();
        Snapshot { calls, items_read: self.items_read - before.items_read, invocations }
    }

    /// Calls `caller` made to `service` (`ecs`, `elasticloadbalancing`, `dynamodb`, …).
    pub fn calls_to(&self, caller: &str, service: &str) -> u64 {
        let prefix = format!("{service}:");
        self.calls.get(caller).map_or(0, |ops| ops.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, n)| n).sum())
    }

    /// One call by name (`ecs:DescribeServices`).
    pub fn call(&self, caller: &str, operation: &str) -> u64 {
        self.calls.get(caller).and_then(|ops| ops.get(operation)).copied().unwrap_or(0)
    }

    pub fn invocation_count(&self) -> u64 {
        self.invocations.values().map(|i| i.count).sum()
    }

    pub fn invocation_ms(&self) -> f64 {
        self.invocations.values().map(|i| i.total_ms).sum()
    }
}

/// What kind of EventBridge event a payload is, for counting: its
/// `detail-type` and what within it tells one rule's events apart (ECS's
/// `eventName`, a task's `lastStatus`, an alarm's new state); `None` for a
/// payload that is not an event (a state machine's task input).
pub fn event_kind(payload: &Value) -> Option<String> {
    let kind = payload.get("detail-type")?.as_str()?;
    let detail = payload.get("detail");
    let sub = ["/eventName", "/lastStatus", "/state/value"]
        .iter()
        .find_map(|p| detail.and_then(|d| d.pointer(p)).and_then(Value::as_str));
    Some(sub.map_or_else(|| kind.to_owned(), |s| format!("{kind}:{s}")))
}

#[derive(Debug, Default)]
struct Inner {
    now: Snapshot,
    marks: Vec<Mark>,
}

/// The running local cloud's meter (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<Inner>>);

fn wall_ms() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1000.0
}

/// Operations whose instant is kept as a [`Mark`]: the stack's verdicts.
const MARKED: [&str; 2] = ["states:SendTaskSuccess", "states:SendTaskFailure"];

impl Meter {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// One signed call.
    pub fn count_call(&self, caller: &str, service: &str, operation: &str) {
        let key = format!("{service}:{operation}");
        let at_ms = wall_ms();
        self.with(|m| {
            *m.now.calls.entry(caller.to_owned()).or_default().entry(key.clone()).or_insert(0) += 1;
            if caller == STACK && MARKED.contains(&key.as_str()) {
                m.marks.push(Mark { at_ms, what: key, subject: String::new(), deployment: String::new() });
            }
        });
    }

    /// The items in a DynamoDB read's answer: `Item` (GetItem), `Count`
    /// (Query, Scan), `Responses` (BatchGetItem).
    pub fn count_items(&self, answer: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(answer) else { return };
        let items = if let Some(n) = v.get("Count").and_then(Value::as_u64) {
            n
        } else if v.get("Item").is_some() {
            1
        } else if let Some(tables) = v.get("Responses").and_then(Value::as_object) {
            tables.values().filter_map(Value::as_array).map(|a| a.len() as u64).sum()
        } else {
            0
        };
        self.with(|m| m.now.items_read += items);
    }

    /// One finished invocation of `binary`, caused by `event` when an
    /// EventBridge rule invoked it (see [`event_kind`]).
    pub fn count_invocation(&self, binary: &str, event: Option<String>, took: Duration) {
        self.with(|m| {
            let i = m.now.invocations.entry(binary.to_owned()).or_default();
            i.count += 1;
            i.total_ms += took.as_secs_f64() * 1000.0;
            if let Some(event) = event {
                *i.by_event.entry(event).or_insert(0) += 1;
            }
        });
    }

    /// An event the simulator sent: an ECS deployment's state change is kept as a [`Mark`].
    pub fn saw_event(&self, event: &Value) {
        let kind = event.get("detail-type").and_then(Value::as_str).unwrap_or_default();
        if kind != "ECS Deployment State Change" {
            return;
        }
        let name = event.pointer("/detail/eventName").and_then(Value::as_str).unwrap_or_default();
        let subject = event.pointer("/resources/0").and_then(Value::as_str).unwrap_or_default().to_owned();
        let deployment = event.pointer("/detail/deploymentId").and_then(Value::as_str).unwrap_or_default().to_owned();
        let at_ms = wall_ms();
        self.with(|m| m.marks.push(Mark { at_ms, what: format!("{kind}:{name}"), subject, deployment }));
    }

    pub fn snapshot(&self) -> Snapshot {
        self.with(|m| m.now.clone())
    }

    /// Marks at or after `from_ms`, oldest first.
    pub fn marks_since(&self, from_ms: f64) -> Vec<Mark> {
        self.with(|m| m.marks.iter().filter(|k| k.at_ms >= from_ms).cloned().collect())
    }

    /// Wall-clock now, in the marks' unit.
    pub fn now_ms() -> f64 {
        wall_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_calls_items_and_invocations_and_diffs_them() {
        let m = Meter::default();
        m.count_call(STACK, "ecs", "DescribeServices");
        let before = m.snapshot();
        m.count_call(STACK, "ecs", "DescribeServices");
        m.count_call(STACK, "elasticloadbalancing", "DescribeTargetHealth");
        m.count_call("BENCHAWSCLI", "ecs", "DescribeServices");
        m.count_items(br#"{"Count": 3, "Items": []}"#);
        m.count_items(br#"{"Item": {"pk": {"S": "x"}}}"#);
        m.count_items(br#"{"Responses": {"t": [{}, {}]}}"#);
        m.count_items(b"not json");
        m.count_invocation("on-ecs-event", Some("ECS Task State Change:STOPPED".into()), Duration::from_millis(12));
        m.count_invocation("claim", None, Duration::from_millis(3));
        let d = m.snapshot().since(&before);
        assert_eq!(d.call(STACK, "ecs:DescribeServices"), 1);
        assert_eq!(d.calls_to(STACK, "elasticloadbalancing"), 1);
        assert_eq!(d.calls_to("BENCHAWSCLI", "ecs"), 1);
        assert_eq!(d.calls_to(STACK, "dynamodb"), 0);
        assert_eq!(d.items_read, 6);
        assert_eq!(d.invocation_count(), 2);
        assert!((d.invocation_ms() - 15.0).abs() < 0.5);
        let by_event = &d.invocations["on-ecs-event"].by_event;
        assert_eq!(by_event.get("ECS Task State Change:STOPPED"), Some(&1));
        assert!(d.invocations["claim"].by_event.is_empty());
    }

    #[test]
    fn names_an_event_by_its_type_and_what_tells_its_rule_apart() {
        let ecs =
            json!({"detail-type": "ECS Deployment State Change", "detail": {"eventName": "SERVICE_DEPLOYMENT_FAILED"}});
        assert_eq!(event_kind(&ecs).as_deref(), Some("ECS Deployment State Change:SERVICE_DEPLOYMENT_FAILED"));
        let task = json!({"detail-type": "ECS Task State Change", "detail": {"lastStatus": "STOPPED"}});
        assert_eq!(event_kind(&task).as_deref(), Some("ECS Task State Change:STOPPED"));
        let alarm = json!({"detail-type": "CloudWatch Alarm State Change", "detail": {"state": {"value": "ALARM"}}});
        assert_eq!(event_kind(&alarm).as_deref(), Some("CloudWatch Alarm State Change:ALARM"));
        let hook = json!({"detail-type": "ECS Hook State Change", "detail": {}});
        assert_eq!(event_kind(&hook).as_deref(), Some("ECS Hook State Change"));
        assert_eq!(event_kind(&json!({"deploymentId": "d-1"})), None);
    }

    #[test]
    fn marks_deployment_events_and_verdicts_only() {
        let m = Meter::default();
        let from = Meter::now_ms();
        m.saw_event(&json!({"detail-type": "ECS Task State Change", "detail": {}}));
        m.saw_event(&json!({
            "detail-type": "ECS Deployment State Change",
            "resources": ["arn:aws:ecs:us-east-1:1:service/c/s"],
            "detail": {"eventName": "SERVICE_DEPLOYMENT_COMPLETED", "deploymentId": "ecs-svc/1"}
        }));
        m.count_call(STACK, "states", "SendTaskSuccess");
        m.count_call("someone", "states", "SendTaskSuccess");
        m.count_call(STACK, "states", "StartExecution");
        let marks = m.marks_since(from);
        let what: Vec<&str> = marks.iter().map(|k| k.what.as_str()).collect();
        assert_eq!(what, ["ECS Deployment State Change:SERVICE_DEPLOYMENT_COMPLETED", "states:SendTaskSuccess"]);
        assert_eq!(marks[0].subject, "arn:aws:ecs:us-east-1:1:service/c/s");
        assert_eq!(marks[0].deployment, "ecs-svc/1");
        assert!(m.marks_since(Meter::now_ms() + 1000.0).is_empty());
    }
}
