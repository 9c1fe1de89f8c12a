//! How the pipeline grows: bursts of pushes over many services (the chaos
//! suite's harness and checks, with no fault injected and every build good),
//! and the work one incoming ECS event costs as deployments in flight grow.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use serde::Serialize;
use serde_json::json;

use super::super::chaos::{self, Scenario};
use super::super::faults::FaultPlan;
use super::super::meter::STACK;
use super::super::seed::{ServiceSpec, seed_service};
use super::super::{Cloud, CloudConfig, PushRequest, sdk_config};
use super::BenchError;

/// `services × pushes` within `within`, every build good.
pub fn burst(services: usize, pushes: usize, within: Duration) -> Scenario {
    Scenario {
        name: "scale",
        fault: format!("{} pushes over {services} services within {} s", services * pushes, within.as_secs()),
        plan: FaultPlan::default(),
        services,
        pushes,
        within,
        reconcile: false,
        bad_builds: false,
    }
}

/// One burst and the local cloud it ran on.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BurstRun {
    /// 1: one moto for every service; 3: DynamoDB and Step Functions apart.
    pub moto_processes: usize,
    #[serde(flatten)]
    pub report: chaos::Report,
}

/// A burst on the chaos suite's local cloud; with `single_moto`, one moto for everything.
pub async fn run_burst(repo: PathBuf, scenario: &Scenario, single_moto: bool) -> Result<chaos::Report, BenchError> {
    let cfg = CloudConfig { single_moto, ..chaos::config(repo) };
    chaos::run_in(cfg, scenario, Duration::from_secs(1800)).await.map_err(|e| BenchError::Run(e.to_string()))
}

/// The work of one ECS event with `in_flight` deployments waiting on ECS.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCost {
    pub in_flight: usize,
    /// Means over the events sent at this level.
    pub dynamodb_calls: f64,
    pub dynamodb_items_read: f64,
    pub ecs_calls: f64,
    pub elb_calls: f64,
    pub milliseconds: f64,
    pub events: usize,
}

/// Deployments that never finish on their own (their containers take an hour to start).
const SLOW: &str = "slow:3600";

/// For each level of `levels` (ascending): that many deployments waiting
/// on ECS, then `events` ECS events about one of them, each handled by
/// `on-ecs-event` while nothing else runs, and what each cost.
pub async fn event_costs(repo: PathBuf, levels: &[usize], events: usize) -> Result<Vec<EventCost>, BenchError> {
    let mut cfg = CloudConfig::new(repo);
    cfg.port = 0;
    cfg.speed = 10.0;
    // No fallback check and no reconciler pass during a measurement.
    cfg.parameters.insert("PollIntervalSeconds".into(), "3600".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "0".into());
    cfg.parameters.insert("ReconcileSchedule".into(), "rate(1 day)".into());
    let running = Cloud::start(cfg).await.map_err(|e| BenchError::Run(e.to_string()))?;
    let result = measure_levels(&running.cloud, levels, events).await;
    running.stop().await;
    result
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> BenchError + '_ {
    move |e| BenchError::Run(format!("{what}: {e}"))
}

fn spec(i: usize) -> ServiceSpec {
    let name = format!("s{i:03}");
    ServiceSpec {
        cluster: "scale".into(),
        service: name.clone(),
        repository: name.clone(),
        desired: 1,
        target_id: format!("scale-{name}"),
        // The slow build stays in progress: ECS leaves its unhealthy task alone.
        health_check_grace_seconds: Some(7200),
        ..ServiceSpec::demo()
    }
}

