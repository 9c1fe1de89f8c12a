//! `autodeploy-local demo`: from nothing, a good deploy, a bad build rolled
//! back with the old version serving throughout, and a recovery — shown live
//! and checked against the simulator's recorded series.

mod subscriber;
pub mod view;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use clap::Args;

use super::cli::CloudArgs;
use super::seed::{self, ServiceSpec};
use super::{Cloud, CloudConfig, Pushed};
use crate::sim::series::Sample;
use subscriber::{Notification, Subscriber};
use view::{Style, VersionHealth};

/// The demo's defaults differ from `up`'s: a free port (it runs beside
/// anything) and a clock fast enough that the three rollouts take seconds.
#[derive(Debug, Clone, Args)]
#[command(
    mut_arg("port", |a| a.default_value("0")),
    mut_arg("speed", |a| a.default_value("5")),
)]
pub struct DemoArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// How the bad build `web:v3` fails: `unhealthy` (runs, fails every load
    /// balancer health check) or `crash` (exits right after starting).
    #[arg(long, default_value = "unhealthy", value_parser = ["unhealthy", "crash"])]
    pub bad: String,
}

/// One push of the demo and what must come of it.
#[derive(Debug, Clone)]
pub struct Step {
    pub tag: String,
    pub behavior: String,
    pub expected: DeploymentStatus,
    /// The version that must keep at least the minimum healthy while this runs.
    pub serving: Option<String>,
    /// A push made just before this one (within a second) that must end
    /// SUPERSEDED: the newest push wins.
    pub preceded_by: Option<(String, String)>,
}

impl Step {
    /// `web:v2` healthy → SUCCEEDED; `web:v3` bad → ROLLED_BACK with `v2`
    /// serving; `web:v4` healthy → SUCCEEDED; `web:v5` and `web:v6` within a
    /// second → `v5` SUPERSEDED, `v6` SUCCEEDED.
    pub fn script(bad: &str) -> Vec<Step> {
        let step = |tag: &str, behavior: &str, expected, serving: Option<&str>| Step {
            tag: tag.into(),
            behavior: behavior.into(),
            expected,
            serving: serving.map(Into::into),
            preceded_by: None,
        };
        vec![
            step("v2", "healthy", DeploymentStatus::Succeeded, None),
            step("v3", bad, DeploymentStatus::RolledBack, Some("v2")),
            step("v4", "healthy", DeploymentStatus::Succeeded, None),
            Step {
                preceded_by: Some(("v5".into(), "healthy".into())),
                ..step("v6", "healthy", DeploymentStatus::Succeeded, None)
            },
        ]
    }
}

/// What one step came to.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: Step,
    pub image: String,
    /// Final status of the deployment record (None: no terminal record in time).
    pub actual: Option<DeploymentStatus>,
    pub failure_reason: Option<String>,
    pub wall: Duration,
    pub simulated_seconds: i64,
    /// Fewest healthy tasks of the service at any recorded instant of the step.
    pub min_healthy: Option<i64>,
    /// Fewest healthy tasks of `step.serving` during the step.
    pub min_serving: Option<i64>,
    pub bus_events: usize,
    pub sns_messages: usize,
    pub problems: Vec<String>,
}

impl StepReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub steps: Vec<StepReport>,
    /// ceil(minimumHealthyPercent × desired).
    pub floor: i64,
    pub desired: i64,
    /// Fewest healthy tasks at any recorded instant from the first push on.
    pub min_healthy: Option<i64>,
    /// Healthy targets in the target group at the end, and the version they run.
    pub final_healthy_targets: usize,
    pub final_versions: Vec<VersionHealth>,
    pub problems: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.steps.iter().all(StepReport::ok)
    }
}

