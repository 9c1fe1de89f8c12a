//! CreateTargetGroup, DescribeTargetGroups, DeleteTargetGroup, ModifyTargetGroup,
//! ModifyTargetGroupAttributes, DescribeTargetGroupAttributes.

use std::collections::BTreeMap;

use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::model::{HealthCheck, TargetGroup};
use crate::sim::world::World;

/// Attributes of an ip/instance target group with their defaults (ELB User Guide,
/// "Target group attributes"); only `deregistration_delay.timeout_seconds` has an effect.
const DEFAULT_ATTRIBUTES: &[(&str, &str)] = &[
    ("deregistration_delay.timeout_seconds", "300"),
    ("stickiness.enabled", "false"),
    ("stickiness.type", "lb_cookie"),
    ("stickiness.lb_cookie.duration_seconds", "86400"),
    ("load_balancing.algorithm.type", "round_robin"),
    ("load_balancing.cross_zone.enabled", "use_load_balancer_configuration"),
    ("slow_start.duration_seconds", "0"),
];

/// Same name and settings returns the existing group; a different one is DuplicateTargetGroupName.
pub fn create(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let name = p.required("Name")?;
    let valid = name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return Err(ElbError::validation(format!(
            "Target group name '{name}' can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen"
        )));
    }
    let target_type = p.get("TargetType").unwrap_or("instance").to_string();
    if !matches!(target_type.as_str(), "instance" | "ip" | "lambda" | "alb") {
        return Err(ElbError::validation(format!("Target type '{target_type}' is not valid")));
    }
    let protocol = p.get("Protocol").map(String::from);
    let port = p.int("Port")?;
    let vpc_id = p.get("VpcId").map(String::from);
    if target_type != "lambda" && (protocol.is_none() || port.is_none() || vpc_id.is_none()) {
        return Err(ElbError::validation(
            "A protocol, port, and VPC ID must be specified for target groups with target type 'instance', 'ip' or 'alb'",
        ));
    }
    if port.is_some_and(|p| !(1..=65535).contains(&p)) {
        return Err(ElbError::validation("Port must be between 1 and 65535"));
    }
    let health_check = health_check(p, None, protocol.as_deref())?;
    if p.bool("HealthCheckEnabled")? == Some(false) && target_type != "lambda" {
        return Err(ElbError::validation(format!(
            "Health check enabled must be true for target groups with target type '{target_type}'"
        )));
    }
    if let Some(existing) = w.target_groups.values().find(|t| t.name == name) {
        let same = existing.protocol == protocol
            && existing.port == port
            && existing.vpc_id == vpc_id
            && existing.target_type == target_type;
        if !same {
            return Err(ElbError::new(
                "DuplicateTargetGroupName",
                "A target group with the same name exists, but with different settings",
            ));
        }
        return Ok(groups_xml(w, &[existing]));
    }
    let suffix = w.rng.hex(16);
    let arn = w.arn("elasticloadbalancing", &format!("targetgroup/{name}/{suffix}"));
    let tags = p
        .structs("Tags")
        .into_iter()
        .map(|t| serde_json::json!({"Key": t.get("Key"), "Value": t.get("Value")}))
        .collect();
    let tg = TargetGroup {
        arn: arn.clone(),
        name: name.to_string(),
        protocol_version: p
            .get("ProtocolVersion")
            .map(String::from)
            .or_else(|| protocol.as_deref().filter(|p| p.starts_with("HTTP")).map(|_| "HTTP1".into())),
        protocol,
        port,
        vpc_id,
        target_type,
        ip_address_type: p.get("IpAddressType").unwrap_or("ipv4").to_string(),
        health_check,
        attributes: DEFAULT_ATTRIBUTES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        targets: Vec::new(),
        tags,
    };
    let xml = groups_xml(w, &[&tg]);
    w.target_groups.insert(arn, tg);
    Ok(xml)
}

