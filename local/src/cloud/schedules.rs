//! The template's `Schedule` events: EventBridge rules that fire on a rate and
//! hand the function a `Scheduled Event` (EventBridge user guide, "Creating a
//! rule that runs on a schedule"). Rates are kept in wall-clock time: what
//! they pace (ECR, Lambda) is not simulated. Cron expressions are not modelled.

use std::time::Duration;

use serde_json::{Value, json};

use super::template::{Template, TemplateError};

/// One schedule of one function.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    /// The function's logical id.
    pub function: String,
    pub expression: String,
    /// `None` for an expression the local cloud does not run (cron).
    pub every: Option<Duration>,
}

/// `rate(5 minutes)` → 300 s; `rate(1 minute)`, hours and days too.
pub fn parse_rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit_seconds = match (n, unit) {
        (1, "minute") | (2.., "minutes") => 60,
        (1, "hour") | (2.., "hours") => 3600,
        (1, "day") | (2.., "days") => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n * unit_seconds))
}

pub fn from_template(t: &Template) -> Result<Vec<Schedule>, TemplateError> {
    let mut schedules = Vec::new();
    for (id, r) in t.of_type("AWS::Serverless::Function") {
        for (event_id, e) in r.properties.get("Events").and_then(Value::as_object).into_iter().flatten() {
            if e.get("Type").and_then(Value::as_str) != Some("Schedule") {
                continue;
            }
            let props = e.get("Properties").cloned().unwrap_or_else(|| json!({}));
            let expression = t.resolve_str(props.get("Schedule").unwrap_or(&Value::Null))?;
            schedules.push(Schedule {
                name: format!("{id}-{event_id}"),
                function: id.clone(),
                every: parse_rate(&expression),
                expression,
            });
        }
    }
    Ok(schedules)
}

/// The event a schedule hands its function.
pub fn scheduled_event(id: &str, account: &str, region: &str, rule: &str) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [format!("arn:aws:events:{region}:{account}:rule/{rule}")],
        "detail": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_as_eventbridge_writes_them() {
        assert_eq!(parse_rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(parse_rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(parse_rate("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_rate("rate(1 minutes)"), None, "EventBridge wants the singular for 1");
        assert_eq!(parse_rate("rate(0 minutes)"), None);
        assert_eq!(parse_rate("cron(0 12 * * ? *)"), None);
    }
}
