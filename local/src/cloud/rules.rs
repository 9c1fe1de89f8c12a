//! EventBridge for the local cloud: the template's rules, matched with
//! EventBridge's pattern semantics, delivering to the project's functions.
//!
//! moto's EventBridge cannot deliver to Lambda or Step Functions targets, so
//! those rules live here; everything else (rules with SQS targets that tests
//! create, for instance) stays in moto, which gets every event as well.
//!
//! Pattern semantics (EventBridge user guide, "Event patterns"): every field
//! of the pattern must match; a leaf is a list of alternatives, each a literal
//! or a filter (`prefix`, `anything-but`, `exists`); a list in the event
//! matches if any of its elements does; nested objects match field by field.

use serde_json::{Map, Value, json};

use super::template::{Template, TemplateError};

/// A rule that delivers to one of the project's functions.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub bus: String,
    pub pattern: Value,
    /// Function logical id.
    pub function: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("pattern operator {0:?} is not supported locally")]
    Unsupported(String),
    #[error("pattern is malformed: {0}")]
    Malformed(String),
}

/// Why a PutEvents entry could not become an event.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("Detail is not JSON: {0}")]
    Detail(serde_json::Error),
    #[error("{0} is required")]
    Missing(&'static str),
}

/// Checks a pattern once, so an unsupported operator fails at start-up.
pub fn validate(pattern: &Value) -> Result<(), PatternError> {
    if !pattern.is_object() {
        return Err(PatternError::Malformed("a pattern is a JSON object".into()));
    }
    validate_fields(pattern)
}

fn validate_fields(pattern: &Value) -> Result<(), PatternError> {
    match pattern {
        Value::Object(m) => m.values().try_for_each(validate_fields),
        Value::Array(alts) => alts.iter().try_for_each(|a| match a {
            Value::Object(f) => {
                for (op, arg) in f {
                    match op.as_str() {
                        "prefix" if arg.is_string() => {}
                        "anything-but" if arg.is_string() || arg.is_array() || arg.is_number() => {}
                        "exists" if arg.is_boolean() => {}
                        other => return Err(PatternError::Unsupported(other.to_owned())),
                    }
                }
                Ok(())
            }
            Value::Array(_) => Err(PatternError::Malformed("nested list".into())),
            _ => Ok(()),
        }),
        other => Err(PatternError::Malformed(format!("{other} is not an object or a list"))),
    }
}

/// Whether `event` matches `pattern`.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(k, p)| field_matches(p, event.get(k))),
        _ => false,
    }
}

fn field_matches(pattern: &Value, value: Option<&Value>) -> bool {
    match pattern {
        // Nested object: descend; through a list, any element may match.
        Value::Object(_) => match value {
            Some(Value::Array(items)) => items.iter().any(|i| matches(pattern, i)),
            Some(v @ Value::Object(_)) => matches(pattern, v),
            _ => false,
        },
        Value::Array(alternatives) => {
            // `exists: false` matches an absent field; everything else needs a value.
            if value.is_none() {
                return alternatives.iter().any(|a| a.get("exists") == Some(&Value::Bool(false)));
            }
            let values: Vec<&Value> = match value {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(v) => vec![v],
                None => vec![],
            };
            alternatives.iter().any(|alt| values.iter().any(|v| leaf_matches(alt, v)))
        }
        _ => false,
    }
}

fn leaf_matches(alt: &Value, v: &Value) -> bool {
    match alt {
        Value::Object(filter) => filter.iter().all(|(op, arg)| match op.as_str() {
            "prefix" => matches!((arg, v), (Value::String(p), Value::String(s)) if s.starts_with(p.as_str())),
            "anything-but" => match arg {
                Value::Array(xs) => !xs.contains(v),
                x => x != v,
            },
            "exists" => arg == &Value::Bool(true),
            _ => false,
        }),
        literal => literal == v,
    }
}

/// The rules of the template that target the project's functions: each
/// function's `EventBridgeRule` events.
pub fn from_template(t: &Template) -> Result<Vec<Rule>, TemplateError> {
    let mut rules = Vec::new();
    for (id, r) in t.of_type("AWS::Serverless::Function") {
        for (event_id, e) in r.properties.get("Events").and_then(Value::as_object).into_iter().flatten() {
            let kind = e.get("Type").and_then(Value::as_str).unwrap_or_default();
            if kind != "EventBridgeRule" && kind != "CloudWatchEvent" {
                continue;
            }
            let props = e.get("Properties").cloned().unwrap_or_else(|| json!({}));
            let pattern = t.resolve(props.get("Pattern").unwrap_or(&Value::Null))?;
            validate(&pattern).map_err(|err| TemplateError::Invalid(format!("{id}.{event_id}: {err}")))?;
            let bus = match props.get("EventBusName") {
                Some(b) => t.resolve_str(b)?,
                None => "default".to_owned(),
            };
            rules.push(Rule { name: format!("{id}-{event_id}"), bus, pattern, function: id.clone() });
        }
    }
    Ok(rules)
}

