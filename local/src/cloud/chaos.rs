//! The chaos suite: the whole stack on the local cloud under a fault plan,
//! every scenario ending with the same checks, and the reliability table they
//! produce (`autodeploy-local chaos`, `make chaos`; a smaller size runs in
//! `make test`).
//!
//! A scenario seeds its services (cluster `chaos`, one repository each), then
//! switches its fault plan on and pushes: every service gets `pushes` tags
//! within a short window, and every other service's last push is a bad build
//! (its containers crash). Checks, once every record is terminal:
//!
//! - outcomes: each service's last push SUCCEEDED (good) or ROLLED_BACK (bad),
//!   every earlier one SUCCEEDED or SUPERSEDED, nothing FAILED; the service
//!   runs its newest good revision;
//! - nothing left: no record non-terminal, no execution still running or
//!   ended otherwise than its record says;
//! - crash-safe: one revision registered per deployment that registered one
//!   (the family holds no other), UpdateService answered at most once per
//!   rollout plus once per rollback, each status once in a timeline;
//! - safe: healthy tasks never below the service's minimum.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use serde::Serialize;

use super::faults::{
    CallFault, CallFaultKind, EventFault, EventFaultKind, FaultPlan, FunctionFault, FunctionFaultKind,
};
use super::meter::STACK;
use super::seed::{ServiceSpec, seed_service};
use super::{Cloud, CloudConfig, CloudError, PushRequest, sdk_config};

/// How big a run: `Smoke` in `make test`, `Full` in `make chaos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Smoke,
    Full,
}

/// One fault, the services it runs on and the pushes it makes.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    /// What is injected, in words (the table's first column).
    pub fault: String,
    pub plan: FaultPlan,
    pub services: usize,
    /// Tags pushed to each service (the last one bad on every other service).
    pub pushes: usize,
    /// The window the pushes are spread over.
    pub within: Duration,
    /// ECR's push events are lost: the reconciler runs (as its schedule would) while waiting.
    pub reconcile: bool,
    /// Every other service's last push is a bad build (its containers crash).
    pub bad_builds: bool,
}

/// The services every transient-fault scenario hits.
const SERVICES: [&str; 5] = ["ecs", "elasticloadbalancing", "dynamodb", "states", "events"];

/// `share` of every call to [`SERVICES`] failing, half throttled, half 503.
fn transient(share: f64) -> Vec<CallFault> {
    let half = share / 2.0;
    SERVICES
        .iter()
        .flat_map(|s| {
            [
                CallFault {
                    service: Some((*s).into()),
                    operation: None,
                    fraction: half,
                    fault: CallFaultKind::Throttle,
                },
                // The second rule sees only what the first let through.
                CallFault {
                    service: Some((*s).into()),
                    operation: None,
                    fraction: half / (1.0 - half),
                    fault: CallFaultKind::ServerError(503),
                },
            ]
        })
        .collect()
}

/// Every invocation of `function` (none: of every function) hit once by `fault`.
fn once(function: Option<&str>, fault: FunctionFaultKind) -> FunctionFault {
    FunctionFault { function: function.map(str::to_owned), fraction: 1.0, fault, once_per_input: true }
}

fn ecs_events(fault: EventFaultKind) -> EventFault {
    EventFault { source: Some("aws.ecs".into()), rule: None, fraction: 1.0, fault }
}

