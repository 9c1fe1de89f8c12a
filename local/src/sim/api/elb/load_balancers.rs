//! CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer.

use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::clock::iso_millis;
use crate::sim::model::{LbType, LoadBalancer};
use crate::sim::world::World;

/// Route 53 hosted zone ids of ELB endpoints (`(region, application, network)`), from
/// the AWS General Reference's Elastic Load Balancing endpoints; other regions get none.
const HOSTED_ZONES: &[(&str, &str, &str)] = &[
    ("us-east-1", "Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    ("us-east-2", "Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    ("us-west-2", "Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    ("eu-west-1", "Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    ("eu-central-1", "Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
];

/// Same name and settings returns the existing load balancer (the operation is
/// idempotent); a different one is DuplicateLoadBalancerName.
pub fn create(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let name = p.required("Name")?;
    // "must be unique per region per account, can have a maximum of 32 characters, must
    // contain only alphanumeric characters or hyphens, must not begin or end with a
    // hyphen, and must not begin with "internal-"" (API Reference, CreateLoadBalancer).
    let valid = name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.starts_with("internal-");
    if !valid {
        return Err(ElbError::validation(format!(
            "Load balancer name '{name}' can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, must not begin or end with a hyphen, and must not begin with 'internal-'"
        )));
    }
    let lb_type = match p.get("Type").unwrap_or("application") {
        t @ "gateway" => {
            return Err(ElbError::validation(format!("Load balancer type '{t}' is not supported by the simulator")));
        }
        t => LbType::parse(t).ok_or_else(|| ElbError::validation(format!("Load balancer type '{t}' is not valid")))?,
    };
    let scheme = p.get("Scheme").unwrap_or("internet-facing").to_string();
    if !matches!(scheme.as_str(), "internet-facing" | "internal") {
        return Err(ElbError::validation(format!("Scheme '{scheme}' is not valid")));
    }
    let ip_address_type = p.get("IpAddressType").unwrap_or("ipv4").to_string();
    if !matches!(ip_address_type.as_str(), "ipv4" | "dualstack" | "dualstack-without-public-ipv4") {
        return Err(ElbError::validation(format!("IP address type '{ip_address_type}' is not valid")));
    }
    let subnets = subnets(p, lb_type)?;
    let security_groups = p.list("SecurityGroups");
    let zones: Vec<(String, String)> = subnets
        .into_iter()
        .zip(b'a'..=b'z')
        .map(|(s, letter)| (format!("{}{}", w.region, char::from(letter)), s))
        .collect();
    if let Some(existing) = w.load_balancers.values().find(|l| l.name == name) {
        let same = existing.lb_type == lb_type
            && existing.scheme == scheme
            && existing.zones == zones
            && existing.security_groups == security_groups;
        if !same {
            return Err(ElbError::new(
                "DuplicateLoadBalancerName",
                format!("A load balancer with the same name '{name}' exists, but with different settings"),
            ));
        }
        return Ok(lbs_xml(w, &[existing]));
    }
    let id = w.rng.hex(16);
    let arn = w.arn("elasticloadbalancing", &format!("loadbalancer/{}/{name}/{id}", lb_type.arn_segment()));
    let prefix = if scheme == "internal" { "internal-" } else { "" };
    let dns_name = match lb_type {
        LbType::Application => format!("{prefix}{name}-{}.{}.elb.amazonaws.com", w.rng.digits(10), w.region),
        LbType::Network => format!("{prefix}{name}-{}.elb.{}.amazonaws.com", w.rng.hex(16), w.region),
    };
    let lb = LoadBalancer {
        arn: arn.clone(),
        name: name.to_string(),
        dns_name,
        lb_type,
        scheme,
        ip_address_type,
        zones,
        security_groups,
        created_at: w.now(),
    };
    let xml = lbs_xml(w, &[&lb]);
    w.load_balancers.insert(arn, lb);
    Ok(xml)
}

/// `Subnets` or `SubnetMappings` (not both); an ALB needs two ("You must specify subnets
/// from at least two Availability Zones", API Reference, CreateLoadBalancer).
fn subnets(p: &Params, lb_type: LbType) -> Result<Vec<String>, ElbError> {
    let plain = p.list("Subnets");
    let mapped = p
        .members("SubnetMappings")
        .iter()
        .map(|m| m.required("SubnetId").map(String::from))
        .collect::<Result<Vec<_>, _>>()?;
    if !plain.is_empty() && !mapped.is_empty() {
        return Err(ElbError::validation("Specify either Subnets or SubnetMappings, not both"));
    }
    let subnets = if plain.is_empty() { mapped } else { plain };
    let needed = if lb_type == LbType::Application { 2 } else { 1 };
    if subnets.len() < needed {
        return Err(ElbError::validation(match lb_type {
            LbType::Application => "At least two subnets in two different Availability Zones must be specified",
            LbType::Network => "At least one subnet must be specified",
        }));
    }
    if subnets.len() > 26 {
        return Err(ElbError::validation("Too many subnets"));
    }
    Ok(subnets)
}

/// By LoadBalancerArns or Names; any missing one is LoadBalancerNotFound.
pub fn describe(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let (arns, names) = (p.list("LoadBalancerArns"), p.list("Names"));
    let lbs: Vec<&LoadBalancer> = if !arns.is_empty() {
        arns.iter().map(|a| w.load_balancers.get(a).ok_or_else(ElbError::lb_not_found)).collect::<Result<_, _>>()?
    } else if !names.is_empty() {
        names
            .iter()
            .map(|n| w.load_balancers.values().find(|l| &l.name == n).ok_or_else(ElbError::lb_not_found))
            .collect::<Result<_, _>>()?
    } else {
        let mut all: Vec<&LoadBalancer> = w.load_balancers.values().collect();
        all.sort_by_key(|l| l.created_at);
        all
    };
    let (range, next) = p.page(lbs.len())?;
    let mut xml = lbs_xml(w, lbs.get(range).unwrap_or_default());
    if let Some(next) = next {
        xml.push_str(&format!("<NextMarker>{next}</NextMarker>"));
    }
    Ok(xml)
}

/// Deletes the load balancer with its listeners and rules; an unknown one succeeds
/// ("If the load balancer does not exist or has already been deleted, the call succeeds").
pub fn delete(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("LoadBalancerArn")?.to_string();
    w.delete_load_balancer(&arn);
    Ok(String::new())
}

fn lbs_xml(w: &World, lbs: &[&LoadBalancer]) -> String {
    let mut x = Xml::default();
    x.open("LoadBalancers");
    for lb in lbs {
        let zone_id = HOSTED_ZONES.iter().find(|z| z.0 == w.region).map(|z| match lb.lb_type {
            LbType::Application => z.1,
            LbType::Network => z.2,
        });
        x.open("member")
            .text("LoadBalancerArn", &lb.arn)
            .text("DNSName", &lb.dns_name)
            .opt("CanonicalHostedZoneId", zone_id)
            .text("CreatedTime", iso_millis(lb.created_at))
            .text("LoadBalancerName", &lb.name)
            .text("Scheme", &lb.scheme);
        x.open("State").text("Code", "active").close("State");
        x.text("Type", lb.lb_type.as_str());
        x.open("AvailabilityZones");
        for (zone, subnet) in &lb.zones {
            x.open("member").text("ZoneName", zone).text("SubnetId", subnet).close("member");
        }
        x.close("AvailabilityZones");
        x.open("SecurityGroups");
        for sg in &lb.security_groups {
            x.text("member", sg);
        }
        x.close("SecurityGroups");
        x.text("IpAddressType", &lb.ip_address_type).close("member");
    }
    x.close("LoadBalancers");
    x.finish()
}
