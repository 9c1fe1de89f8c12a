//! CreateService, UpdateService, DescribeServices, ListServices, DeleteService.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::render;
use super::req::{Req, page};
use crate::sim::api::error::EcsError;
use crate::sim::model::{AdvancedConfig, DeploymentConfig, Service, ServiceLb, ServiceStatus, Strategy, TaskDef};
use crate::sim::world::World;

/// CreateService members echoed verbatim by DescribeServices.
const ECHOED: &[&str] = &[
    "placementConstraints",
    "placementStrategy",
    "propagateTags",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "serviceRegistries",
    "capacityProviderStrategy",
    "availabilityZoneRebalancing",
];

pub fn create(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.clone();
    let name = r.req_str("serviceName")?;
    if name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(EcsError::invalid("Service name must be 1-255 letters, numbers, hyphens and underscores."));
    }
    if w.live_service_index(&cluster.name, name).is_some() {
        return Err(EcsError::invalid("Creation of service was not idempotent."));
    }
    let controller = r.object("deploymentController")?.map(|c| c.str("type")).transpose()?.flatten();
    if controller.is_some_and(|t| t != "ECS") {
        return Err(EcsError::invalid("The simulator supports only the ECS (rolling update) deployment controller."));
    }
    if r.str("schedulingStrategy")?.is_some_and(|s| s != "REPLICA") {
        return Err(EcsError::invalid("The simulator supports only the REPLICA scheduling strategy."));
    }
    let td = active_task_def(w, r.req_str("taskDefinition")?)?.clone();
    let desired = r.i64("desiredCount")?.unwrap_or(0);
    check_desired(desired)?;
    let deployment_config = deployment_config(r.object("deploymentConfiguration")?, &DeploymentConfig::default())?;
    let network_configuration = network_configuration(r, &td)?;
    let load_balancers = load_balancers(w, r.array("loadBalancers")?, &td)?.unwrap_or_default();
    check_strategy(&deployment_config, &load_balancers)?;
    let grace = grace_period(r, &load_balancers)?;
    let launch_type = match r.str("launchType")? {
        Some(l @ ("EC2" | "FARGATE" | "EXTERNAL")) => l.to_string(),
        Some(l) => return Err(EcsError::invalid(format!("Unsupported launchType {l}."))),
        None if td.requires_compatibilities().iter().any(|c| c == "FARGATE") => "FARGATE".into(),
        None => "EC2".into(),
    };
    let platform_version =
        (launch_type == "FARGATE").then(|| r.str("platformVersion").ok().flatten().unwrap_or("LATEST").to_string());
    let mut extra = Map::new();
    for k in ECHOED {
        if let Some(v) = r.value(k) {
            extra.insert(k.to_string(), v.clone());
        }
    }
    extra.insert("schedulingStrategy".into(), json!("REPLICA"));
    extra.insert("deploymentController".into(), json!({"type": "ECS"}));
    extra.insert("createdBy".into(), json!(format!("arn:aws:iam::{}:root", w.account)));
    if let Some(role) = r.str("role")? {
        extra.insert("roleArn".into(), json!(role));
    }
    let service = Service {
        arn: w.arn("ecs", &format!("service/{}/{name}", cluster.name)),
        name: name.to_string(),
        cluster: cluster.name.clone(),
        cluster_arn: cluster.arn.clone(),
        status: ServiceStatus::Active,
        desired_count: desired,
        task_def_arn: td.arn.clone(),
        launch_type,
        platform_version,
        deployment_config,
        deployments: Vec::new(),
        load_balancers,
        network_configuration,
        health_check_grace_period: grace,
        events: VecDeque::new(),
        created_at: w.now(),
        tags: r.tags()?,
        extra,
        last_completed_task_def: None,
        steady: false,
    };
    w.services.push(service);
    let idx = w.services.len() - 1;
    w.start_deployment(idx, &td.arn);
    Ok(json!({"service": render::service(w, &w.services[idx], false)}))
}