/// Every scenario at `size`, seeded with `seed`.
pub fn scenarios(size: Size, seed: u64) -> Vec<Scenario> {
    let (services, pushes) = match size {
        Size::Smoke => (4, 2),
        Size::Full => (10, 3),
    };
    let plan = |calls, events, functions| FaultPlan { seed, calls, events, functions };
    // A service's tags 1.5 s apart: never in the same second, so which push is
    // newest is known (the burst below pushes faster, ties and all).
    let within = Duration::from_millis(1500) * u32::try_from(pushes).unwrap_or(1);
    let base = |name, fault: &str, plan| Scenario {
        name,
        fault: fault.to_owned(),
        plan,
        services,
        pushes,
        within,
        reconcile: false,
        bad_builds: true,
    };
    let mut all = vec![
        base(
            "throttled",
            "20 % of ECS, ELBv2, DynamoDB, Step Functions and EventBridge calls throttled or 503",
            plan(transient(0.2), vec![], vec![]),
        ),
        base(
            "ecs-events-lost",
            "every ECS event dropped",
            plan(vec![], vec![ecs_events(EventFaultKind::Drop)], vec![]),
        ),
        base(
            "ecs-events-repeated",
            "every ECS event delivered 3 times, each copy reordered within 3 s",
            plan(
                vec![],
                vec![ecs_events(EventFaultKind::Duplicate(3)), ecs_events(EventFaultKind::ReorderWithinMillis(3000))],
                vec![],
            ),
        ),
        base(
            "steps-fail-after-work",
            "every function invocation fails once after its work (Retryable); update-service first also times out, \
             register-revision first also crashes",
            plan(
                vec![],
                vec![],
                vec![
                    once(Some("update-service"), FunctionFaultKind::TimeOutAfter),
                    once(Some("register-revision"), FunctionFaultKind::CrashAfter),
                    once(None, FunctionFaultKind::FailAfter),
                ],
            ),
        ),
        Scenario {
            reconcile: true,
            ..base(
                "ecr-events-lost",
                "every ECR push event dropped (the reconciler deploys)",
                plan(
                    vec![],
                    vec![EventFault {
                        source: Some("aws.ecr".into()),
                        rule: None,
                        fraction: 1.0,
                        fault: EventFaultKind::Drop,
                    }],
                    vec![],
                ),
            )
        },
    ];
    let (services, pushes, within) = match size {
        Size::Smoke => (6, 4, Duration::from_secs(3)),
        Size::Full => (50, 10, Duration::from_secs(10)),
    };
    all.push(Scenario {
        name: "burst",
        fault: format!(
            "{} pushes over {services} services within {} s, 5 % of calls failing",
            services * pushes,
            within.as_secs()
        ),
        plan: plan(transient(0.05), vec![], vec![]),
        services,
        pushes,
        within,
        reconcile: false,
        bad_builds: true,
    });
    all
}

/// What one scenario did and what its checks found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub name: &'static str,
    pub fault: String,
    pub services: usize,
    pub pushes: usize,
    /// How long pushing them all took (the scenario asks for its window; a
    /// loaded machine may take longer).
    pub pushed_in_seconds: f64,
    /// From the first push until every record was terminal.
    pub settled_in_seconds: f64,
    /// Median time from a push's record to its claim (its second timeline
    /// entry: queued, registering or superseded), the settle window included.
    pub claim_delay_median_seconds: f64,
    /// Deployments by final status.
    pub outcomes: BTreeMap<String, usize>,
    /// The most revisions any one deployment registered.
    pub max_revisions_per_deployment: usize,
    /// UpdateService calls ECS answered, and the most the checks allow.
    pub update_service_calls: u64,
    pub update_service_allowed: u64,
    /// Faults injected in all (each one a retry the stack had to make).
    pub faults_injected: u64,
    /// The fewest healthy tasks above a service's minimum (never negative when it passes).
    pub min_healthy_margin: i64,
    /// The stack's calls from the first push until every record was terminal,
    /// by `service:Operation`: where a burst's time goes.
    pub stack_calls: BTreeMap<String, u64>,
    /// DynamoDB items the stack read meanwhile.
    pub dynamodb_items_read: u64,
    pub seconds: f64,
    /// What the checks found wrong; empty: passed.
    pub problems: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error(transparent)]
    Start(#[from] CloudError),
    #[error("{0}")]
    Setup(String),
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> ChaosError + '_ {
    move |e| ChaosError::Setup(format!("{what}: {e}"))
}

fn spec(i: usize) -> ServiceSpec {
    let name = format!("svc{i:02}");
    ServiceSpec {
        cluster: "chaos".into(),
        service: name.clone(),
        repository: name.clone(),
        desired: 2,
        target_id: format!("chaos-{name}"),
        ..ServiceSpec::demo()
    }
}