/// Runs the demo from the command line: exit 0 only if every outcome is as
/// expected and healthy tasks never fell below the minimum.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let mut cfg = args.cloud.config();
    // The slow poll covers lost ECS events; 10 s keeps a lost one cheap.
    cfg.parameters.entry("PollIntervalSeconds".into()).or_insert_with(|| "10".into());
    // Long enough for the v5/v6 burst (pushed 0.3 s apart), short for a demo.
    cfg.parameters.entry("CoalesceSeconds".into()).or_insert_with(|| "2".into());
    let started = Instant::now();
    // Dropping the demo on Ctrl-C or SIGTERM drops the running cloud, which
    // kills moto: nothing is left behind.
    let report = tokio::select! {
        r = demo(cfg, &args.bad, Style::detect()) => r?,
        () = interrupted() => return Err("interrupted; the local cloud is stopped".into()),
    };
    println!();
    println!("demo took {:.1} s (after the build)", started.elapsed().as_secs_f64());
    if report.ok() {
        Ok(())
    } else {
        let mut problems = report.problems.clone();
        for s in &report.steps {
            problems.extend(s.problems.iter().map(|p| format!("web:{}: {p}", s.step.tag)));
        }
        Err(format!("the demo did not go as expected:\n  - {}", problems.join("\n  - ")))
    }
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Starts a local cloud with `cfg`, runs the script and returns what happened.
/// `Err` only when the demo could not run at all (the cloud did not start,
/// seeding or subscribing failed).
pub async fn demo(cfg: CloudConfig, bad: &str, style: Style) -> Result<Report, String> {
    let out = Printer { style };
    out.title("ecs-autodeploy demo: the whole pipeline on the local cloud");
    out.line(&format!(
        "starting the local cloud (moto, the ECS/ELB simulator at {}× speed, the functions, template.yaml's rules)…",
        cfg.speed
    ));
    let running = Cloud::start(cfg).await.map_err(|e| format!("the local cloud did not start: {e}"))?;
    let result = script(&running.cloud, bad, &out).await;
    running.stop().await;
    result
}

struct Printer {
    style: Style,
}

impl Printer {
    fn line(&self, s: &str) {
        println!("{s}");
    }

    fn title(&self, s: &str) {
        println!("{}", self.style.bold(s));
    }

    fn at(&self, t0: Instant, what: &str, text: &str) {
        println!("{} {} {text}", view::offset(t0.elapsed()), self.style.dim(&format!("{what:<7}")));
    }
}