/// A new task definition, network configuration, load balancers or
/// `forceNewDeployment` start a new PRIMARY deployment; the previous one becomes ACTIVE
/// and is drained. desiredCount and deploymentConfiguration changes apply in place.
pub fn update(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let idx = w.service_index(&cluster, r.req_str("service")?).ok_or_else(EcsError::service_not_found)?;
    if w.services[idx].status != ServiceStatus::Active {
        return Err(EcsError::service_not_active());
    }
    let current = w.services[idx].clone();
    let td = match r.str("taskDefinition")? {
        Some(ident) => active_task_def(w, ident)?.clone(),
        None => {
            w.task_def(&current.task_def_arn).cloned().ok_or_else(|| EcsError::client("TaskDefinition not found."))?
        }
    };
    let desired = r.i64("desiredCount")?;
    if let Some(d) = desired {
        check_desired(d)?;
    }
    let dc = match r.object("deploymentConfiguration")? {
        Some(o) => Some(deployment_config(Some(o), &current.deployment_config)?),
        None => None,
    };
    let network = if r.value("networkConfiguration").is_some() {
        network_configuration(r, &td)?
    } else {
        current.network_configuration.clone()
    };
    if td.network_mode() == "awsvpc" && network.is_none() {
        return Err(EcsError::invalid(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        ));
    }
    let lbs = load_balancers(w, r.array("loadBalancers")?, &td)?.unwrap_or_else(|| current.load_balancers.clone());
    for lb in &lbs {
        if !td.container_exposes(&lb.container_name, lb.container_port) {
            return Err(EcsError::invalid(format!(
                "The container {} did not have a container port {} defined.",
                lb.container_name, lb.container_port
            )));
        }
    }
    check_strategy(dc.as_ref().unwrap_or(&current.deployment_config), &lbs)?;
    let grace = match r.i64("healthCheckGracePeriodSeconds")? {
        Some(_) => grace_period(r, &lbs)?,
        None => current.health_check_grace_period,
    };
    let force = r.bool("forceNewDeployment")?.unwrap_or(false);
    let redeploy = force
        || td.arn != current.task_def_arn
        || network != current.network_configuration
        || lbs != current.load_balancers;

    let s = &mut w.services[idx];
    if let Some(d) = desired {
        s.desired_count = d;
        if let Some(p) = s.primary_mut() {
            p.desired_count = d;
        }
        s.steady = false;
    }
    if let Some(dc) = dc {
        s.deployment_config = dc;
    }
    s.network_configuration = network;
    s.load_balancers = lbs;
    s.health_check_grace_period = grace;
    for k in ECHOED {
        if let Some(v) = r.value(k) {
            s.extra.insert(k.to_string(), v.clone());
        }
    }
    if redeploy {
        w.start_deployment(idx, &td.arn);
    }
    Ok(json!({"service": render::service(w, &w.services[idx], false)}))
}

/// Unknown services are reported in `failures` with reason MISSING.
pub fn describe(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let idents = r.strings("services")?.ok_or_else(|| EcsError::invalid("services must be specified."))?;
    if idents.is_empty() || idents.len() > 10 {
        return Err(EcsError::invalid("services must contain between 1 and 10 items."));
    }
    let tags = r.include_tags()?;
    let (mut services, mut failures) = (Vec::new(), Vec::new());
    for ident in idents {
        match w.service_index(&cluster, ident) {
            Some(i) => services.push(render::service(w, &w.services[i], tags)),
            None => {
                let arn = if ident.starts_with("arn:") {
                    ident.to_string()
                } else {
                    w.arn("ecs", &format!("service/{cluster}/{ident}"))
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"services": services, "failures": failures}))
}

pub fn list(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let arns = w
        .services
        .iter()
        .filter(|s| s.cluster == cluster && s.status != ServiceStatus::Inactive)
        .map(|s| s.arn.clone())
        .collect();
    page(r, "serviceArns", arns, 10)
}

/// The service must be scaled to 0 unless `force`; it is DRAINING until its tasks stop.
pub fn delete(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let cluster = w.cluster(r.str("cluster")?).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    let idx = w.live_service_index(&cluster, r.req_str("service")?).ok_or_else(EcsError::service_not_found)?;
    let force = r.bool("force")?.unwrap_or(false);
    let s = &mut w.services[idx];
    if s.status != ServiceStatus::Active {
        return Err(EcsError::service_not_active());
    }
    if s.desired_count > 0 && !force {
        return Err(EcsError::invalid("The service cannot be stopped while it is scaled above 0."));
    }
    s.desired_count = 0;
    for d in &mut s.deployments {
        d.desired_count = 0;
    }
    s.status = ServiceStatus::Draining;
    Ok(json!({"service": render::service(w, &w.services[idx], false)}))
}

/// Tasks per service quota (ECS service quotas: 5,000).
const MAX_DESIRED: i64 = 5_000;

fn check_desired(d: i64) -> Result<(), EcsError> {
    if (0..=MAX_DESIRED).contains(&d) {
        Ok(())
    } else {
        Err(EcsError::invalid(format!("desiredCount must be between 0 and {MAX_DESIRED}.")))
    }
}

fn active_task_def<'a>(w: &'a World, ident: &str) -> Result<&'a TaskDef, EcsError> {
    let td = w.task_def(ident).ok_or_else(|| EcsError::client("TaskDefinition not found."))?;
    if td.status != "ACTIVE" {
        return Err(EcsError::client(format!("TaskDefinition is inactive: {}", td.arn)));
    }
    Ok(td)
}

