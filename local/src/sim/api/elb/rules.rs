//! CreateRule, DescribeRules, ModifyRule, DeleteRule. The default rule of each listener
//! (priority `default`) holds its default actions: it is described and its actions can
//! be modified, but it has no conditions and cannot be deleted ("When you create a
//! listener, you define actions for the default rule. The default rule can't have
//! conditions", ELB User Guide, "Listener rules for your Application Load Balancer").

use super::params::Params;
use super::xml::Xml;
use super::{actions, conditions};
use crate::sim::api::error::ElbError;
use crate::sim::model::{LbType, Priority, Rule};
use crate::sim::world::World;

/// "Rules per Application Load Balancer (not counting default rules): 100" (ELB User
/// Guide, "Quotas for your Application Load Balancers").
const MAX_RULES_PER_LOAD_BALANCER: usize = 100;

/// A rule with a priority (1–50000) no other rule of the listener has.
pub fn create(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let listener_arn = p.required("ListenerArn")?;
    let listener = w.listeners.get(listener_arn).ok_or_else(ElbError::listener_not_found)?;
    let lb = w.load_balancers.get(&listener.load_balancer_arn).ok_or_else(ElbError::lb_not_found)?;
    let priority =
        p.int("Priority")?.ok_or_else(|| ElbError::validation("A rule priority must be specified")).and_then(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| (1..=50_000).contains(n))
                .ok_or_else(|| ElbError::validation(format!("Priority '{n}' must be between 1 and 50000")))
        })?;
    if w.rules.values().any(|r| r.listener_arn == listener.arn && r.priority == Priority::Number(priority)) {
        return Err(ElbError::new("PriorityInUse", format!("Priority '{priority}' is currently in use")));
    }
    let lb_listeners: Vec<&str> =
        w.listeners.values().filter(|l| l.load_balancer_arn == lb.arn).map(|l| l.arn.as_str()).collect();
    let count = w.rules.values().filter(|r| !r.is_default() && lb_listeners.contains(&r.listener_arn.as_str())).count();
    if lb.lb_type == LbType::Application && count >= MAX_RULES_PER_LOAD_BALANCER {
        return Err(ElbError::new(
            "TooManyRules",
            format!("A load balancer can have at most {MAX_RULES_PER_LOAD_BALANCER} rules"),
        ));
    }
    let conditions = conditions::parse(p, lb.lb_type)?;
    let actions = actions::parse(w, lb, p, "Actions")?;
    let listener_path = listener.arn.rsplit_once(":listener/").map(|(_, r)| r.to_string()).unwrap_or_default();
    let listener_arn = listener.arn.clone();
    let id = w.rng.hex(16);
    let arn = w.arn("elasticloadbalancing", &format!("listener-rule/{listener_path}/{id}"));
    let rule = Rule { arn: arn.clone(), listener_arn, priority: Priority::Number(priority), conditions, actions };
    let xml = rules_xml(&[&rule]);
    w.rules.insert(arn, rule);
    Ok(xml)
}

/// By ListenerArn (by priority, the default rule last) or RuleArns.
pub fn describe(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arns = p.list("RuleArns");
    let rules: Vec<&Rule> = match (p.get("ListenerArn"), arns.is_empty()) {
        (Some(_), false) => {
            return Err(ElbError::validation("Rule ARNs and a listener ARN cannot be specified at the same time"));
        }
        (Some(l), true) => {
            if !w.listeners.contains_key(l) {
                return Err(ElbError::listener_not_found());
            }
            w.listener_rules(l)
        }
        (None, false) => {
            arns.iter().map(|a| w.rules.get(a).ok_or_else(ElbError::rule_not_found)).collect::<Result<_, _>>()?
        }
        (None, true) => return Err(ElbError::validation("You must specify either listener or rule ARNs")),
    };
    let (range, next) = p.page(rules.len())?;
    let mut xml = rules_xml(rules.get(range).unwrap_or_default());
    if let Some(next) = next {
        xml.push_str(&format!("<NextMarker>{next}</NextMarker>"));
    }
    Ok(xml)
}

/// Replaces Conditions and/or Actions; what is not given stays. The default rule's
/// actions are its listener's default actions; it cannot take conditions.
pub fn modify(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("RuleArn")?.to_string();
    let rule = w.rules.get(&arn).ok_or_else(ElbError::rule_not_found)?;
    let lb = w.rule_load_balancer(rule).ok_or_else(ElbError::rule_not_found)?;
    let conditions = if !p.has("Conditions") {
        None
    } else if rule.is_default() {
        return Err(ElbError::new("OperationNotPermitted", format!("The default rule '{arn}' cannot have conditions")));
    } else {
        Some(conditions::parse(p, lb.lb_type)?)
    };
    let actions = p.has("Actions").then(|| actions::parse(w, lb, p, "Actions")).transpose()?;
    let rule = w.rules.get_mut(&arn).ok_or_else(ElbError::rule_not_found)?;
    if let Some(c) = conditions {
        rule.conditions = c;
    }
    if let Some(a) = actions {
        rule.actions = a;
    }
    Ok(rules_xml(&[rule]))
}

/// "You can't delete the default rule for a listener" (ELB User Guide, "Listener rules
/// for your Application Load Balancer").
pub fn delete(w: &mut World, p: &Params) -> Result<String, ElbError> {
    let arn = p.required("RuleArn")?;
    let rule = w.rules.get(arn).ok_or_else(ElbError::rule_not_found)?;
    if rule.is_default() {
        return Err(ElbError::new("OperationNotPermitted", format!("Default rule '{arn}' cannot be deleted")));
    }
    w.rules.remove(arn);
    Ok(String::new())
}

fn rules_xml(rules: &[&Rule]) -> String {
    let mut x = Xml::default();
    x.open("Rules");
    for r in rules {
        x.open("member").text("RuleArn", &r.arn).text("Priority", r.priority);
        conditions::write(&mut x, &r.conditions);
        actions::write(&mut x, "Actions", &r.actions);
        x.text("IsDefault", r.is_default()).close("member");
    }
    x.close("Rules");
    x.finish()
}
