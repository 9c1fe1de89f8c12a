//! Rule and listener actions on the wire: `Actions.member.N.…` in, `<Actions>` out.
//! Shared by CreateListener/ModifyListener (DefaultActions) and CreateRule/ModifyRule.

use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::model::listener::Redirect;
use crate::sim::model::{Action, ActionKind, Forward, ForwardError, LbType, LoadBalancer};
use crate::sim::routing::RoutingError;
use crate::sim::world::World;

/// Stickiness duration range, per `TargetGroupStickinessConfig.DurationSeconds`.
const STICKINESS_SECONDS: std::ops::RangeInclusive<i64> = 1..=604_800;

impl From<RoutingError> for ElbError {
    fn from(e: RoutingError) -> Self {
        let code = match &e {
            RoutingError::NotFound(_) => "RuleNotFound",
            RoutingError::TargetGroupNotFound(_) => "TargetGroupNotFound",
            RoutingError::IncompatibleProtocols { .. } => "IncompatibleProtocols",
            RoutingError::AssociationLimit(_) => "TargetGroupAssociationLimit",
            RoutingError::Forward(ForwardError::TooManyTargetGroups(_)) => "TooManyTargetGroups",
            RoutingError::NotForward(_) | RoutingError::Forward(_) => "ValidationError",
        };
        ElbError::new(code, e.to_string())
    }
}

/// The actions of list `name`, validated against the world's target groups.
///
/// "Each rule must include exactly one of the following routing actions: forward,
/// redirect, or fixed-response" (ELB User Guide, "Action types for listener rules"); the
/// authentication actions, which need HTTPS and an identity provider, are refused.
pub fn parse(w: &World, lb: &LoadBalancer, p: &Params, name: &str) -> Result<Vec<Action>, ElbError> {
    let members = p.members(name);
    if members.is_empty() {
        return Err(ElbError::validation(format!("At least one action must be specified in {name}")));
    }
    if members.len() > 1 {
        return Err(ElbError::new(
            "InvalidLoadBalancerAction",
            "A rule must have exactly one forward, redirect or fixed-response action (the simulator has no authentication actions)",
        ));
    }
    members.iter().map(|a| action(w, lb, a)).collect()
}

fn action(w: &World, lb: &LoadBalancer, a: &Params) -> Result<Action, ElbError> {
    let order = a.int("Order")?;
    if order.is_some_and(|o| !(1..=50_000).contains(&o)) {
        return Err(ElbError::validation("Action order must be between 1 and 50000"));
    }
    let kind = match a.required("Type")? {
        "forward" => ActionKind::Forward(forward(w, lb, a)?),
        t @ ("fixed-response" | "redirect") if lb.lb_type != LbType::Application => {
            return Err(ElbError::new(
                "InvalidLoadBalancerAction",
                format!("Action type '{t}' is supported only by Application Load Balancers"),
            ));
        }
        "fixed-response" => fixed_response(&a.nested("FixedResponseConfig"))?,
        "redirect" => ActionKind::Redirect(redirect(&a.nested("RedirectConfig"))?),
        t @ ("authenticate-oidc" | "authenticate-cognito" | "jwt-validation") => {
            return Err(ElbError::new(
                "InvalidLoadBalancerAction",
                format!("Action type '{t}' is not supported by the simulator"),
            ));
        }
        t => return Err(ElbError::validation(format!("Action type '{t}' is not valid"))),
    };
    Ok(Action { order, kind })
}

/// `TargetGroupArn` alone is one group at weight 1; with `ForwardConfig` too, the config
/// must name exactly that group (API Reference, `Action.ForwardConfig`).
fn forward(w: &World, lb: &LoadBalancer, a: &Params) -> Result<Forward, ElbError> {
    let config = a.nested("ForwardConfig");
    let mut groups = Vec::new();
    for g in config.members("TargetGroups") {
        groups.push((g.required("TargetGroupArn")?.to_string(), g.int("Weight")?.unwrap_or(1)));
    }
    match (a.get("TargetGroupArn"), groups.is_empty()) {
        (None, true) => {
            return Err(ElbError::validation("A forward action needs a TargetGroupArn or a ForwardConfig"));
        }
        (Some(arn), true) => groups.push((arn.to_string(), 1)),
        (Some(arn), false) if groups.len() != 1 || groups[0].0 != arn => {
            return Err(ElbError::validation(
                "With both TargetGroupArn and ForwardConfig, ForwardConfig must name only that target group",
            ));
        }
        _ => {}
    }
    let mut f = Forward::weighted(&groups).map_err(RoutingError::from)?;
    let sticky = config.nested("TargetGroupStickinessConfig");
    f.stickiness_enabled = sticky.bool("Enabled")?.unwrap_or(false);
    f.stickiness_seconds = sticky.int("DurationSeconds")?;
    if f.stickiness_seconds.is_some_and(|s| !STICKINESS_SECONDS.contains(&s)) {
        return Err(ElbError::validation("Target group stickiness duration must be between 1 and 604800 seconds"));
    }
    if f.stickiness_enabled && f.stickiness_seconds.is_none() && lb.lb_type == LbType::Application {
        return Err(ElbError::validation(
            "A stickiness duration must be specified when target group stickiness is enabled",
        ));
    }
    w.check_forward(lb, &f)?;
    Ok(f)
}