/// PutEvents' `Time`: awsJson sends timestamps as epoch seconds; accept text too.
fn time(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            chrono::DateTime::from_timestamp(secs.trunc() as i64, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// An event as EventBridge hands it to targets, from a PutEvents entry.
pub fn envelope(entry: &Value, account: &str, region: &str, id: &str, now: &str) -> Result<Value, EntryError> {
    let detail = match entry.get("Detail") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(EntryError::Detail)?,
        Some(other) => other.clone(),
        None => Value::Object(Map::new()),
    };
    let field = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(json!({
        "version": "0",
        "id": id,
        "detail-type": field("DetailType").ok_or(EntryError::Missing("DetailType"))?,
        "source": field("Source").ok_or(EntryError::Missing("Source"))?,
        "account": account,
        "time": time(entry.get("Time")).unwrap_or_else(|| now.to_owned()),
        "region": region,
        "resources": entry.get("Resources").cloned().unwrap_or_else(|| json!([])),
        "detail": detail,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/aws-events").join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn literal_lists_prefix_and_nesting() {
        let p = json!({"source": ["aws.ecr"], "detail": {"action-type": ["PUSH"], "result": ["SUCCESS"]}});
        assert!(matches(&p, &sample("ecr-image-push.json")));
        assert!(!matches(&p, &sample("ecr-image-delete.json")));
        let prefix = json!({"detail": {"group": [{"prefix": "service:"}]}});
        assert!(matches(&prefix, &json!({"detail": {"group": "service:web"}})));
        assert!(!matches(&prefix, &json!({"detail": {"group": "family:web"}})));
        assert!(!matches(&prefix, &json!({"detail": {}})));
    }

    #[test]
    fn lists_in_the_event_match_any_element() {
        let p = json!({"detail": {"configuration": {"metrics": {"metricStat": {"metric": {"namespace": ["AWS/ApplicationELB"]}}}}}});
        assert!(matches(&p, &sample("cloudwatch-alarm-unhealthy-hosts.json")));
        let p2 =
            json!({"detail": {"configuration": {"metrics": {"metricStat": {"metric": {"namespace": ["AWS/EC2"]}}}}}});
        assert!(!matches(&p2, &sample("cloudwatch-alarm-unhealthy-hosts.json")));
        assert!(matches(&json!({"resources": ["b"]}), &json!({"resources": ["a", "b"]})));
    }

    #[test]
    fn anything_but_and_exists() {
        let p = json!({"detail": {"stopCode": [{"anything-but": ["ServiceSchedulerInitiated"]}]}});
        assert!(matches(&p, &json!({"detail": {"stopCode": "TaskFailedToStart"}})));
        assert!(!matches(&p, &json!({"detail": {"stopCode": "ServiceSchedulerInitiated"}})));
        assert!(matches(&json!({"detail": {"x": [{"exists": false}]}}), &json!({"detail": {}})));
        assert!(!matches(&json!({"detail": {"x": [{"exists": true}]}}), &json!({"detail": {}})));
    }

    #[test]
    fn entry_time_is_kept_whether_epoch_seconds_or_text() {
        let e = envelope(&json!({"Source": "s", "DetailType": "d", "Time": 1_700_000_000.0}), "1", "r", "id", "now")
            .unwrap();
        assert_eq!(e["time"], "2023-11-14T22:13:20Z");
        let e = envelope(&json!({"Source": "s", "DetailType": "d"}), "1", "r", "id", "now").unwrap();
        assert_eq!(e["time"], "now");
    }

    #[test]
    fn entries_without_source_or_with_a_bad_detail_are_refused() {
        let missing = envelope(&json!({"DetailType": "d"}), "1", "r", "id", "now");
        assert!(matches!(missing, Err(EntryError::Missing("Source"))), "{missing:?}");
        let bad = envelope(&json!({"Source": "s", "DetailType": "d", "Detail": "{"}), "1", "r", "id", "now");
        assert!(matches!(bad, Err(EntryError::Detail(_))), "{bad:?}");
    }

    #[test]
    fn unsupported_operators_are_refused() {
        assert!(validate(&json!({"detail": {"n": [{"numeric": [">", 1]}]}})).is_err());
        assert!(validate(&json!({"source": ["a", {"prefix": "b"}]})).is_ok());
        assert!(validate(&json!(["x"])).is_err());
    }

    #[test]
    fn the_templates_rules_are_loaded_and_route_the_documented_samples() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let stack = super::super::template::Stack { name: "t".into(), region: "us-east-1".into(), account: "1".into() };
        let t = Template::load(&path, stack, &Default::default()).unwrap();
        let rules = from_template(&t).unwrap();
        let route = |event: &Value| -> Vec<String> {
            rules
                .iter()
                .filter(|r| r.bus == "default" && matches(&r.pattern, event))
                .map(|r| r.function.clone())
                .collect()
        };
        assert_eq!(route(&sample("ecr-image-push.json")), ["OnImagePushFunction"]);
        assert!(route(&sample("ecr-image-delete.json")).is_empty());
        for s in [
            "ecs-deployment-completed.json",
            "ecs-deployment-failed.json",
            "ecs-service-action-steady-state.json",
            "cloudwatch-alarm-unhealthy-hosts.json",
        ] {
            assert_eq!(route(&sample(s)), ["OnEcsEventFunction"], "{s}");
        }
        // A RUNNING task is not something the pipeline waits for.
        assert!(route(&sample("ecs-task-state-change-running.json")).is_empty());
    }
}
