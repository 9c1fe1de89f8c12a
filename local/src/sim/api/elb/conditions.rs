//! Rule conditions on the wire: `Conditions.member.N.…` in, `<Conditions>` out. Requests
//! to the listeners match them (`crate::sim::requests`).

use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::model::{Condition, LbType};

/// "You can specify up to three comparison strings per condition and up to five per
/// rule" (ELB User Guide, "Listener rules for your Application Load Balancer").
const MAX_VALUES_PER_CONDITION: usize = 3;
const MAX_VALUES_PER_RULE: usize = 5;

/// The conditions of a non-default rule: at least one; at most one `path-pattern` and one
/// `host-header`, any number of `http-header` ("Each rule can include zero or one of the
/// following conditions: host-header, http-request-method, path-pattern, and source-ip,
/// and zero or more of the following conditions: http-header and query-string", same page).
pub fn parse(p: &Params, lb_type: LbType) -> Result<Vec<Condition>, ElbError> {
    let members = p.members("Conditions");
    if members.is_empty() {
        return Err(ElbError::validation("A rule must have at least one condition"));
    }
    let conditions = members.iter().map(|c| condition(c, lb_type)).collect::<Result<Vec<_>, _>>()?;
    for field in ["path-pattern", "host-header"] {
        if conditions.iter().filter(|c| c.field() == field).count() > 1 {
            return Err(ElbError::validation(format!("A rule can have only one '{field}' condition")));
        }
    }
    if conditions.iter().map(|c| c.values().len()).sum::<usize>() > MAX_VALUES_PER_RULE {
        return Err(ElbError::validation(format!(
            "A rule can have at most {MAX_VALUES_PER_RULE} condition values in total"
        )));
    }
    Ok(conditions)
}

fn condition(c: &Params, lb_type: LbType) -> Result<Condition, ElbError> {
    let field = c.required("Field")?;
    if lb_type != LbType::Application {
        return Err(ElbError::validation(format!(
            "Condition '{field}' is not supported on this listener (the simulator has no source-ip conditions for Network Load Balancers)"
        )));
    }
    let regex = c.has("RegexValues")
        || ["HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig"].iter().any(|k| c.nested(k).has("RegexValues"));
    if regex {
        return Err(ElbError::validation("RegexValues conditions are not supported by the simulator"));
    }
    let cond = match field {
        "path-pattern" => Condition::PathPattern(values(c, "PathPatternConfig")?),
        "host-header" => Condition::HostHeader(values(c, "HostHeaderConfig")?),
        "http-header" => {
            if c.has("Values") {
                return Err(ElbError::validation(
                    "Values can be specified only for host-header and path-pattern conditions; use HttpHeaderConfig",
                ));
            }
            let config = c.nested("HttpHeaderConfig");
            let name = config.required("HttpHeaderName")?.to_string();
            Condition::HttpHeader { name, values: non_empty(config.list("Values"), field)? }
        }
        "http-request-method" | "query-string" | "source-ip" => {
            return Err(ElbError::validation(format!("Condition '{field}' is not supported by the simulator")));
        }
        f => return Err(ElbError::validation(format!("Condition field '{f}' is not valid"))),
    };
    if cond.values().len() > MAX_VALUES_PER_CONDITION {
        return Err(ElbError::validation(format!(
            "A '{field}' condition can have at most {MAX_VALUES_PER_CONDITION} values"
        )));
    }
    Ok(cond)
}

/// `Values`, or the `*Config.Values` form (one of the two).
fn values(c: &Params, config: &str) -> Result<Vec<String>, ElbError> {
    let field = c.get("Field").unwrap_or_default();
    let (plain, nested) = (c.list("Values"), c.nested(config).list("Values"));
    if !plain.is_empty() && !nested.is_empty() {
        return Err(ElbError::validation(format!(
            "Specify either Values or {config} for a '{field}' condition, not both"
        )));
    }
    non_empty(if nested.is_empty() { plain } else { nested }, field)
}

/// "The value for a condition can't be empty" (API Reference, `RuleCondition`).
fn non_empty(values: Vec<String>, field: &str) -> Result<Vec<String>, ElbError> {
    if values.is_empty() || values.iter().any(String::is_empty) {
        return Err(ElbError::validation(format!("A '{field}' condition needs at least one non-empty value")));
    }
    Ok(values)
}

/// `<Conditions>` as AWS returns them: path-pattern and host-header with both `Values`
/// and their `*Config`; http-header with `HttpHeaderConfig` only.
pub fn write(x: &mut Xml, conditions: &[Condition]) {
    let list = |x: &mut Xml, tag: &str, values: &[String]| {
        x.open(tag);
        for v in values {
            x.text("member", v);
        }
        x.close(tag);
    };
    x.open("Conditions");
    for c in conditions {
        x.open("member").text("Field", c.field());
        match c {
            Condition::HostHeader(v) => {
                list(x, "Values", v);
                x.open("HostHeaderConfig");
                list(x, "Values", v);
                x.close("HostHeaderConfig");
            }
            Condition::PathPattern(v) => {
                list(x, "Values", v);
                x.open("PathPatternConfig");
                list(x, "Values", v);
                x.close("PathPatternConfig");
            }
            Condition::HttpHeader { name, values } => {
                x.open("HttpHeaderConfig").text("HttpHeaderName", name);
                list(x, "Values", values);
                x.close("HttpHeaderConfig");
            }
        }
        x.close("member");
    }
    x.close("Conditions");
}
