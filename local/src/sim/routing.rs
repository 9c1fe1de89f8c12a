//! Where a load balancer sends traffic: the weighted target groups of listener rules,
//! read and changed by the ELBv2 API and — for blue/green, linear and canary
//! deployments — by ECS through [`World::rule_weights`] and [`World::set_forward_weights`].
//!
//! A listener's default actions are its default rule, so every ARN these functions take
//! may name a rule or a listener (meaning its default rule): ECS's
//! `productionListenerRule` is a rule ARN for an ALB and a listener ARN for an NLB.

use crate::sim::model::{Forward, ForwardError, LbType, LoadBalancer, Rule, TargetGroup};
use crate::sim::world::World;

/// Why routing could not be read or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("no listener rule or listener '{0}'")]
    NotFound(String),
    #[error("'{0}' does not forward to target groups")]
    NotForward(String),
    #[error("target group '{0}' not found")]
    TargetGroupNotFound(String),
    #[error("target group '{tg}' uses protocol {protocol}, which a {lb_type} load balancer cannot forward to")]
    IncompatibleProtocols { tg: String, protocol: String, lb_type: &'static str },
    #[error("target group '{0}' is already associated with another load balancer")]
    AssociationLimit(String),
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

impl World {
    /// The rule `rule_or_listener_arn` names: a rule, or a listener's default rule.
    pub fn routing_rule(&self, rule_or_listener_arn: &str) -> Option<&Rule> {
        let arn = self.listeners.get(rule_or_listener_arn).map_or(rule_or_listener_arn, |l| &l.default_rule_arn);
        self.rules.get(arn)
    }

    /// The load balancer a rule belongs to.
    pub fn rule_load_balancer(&self, rule: &Rule) -> Option<&LoadBalancer> {
        let listener = self.listeners.get(&rule.listener_arn)?;
        self.load_balancers.get(&listener.load_balancer_arn)
    }

    /// `(target group ARN, weight)` of the forward action of a rule or of a listener's
    /// default rule, in the order they were given; `None` when the ARN names neither,
    /// or the rule's routing action is not `forward`.
    pub fn rule_weights(&self, rule_or_listener_arn: &str) -> Option<Vec<(String, u32)>> {
        self.routing_rule(rule_or_listener_arn)?.forward().map(Forward::weights)
    }

    /// Replaces the target groups and weights of the forward action of a rule or of a
    /// listener's default rule, keeping its stickiness — what a ModifyRule (or
    /// ModifyListener) with a weighted `ForwardConfig` does.
    ///
    /// Errors: `NotFound` (no such rule or listener), `NotForward` (its routing action
    /// is fixed-response or redirect), `Forward` (empty, more than five groups, a weight
    /// above 999, a group twice), `TargetGroupNotFound`, `IncompatibleProtocols`,
    /// `AssociationLimit` (the group serves another load balancer). Nothing changes on error.
    pub fn set_forward_weights<S: AsRef<str>>(
        &mut self,
        rule_or_listener_arn: &str,
        weights: &[(S, u32)],
    ) -> Result<(), RoutingError> {
        let not_found = || RoutingError::NotFound(rule_or_listener_arn.to_string());
        let rule = self.routing_rule(rule_or_listener_arn).ok_or_else(not_found)?;
        let old = rule.forward().ok_or_else(|| RoutingError::NotForward(rule_or_listener_arn.to_string()))?;
        let list: Vec<(String, i64)> = weights.iter().map(|(a, w)| (a.as_ref().to_string(), i64::from(*w))).collect();
        let mut new = Forward::weighted(&list)?;
        new.stickiness_enabled = old.stickiness_enabled;
        new.stickiness_seconds = old.stickiness_seconds;
        let lb = self.rule_load_balancer(rule).ok_or_else(not_found)?;
        self.check_forward(lb, &new)?;
        let arn = rule.arn.clone();
        if let Some(f) = self.rules.get_mut(&arn).and_then(Rule::forward_mut) {
            *f = new;
        }
        Ok(())
    }

    /// Every target group of `forward` exists, speaks a protocol `lb` can forward to,
    /// and serves no other load balancer ("You can use each target group with only one
    /// load balancer", ELB User Guide, "Target groups for your Application Load Balancers").
    pub fn check_forward(&self, lb: &LoadBalancer, forward: &Forward) -> Result<(), RoutingError> {
        for t in &forward.target_groups {
            let tg = self.target_groups.get(&t.arn).ok_or_else(|| RoutingError::TargetGroupNotFound(t.arn.clone()))?;
            if !compatible(lb.lb_type, tg) {
                return Err(RoutingError::IncompatibleProtocols {
                    tg: t.arn.clone(),
                    protocol: tg.protocol.clone().unwrap_or_else(|| tg.target_type.clone()),
                    lb_type: lb.lb_type.as_str(),
                });
            }
            if self.target_group_load_balancers(&t.arn).iter().any(|a| a != &lb.arn) {
                return Err(RoutingError::AssociationLimit(t.arn.clone()));
            }
        }
        Ok(())
    }

    /// The load balancers whose listeners or rules forward to a target group, sorted
    /// (DescribeTargetGroups' `LoadBalancerArns`).
    pub fn target_group_load_balancers(&self, tg_arn: &str) -> Vec<String> {
        let mut arns: Vec<String> = self
            .rules
            .values()
            .filter(|r| r.forward().is_some_and(|f| f.target_groups.iter().any(|t| t.arn == tg_arn)))
            .filter_map(|r| self.listeners.get(&r.listener_arn).map(|l| l.load_balancer_arn.clone()))
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }

    /// A listener's rules by priority, the default rule last.
    pub fn listener_rules(&self, listener_arn: &str) -> Vec<&Rule> {
        let mut rules: Vec<&Rule> = self.rules.values().filter(|r| r.listener_arn == listener_arn).collect();
        rules.sort_by_key(|r| r.priority);
        rules
    }

    /// Removes a listener and its rules ("When you delete a listener, all of its rules
    /// are deleted", ELB User Guide, "Listener rules"); false when there was none.
    pub fn delete_listener(&mut self, arn: &str) -> bool {
        self.rules.retain(|_, r| r.listener_arn != arn);
        self.listeners.remove(arn).is_some()
    }

    /// Removes a load balancer with its listeners and their rules.
    pub fn delete_load_balancer(&mut self, arn: &str) {
        let listeners: Vec<String> =
            self.listeners.values().filter(|l| l.load_balancer_arn == arn).map(|l| l.arn.clone()).collect();
        for l in listeners {
            self.delete_listener(&l);
        }
        self.load_balancers.remove(arn);
    }
}

/// ALBs forward to HTTP/HTTPS (or Lambda) target groups, NLBs to TCP, TLS, UDP and
/// TCP_UDP ones (or ALB-type groups, which are TCP).
fn compatible(lb_type: LbType, tg: &TargetGroup) -> bool {
    match (lb_type, tg.protocol.as_deref()) {
        (LbType::Application, None) => tg.target_type == "lambda",
        (LbType::Application, Some(p)) => p.starts_with("HTTP"),
        (LbType::Network, None) => false,
        (LbType::Network, Some(p)) => LbType::Network.protocols().contains(&p),
    }
}