/// Status codes 2XX, 4XX or 5XX (ELB User Guide, "Fixed-response actions").
fn fixed_response(c: &Params) -> Result<ActionKind, ElbError> {
    let status_code = c.required("StatusCode")?.to_string();
    let valid = status_code.len() == 3
        && status_code.chars().all(|ch| ch.is_ascii_digit())
        && matches!(status_code.as_bytes()[0], b'2' | b'4' | b'5');
    if !valid {
        return Err(ElbError::validation(format!(
            "Fixed-response status code '{status_code}' must be 2XX, 4XX or 5XX"
        )));
    }
    Ok(ActionKind::FixedResponse {
        status_code,
        content_type: c.get("ContentType").map(String::from),
        message_body: c.get("MessageBody").map(String::from),
    })
}

/// Components left out keep the request's (`#{protocol}`, `#{host}`, …), as AWS fills them.
fn redirect(c: &Params) -> Result<Redirect, ElbError> {
    let status_code = c.required("StatusCode")?.to_string();
    if !matches!(status_code.as_str(), "HTTP_301" | "HTTP_302") {
        return Err(ElbError::validation(format!("Redirect status code '{status_code}' must be HTTP_301 or HTTP_302")));
    }
    let or = |k: &str, d: &str| Some(c.get(k).unwrap_or(d).to_string());
    Ok(Redirect {
        protocol: or("Protocol", "#{protocol}"),
        port: or("Port", "#{port}"),
        host: or("Host", "#{host}"),
        path: or("Path", "/#{path}"),
        query: or("Query", "#{query}"),
        status_code,
    })
}

/// `<tag>` with one `member` per action, members in botocore's `Action` order. A forward
/// to one target group shows both `TargetGroupArn` and a `ForwardConfig` with it at its
/// weight, and stickiness is always reported, as AWS describes forward actions.
pub fn write(x: &mut Xml, tag: &str, actions: &[Action]) {
    x.open(tag);
    for a in actions {
        x.open("member").text("Type", a.kind.type_name());
        if let ActionKind::Forward(f) = &a.kind
            && let [only] = f.target_groups.as_slice()
        {
            x.text("TargetGroupArn", &only.arn);
        }
        x.opt("Order", a.order);
        match &a.kind {
            ActionKind::Redirect(r) => {
                x.open("RedirectConfig")
                    .opt("Protocol", r.protocol.as_ref())
                    .opt("Port", r.port.as_ref())
                    .opt("Host", r.host.as_ref())
                    .opt("Path", r.path.as_ref())
                    .opt("Query", r.query.as_ref())
                    .text("StatusCode", &r.status_code)
                    .close("RedirectConfig");
            }
            ActionKind::FixedResponse { status_code, content_type, message_body } => {
                x.open("FixedResponseConfig")
                    .opt("MessageBody", message_body.as_ref())
                    .text("StatusCode", status_code)
                    .opt("ContentType", content_type.as_ref())
                    .close("FixedResponseConfig");
            }
            ActionKind::Forward(f) => {
                x.open("ForwardConfig").open("TargetGroups");
                for t in &f.target_groups {
                    x.open("member").text("TargetGroupArn", &t.arn).text("Weight", t.weight).close("member");
                }
                x.close("TargetGroups")
                    .open("TargetGroupStickinessConfig")
                    .text("Enabled", f.stickiness_enabled)
                    .opt("DurationSeconds", f.stickiness_seconds)
                    .close("TargetGroupStickinessConfig")
                    .close("ForwardConfig");
            }
        }
        x.close("member");
    }
    x.close(tag);
}