/// Runs `scenario` on a local cloud of its own (template and moto from `repo`),
/// at most `limit` of real time until every record is terminal.
pub async fn run(repo: PathBuf, scenario: &Scenario, limit: Duration) -> Result<Report, ChaosError> {
    run_in(config(repo), scenario, limit).await
}

/// The local cloud every scenario runs on: the simulator at 20×, a 10 s
/// fallback poll, a 2 s settle.
pub fn config(repo: PathBuf) -> CloudConfig {
    let mut cfg = CloudConfig::new(repo);
    cfg.port = 0;
    cfg.speed = 20.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "2".into());
    cfg
}

/// Runs `scenario` on a local cloud started from `cfg`.
pub async fn run_in(cfg: CloudConfig, scenario: &Scenario, limit: Duration) -> Result<Report, ChaosError> {
    let started = Instant::now();
    let running = Cloud::start(cfg).await?;
    let cloud = running.cloud.clone();
    let report = drive(&cloud, scenario, limit, started).await;
    running.stop().await;
    report
}

async fn drive(
    cloud: &Arc<Cloud>,
    scenario: &Scenario,
    limit: Duration,
    started: Instant,
) -> Result<Report, ChaosError> {
    // Seed without faults, a few services at a time.
    let specs: Vec<ServiceSpec> = (0..scenario.services).map(spec).collect();
    // The revision each service starts on: what a bad build leaves it running
    // when no earlier push of the scenario succeeded.
    let mut initial = BTreeMap::new();
    for chunk in specs.chunks(8) {
        let mut seeding = tokio::task::JoinSet::new();
        for s in chunk {
            let (cloud, s) = (cloud.clone(), s.clone());
            seeding.spawn(async move {
                let seeded = seed_service(&cloud, &s).await.map_err(|e| format!("{}: {e}", s.service))?;
                Ok::<_, String>((s.service, seeded.task_definition_arn))
            });
        }
        while let Some(seeded) = seeding.join_next().await {
            let (service, revision) = seeded.map_err(setup("seeding"))?.map_err(setup("seeding"))?;
            initial.insert(service, revision);
        }
    }
    let seeded_at = cloud.sim.now() / 1000;
    cloud.faults.set(scenario.plan.clone());

    let total = scenario.services * scenario.pushes;
    let push_started = Instant::now();
    let metered = cloud.meter.snapshot();
    let pushed_in = push_all(cloud, &specs, scenario).await?;

    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let table = cloud.template.physical_name("DeploymentsTable").map_err(setup("template"))?;
    let store = DynamoDeployments::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let mut problems = Vec::new();
    let records = match wait_terminal(cloud, &store, &specs, scenario, limit).await {
        Ok(records) => records,
        Err((records, left)) => {
            problems.push(format!("{left} deployments not terminal after {} s", limit.as_secs()));
            records
        }
    };
    let settled_in = push_started.elapsed();
    let work = cloud.meter.snapshot().since(&metered);
    let faults_injected = cloud.faults.injected().total();
    // Checks read the world without faults.
    cloud.faults.set(FaultPlan::default());

    let mut outcomes = BTreeMap::new();
    for d in records.values().flatten() {
        *outcomes.entry(d.status.as_str().to_owned()).or_insert(0) += 1;
    }
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let mut max_revisions = 0;
    let mut min_margin = i64::MAX;
    for (i, s) in specs.iter().enumerate() {
        let mine = records.get(&s.service).cloned().unwrap_or_default();
        problems.extend(check_outcomes(s, i, scenario, &mine));
        problems.extend(check_timelines(&mine));
        problems.extend(check_one_rollout_at_a_time(&s.service, &mine));
        let (revisions, found) = check_revisions(&ecs, s, &mine).await?;
        max_revisions = max_revisions.max(revisions);
        problems.extend(found);
        problems.extend(check_running(&ecs, s, &mine, initial.get(&s.service)).await?);
        let samples = cloud.sim.series(Some(&s.cluster), &s.service).unwrap_or_default();
        for sample in samples.iter().filter(|x| x.t >= seeded_at) {
            min_margin = min_margin.min(sample.healthy - sample.min_healthy);
        }
    }
    if min_margin < 0 {
        problems.push(format!("healthy tasks fell {} below a service's minimum", -min_margin));
    }
    problems.extend(check_executions(&sdk, cloud).await?);

    let all: Vec<&Deployment> = records.values().flatten().collect();
    let rollouts = all.iter().filter(|d| d.ecs_deployment_id.is_some()).count() as u64;
    let rollbacks = all.iter().filter(|d| d.status == DeploymentStatus::RolledBack).count() as u64;
    let update_calls = cloud.faults.calls().get("ecs:UpdateService").map_or(0, |c| c.answered);
    if update_calls > rollouts + rollbacks {
        problems.push(format!(
            "ECS answered {update_calls} UpdateService calls for {rollouts} rollouts and {rollbacks} rollbacks"
        ));
    }
    Ok(Report {
        name: scenario.name,
        fault: scenario.fault.clone(),
        services: scenario.services,
        pushes: total,
        pushed_in_seconds: pushed_in.as_secs_f64(),
        settled_in_seconds: settled_in.as_secs_f64(),
        claim_delay_median_seconds: claim_delay_median(&all),
        outcomes,
        max_revisions_per_deployment: max_revisions,
        update_service_calls: update_calls,
        update_service_allowed: rollouts + rollbacks,
        faults_injected,
        min_healthy_margin: if min_margin == i64::MAX { 0 } else { min_margin },
        stack_calls: work.calls.get(STACK).cloned().unwrap_or_default(),
        dynamodb_items_read: work.items_read,
        seconds: started.elapsed().as_secs_f64(),
        problems,
    })
}