/// Merges `deploymentConfiguration` over `base`. Rules: 0 ≤ minimumHealthyPercent ≤ 100,
/// maximumPercent ≥ 100 (rolling update with the REPLICA scheduler).
fn deployment_config(o: Option<Req>, base: &DeploymentConfig) -> Result<DeploymentConfig, EcsError> {
    let mut dc = base.clone();
    let Some(o) = o else { return Ok(dc) };
    if let Some(min) = o.i64("minimumHealthyPercent")? {
        if !(0..=100).contains(&min) {
            return Err(EcsError::invalid("minimumHealthyPercent must be between 0 and 100."));
        }
        dc.minimum_healthy_percent = min;
    }
    if let Some(max) = o.i64("maximumPercent")? {
        if !(100..=2000).contains(&max) {
            return Err(EcsError::invalid("maximumPercent must be between 100 and 2000."));
        }
        dc.maximum_percent = max;
    }
    if let Some(b) = o.object("deploymentCircuitBreaker")? {
        let (Some(enable), Some(rollback)) = (b.bool("enable")?, b.bool("rollback")?) else {
            return Err(EcsError::invalid("deploymentCircuitBreaker requires enable and rollback."));
        };
        dc.breaker_enable = enable;
        dc.breaker_rollback = rollback;
        dc.breaker_reset_on_healthy = b.bool("resetOnHealthyTask")?.unwrap_or(true);
        dc.breaker_threshold = ("BOUNDED_PERCENT".into(), 50);
        if let Some(t) = b.object("thresholdConfiguration")? {
            let kind = t.str("type")?.unwrap_or("BOUNDED_PERCENT");
            if !matches!(kind, "COUNT" | "BOUNDED_PERCENT" | "UNBOUNDED_PERCENT") {
                return Err(EcsError::invalid(
                    "thresholdConfiguration.type must be COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT.",
                ));
            }
            dc.breaker_threshold = (kind.to_string(), t.i64("value")?.unwrap_or(50).clamp(0, 10_000));
        }
        dc.breaker_raw = b.0.clone();
    }
    shift_config(&o, &mut dc)?;
    if let Some(hooks) = o.array("lifecycleHooks")? {
        dc.hooks = crate::sim::hooks::parse_hooks(hooks)?;
    }
    for (k, v) in o.0 {
        if !matches!(k.as_str(), "minimumHealthyPercent" | "maximumPercent" | "deploymentCircuitBreaker") {
            dc.extra.insert(k.clone(), v.clone());
        }
    }
    Ok(dc)
}