/// Health check settings with ALB defaults: interval 30 s, timeout 5 s, healthy 5,
/// unhealthy 2, path "/", matcher 200 (ELB User Guide, "Health check settings").
fn health_check(p: &Params, base: Option<&HealthCheck>, protocol: Option<&str>) -> Result<HealthCheck, ElbError> {
    let http = protocol.is_some_and(|p| p.starts_with("HTTP"));
    let d = base.cloned().unwrap_or(HealthCheck {
        enabled: true,
        protocol: protocol.filter(|p| p.starts_with("HTTP")).unwrap_or("TCP").to_string(),
        port: "traffic-port".into(),
        path: http.then(|| "/".to_string()),
        interval_seconds: 30,
        timeout_seconds: if http { 5 } else { 10 },
        healthy_threshold: 5,
        unhealthy_threshold: 2,
        matcher: http.then(|| "200".to_string()),
    });
    let ranged = |k: &str, lo: i64, hi: i64, dflt: i64| -> Result<i64, ElbError> {
        match p.int(k)? {
            None => Ok(dflt),
            Some(v) if (lo..=hi).contains(&v) => Ok(v),
            Some(v) => Err(ElbError::validation(format!("{k} must be between {lo} and {hi}, got {v}"))),
        }
    };
    let hc = HealthCheck {
        enabled: p.bool("HealthCheckEnabled")?.unwrap_or(d.enabled),
        protocol: p.get("HealthCheckProtocol").map(String::from).unwrap_or(d.protocol),
        port: p.get("HealthCheckPort").map(String::from).unwrap_or(d.port),
        path: p.get("HealthCheckPath").map(String::from).or(d.path),
        interval_seconds: ranged("HealthCheckIntervalSeconds", 5, 300, d.interval_seconds)?,
        timeout_seconds: ranged("HealthCheckTimeoutSeconds", 2, 120, d.timeout_seconds)?,
        healthy_threshold: ranged("HealthyThresholdCount", 2, 10, d.healthy_threshold)?,
        unhealthy_threshold: ranged("UnhealthyThresholdCount", 2, 10, d.unhealthy_threshold)?,
        matcher: p.get("Matcher.HttpCode").map(String::from).or(d.matcher),
    };
    if hc.timeout_seconds >= hc.interval_seconds {
        return Err(ElbError::validation("Health check interval must be greater than the timeout."));
    }
    Ok(hc)
}

/// By LoadBalancerArn, TargetGroupArns or Names; any missing one is
/// LoadBalancerNotFound or TargetGroupNotFound.
pub fn describe(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let (arns, names) = (p.list("TargetGroupArns"), p.list("Names"));
    let groups: Vec<&TargetGroup> = if let Some(lb) = p.get("LoadBalancerArn") {
        if !w.load_balancers.contains_key(lb) {
            return Err(ElbError::lb_not_found());
        }
        w.target_groups.values().filter(|t| w.target_group_load_balancers(&t.arn).iter().any(|a| a == lb)).collect()
    } else if !arns.is_empty() {
        arns.iter().map(|a| w.target_groups.get(a).ok_or_else(ElbError::tg_not_found)).collect::<Result<_, _>>()?
    } else if !names.is_empty() {
        names
            .iter()
            .map(|n| w.target_groups.values().find(|t| &t.name == n).ok_or_else(ElbError::tg_not_found))
            .collect::<Result<_, _>>()?
    } else {
        w.target_groups.values().collect()
    };
    let (range, next) = p.page(groups.len())?;
    let mut xml = groups_xml(w, groups.get(range).unwrap_or_default());
    if let Some(next) = next {
        xml.push_str(&format!("<NextMarker>{next}</NextMarker>"));
    }
    Ok(xml)
}

pub fn delete(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?;
    let in_use = w.services.iter().any(|s| {
        s.status != crate::sim::model::ServiceStatus::Inactive
            && s.load_balancers.iter().any(|l| l.target_group_arn == arn)
    });
    if in_use {
        return Err(ElbError::new("ResourceInUse", format!("Target group '{arn}' is currently in use by a service")));
    }
    if !w.target_group_load_balancers(arn).is_empty() {
        return Err(ElbError::new(
            "ResourceInUse",
            format!("Target group '{arn}' is currently in use by a listener or a rule"),
        ));
    }
    w.target_groups.remove(arn);
    Ok(String::new())
}