/// Every service's tags, pushed on a schedule that spreads them over the
/// scenario's window: services at once, each service's tags in order (the
/// order ECR's push times give them). How long the pushes took in all.
async fn push_all(cloud: &Arc<Cloud>, specs: &[ServiceSpec], scenario: &Scenario) -> Result<Duration, ChaosError> {
    let total = u32::try_from((specs.len() * scenario.pushes).max(1)).unwrap_or(u32::MAX);
    let gap = scenario.within / total;
    let start = tokio::time::Instant::now();
    let mut pushing = tokio::task::JoinSet::new();
    for (i, s) in specs.iter().enumerate() {
        let (cloud, repository, pushes) = (cloud.clone(), s.repository.clone(), scenario.pushes);
        let bad_builds = scenario.bad_builds;
        let services = specs.len();
        pushing.spawn(async move {
            for round in 0..pushes {
                let slot = u32::try_from(round * services + i).unwrap_or(u32::MAX);
                tokio::time::sleep_until(start + gap * slot).await;
                let bad = bad_builds && round + 1 == pushes && i % 2 == 1;
                let behavior = if bad { "crash" } else { "healthy" };
                let image = format!("{repository}:v{}", round + 2);
                push_with_retries(&cloud, &PushRequest::new(&image, behavior))
                    .await
                    .map_err(|e| format!("{image}: {e}"))?;
            }
            Ok::<_, String>(())
        });
    }
    while let Some(pushed) = pushing.join_next().await {
        pushed.map_err(setup("pushing"))?.map_err(setup("pushing"))?;
    }
    Ok(start.elapsed())
}

