//! CreateListener, DescribeListeners, ModifyListener, DeleteListener. A listener's
//! default actions are stored as its default rule (see [`crate::sim::routing`]).

use super::actions;
use super::params::Params;
use super::xml::Xml;
use crate::sim::api::error::ElbError;
use crate::sim::model::{Action, Listener, LoadBalancer, Priority, Rule};
use crate::sim::world::World;

/// The security policy AWS picks for an HTTPS or TLS listener created without one.
const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const PROTOCOLS: &[&str] = &["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"];

/// Same port and settings returns the existing listener (the operation is idempotent);
/// another listener on the port is DuplicateListener.
pub fn create(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let lb_arn = p.required("LoadBalancerArn")?;
    let lb = w.load_balancers.get(lb_arn).ok_or_else(ElbError::lb_not_found)?;
    let protocol = protocol(lb, p.required("Protocol")?)?;
    let port = port(p)?.ok_or_else(|| ElbError::validation("A listener port must be specified"))?;
    let actions = actions::parse(w, lb, p, "DefaultActions")?;
    let certificates = certificates(p);
    let ssl_policy = p.get("SslPolicy").map(String::from);
    let (certificates, ssl_policy) = security(&protocol, certificates, ssl_policy)?;
    if let Some(existing) = w.listeners.values().find(|l| l.load_balancer_arn == lb.arn && l.port == port) {
        let same = existing.protocol == protocol
            && existing.certificates == certificates
            && w.rules.get(&existing.default_rule_arn).is_some_and(|r| r.actions == actions);
        if !same {
            return Err(ElbError::new(
                "DuplicateListener",
                "A listener already exists on this port for this load balancer",
            ));
        }
        return Ok(listeners_xml(w, &[existing]));
    }
    // listener/app/NAME/LBID/ID and listener-rule/app/NAME/LBID/ID/RULEID.
    let lb_path = lb.arn.rsplit_once(":loadbalancer/").map(|(_, r)| r.to_string()).unwrap_or_default();
    let lb_arn = lb.arn.clone();
    let listener_path = format!("{lb_path}/{}", w.rng.hex(16));
    let arn = w.arn("elasticloadbalancing", &format!("listener/{listener_path}"));
    let rule_id = w.rng.hex(16);
    let rule_arn = w.arn("elasticloadbalancing", &format!("listener-rule/{listener_path}/{rule_id}"));
    let listener = Listener {
        arn: arn.clone(),
        load_balancer_arn: lb_arn,
        port,
        protocol,
        ssl_policy,
        certificates,
        alpn_policy: p.list("AlpnPolicy"),
        default_rule_arn: rule_arn.clone(),
    };
    let rule = Rule {
        arn: rule_arn.clone(),
        listener_arn: arn.clone(),
        priority: Priority::Default,
        conditions: vec![],
        actions,
    };
    w.rules.insert(rule_arn, rule);
    w.listeners.insert(arn.clone(), listener);
    let listener = w.listeners.get(&arn).ok_or_else(ElbError::listener_not_found)?;
    Ok(listeners_xml(w, &[listener]))
}

fn protocol(lb: &LoadBalancer, protocol: &str) -> Result<String, ElbError> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(ElbError::validation(format!("Protocol '{protocol}' is not valid")));
    }
    if !lb.lb_type.protocols().contains(&protocol) {
        return Err(ElbError::new(
            "UnsupportedProtocol",
            format!("Protocol '{protocol}' is not supported by {} load balancers", lb.lb_type.as_str()),
        ));
    }
    Ok(protocol.to_string())
}

fn port(p: &Params) -> Result<Option<i64>, ElbError> {
    let port = p.int("Port")?;
    if port.is_some_and(|p| !(1..=65535).contains(&p)) {
        return Err(ElbError::validation("Port must be between 1 and 65535"));
    }
    Ok(port)
}

fn certificates(p: &Params) -> Vec<String> {
    p.members("Certificates").iter().filter_map(|c| c.get("CertificateArn").map(String::from)).collect()
}

/// HTTPS and TLS listeners need a certificate (accepted as given, never checked) and get
/// the default security policy; other protocols keep neither.
fn security(
    protocol: &str,
    certificates: Vec<String>,
    ssl_policy: Option<String>,
) -> Result<(Vec<String>, Option<String>), ElbError> {
    if !matches!(protocol, "HTTPS" | "TLS") {
        return Ok((Vec::new(), None));
    }
    if certificates.is_empty() {
        return Err(ElbError::validation(format!("A certificate must be specified for {protocol} listeners")));
    }
    Ok((certificates, Some(ssl_policy.unwrap_or_else(|| DEFAULT_SSL_POLICY.to_string()))))
}

