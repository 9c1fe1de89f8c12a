//! RegisterTargets, DeregisterTargets, DescribeTargetHealth.

use std::collections::BTreeMap;

use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::model::{Target, TargetGroup};
use crate::sim::world::World;

/// `Targets.member.N.{Id,Port,AvailabilityZone}`, Port defaulting to the group's.
fn targets(p: &Params, tg: &TargetGroup, required: bool) -> Result<Vec<(String, i64, Option<String>)>, ElbError> {
    let list = p.structs("Targets");
    if required && list.is_empty() {
        return Err(ElbError::validation("Targets must contain at least one target"));
    }
    list.into_iter().map(|t| target(&t, tg)).collect()
}

fn target(t: &BTreeMap<String, String>, tg: &TargetGroup) -> Result<(String, i64, Option<String>), ElbError> {
    let id = t.get("Id").cloned().ok_or_else(|| ElbError::validation("Target Id must be specified"))?;
    let port = match t.get("Port") {
        Some(v) => v.parse().map_err(|_| ElbError::validation(format!("Invalid port '{v}'")))?,
        None => tg.port.ok_or_else(|| ElbError::validation("A port must be specified"))?,
    };
    if !(1..=65535).contains(&port) {
        return Err(ElbError::validation(format!("Port {port} must be between 1 and 65535")));
    }
    Ok((id, port, t.get("AvailabilityZone").cloned()))
}

/// `ip` targets must be IPv4 addresses (the simulator has no instances or Lambda targets).
pub fn register(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?.to_string();
    let tg = w.target_groups.get(&arn).ok_or_else(ElbError::tg_not_found)?;
    if tg.target_type != "ip" {
        return Err(ElbError::new(
            "InvalidTarget",
            format!("The simulator supports only 'ip' targets; target group has type '{}'", tg.target_type),
        ));
    }
    let list = targets(p, tg, true)?;
    for (id, _, _) in &list {
        if id.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(ElbError::new("InvalidTarget", format!("The IP address '{id}' is not a valid IPv4 address")));
        }
    }
    for (id, port, az) in list {
        w.elb_register(&arn, &id, port, az);
    }
    Ok(String::new())
}

/// Registered targets start draining; unknown ones are InvalidTarget.
pub fn deregister(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?.to_string();
    let tg = w.target_groups.get(&arn).ok_or_else(ElbError::tg_not_found)?;
    let list = targets(p, tg, true)?;
    let missing: Vec<String> = list
        .iter()
        .filter(|(id, port, _)| tg.target(id, *port).is_none())
        .map(|(id, port, _)| format!("'{id}:{port}'"))
        .collect();
    if !missing.is_empty() {
        return Err(ElbError::new(
            "InvalidTarget",
            format!("The following targets are not registered: {}", missing.join(", ")),
        ));
    }
    for (id, port, _) in list {
        w.elb_deregister(&arn, &id, port);
    }
    Ok(String::new())
}

/// All targets (registered and draining), or the requested ones — unregistered ones as
/// `unused` / Target.NotRegistered.
pub fn describe_health(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?;
    let tg = w.target_groups.get(arn).ok_or_else(ElbError::tg_not_found)?;
    let wanted = targets(p, tg, false)?;
    let mut x = Xml::default();
    x.open("TargetHealthDescriptions");
    if wanted.is_empty() {
        for t in &tg.targets {
            describe(&mut x, tg, t);
        }
    } else {
        for (id, port, _) in wanted {
            match tg.target(&id, port) {
                Some(t) => describe(&mut x, tg, t),
                None => {
                    x.open("member");
                    x.open("Target").text("Id", &id).text("Port", port).close("Target");
                    x.text("HealthCheckPort", health_check_port(tg, port));
                    x.open("TargetHealth")
                        .text("State", "unused")
                        .text("Reason", "Target.NotRegistered")
                        .text("Description", "Target is not registered to the target group")
                        .close("TargetHealth");
                    x.close("member");
                }
            }
        }
    }
    x.close("TargetHealthDescriptions");
    Ok(x.finish())
}

fn health_check_port(tg: &TargetGroup, port: i64) -> String {
    if tg.health_check.port == "traffic-port" { port.to_string() } else { tg.health_check.port.clone() }
}

fn describe(x: &mut Xml, tg: &TargetGroup, t: &Target) {
    x.open("member");
    x.open("Target")
        .text("Id", &t.id)
        .text("Port", t.port)
        .opt("AvailabilityZone", t.availability_zone.as_ref())
        .close("Target");
    x.text("HealthCheckPort", health_check_port(tg, t.port));
    x.open("TargetHealth").text("State", t.state.as_str());
    if let Some((reason, description)) = &t.reason {
        x.text("Reason", reason).text("Description", description);
    }
    x.close("TargetHealth");
    x.close("member");
}