async fn script(cloud: &Cloud, bad: &str, out: &Printer) -> Result<Report, String> {
    let spec = ServiceSpec::demo();
    let sdk = super::sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    out.line(&format!("  endpoint {} (AWS_ENDPOINT_URL for the AWS CLI and SDKs)", cloud.endpoint));

    let seeded = seed::seed_service(cloud, &spec).await.map_err(|e| format!("seeding demo/web: {e}"))?;
    let floor = ceil_percent(spec.min_healthy_percent, spec.desired);
    out.line(&format!(
        "  seeded {}/{}: {} tasks of web:v1 behind target group {}-{}, minimum healthy {} % ({floor} of {}), \
         maximum {} %, circuit breaker with rollback",
        spec.cluster,
        spec.service,
        spec.desired,
        spec.cluster,
        spec.service,
        spec.min_healthy_percent,
        spec.desired,
        spec.max_percent
    ));
    out.line(&format!("  deploy target: pushes to `{}` with a tag matching {}", spec.repository, spec.tag_rule));

    let subscriber = Subscriber::subscribe(cloud, &sdk).await.map_err(|e| format!("subscribing: {e}"))?;
    out.line(&format!(
        "  subscribed: SQS queue ← rule {{\"source\":[\"ecs-autodeploy\"]}} on bus {}; SQS queue ← SNS topic {}",
        subscriber.bus, subscriber.topic_arn
    ));
    out.line(&out.style.dim("  bars: █ healthy  ░ running or starting, not healthy  ▒ draining"));

    let store = DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").map_err(|e| e.to_string())?,
    );
    let mut labels = Labels::default();
    let service_key = format!("{}/{}", spec.cluster, spec.service);
    let ctx = Ctx { cloud, out, store: &store, subscriber: &subscriber, spec: &spec, service_key, floor };

    let run_start = cloud.sim.now() / 1000;
    let mut steps = Vec::new();
    let script = Step::script(bad);
    let total = script.len();
    for (i, step) in script.into_iter().enumerate() {
        out.line("");
        let before = step
            .preceded_by
            .as_ref()
            .map(|(tag, behavior)| format!("{}:{tag} ({behavior}) and, within a second, ", spec.repository))
            .unwrap_or_default();
        let rival = step.preceded_by.as_ref().map(|(tag, _)| format!(", {tag} SUPERSEDED")).unwrap_or_default();
        out.title(&format!(
            "── {}/{total}  push {before}{}:{} ({}) → expect {}{rival}",
            i + 1,
            spec.repository,
            step.tag,
            step.behavior,
            step.expected.as_str()
        ));
        let report = ctx.run_step(step, &mut labels).await;
        let stop = report.actual.is_none();
        steps.push(report);
        if stop {
            out.line(&out.style.bad("no outcome in time: stopping here"));
            break;
        }
    }

    // Full redundancy: every target healthy, on the last version.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    let final_healthy_targets =
        match elb.describe_target_health().target_group_arn(&seeded.target_group_arn).send().await {
            Ok(h) => h
                .target_health_descriptions()
                .iter()
                .filter(|d| d.target_health().and_then(|t| t.state()).map(|s| s.as_str()) == Some("healthy"))
                .count(),
            Err(e) => {
                out.line(&format!("DescribeTargetHealth: {e}"));
                0
            }
        };
    let samples = cloud.sim.series(Some(&spec.cluster), &spec.service).unwrap_or_default();
    let final_versions = samples.last().map(|s| labels.versions(s)).unwrap_or_default();
    let mut problems = Vec::new();
    let from = samples.iter().rposition(|s| s.t <= run_start).unwrap_or(0);
    let min_healthy = samples.get(from..).unwrap_or_default().iter().map(|s| s.healthy).min();
    if let Some(m) = min_healthy.filter(|m| *m < floor) {
        problems.push(format!("healthy tasks fell to {m} during the demo, below the minimum of {floor}"));
    }
    let desired = i64::from(spec.desired);
    let last_tag = steps.last().map(|s| s.step.tag.clone()).unwrap_or_default();
    let on_last = final_versions.iter().all(|v| v.label == last_tag) && !final_versions.is_empty();
    if final_healthy_targets != usize::try_from(desired).unwrap_or(0) || !on_last {
        problems.push(format!(
            "at the end {final_healthy_targets} of {desired} targets are healthy, versions: {}",
            view::health_line(&Style::plain(), &final_versions, floor)
        ));
    }
    let report = Report { steps, floor, desired, min_healthy, final_healthy_targets, final_versions, problems };
    summary(out, &report);
    Ok(report)
}

fn ceil_percent(percent: i32, desired: i32) -> i64 {
    (i64::from(percent) * i64::from(desired) + 99) / 100
}

/// Names versions by tag: the pipeline pins images by digest, so digests of
/// the pushes are mapped back to their tags.
#[derive(Default)]
struct Labels {
    digests: HashMap<String, String>,
}

impl Labels {
    fn remember(&mut self, pushed: &Pushed) {
        self.digests.insert(pushed.digest.clone(), pushed.tag.clone());
    }

    fn of(&self, images: &[String], task_definition: &str) -> String {
        let Some(image) = images.first() else {
            return task_definition.rsplit('/').next().unwrap_or(task_definition).to_owned();
        };
        if let Some((_, digest)) = image.split_once('@')
            && let Some(tag) = self.digests.get(digest)
        {
            return tag.clone();
        }
        let name = image.rsplit('/').next().unwrap_or(image);
        name.split_once(':').map_or(name, |(_, tag)| tag).to_owned()
    }

    /// The sample's task counts per version (revisions of the same image merged).
    fn versions(&self, s: &Sample) -> Vec<VersionHealth> {
        let mut by_label: BTreeMap<String, VersionHealth> = BTreeMap::new();
        for v in &s.versions {
            let label = self.of(&v.images, &v.task_definition);
            let e =
                by_label.entry(label.clone()).or_insert(VersionHealth { label, healthy: 0, unhealthy: 0, draining: 0 });
            e.healthy += v.healthy;
            e.unhealthy += (v.running + v.pending - v.healthy).max(0);
            e.draining += v.draining;
        }
        by_label.into_values().collect()
    }