/// Changes health check settings.
pub fn modify(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?;
    let tg = w.target_groups.get_mut(arn).ok_or_else(ElbError::tg_not_found)?;
    tg.health_check = health_check(p, Some(&tg.health_check), tg.protocol.as_deref())?;
    let tg = w.target_groups.get(arn).ok_or_else(ElbError::tg_not_found)?;
    Ok(groups_xml(w, &[tg]))
}

/// Validates keys and values; `deregistration_delay.timeout_seconds` is 0–3600.
pub fn modify_attributes(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?;
    let attrs = p.structs("Attributes");
    if attrs.is_empty() {
        return Err(ElbError::validation("Attributes must contain at least one attribute"));
    }
    let tg = w.target_groups.get_mut(arn).ok_or_else(ElbError::tg_not_found)?;
    let mut changes = BTreeMap::new();
    for a in attrs {
        let (Some(k), Some(v)) = (a.get("Key"), a.get("Value")) else {
            return Err(ElbError::validation("Each attribute needs a Key and a Value"));
        };
        if !tg.attributes.contains_key(k)
            && !k.starts_with("stickiness.")
            && !k.starts_with("target_")
            && !k.starts_with("load_balancing.")
        {
            return Err(ElbError::validation(format!("Target group attribute key '{k}' is not recognized")));
        }
        if k == "deregistration_delay.timeout_seconds" && !v.parse::<i64>().is_ok_and(|n| (0..=3600).contains(&n)) {
            return Err(ElbError::new(
                "InvalidConfigurationRequest",
                format!(
                    "Target group attribute 'deregistration_delay.timeout_seconds' value '{v}' must be an integer between 0 and 3600"
                ),
            ));
        }
        changes.insert(k.clone(), v.clone());
    }
    tg.attributes.extend(changes);
    Ok(attributes_xml(&tg.attributes))
}

pub fn describe_attributes(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("TargetGroupArn")?;
    let tg = w.target_groups.get(arn).ok_or_else(ElbError::tg_not_found)?;
    Ok(attributes_xml(&tg.attributes))
}

fn attributes_xml(attrs: &BTreeMap<String, String>) -> String {
    let mut x = Xml::default();
    x.open("Attributes");
    for (k, v) in attrs {
        x.open("member").text("Key", k).text("Value", v).close("member");
    }
    x.close("Attributes");
    x.finish()
}

fn groups_xml(w: &World, groups: &[&TargetGroup]) -> String {
    let mut x = Xml::default();
    x.open("TargetGroups");
    for tg in groups {
        let hc = &tg.health_check;
        x.open("member")
            .text("TargetGroupArn", &tg.arn)
            .text("TargetGroupName", &tg.name)
            .opt("Protocol", tg.protocol.as_ref())
            .opt("ProtocolVersion", tg.protocol_version.as_ref())
            .opt("Port", tg.port)
            .opt("VpcId", tg.vpc_id.as_ref())
            .text("HealthCheckProtocol", &hc.protocol)
            .text("HealthCheckPort", &hc.port)
            .text("HealthCheckEnabled", hc.enabled)
            .text("HealthCheckIntervalSeconds", hc.interval_seconds)
            .text("HealthCheckTimeoutSeconds", hc.timeout_seconds)
            .text("HealthyThresholdCount", hc.healthy_threshold)
            .text("UnhealthyThresholdCount", hc.unhealthy_threshold)
            .opt("HealthCheckPath", hc.path.as_ref());
        if let Some(m) = &hc.matcher {
            x.open("Matcher").text("HttpCode", m).close("Matcher");
        }
        x.open("LoadBalancerArns");
        for lb in w.target_group_load_balancers(&tg.arn) {
            x.text("member", lb);
        }
        x.close("LoadBalancerArns");
        x.text("TargetType", &tg.target_type).text("IpAddressType", &tg.ip_address_type).close("member");
    }
    x.close("TargetGroups");
    x.finish()
}
