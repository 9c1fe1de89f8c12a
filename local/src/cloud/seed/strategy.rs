//! The deployment strategy of a seeded service, and for the traffic-shifting
//! ones (blue/green, linear, canary) the load balancer they shift traffic on:
//! a second (green) target group, a production listener rule and a test
//! listener rule, both forwarding to blue at first — the resources the ECS
//! developer guide lists for these strategies.

use aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder;
use aws_sdk_ecs::types::{AdvancedConfiguration, CanaryConfiguration, DeploymentStrategy, LinearConfiguration};
use aws_sdk_elasticloadbalancingv2::Client as Elb;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, PathPatternConditionConfig, ProtocolEnum, RuleCondition,
    TargetGroupTuple,
};

use super::SeedError;
use crate::cloud::CallError;

/// The role ECS would assume to move the listener rules (not checked locally).
const INFRASTRUCTURE_ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers";

/// How the seeded service deploys. Every wait is 2 minutes: short for a demo,
/// and longer than the stack's shortest poll (`PollIntervalSeconds` 10 s, 50
/// simulated seconds at the demo's 5×), so a poll sees each stage.
#[derive(Debug, Clone, Copy, PartialEq, Default, clap::ValueEnum)]
pub enum SeedStrategy {
    #[default]
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

impl SeedStrategy {
    pub fn shifts_traffic(self) -> bool {
        self != Self::Rolling
    }

    /// The strategy's members of `deploymentConfiguration`.
    pub fn configure(self, config: DeploymentConfigurationBuilder) -> DeploymentConfigurationBuilder {
        match self {
            Self::Rolling => config.strategy(DeploymentStrategy::Rolling),
            Self::BlueGreen => config.strategy(DeploymentStrategy::BlueGreen).bake_time_in_minutes(2),
            Self::Linear => config.strategy(DeploymentStrategy::Linear).bake_time_in_minutes(2).linear_configuration(
                LinearConfiguration::builder().step_percent(50.0).step_bake_time_in_minutes(2).build(),
            ),
            Self::Canary => config.strategy(DeploymentStrategy::Canary).bake_time_in_minutes(2).canary_configuration(
                CanaryConfiguration::builder().canary_percent(10.0).canary_bake_time_in_minutes(2).build(),
            ),
        }
    }
}

/// What a traffic-shifting service is wired to.
#[derive(Debug, Clone)]
pub struct TrafficShift {
    pub green_target_group_arn: String,
    pub production_rule_arn: String,
    pub test_rule_arn: String,
}

impl TrafficShift {
    pub fn advanced_configuration(&self) -> AdvancedConfiguration {
        AdvancedConfiguration::builder()
            .alternate_target_group_arn(&self.green_target_group_arn)
            .production_listener_rule(&self.production_rule_arn)
            .test_listener_rule(&self.test_rule_arn)
            .role_arn(INFRASTRUCTURE_ROLE)
            .build()
    }
}

fn to_blue(blue: &str, green: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(TargetGroupTuple::builder().target_group_arn(blue).weight(100).build())
                .target_groups(TargetGroupTuple::builder().target_group_arn(green).weight(0).build())
                .build(),
        )
        .build()
}

fn every_path() -> RuleCondition {
    RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(PathPatternConditionConfig::builder().values("/*").build())
        .build()
}

/// An application load balancer `name` with a production listener (80) and a
/// test listener (8080), each with a rule forwarding everything to `blue`
/// (and 0 to `green`), the rules ECS moves.
pub async fn wire_load_balancer(elb: &Elb, name: &str, blue: &str, green: &str) -> Result<TrafficShift, SeedError> {
    let lb = elb
        .create_load_balancer()
        .name(name)
        .subnets("subnet-local-a")
        .subnets("subnet-local-b")
        .send()
        .await
        .map_err(CallError::of("CreateLoadBalancer"))?;
    let lb_arn = lb
        .load_balancers()
        .first()
        .and_then(|l| l.load_balancer_arn())
        .ok_or(SeedError::Incomplete { operation: "CreateLoadBalancer", what: "load balancer ARN" })?
        .to_owned();
    let mut rules = Vec::new();
    for port in [80, 8080] {
        let listener = elb
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(ProtocolEnum::Http)
            .port(port)
            .default_actions(to_blue(blue, green))
            .send()
            .await
            .map_err(CallError::of("CreateListener"))?;
        let listener_arn = listener
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or(SeedError::Incomplete { operation: "CreateListener", what: "listener ARN" })?
            .to_owned();
        let rule = elb
            .create_rule()
            .listener_arn(&listener_arn)
            .priority(1)
            .conditions(every_path())
            .actions(to_blue(blue, green))
            .send()
            .await
            .map_err(CallError::of("CreateRule"))?;
        rules.push(
            rule.rules()
                .first()
                .and_then(|r| r.rule_arn())
                .ok_or(SeedError::Incomplete { operation: "CreateRule", what: "rule ARN" })?
                .to_owned(),
        );
    }
    let [production_rule_arn, test_rule_arn] =
        <[String; 2]>::try_from(rules).map_err(|_| SeedError::Incomplete { operation: "CreateRule", what: "rules" })?;
    Ok(TrafficShift { green_target_group_arn: green.to_owned(), production_rule_arn, test_rule_arn })
}
