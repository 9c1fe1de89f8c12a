//! The `GET /_sim/state` snapshot: a compact, stable JSON view of everything simulated.

use serde_json::{Value, json};

use crate::sim::clock::{STEP_MS, iso_seconds};
use crate::sim::model::{Condition, Listener, LoadBalancer, Rule, TaskStatus};
use crate::sim::world::World;

pub fn snapshot(w: &World) -> Value {
    let now = w.now();
    let images: Vec<Value> = w
        .images
        .entries()
        .map(|(k, e)| json!({"image": k, "behavior": e.behavior.to_string(), "digest": e.digest}))
        .collect();
    let services: Vec<Value> = w
        .services
        .iter()
        .map(|s| {
            let deployments: Vec<Value> = s
                .deployments
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id, "status": d.status.as_str(), "taskDefinition": d.task_def_arn,
                        "rolloutState": d.rollout_state.as_str(), "rolloutStateReason": d.rollout_state_reason,
                        "desiredCount": d.desired_count, "failedTasks": d.failed_tasks,
                    })
                })
                .collect();
            // The newest service deployment, with where a traffic shift stands.
            let service_deployment = w.service_deployments.iter().rev().find(|d| d.service_arn == s.arn).map(|d| {
                let mut v = json!({"arn": d.arn, "status": d.status.as_str()});
                if let (Some(shift), Some(o)) = (&d.shift, v.as_object_mut()) {
                    o.insert("strategy".into(), json!(shift.strategy.as_str()));
                    o.insert("lifecycleStage".into(), json!(shift.stage.as_str()));
                    o.insert("productionTrafficPercent".into(), json!(shift.production_percent));
                    o.insert("testTrafficPercent".into(), json!(shift.test_percent));
                }
                v
            });
            json!({
                "serviceArn": s.arn, "serviceName": s.name, "cluster": s.cluster, "status": s.status.as_str(),
                "desiredCount": s.desired_count, "taskDefinition": s.task_def_arn, "deployments": deployments,
                "serviceDeployment": service_deployment,
                "healthyTasks": w.service_tasks(&s.arn).filter(|t| w.task_healthy(t)).count(),
                "events": s.events.iter().take(10).map(|e| e.message.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let tasks: Vec<Value> = w
        .tasks
        .values()
        .filter(|t| t.last_status != TaskStatus::Stopped || t.stopped_at.is_some_and(|s| now - s < 600 * STEP_MS))
        .map(|t| {
            json!({
                "taskArn": t.arn, "cluster": t.cluster, "group": t.group, "startedBy": t.started_by,
                "taskDefinition": t.task_def_arn, "lastStatus": t.last_status.as_str(),
                "desiredStatus": t.desired_status, "ip": t.ip(), "healthy": w.task_healthy(t),
                "images": t.containers.iter().map(|c| c.image.clone()).collect::<Vec<_>>(),
                "stopCode": t.stop_code, "stoppedReason": t.stopped_reason,
            })
        })
        .collect();
    let target_groups: Vec<Value> = w
        .target_groups
        .values()
        .map(|tg| {
            let targets: Vec<Value> = tg
                .targets
                .iter()
                .map(|x| json!({"id": x.id, "port": x.port, "state": x.state.as_str(), "reason": x.reason.as_ref().map(|r| r.0)}))
                .collect();
            json!({"targetGroupArn": tg.arn, "name": tg.name, "deregistrationDelay": tg.deregistration_delay(), "targets": targets})
        })
        .collect();
    json!({
        "now": now / 1000,
        "time": iso_seconds(now),
        "clock": {"speed": w.clock.mode.speed, "manual": w.clock.mode.manual},
        "region": w.region,
        "account": w.account,
        "images": images,
        "clusters": w.clusters.values().filter(|c| c.status == "ACTIVE").map(|c| c.arn.clone()).collect::<Vec<_>>(),
        "taskDefinitions": w.task_defs.values().flatten().map(|t| json!({"arn": t.arn, "status": t.status})).collect::<Vec<_>>(),
        "services": services,
        "tasks": tasks,
        "targetGroups": target_groups,
        "loadBalancers": load_balancers(w),
    })
}

/// Load balancers with their listeners and each listener's rules (by priority, the
/// default rule last) and where they forward.
fn load_balancers(w: &World) -> Vec<Value> {
    let mut lbs: Vec<&LoadBalancer> = w.load_balancers.values().collect();
    lbs.sort_by_key(|l| l.created_at);
    lbs.iter()
        .map(|lb| {
            let mut listeners: Vec<&Listener> =
                w.listeners.values().filter(|l| l.load_balancer_arn == lb.arn).collect();
            listeners.sort_by_key(|l| l.port);
            let listeners: Vec<Value> = listeners
                .iter()
                .map(|l| {
                    let rules: Vec<Value> = w.listener_rules(&l.arn).into_iter().map(rule).collect();
                    json!({"listenerArn": l.arn, "protocol": l.protocol, "port": l.port, "rules": rules})
                })
                .collect();
            json!({
                "loadBalancerArn": lb.arn, "name": lb.name, "type": lb.lb_type.as_str(), "dnsName": lb.dns_name,
                "listeners": listeners,
            })
        })
        .collect()
}

fn rule(r: &Rule) -> Value {
    let conditions: Vec<Value> = r
        .conditions
        .iter()
        .map(|c| match c {
            Condition::HttpHeader { name, values } => json!({"field": c.field(), "header": name, "values": values}),
            _ => json!({"field": c.field(), "values": c.values()}),
        })
        .collect();
    let forward = r.forward().map(|f| {
        f.target_groups.iter().map(|t| json!({"targetGroupArn": t.arn, "weight": t.weight})).collect::<Vec<_>>()
    });
    let action = r.actions.first().map(|a| a.kind.type_name());
    json!({
        "ruleArn": r.arn, "priority": r.priority.to_string(), "conditions": conditions,
        "action": action, "forward": forward,
    })
}