/// `strategy`, `bakeTimeInMinutes`, `linearConfiguration` and `canaryConfiguration`,
/// with the ranges of the API reference (DeploymentConfiguration, LinearConfiguration,
/// CanaryConfiguration); bakeTimeInMinutes has none in the model: 0–1440 as peers
/// (Terraform, Pulumi) document it. Messages are the simulator's own.
fn shift_config(o: &Req, dc: &mut DeploymentConfig) -> Result<(), EcsError> {
    if let Some(s) = o.str("strategy")? {
        dc.strategy = Strategy::parse(s).ok_or_else(|| {
            EcsError::invalid(format!("Invalid strategy {s}: it must be ROLLING, BLUE_GREEN, LINEAR or CANARY."))
        })?;
    }
    let minutes = |r: &Req, k: &str| -> Result<Option<i64>, EcsError> {
        match r.i64(k)? {
            Some(m) if !(0..=1440).contains(&m) => {
                Err(EcsError::invalid(format!("{k} must be between 0 and 1440 minutes.")))
            }
            m => Ok(m),
        }
    };
    let percent = |r: &Req, k: &str, lo: f64| -> Result<Option<f64>, EcsError> {
        match r.f64(k)? {
            Some(p) if !(lo..=100.0).contains(&p) || ((p * 10.0).round() - p * 10.0).abs() > 1e-6 => {
                Err(EcsError::invalid(format!("{k} must be a multiple of 0.1 from {lo:.1} to 100.0.")))
            }
            p => Ok(p),
        }
    };
    if let Some(m) = minutes(o, "bakeTimeInMinutes")? {
        dc.shift.bake_minutes = m;
    }
    if let Some(l) = o.object("linearConfiguration")? {
        dc.shift.linear =
            (percent(&l, "stepPercent", 3.0)?.unwrap_or(10.0), minutes(&l, "stepBakeTimeInMinutes")?.unwrap_or(6));
    }
    if let Some(c) = o.object("canaryConfiguration")? {
        dc.shift.canary =
            (percent(&c, "canaryPercent", 0.1)?.unwrap_or(5.0), minutes(&c, "canaryBakeTimeInMinutes")?.unwrap_or(10));
    }
    Ok(())
}

/// BLUE_GREEN, LINEAR and CANARY move traffic between two target groups by listener
/// rules: every load balancer needs `advancedConfiguration` ("Specify the alternate
/// target group, listener rules, and IAM role required for traffic shifting", API
/// reference, AdvancedConfiguration). A service without a load balancer is accepted:
/// "Amazon ECS doesn't manage the traffic shift" for it (ECS Developer Guide, blue/green).
fn check_strategy(dc: &DeploymentConfig, lbs: &[ServiceLb]) -> Result<(), EcsError> {
    if !dc.strategy.shifts_traffic() {
        return Ok(());
    }
    match lbs.iter().find(|l| l.advanced.is_none()) {
        Some(lb) => Err(EcsError::invalid(format!(
            "The {} deployment strategy requires advancedConfiguration with alternateTargetGroupArn and productionListenerRule for the load balancer of target group {}.",
            dc.strategy.as_str(),
            lb.target_group_arn
        ))),
        None => Ok(()),
    }
}

/// `advancedConfiguration` of a load balancer entry: the alternate group must be an
/// existing `ip` group other than `targetGroupArn`, the rules must exist and forward,
/// and the production rule must forward to one of the two groups.
fn advanced_config(w: &World, lb: &Req, tg: &str) -> Result<Option<AdvancedConfig>, EcsError> {
    let Some(a) = lb.object("advancedConfiguration")? else { return Ok(None) };
    let alternate = a.req_str("alternateTargetGroupArn")?;
    let production = a.req_str("productionListenerRule")?;
    a.str("roleArn")?;
    let test = a.str("testListenerRule")?;
    let group = w
        .target_groups
        .get(alternate)
        .ok_or_else(|| EcsError::invalid(format!("The target group {alternate} does not exist.")))?;
    if alternate == tg {
        return Err(EcsError::invalid("alternateTargetGroupArn must be a different target group than targetGroupArn."));
    }
    if group.target_type != "ip" {
        return Err(EcsError::invalid(format!(
            "The provided target group {alternate} has target type {}, which is incompatible with the awsvpc network mode specified in the task definition.",
            group.target_type
        )));
    }
    let forwarded = |rule: &str| {
        w.rule_weights(rule).ok_or_else(|| {
            EcsError::invalid(format!("The listener rule {rule} does not exist or does not forward to target groups."))
        })
    };
    let weights = forwarded(production)?;
    if !weights.iter().any(|(g, _)| g == tg || g == alternate) {
        return Err(EcsError::invalid(format!(
            "The production listener rule {production} must forward to target group {tg} or {alternate}."
        )));
    }
    if let Some(t) = test {
        forwarded(t)?;
    }
    Ok(Some(AdvancedConfig {
        alternate_target_group_arn: alternate.to_owned(),
        production_listener_rule: production.to_owned(),
        test_listener_rule: test.map(str::to_owned),
    }))
}

