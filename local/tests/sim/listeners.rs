//! Load balancers, listeners and rules with weighted forwards, as blue/green, linear and
//! canary deployments use them, through aws-sdk-elasticloadbalancingv2.

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HttpHeaderConditionConfig, ProtocolEnum, Rule, RuleCondition,
    TargetGroupTuple, TargetTypeEnum,
};

use crate::common::{self, Env};

async fn target_group(env: &Env, name: &str) -> String {
    let out = env
        .elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id("vpc-0abc")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .expect("create target group");
    out.target_groups()[0].target_group_arn().unwrap().to_string()
}

fn weighted(groups: &[(&str, i32)]) -> Action {
    let config = groups.iter().fold(ForwardActionConfig::builder(), |b, (arn, w)| {
        b.target_groups(TargetGroupTuple::builder().target_group_arn(*arn).weight(*w).build())
    });
    Action::builder().r#type(ActionTypeEnum::Forward).forward_config(config.build()).build()
}

/// `(target group ARN, weight)` of a rule's forward action.
fn weights(actions: &[Action]) -> Vec<(String, i32)> {
    let config = actions[0].forward_config().expect("forward config");
    config.target_groups().iter().map(|t| (t.target_group_arn().unwrap().to_string(), t.weight().unwrap())).collect()
}

fn pairs(groups: &[(&str, i32)]) -> Vec<(String, i32)> {
    groups.iter().map(|(a, w)| (a.to_string(), *w)).collect()
}

fn header_condition() -> RuleCondition {
    RuleCondition::builder()
        .field("http-header")
        .http_header_config(HttpHeaderConditionConfig::builder().http_header_name("X-Canary").values("true").build())
        .build()
}