/// The harness's own push (its ECR calls are never faulted), tried again
/// when moto, under a burst's load, fails one of them.
async fn push_with_retries(cloud: &Cloud, push: &PushRequest) -> Result<(), super::PushError> {
    let mut attempt = 1;
    loop {
        match cloud.push_image(push).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 4 => {
                tracing::warn!(image = %push.image, error = %e, attempt, "push failed; trying again");
                tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

type Records = BTreeMap<String, Vec<Deployment>>;

/// Every service's deployments once all `pushes` of each are terminal; on
/// time running out, what there is and how many are not.
async fn wait_terminal(
    cloud: &Cloud,
    store: &DynamoDeployments,
    specs: &[ServiceSpec],
    scenario: &Scenario,
    limit: Duration,
) -> Result<Records, (Records, usize)> {
    let deadline = Instant::now() + limit;
    let mut last_reconcile = Instant::now();
    loop {
        let mut records = Records::new();
        let mut left = 0;
        for s in specs {
            let key = format!("{}/{}", s.cluster, s.service);
            let mine = store.history(&key, 100).await.unwrap_or_default();
            // Every push recorded (with ECR's events lost, at least the newest,
            // which is what the reconciler finds), every record terminal.
            let newest = mine.iter().any(|d| tag_number(d) == scenario.pushes + 1);
            left += expected_per_service(scenario).saturating_sub(mine.len())
                + usize::from(!newest)
                + mine.iter().filter(|d| !d.status.is_terminal()).count();
            records.insert(s.service.clone(), mine);
        }
        if left == 0 {
            return Ok(records);
        }
        if Instant::now() > deadline {
            return Err((records, left));
        }
        // The reconciler's schedule, sooner than its rate.
        if scenario.reconcile && last_reconcile.elapsed() > Duration::from_secs(5) {
            if let Err(e) = cloud.reconcile_now().await {
                tracing::warn!(error = %e, "reconciler pass failed");
            }
            last_reconcile = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Deployments each service should end with at least: one per push; with
/// ECR's events lost, one for the newest push, which is what the reconciler
/// finds (a tag pushed before it may be found by an earlier pass, or never).
fn expected_per_service(scenario: &Scenario) -> usize {
    if scenario.reconcile { 1 } else { scenario.pushes }
}

fn tag_number(d: &Deployment) -> usize {
    d.tag.as_deref().and_then(|t| t.strip_prefix('v')).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The newest push SUCCEEDED or ROLLED_BACK as its build deserves, the
/// earlier ones SUCCEEDED or SUPERSEDED, one deployment per push. "Newest" is
/// what AWS can tell: a push event's time and ECR's `imagePushedAt` have
/// whole seconds, so pushes of one repository in the same second are a tie
/// the pipeline breaks its own way: exactly one of the newest second's
/// pushes wins, the others are SUPERSEDED.
fn check_outcomes(s: &ServiceSpec, i: usize, scenario: &Scenario, mine: &[Deployment]) -> Vec<String> {
    let mut problems = Vec::new();
    let last = scenario.pushes + 1;
    let good = |n: usize| n < last || i.is_multiple_of(2) || !scenario.bad_builds;
    let second = |d: &Deployment| d.pushed_at.unwrap_or(d.created_at).timestamp();
    let newest = mine.iter().map(second).max();
    let mut winners = 0;
    for n in 2..=last {
        let of_tag: Vec<&Deployment> = mine.iter().filter(|d| tag_number(d) == n).collect();
        let Some(d) = of_tag.first() else {
            if scenario.reconcile && n < last {
                continue;
            }
            problems.push(format!("{} v{n}: no deployment", s.service));
            continue;
        };
        if of_tag.len() > 1 {
            problems.push(format!("{} v{n}: {} deployments for one push", s.service, of_tag.len()));
        }
        let in_newest_second = Some(second(d)) == newest;
        let won = if good(n) { DeploymentStatus::Succeeded } else { DeploymentStatus::RolledBack };
        let fine = if in_newest_second {
            d.status == won || d.status == DeploymentStatus::Superseded
        } else {
            d.status == DeploymentStatus::Superseded || (good(n) && d.status == DeploymentStatus::Succeeded)
        };
        if in_newest_second && d.status == won {
            winners += 1;
        }
        if !fine {
            let reason = d.failure_reason.as_deref().unwrap_or("");
            problems.push(format!("{} v{n}: {} ({reason})", s.service, d.status.as_str()));
        }
    }
    if winners != 1 && !mine.is_empty() {
        problems.push(format!("{}: {winners} of its newest pushes won, not one", s.service));
    }
    problems
}

/// Never two of the pipeline's rollouts of one service at once: each
/// rollout (UPDATING until its terminal status) ends before the next begins.
fn check_one_rollout_at_a_time(service: &str, mine: &[Deployment]) -> Vec<String> {
    let mut rollouts: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, &str)> = mine
        .iter()
        .filter_map(|d| {
            let began = d.timeline.iter().find(|e| e.state == DeploymentStatus::Updating)?.at;
            let ended = d.timeline.iter().rev().find(|e| e.state.is_terminal())?.at;
            Some((began, ended, d.deployment_id.as_str()))
        })
        .collect();
    rollouts.sort();
    rollouts
        .windows(2)
        .filter(|w| w[1].0 < w[0].1)
        .map(|w| format!("{service}: rollout {} began before {} ended", w[1].2, w[0].2))
        .collect()
}

/// Median seconds from a deployment's record to its claim (the second timeline entry).
fn claim_delay_median(all: &[&Deployment]) -> f64 {
    let mut delays: Vec<f64> = all
        .iter()
        .filter_map(|d| d.timeline.get(1).map(|e| (e.at - d.created_at).num_milliseconds() as f64 / 1000.0))
        .collect();
    delays.sort_by(f64::total_cmp);
    match delays.len() {
        0 => 0.0,
        n if n % 2 == 1 => delays[n / 2],
        n => f64::midpoint(delays[n / 2 - 1], delays[n / 2]),
    }
}

/// Each status at most once in a deployment's timeline.
fn check_timelines(mine: &[Deployment]) -> Vec<String> {
    let mut problems = Vec::new();
    for d in mine {
        let mut seen = BTreeMap::new();
        for entry in &d.timeline {
            *seen.entry(entry.state.as_str()).or_insert(0) += 1;
        }
        for (state, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
            problems.push(format!("{}: {state} {n} times in its timeline", d.deployment_id));
        }
    }
    problems
}

/// The family holds the seed's revision and one per deployment that
/// registered one, nothing else; the most any deployment registered.
async fn check_revisions(
    ecs: &aws_sdk_ecs::Client,
    s: &ServiceSpec,
    mine: &[Deployment],
) -> Result<(usize, Vec<String>), ChaosError> {
    let listed =
        ecs.list_task_definitions().family_prefix(&s.service).send().await.map_err(setup("ListTaskDefinitions"))?;
    let revisions = listed.task_definition_arns().len();
    let registered: std::collections::BTreeSet<&str> =
        mine.iter().filter_map(|d| d.new_task_definition.as_deref()).collect();
    let per_deployment = mine.iter().filter(|d| d.new_task_definition.is_some()).count();
    let mut problems = Vec::new();
    if registered.len() != per_deployment {
        problems.push(format!("{}: two deployments share a revision", s.service));
    }
    let extra = revisions.saturating_sub(1 + registered.len());
    if extra > 0 {
        problems.push(format!("{}: {extra} revisions registered that no deployment records", s.service));
    }
    Ok((usize::from(per_deployment > 0) + extra, problems))
}

/// The service runs the revision of its newest SUCCEEDED deployment (or the
/// one it started on, when none did).
async fn check_running(
    ecs: &aws_sdk_ecs::Client,
    s: &ServiceSpec,
    mine: &[Deployment],
    initial: Option<&String>,
) -> Result<Vec<String>, ChaosError> {
    let newest_good = mine
        .iter()
        .filter(|d| d.status == DeploymentStatus::Succeeded)
        .max_by_key(|d| tag_number(d))
        .and_then(|d| d.new_task_definition.clone());
    let Some(good) = newest_good.or_else(|| initial.cloned()) else {
        return Ok(vec![format!("{}: no revision to expect", s.service)]);
    };
    let described = ecs
        .describe_services()
        .cluster(&s.cluster)
        .services(&s.service)
        .send()
        .await
        .map_err(setup("DescribeServices"))?;
    let running = described.services().first().and_then(|x| x.task_definition()).unwrap_or_default();
    Ok(if running == good { vec![] } else { vec![format!("{}: runs {running}, not {good}", s.service)] })
}

/// No execution left running (a run whose record is terminal still has its
/// announcement to make: up to a minute for that), none failed (no record
/// is FAILED when the outcomes pass, so a failed execution would disagree
/// with its record).
async fn check_executions(sdk: &autodeploy_shared::aws::SdkConfig, cloud: &Cloud) -> Result<Vec<String>, ChaosError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let by_status = executions(sdk, cloud).await?;
        if !by_status.contains_key("RUNNING") || Instant::now() > deadline {
            return Ok(by_status
                .into_iter()
                .filter(|(status, _)| status != "SUCCEEDED")
                .map(|(status, n)| format!("{n} executions {status}"))
                .collect());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The state machine's executions, counted by status.
async fn executions(
    sdk: &autodeploy_shared::aws::SdkConfig,
    cloud: &Cloud,
) -> Result<BTreeMap<String, usize>, ChaosError> {
    let sfn = aws_sdk_sfn::Client::new(sdk);
    let machine = cloud.template.physical_name("DeployStateMachine").map_err(setup("template"))?;
    let arn = format!("arn:aws:states:{}:{}:stateMachine:{machine}", cloud.stack.region, cloud.stack.account);
    let mut by_status = BTreeMap::new();
    let mut token = None;
    loop {
        let page = sfn
            .list_executions()
            .state_machine_arn(&arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(setup("ListExecutions"))?;
        for e in page.executions() {
            *by_status.entry(e.status().as_str().to_owned()).or_insert(0) += 1;
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(by_status);
        }
    }
}

/// The reliability table, as Markdown.
pub fn table(reports: &[Report], size: Size, seed: u64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Generated by `autodeploy-local chaos{}` (seed {seed}); every row ends with the same checks.\n\n",
        if size == Size::Full { " --full" } else { "" }
    ));
    out.push_str("| Fault injected | Pushes | Outcomes | Revisions per deployment | UpdateService (answered / allowed) | Faults injected | Lowest healthy above minimum | Result |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for r in reports {
        let outcomes: Vec<String> = r.outcomes.iter().map(|(s, n)| format!("{n} {s}")).collect();
        out.push_str(&format!(
            "| {} | {} over {} services in {:.1} s | {} | {} | {} / {} | {} | {} | {} |\n",
            r.fault,
            r.pushes,
            r.services,
            r.pushed_in_seconds,
            outcomes.join(", "),
            r.max_revisions_per_deployment,
            r.update_service_calls,
            r.update_service_allowed,
            r.faults_injected,
            r.min_healthy_margin,
            if r.passed() {
                format!("pass ({:.0} s)", r.seconds)
            } else {
                format!("**FAIL**: {}", r.problems.join("; "))
            }
        ));
    }
    out
}

/// Arguments of `autodeploy-local chaos`.
#[derive(Debug, Clone, clap::Args)]
pub struct ChaosArgs {
    /// Every scenario at full size (500 pushes over 50 services among them), not the smoke size.
    #[arg(long)]
    pub full: bool,
    /// The fault plans' seed: the same seed replays the same decisions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only the scenarios with these names (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Also write the table (Markdown) here.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Repository root (template.yaml, statemachine/, .venv).
    #[arg(long)]
    pub repo: Option<PathBuf>,
}

/// Runs the chosen scenarios one after another, prints the table; an error
/// when any check failed.
pub async fn command(args: ChaosArgs) -> Result<(), ChaosError> {
    let size = if args.full { Size::Full } else { Size::Smoke };
    let repo = super::cli::find_repo(args.repo.clone());
    let chosen: Vec<Scenario> = scenarios(size, args.seed)
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|o| o == s.name))
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = scenarios(size, args.seed).iter().map(|s| s.name).collect();
        return Err(ChaosError::Setup(format!("no scenario named {:?}; there are {}", args.only, names.join(", "))));
    }
    let limit = if args.full { Duration::from_secs(1800) } else { Duration::from_secs(600) };
    let mut reports = Vec::new();
    for s in &chosen {
        eprintln!("chaos: {} — {}", s.name, s.fault);
        let report = run(repo.clone(), s, limit).await?;
        eprintln!("chaos: {} {}", s.name, if report.passed() { "passed" } else { "FAILED" });
        reports.push(report);
    }
    let text = table(&reports, size, args.seed);
    println!("{text}");
    if let Some(path) = &args.write {
        std::fs::write(path, &text).map_err(setup("writing the table"))?;
    }
    let failed: Vec<&str> = reports.iter().filter(|r| !r.passed()).map(|r| r.name).collect();
    if failed.is_empty() { Ok(()) } else { Err(ChaosError::Setup(format!("failed: {}", failed.join(", ")))) }
}