/// awsvpc task definitions need `awsvpcConfiguration.subnets`; other modes take none.
fn network_configuration(r: &Req, td: &TaskDef) -> Result<Option<Value>, EcsError> {
    let n = r.object("networkConfiguration")?;
    let awsvpc = td.network_mode() == "awsvpc";
    match n {
        None if awsvpc => {
            Err(EcsError::invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified."))
        }
        None => Ok(None),
        Some(_) if !awsvpc => Err(EcsError::invalid(
            "Network Configuration is not valid for the given networkMode of this task definition.",
        )),
        Some(n) => {
            let vpc = n
                .object("awsvpcConfiguration")?
                .ok_or_else(|| EcsError::invalid("awsvpcConfiguration must be specified."))?;
            let subnets = vpc.strings("subnets")?.unwrap_or_default();
            if subnets.is_empty() || subnets.len() > 16 {
                return Err(EcsError::invalid("subnets can not be empty."));
            }
            if let Some(a) = vpc.str("assignPublicIp")?
                && a != "ENABLED"
                && a != "DISABLED"
            {
                return Err(EcsError::invalid("assignPublicIp must be ENABLED or DISABLED."));
            }
            Ok(Some(Value::Object(n.0.clone())))
        }
    }
}

/// Each entry needs an existing `ip` target group, a container of the task definition and
/// a containerPort that container maps.
fn load_balancers(w: &World, list: Option<&Vec<Value>>, td: &TaskDef) -> Result<Option<Vec<ServiceLb>>, EcsError> {
    let Some(list) = list else { return Ok(None) };
    let mut out = Vec::new();
    for v in list {
        let o =
            Req(v.as_object().ok_or_else(|| EcsError::serialization("loadBalancers must be a list of objects."))?);
        if o.str("loadBalancerName")?.is_some() {
            return Err(EcsError::invalid(
                "Classic Load Balancers are not supported by the simulator; use targetGroupArn.",
            ));
        }
        let arn = o.req_str("targetGroupArn")?;
        let name = o.req_str("containerName")?;
        let port = o.i64("containerPort")?.ok_or_else(|| EcsError::invalid("containerPort must be specified."))?;
        let tg = w
            .target_groups
            .get(arn)
            .ok_or_else(|| EcsError::invalid(format!("The target group {arn} does not exist.")))?;
        if td.container(name).is_none() {
            return Err(EcsError::invalid(format!("The container {name} does not exist in the task definition.")));
        }
        if !td.container_exposes(name, port) {
            return Err(EcsError::invalid(format!(
                "The container {name} did not have a container port {port} defined."
            )));
        }
        if td.network_mode() == "awsvpc" && tg.target_type != "ip" {
            return Err(EcsError::invalid(format!(
                "The provided target group {arn} has target type {}, which is incompatible with the awsvpc network mode specified in the task definition.",
                tg.target_type
            )));
        }
        if td.network_mode() != "awsvpc" {
            return Err(EcsError::invalid(
                "The simulator registers only awsvpc tasks (ip targets) with target groups.",
            ));
        }
        out.push(ServiceLb {
            target_group_arn: arn.into(),
            container_name: name.into(),
            container_port: port,
            advanced: advanced_config(w, &o, arn)?,
            raw: v.clone(),
        });
    }
    Ok(Some(out))
}

/// healthCheckGracePeriodSeconds is only valid with a load balancer (API reference).
fn grace_period(r: &Req, lbs: &[ServiceLb]) -> Result<Option<i64>, EcsError> {
    match r.i64("healthCheckGracePeriodSeconds")? {
        None => Ok(None),
        Some(_) if lbs.is_empty() => Err(EcsError::invalid(
            "Health check grace period is only valid for services configured to use load balancers",
        )),
        Some(g) if !(0..=2_147_483_647).contains(&g) => {
            Err(EcsError::invalid("healthCheckGracePeriodSeconds must be >= 0."))
        }
        Some(g) => Ok(Some(g)),
    }
}
