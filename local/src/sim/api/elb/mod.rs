//! ELBv2 over awsQuery: form-encoded `Action=…&Version=2015-12-01`, XML responses.

pub mod params;
pub mod xml;

mod actions;
mod conditions;
mod listeners;
mod load_balancers;
mod rules;
mod target_groups;
mod targets;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::sim::Sim;
use crate::sim::api::error::ElbError;
use crate::sim::world::World;
use params::Params;

/// Handles one ELBv2 action; never panics on bad input.
pub fn handle(sim: &Sim, p: &Params) -> Response {
    let action = p.get("Action").unwrap_or_default().to_string();
    let (request_id, result) = sim.with(|w| (w.rng.uuid(), dispatch(w, &action, p)));
    match result {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], xml::response(&action, &body, &request_id))
            .into_response(),
        Err(e) => e.into_response_with(&request_id),
    }
}

/// Runs one action against the world; returns the inner `<{Action}Result>` XML.
pub fn dispatch(w: &mut World, action: &str, p: &Params) -> Result<String, ElbError> {
    if let Some(v) = p.get("Version").filter(|v| *v != "2015-12-01") {
        return Err(ElbError::new("InvalidAction", format!("Version {v} is not supported (expected 2015-12-01).")));
    }
    match action {
        "CreateTargetGroup" => target_groups::create(w, p),
        "DescribeTargetGroups" => target_groups::describe(w, p),
        "DeleteTargetGroup" => target_groups::delete(w, p),
        "ModifyTargetGroup" => target_groups::modify(w, p),
        "ModifyTargetGroupAttributes" => target_groups::modify_attributes(w, p),
        "DescribeTargetGroupAttributes" => target_groups::describe_attributes(w, p),
        "RegisterTargets" => targets::register(w, p),
        "DeregisterTargets" => targets::deregister(w, p),
        "DescribeTargetHealth" => targets::describe_health(w, p),
        "CreateLoadBalancer" => load_balancers::create(w, p),
        "DescribeLoadBalancers" => load_balancers::describe(w, p),
        "DeleteLoadBalancer" => load_balancers::delete(w, p),
        "CreateListener" => listeners::create(w, p),
        "DescribeListeners" => listeners::describe(w, p),
        "ModifyListener" => listeners::modify(w, p),
        "DeleteListener" => listeners::delete(w, p),
        "CreateRule" => rules::create(w, p),
        "DescribeRules" => rules::describe(w, p),
        "ModifyRule" => rules::modify(w, p),
        "DeleteRule" => rules::delete(w, p),
        "" => Err(ElbError::new("MissingAction", "The request must contain the parameter Action.")),
        _ => Err(ElbError::new("InvalidAction", format!("The action {action} is not valid for this web service."))),
    }
}