async fn rules(env: &Env, listener: &str) -> Vec<Rule> {
    env.elb.describe_rules().listener_arn(listener).send().await.expect("describe rules").rules().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_listener_and_rules() {
    let env = common::start().await;
    let (blue, green) = (target_group(&env, "blue").await, target_group(&env, "green").await);

    let lb = env
        .elb
        .create_load_balancer()
        .name("web")
        .subnets("subnet-a")
        .subnets("subnet-b")
        .security_groups("sg-1")
        .send()
        .await
        .expect("create load balancer");
    let lb = lb.load_balancers()[0].clone();
    let lb_arn = lb.load_balancer_arn().unwrap().to_string();
    assert!(
        lb_arn.starts_with("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/"),
        "{lb_arn}"
    );
    assert!(
        lb.dns_name().unwrap().starts_with("web-") && lb.dns_name().unwrap().ends_with(".us-east-1.elb.amazonaws.com")
    );
    assert_eq!(lb.state().and_then(|s| s.code()).map(|c| c.as_str()), Some("active"));
    assert_eq!(lb.availability_zones().len(), 2);
    assert!(lb.created_time().is_some());
    let described = env.elb.describe_load_balancers().names("web").send().await.unwrap();
    assert_eq!(described.load_balancers()[0].load_balancer_arn(), Some(lb_arn.as_str()));

    let listener = env
        .elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(weighted(&[(&blue, 100), (&green, 0)]))
        .send()
        .await
        .expect("create listener");
    let listener_arn = listener.listeners()[0].listener_arn().unwrap().to_string();
    assert!(listener_arn.starts_with(&lb_arn.replace(":loadbalancer/", ":listener/")), "{listener_arn}");
    assert_eq!(weights(listener.listeners()[0].default_actions()), pairs(&[(&blue, 100), (&green, 0)]));
    let e = env
        .elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&green).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_duplicate_listener_exception(), "{e:?}");

    let rule = env
        .elb
        .create_rule()
        .listener_arn(&listener_arn)
        .priority(10)
        .conditions(header_condition())
        .actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&green).build())
        .send()
        .await
        .expect("create rule");
    let rule_arn = rule.rules()[0].rule_arn().unwrap().to_string();
    assert!(rule_arn.starts_with(&listener_arn.replace(":listener/", ":listener-rule/")), "{rule_arn}");

    let all = rules(&env, &listener_arn).await;
    assert_eq!(all.len(), 2);
    let (test, default) = (&all[0], &all[1]);
    assert_eq!((test.priority(), test.is_default()), (Some("10"), Some(false)));
    assert_eq!((default.priority(), default.is_default()), (Some("default"), Some(true)));
    assert!(default.conditions().is_empty());
    assert_eq!(weights(default.actions()), pairs(&[(&blue, 100), (&green, 0)]));
    // A single TargetGroupArn comes back in both forms, the group at weight 1.
    assert_eq!(test.actions()[0].target_group_arn(), Some(green.as_str()));
    assert_eq!(weights(test.actions()), pairs(&[(&green, 1)]));
    let stickiness = test.actions()[0].forward_config().and_then(|f| f.target_group_stickiness_config());
    assert_eq!(stickiness.and_then(|s| s.enabled()), Some(false));
    let header = test.conditions()[0].http_header_config().expect("http header config");
    assert_eq!((header.http_header_name(), header.values()), (Some("X-Canary"), &["true".to_string()][..]));

    let modified = env
        .elb
        .modify_rule()
        .rule_arn(&rule_arn)
        .actions(weighted(&[(&blue, 90), (&green, 10)]))
        .send()
        .await
        .expect("modify rule");
    assert_eq!(weights(modified.rules()[0].actions()), pairs(&[(&blue, 90), (&green, 10)]));
    assert_eq!(modified.rules()[0].conditions().len(), 1, "conditions unchanged");
    assert_eq!(modified.rules()[0].actions()[0].target_group_arn(), None, "two groups: no TargetGroupArn");

    // The simulator's own API sees and moves the same weights.
    let seen = env.sim.read(|w| (w.rule_weights(&rule_arn), w.rule_weights(&listener_arn)));
    assert_eq!(seen.0, Some(vec![(blue.clone(), 90), (green.clone(), 10)]));
    assert_eq!(seen.1, Some(vec![(blue.clone(), 100), (green.clone(), 0)]));
    env.sim.with(|w| w.set_forward_weights(&listener_arn, &[(&blue, 0), (&green, 100)])).expect("set weights");
    let listener = env.elb.describe_listeners().load_balancer_arn(&lb_arn).send().await.unwrap();
    assert_eq!(weights(listener.listeners()[0].default_actions()), pairs(&[(&blue, 0), (&green, 100)]));
    let too_heavy = env.sim.with(|w| w.set_forward_weights(&rule_arn, &[(&blue, 1000)]));
    assert!(too_heavy.is_err());

    let groups = env.elb.describe_target_groups().load_balancer_arn(&lb_arn).send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 2);
    assert!(groups.target_groups().iter().all(|t| t.load_balancer_arns() == [lb_arn.clone()]));
    let e = env.elb.delete_target_group().target_group_arn(&green).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceInUse"), "{e:?}");

    let state = env.sim.state();
    let rules_state = &state["loadBalancers"][0]["listeners"][0]["rules"];
    assert_eq!(rules_state[1]["priority"], "default");
    assert_eq!(rules_state[0]["forward"][1]["weight"], 10);

    env.elb.delete_load_balancer().load_balancer_arn(&lb_arn).send().await.expect("delete load balancer");
    let e = env.elb.describe_rules().listener_arn(&listener_arn).send().await.unwrap_err().into_service_error();
    assert!(e.is_listener_not_found_exception(), "{e:?}");
    let groups = env.elb.describe_target_groups().target_group_arns(&blue).send().await.unwrap();
    assert!(groups.target_groups()[0].load_balancer_arns().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_and_rule_errors() {
    let env = common::start().await;
    let blue = target_group(&env, "blue").await;
    let lb = env.elb.create_load_balancer().name("web").subnets("subnet-a").subnets("subnet-b").send().await.unwrap();
    let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&blue).build();
    let listener = env
        .elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward.clone())
        .send()
        .await
        .unwrap();
    let listener_arn = listener.listeners()[0].listener_arn().unwrap().to_string();
    let create_rule = |priority: i32, action: Action| {
        env.elb
            .create_rule()
            .listener_arn(&listener_arn)
            .priority(priority)
            .conditions(header_condition())
            .actions(action)
            .send()
    };
    create_rule(5, forward.clone()).await.expect("first rule");

    let e = create_rule(5, forward.clone()).await.unwrap_err().into_service_error();
    assert!(e.is_priority_in_use_exception(), "{e:?}");
    let ghost = blue.replace("targetgroup/blue/", "targetgroup/ghost/");
    let e = create_rule(6, weighted(&[(&ghost, 1)])).await.unwrap_err().into_service_error();
    assert!(e.is_target_group_not_found_exception(), "{e:?}");
    let e = create_rule(6, weighted(&[(&blue, 1000)])).await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");
    let six: Vec<String> = target_groups(&env, 6).await;
    let six: Vec<(&str, i32)> = six.iter().map(|a| (a.as_str(), 1)).collect();
    let e = create_rule(6, weighted(&six)).await.unwrap_err().into_service_error();
    assert!(e.is_too_many_target_groups_exception(), "{e:?}");
    let e = create_rule(50_001, forward.clone()).await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");

    let default_rule = rules(&env, &listener_arn).await.into_iter().find(|r| r.is_default() == Some(true)).unwrap();
    let e =
        env.elb.delete_rule().rule_arn(default_rule.rule_arn().unwrap()).send().await.unwrap_err().into_service_error();
    assert!(e.is_operation_not_permitted_exception(), "{e:?}");
    let missing = format!("{}0", default_rule.rule_arn().unwrap());
    let e = env.elb.delete_rule().rule_arn(&missing).send().await.unwrap_err().into_service_error();
    assert!(e.is_rule_not_found_exception(), "{e:?}");
    let e = env.elb.describe_rules().rule_arns(&missing).send().await.unwrap_err().into_service_error();
    assert!(e.is_rule_not_found_exception(), "{e:?}");
    let e = env
        .elb
        .modify_rule()
        .rule_arn(&missing)
        .actions(forward.clone())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_rule_not_found_exception(), "{e:?}");
    let e = env.elb.describe_load_balancers().names("nope").send().await.unwrap_err().into_service_error();
    assert!(e.is_load_balancer_not_found_exception(), "{e:?}");
    let e = env.elb.create_load_balancer().name("internal-x").subnets("a").subnets("b").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");
}

/// `n` target groups named `tg-0` … `tg-{n-1}`.
async fn target_groups(env: &Env, n: usize) -> Vec<String> {
    let mut arns = Vec::with_capacity(n);
    for i in 0..n {
        arns.push(target_group(env, &format!("tg-{i}")).await);
    }
    arns
}