/// By LoadBalancerArn (ordered by port) or ListenerArns.
pub fn describe(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arns = p.list("ListenerArns");
    let listeners: Vec<&Listener> = match (p.get("LoadBalancerArn"), arns.is_empty()) {
        (Some(_), false) => {
            return Err(ElbError::validation(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time",
            ));
        }
        (Some(lb), true) => {
            if !w.load_balancers.contains_key(lb) {
                return Err(ElbError::lb_not_found());
            }
            let mut ls: Vec<&Listener> = w.listeners.values().filter(|l| l.load_balancer_arn == lb).collect();
            ls.sort_by_key(|l| l.port);
            ls
        }
        (None, false) => arns
            .iter()
            .map(|a| w.listeners.get(a).ok_or_else(ElbError::listener_not_found))
            .collect::<Result<_, _>>()?,
        (None, true) => {
            return Err(ElbError::validation("You must specify either listener ARNs or a load balancer ARN"));
        }
    };
    let (range, next) = p.page(listeners.len())?;
    let mut xml = listeners_xml(w, listeners.get(range).unwrap_or_default());
    if let Some(next) = next {
        xml.push_str(&format!("<NextMarker>{next}</NextMarker>"));
    }
    Ok(xml)
}

/// Changes Port, Protocol, certificates, SslPolicy and DefaultActions; what is not given
/// stays as it was.
pub fn modify(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("ListenerArn")?.to_string();
    let listener = w.listeners.get(&arn).ok_or_else(ElbError::listener_not_found)?;
    let lb = w.load_balancers.get(&listener.load_balancer_arn).ok_or_else(ElbError::lb_not_found)?;
    let protocol = match p.get("Protocol") {
        Some(pr) => protocol(lb, pr)?,
        None => listener.protocol.clone(),
    };
    let port = port(p)?.unwrap_or(listener.port);
    if w.listeners.values().any(|l| l.load_balancer_arn == lb.arn && l.port == port && l.arn != arn) {
        return Err(ElbError::new(
            "DuplicateListener",
            "A listener already exists on this port for this load balancer",
        ));
    }
    let actions: Option<Vec<Action>> =
        p.has("DefaultActions").then(|| actions::parse(w, lb, p, "DefaultActions")).transpose()?;
    let certificates = if p.has("Certificates") { certificates(p) } else { listener.certificates.clone() };
    let ssl_policy = p.get("SslPolicy").map(String::from).or_else(|| listener.ssl_policy.clone());
    let (certificates, ssl_policy) = security(&protocol, certificates, ssl_policy)?;
    let default_rule = listener.default_rule_arn.clone();
    if let Some(actions) = actions
        && let Some(rule) = w.rules.get_mut(&default_rule)
    {
        rule.actions = actions;
    }
    if let Some(l) = w.listeners.get_mut(&arn) {
        (l.protocol, l.port, l.certificates, l.ssl_policy) = (protocol, port, certificates, ssl_policy);
        if p.has("AlpnPolicy") {
            l.alpn_policy = p.list("AlpnPolicy");
        }
    }
    let listener = w.listeners.get(&arn).ok_or_else(ElbError::listener_not_found)?;
    Ok(listeners_xml(w, &[listener]))
}

/// Deletes the listener and its rules.
pub fn delete(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("ListenerArn")?;
    if !w.delete_listener(arn) {
        return Err(ElbError::listener_not_found());
    }
    Ok(String::new())
}

fn listeners_xml(w: &World, listeners: &[&Listener]) -> String {
    let mut x = Xml::default();
    x.open("Listeners");
    for l in listeners {
        x.open("member")
            .text("ListenerArn", &l.arn)
            .text("LoadBalancerArn", &l.load_balancer_arn)
            .text("Port", l.port)
            .text("Protocol", &l.protocol);
        if !l.certificates.is_empty() {
            x.open("Certificates");
            for c in &l.certificates {
                x.open("member").text("CertificateArn", c).close("member");
            }
            x.close("Certificates");
        }
        x.opt("SslPolicy", l.ssl_policy.as_ref());
        let actions = w.rules.get(&l.default_rule_arn).map(|r| r.actions.as_slice()).unwrap_or_default();
        actions::write(&mut x, "DefaultActions", actions);
        if !l.alpn_policy.is_empty() {
            x.open("AlpnPolicy");
            for a in &l.alpn_policy {
                x.text("member", a);
            }
            x.close("AlpnPolicy");
        }
        x.close("member");
    }
    x.close("Listeners");
    x.finish()
}