async fn measure_levels(cloud: &Arc<Cloud>, levels: &[usize], events: usize) -> Result<Vec<EventCost>, BenchError> {
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let table = cloud.template.physical_name("DeploymentsTable").map_err(fail("template"))?;
    let store = DynamoDeployments::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let on_ecs_event = cloud
        .host
        .names()
        .into_iter()
        .filter_map(|n| cloud.host.find(&n).cloned())
        .find(|f| f.binary == "on-ecs-event")
        .ok_or_else(|| BenchError::Run("the template has no on-ecs-event function".into()))?;
    let mut seeded = 0;
    let mut out = Vec::new();
    for &level in levels {
        // Seed and push up to `level` waiting deployments, eight services at a time.
        while seeded < level {
            let batch: Vec<usize> = (seeded..level.min(seeded + 8)).collect();
            let mut seeding = tokio::task::JoinSet::new();
            for i in batch.clone() {
                let cloud = cloud.clone();
                seeding.spawn(async move {
                    let s = spec(i);
                    seed_service(&cloud, &s).await.map_err(|e| format!("{}: {e}", s.service))?;
                    cloud
                        .push_image(&PushRequest::new(&format!("{}:v2", s.repository), SLOW))
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>(())
                });
            }
            while let Some(done) = seeding.join_next().await {
                done.map_err(fail("seeding"))?.map_err(fail("seeding"))?;
            }
            seeded += batch.len();
        }
        let waiting = wait_all_waiting(&store, level).await?;
        let first = waiting.first().ok_or_else(|| BenchError::Run("no deployment waiting".into()))?;
        quiet(cloud).await;
        let mut samples = Vec::new();
        for k in 0..events {
            let event = service_event(cloud, first, k);
            let before = cloud.meter.snapshot();
            let started = Instant::now();
            on_ecs_event
                .invoke(event)
                .await
                .map_err(|e| BenchError::Run(format!("on-ecs-event: {}", e.error_message)))?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            samples.push((cloud.meter.snapshot().since(&before), ms));
        }
        let n = samples.len().max(1) as f64;
        let mean = |f: &dyn Fn(&super::super::meter::Snapshot) -> u64| {
            samples.iter().map(|(s, _)| f(s) as f64).sum::<f64>() / n
        };
        out.push(EventCost {
            in_flight: level,
            dynamodb_calls: mean(&|s| s.calls_to(STACK, "dynamodb")),
            dynamodb_items_read: mean(&|s| s.items_read),
            ecs_calls: mean(&|s| s.calls_to(STACK, "ecs")),
            elb_calls: mean(&|s| s.calls_to(STACK, "elasticloadbalancing")),
            milliseconds: samples.iter().map(|(_, ms)| ms).sum::<f64>() / n,
            events: samples.len(),
        });
        eprintln!(
            "bench: {level} in flight: {:.1} items read per event",
            out.last().map_or(0.0, |c| c.dynamodb_items_read)
        );
    }
    Ok(out)
}

/// The `level` deployments once every one waits on ECS.
async fn wait_all_waiting(store: &DynamoDeployments, level: usize) -> Result<Vec<Deployment>, BenchError> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut waiting = Vec::new();
        for i in 0..level {
            let s = spec(i);
            let key = format!("{}/{}", s.cluster, s.service);
            let mine = store.history(&key, 5).await.map_err(fail("history"))?;
            waiting.extend(mine.into_iter().filter(|d| d.status == DeploymentStatus::Waiting));
        }
        if waiting.len() >= level {
            waiting.sort_by(|a, b| a.service.cmp(&b.service));
            return Ok(waiting);
        }
        if Instant::now() > deadline {
            return Err(BenchError::Run(format!("{} of {level} deployments waiting after 600 s", waiting.len())));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Until a second passes without the stack calling anything (at most 30 s).
async fn quiet(cloud: &Cloud) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = cloud.meter.snapshot();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cloud.meter.snapshot();
        if now.calls.get(STACK) == last.calls.get(STACK) {
            return;
        }
        last = now;
    }
}

/// ECS's `SERVICE_STEADY_STATE` about `d`'s service, as ECS sends it: a
/// reason to look at the rollout, which is still in progress.
fn service_event(cloud: &Cloud, d: &Deployment, k: usize) -> serde_json::Value {
    let (region, account) = (&cloud.stack.region, &cloud.stack.account);
    let now = chrono::Utc::now();
    json!({
        "version": "0",
        "id": format!("00000000-0000-4000-8000-{k:012}"),
        "detail-type": "ECS Service Action",
        "source": "aws.ecs",
        "account": account,
        "time": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [format!("arn:aws:ecs:{region}:{account}:service/{}/{}", d.cluster, d.service)],
        "detail": {
            "eventType": "INFO",
            "eventName": "SERVICE_STEADY_STATE",
            "clusterArn": format!("arn:aws:ecs:{region}:{account}:cluster/{}", d.cluster),
            "createdAt": now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        }
    })
}