    fn healthy_of(&self, s: &Sample, label: &str) -> i64 {
        self.versions(s).iter().filter(|v| v.label == label).map(|v| v.healthy).sum()
    }
}

struct Ctx<'a> {
    cloud: &'a Cloud,
    out: &'a Printer,
    store: &'a DynamoDeployments,
    subscriber: &'a Subscriber,
    spec: &'a ServiceSpec,
    service_key: String,
    floor: i64,
}

/// Simulated seconds a step may take before the demo gives up on it
/// (longer than any rollout plus rollback of the demo service).
const STEP_LIMIT_SIM_SECONDS: i64 = 1200;
/// Real seconds to wait after the terminal status for the service to settle
/// and the notifications to arrive.
const SETTLE_SECONDS: u64 = 20;

/// What the subscriber heard about the current step's deployment.
#[derive(Default)]
struct Heard {
    bus_events: usize,
    bus_terminal: bool,
    sns: usize,
}

impl Ctx<'_> {
    /// Prints what the subscriber received: the bus events of one poll on one
    /// line per deployment, SNS messages with their text (up to the timeline,
    /// which the state lines already showed).
    fn show(
        &self,
        t0: Instant,
        notes: Vec<Notification>,
        ours: Option<&str>,
        image: &str,
        tag: &str,
        heard: &mut Heard,
    ) {
        let style = self.out.style;
        let mut bus: Vec<(String, Vec<String>)> = Vec::new();
        let mut sns: Vec<(String, String)> = Vec::new();
        for n in notes {
            match n {
                Notification::Bus { deployment_id, status, tag: event_tag } => {
                    if Some(deployment_id.as_str()) == ours || event_tag == tag {
                        heard.bus_events += 1;
                        heard.bus_terminal |= is_terminal(&status);
                    }
                    match bus.iter_mut().find(|(id, _)| *id == deployment_id) {
                        Some((_, statuses)) => statuses.push(status),
                        None => bus.push((deployment_id, vec![status])),
                    }
                }
                Notification::Sns { subject, message } => {
                    if subject.contains(image) {
                        heard.sns += 1;
                    }
                    sns.push((subject, message));
                }
            }
        }
        for (id, statuses) in bus {
            let statuses: Vec<String> = statuses.iter().map(|s| style.status(s, 0)).collect();
            self.out.at(t0, "bus", &format!("Deployment State Change {}  ({id})", statuses.join(", ")));
        }
        for (subject, message) in sns {
            self.out.at(t0, "sns", &format!("“{subject}”"));
            let body = message.lines().take_while(|l| !l.starts_with("Timeline")).filter(|l| !l.trim().is_empty());
            for l in body {
                self.out.line(&format!("{:>17}{}", "", style.dim(l)));
            }
        }
    }

    async fn run_step(&self, step: Step, labels: &mut Labels) -> StepReport {
        let (cloud, out, style) = (self.cloud, self.out, self.out.style);
        let t0 = Instant::now();
        let sim0 = cloud.sim.now();
        let mut report = StepReport {
            image: format!("{}:{}", self.spec.repository, step.tag),
            step: step.clone(),
            actual: None,
            failure_reason: None,
            wall: Duration::ZERO,
            simulated_seconds: 0,
            min_healthy: None,
            min_serving: None,
            bus_events: 0,
            sns_messages: 0,
            problems: Vec::new(),
        };
        if let Some((tag, behavior)) = &step.preceded_by {
            let image = format!("{}:{tag}", self.spec.repository);
            match cloud.push(&image, behavior) {
                Ok(p) => {
                    labels.remember(&p);
                    out.at(t0, "push", &format!("{image} {} → ECR push event", short_digest(&p.digest)));
                }
                Err(e) => report.problems.push(format!("push of {image} failed: {e}")),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let pushed = match cloud.push(&report.image, &step.behavior) {
            Ok(p) => p,
            Err(e) => {
                report.problems.push(format!("push failed: {e}"));
                return report;
            }
        };
        labels.remember(&pushed);
        out.at(t0, "push", &format!("{} {} → ECR push event", report.image, short_digest(&pushed.digest)));

        let mut record: Option<Deployment> = None;
        let mut printed = 0usize;
        let mut last_health: Option<Vec<VersionHealth>> = None;
        let mut terminal_at: Option<Instant> = None;
        let mut heard = Heard::default();
        loop {
            if let Ok(history) = self.store.history(&self.service_key, 20).await
                && let Some(d) = history.into_iter().find(|d| d.tag.as_deref() == Some(step.tag.as_str()))
            {
                for e in d.timeline.iter().skip(printed) {
                    out.at(t0, "state", &format!("{} {}", style.status(e.state.as_str(), 12), e.detail));
                }
                printed = printed.max(d.timeline.len());
                if d.status.is_terminal() && terminal_at.is_none() {
                    terminal_at = Some(Instant::now());
                    report.wall = t0.elapsed();
                    report.simulated_seconds = (cloud.sim.now() - sim0) / 1000;
                }
                record = Some(d);
            }
            if let Some(sample) =
                cloud.sim.series(Some(&self.spec.cluster), &self.spec.service).and_then(|s| s.last().cloned())
            {
                let versions = labels.versions(&sample);
                if last_health.as_ref() != Some(&versions) {
                    out.at(t0, "health", &view::health_line(&style, &versions, self.floor));
                    last_health = Some(versions);
                }
            }
            match self.subscriber.receive().await {
                Ok(notes) => {
                    let ours = record.as_ref().map(|d| d.deployment_id.to_string());
                    self.show(t0, notes, ours.as_deref(), &report.image, &step.tag, &mut heard);
                }
                Err(e) => out.at(t0, "sqs", &style.bad(&e)),
            }

            if let Some(at) = terminal_at {
                let settled = last_health.as_ref().is_some_and(|v| {
                    v.len() == 1
                        && v[0].healthy == i64::from(self.spec.desired)
                        && v[0].unhealthy == 0
                        && v[0].draining == 0
                });
                if (settled && heard.bus_terminal && heard.sns > 0)
                    || at.elapsed() > Duration::from_secs(SETTLE_SECONDS)
                {
                    break;
                }
            } else if (cloud.sim.now() - sim0) / 1000 > STEP_LIMIT_SIM_SECONDS {
                report.wall = t0.elapsed();
                report.simulated_seconds = (cloud.sim.now() - sim0) / 1000;
                report.problems.push(format!(
                    "no terminal deployment record after {STEP_LIMIT_SIM_SECONDS} simulated seconds (last status: {})",
                    record.as_ref().map_or("none", |d| d.status.as_str())
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // The floor, from everything the simulator recorded while the step ran
        // (and the state it started from).
        let samples = cloud.sim.series(Some(&self.spec.cluster), &self.spec.service).unwrap_or_default();
        let start = sim0 / 1000;
        // Samples are chronological: the state the step started from is the
        // last one recorded at or before its start.
        let from = samples.iter().rposition(|s| s.t <= start).unwrap_or(0);
        let window = samples.get(from..).unwrap_or_default();
        report.min_healthy = window.iter().map(|s| s.healthy).min();
        if let Some(serving) = &step.serving {
            report.min_serving = window.iter().map(|s| labels.healthy_of(s, serving)).min();
        }

        if let Some(d) = &record {
            report.failure_reason = d.failure_reason.clone();
            if d.status.is_terminal() {
                report.actual = Some(d.status);
            }
        }
        match report.actual {
            Some(a) if a == step.expected => {}
            Some(a) => report.problems.push(format!("expected {}, got {}", step.expected.as_str(), a.as_str())),
            None if report.problems.is_empty() => report.problems.push("no terminal deployment record".into()),
            None => {}
        }
        if let Some(m) = report.min_healthy.filter(|m| *m < self.floor) {
            report.problems.push(format!("healthy tasks fell to {m}, below the minimum of {}", self.floor));
        }
        if let (Some(serving), Some(m)) = (&step.serving, report.min_serving)
            && m < self.floor
        {
            report.problems.push(format!("{serving} fell to {m} healthy tasks while {} was tried", step.tag));
        }
        if let Some((tag, _)) = &step.preceded_by {
            let rival = self
                .store
                .history(&self.service_key, 20)
                .await
                .ok()
                .and_then(|h| h.into_iter().find(|d| d.tag.as_deref() == Some(tag.as_str())));
            match rival {
                Some(d) => {
                    for e in &d.timeline {
                        out.at(t0, "state", &format!("{tag}: {} {}", style.status(e.state.as_str(), 12), e.detail));
                    }
                    if d.status != DeploymentStatus::Superseded {
                        report.problems.push(format!("{tag} should have been SUPERSEDED, is {}", d.status.as_str()));
                    }
                }
                None => report.problems.push(format!("no deployment record for {tag}")),
            }
        }
        report.bus_events = heard.bus_events;
        report.sns_messages = heard.sns;
        if report.actual.is_some() && !heard.bus_terminal {
            report.problems.push("the subscriber got no terminal event from the bus".into());
        }
        if report.actual.is_some() && heard.sns == 0 {
            report.problems.push("the subscriber got no SNS message".into());
        }
        let verdict = match report.actual {
            Some(a) => style.status(a.as_str(), 0),
            None => style.bad("no outcome"),
        };
        out.at(
            t0,
            "result",
            &format!(
                "{} {verdict} in {:.1} s ({} simulated s), fewest healthy {} (floor {})",
                report.image,
                report.wall.as_secs_f64(),
                report.simulated_seconds,
                report.min_healthy.map_or("-".into(), |m| m.to_string()),
                self.floor
            ),
        );
        report
    }
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "SUCCEEDED" | "NOOP" | "ROLLED_BACK" | "FAILED" | "SUPERSEDED")
}

fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}…", hex.get(..12).unwrap_or(hex))
}

fn summary(out: &Printer, r: &Report) {
    let style = out.style;
    out.line("");
    out.title("Summary");
    let rows: Vec<Vec<String>> = r
        .steps
        .iter()
        .map(|s| {
            let min = match s.min_healthy {
                Some(m) => {
                    let mut text = format!("{m} {} {}", if m >= r.floor { "≥" } else { "<" }, r.floor);
                    if let (Some(v), Some(sv)) = (&s.step.serving, s.min_serving) {
                        text.push_str(&if sv == m { format!(", all {v}") } else { format!(", {v}: {sv}") });
                    }
                    text
                }
                None => "-".into(),
            };
            vec![
                s.image.clone(),
                s.step.behavior.clone(),
                s.step.expected.as_str().to_owned(),
                s.actual.map_or("-".into(), |a| a.as_str().to_owned()),
                format!("{:.1} s ({} sim s)", s.wall.as_secs_f64(), s.simulated_seconds),
                min,
                format!("{} bus, {} sns", s.bus_events, s.sns_messages),
                if s.ok() { "ok".into() } else { "FAIL".into() },
            ]
        })
        .collect();
    for l in view::table(&["push", "build", "expected", "actual", "took", "min healthy / floor", "notified", ""], &rows)
    {
        out.line(&l);
    }
    out.line("");
    out.line(&format!(
        "now serving: {}; {} of {} targets healthy (DescribeTargetHealth)",
        view::health_line(&Style::plain(), &r.final_versions, r.floor),
        r.final_healthy_targets,
        r.desired
    ));
    if r.ok() {
        out.line(&style.good(&format!(
            "every outcome as expected; healthy tasks never below {} of {} (fewest: {})",
            r.floor,
            r.desired,
            r.min_healthy.map_or("-".into(), |m| m.to_string())
        )));
    } else {
        out.line(&style.bad("the demo did not go as expected (see above)"));
    }
}
