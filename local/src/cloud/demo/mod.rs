//! `autodeploy-local demo`: from nothing, four steps on the local cloud — a
//! good deploy (`web:v2`), a bad build rolled back with the old version
//! serving throughout (`web:v3`), a recovery to full redundancy (`web:v4`),
//! and two pushes racing within a second where the newest wins (`web:v5`
//! SUPERSEDED by `web:v6`) — shown live and checked against the simulator's
//! recorded series.
//!
//! # Layout
//! - `script`: the pushes and what must come of each ([`Step`]).
//! - `stage`: the seeded service, the subscriber and the deployment records
//!   the steps watch; how the service ends.
//! - `step`: runs one step: the push, then the checks of its outcome
//!   ([`StepReport`]).
//! - `follow`: follows a step's deployment until its outcome, through the
//!   record, the bus, SNS and the service's health.
//! - `summary`: the verdict on the run ([`Report`]) and the summary table.
//! - `output`: the one writer every line goes through ([`Output`]); a closed
//!   stdout stops the demo like Ctrl-C.
//! - `labels`: digests back to tags; `subscriber`: the SQS queues on the bus
//!   and the topic; [`view`]: how lines are drawn.

mod follow;
mod labels;
mod output;
mod script;
mod stage;
mod step;
mod subscriber;
mod summary;
pub mod view;

use std::time::Instant;

use clap::Args;

use super::cli::CloudArgs;
use super::seed::{SeedError, SeedStrategy};
use super::template::TemplateError;
use super::{Cloud, CloudConfig, CloudError};
use labels::Labels;
pub use output::Output;
pub use script::Step;
use stage::Stage;
pub use step::StepReport;
pub use subscriber::SubscriberError;
pub use summary::Report;

/// The demo's defaults differ from `up`'s: a free port (it runs beside
/// anything) and a clock fast enough that the four steps take seconds.
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
    /// The demo service's deployment strategy. With `blue-green`, `linear` or
    /// `canary` the script is one good and one bad build, and the health line
    /// shows each version's share of production traffic.
    #[arg(long, value_enum, default_value = "rolling")]
    pub strategy: SeedStrategy,
}

/// Why the demo could not run, or did not go as expected.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the local cloud did not start: {0}")]
    Start(#[from] CloudError),
    #[error(transparent)]
    Config(#[from] crate::cloud::cli::CommandError),
    #[error("seeding {service}: {source}")]
    Seed { service: String, source: SeedError },
    #[error("subscribing: {0}")]
    Subscribe(#[from] SubscriberError),
    /// The deployments table is not in the template.
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("interrupted; the local cloud is stopped")]
    Interrupted,
    /// Whoever read the output has gone (`demo | head`); the local cloud is stopped.
    #[error("stdout was closed; the local cloud is stopped")]
    OutputClosed,
    #[error("cannot write the demo's output: {0}; the local cloud is stopped")]
    Output(std::io::Error),
    /// The demo ran; these outcomes or checks were not as promised.
    #[error("the demo did not go as expected:\n  - {}", .0.join("\n  - "))]
    NotAsExpected(Vec<String>),
}

/// Runs the demo from the command line: exit 0 only if every outcome is as
/// expected and healthy tasks never fell below the minimum.
pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let mut cfg = args.cloud.config()?;
    // The slow poll covers lost ECS events; 10 s keeps a lost one cheap.
    cfg.parameters.entry("PollIntervalSeconds".into()).or_insert_with(|| "10".into());
    // Long enough for the v5/v6 burst (pushed 0.3 s apart), short for a demo.
    cfg.parameters.entry("CoalesceSeconds".into()).or_insert_with(|| "2".into());
    let started = Instant::now();
    let out = Output::stdout();
    // Dropping the demo on Ctrl-C, SIGTERM or a closed stdout drops the
    // running cloud, which kills moto: nothing is left behind.
    let report = tokio::select! {
        r = demo(cfg, &args.bad, args.strategy, &out) => r?,
        () = interrupted() => return Err(DemoError::Interrupted),
        () = out.closed() => return Err(output_failed(&out)),
    };
    out.line("");
    out.line(&format!("demo took {:.1} s (after the build)", started.elapsed().as_secs_f64()));
    if report.ok() { Ok(()) } else { Err(DemoError::NotAsExpected(report.all_problems())) }
}

fn output_failed(out: &Output) -> DemoError {
    match out.take_error() {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => DemoError::Output(e),
        _ => DemoError::OutputClosed,
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

/// Starts a local cloud with `cfg`, runs the script, printing on `out`, and
/// returns what happened. `Err` only when the demo could not run at all (the
/// cloud did not start, seeding or subscribing failed). Once `out` is closed
/// the demo runs on without printing; [`run`] stops it then.
pub async fn demo(cfg: CloudConfig, bad: &str, strategy: SeedStrategy, out: &Output) -> Result<Report, DemoError> {
    out.title("ecs-autodeploy demo: the whole pipeline on the local cloud");
    out.line(&format!(
        "starting the local cloud (moto, the ECS/ELB simulator at {}× speed, the functions, template.yaml's rules)…",
        cfg.speed
    ));
    let running = Cloud::start(cfg).await?;
    let result = play(&running.cloud, bad, strategy, out).await;
    running.stop().await;
    result
}

/// Sets the stage, runs the script's steps in order (stopping at one that
/// comes to no outcome) and judges the run.
async fn play(cloud: &Cloud, bad: &str, strategy: SeedStrategy, out: &Output) -> Result<Report, DemoError> {
    let stage = Stage::set(cloud, out, strategy).await?;
    let run_start = cloud.sim.now() / 1000;
    let mut labels = Labels::default();
    let mut steps = Vec::new();
    let script = Step::script(bad, strategy);
    let total = script.len();
    for (i, step) in script.into_iter().enumerate() {
        out.line("");
        out.title(&step.heading(i + 1, total, &stage.spec.repository));
        let report = stage.run_step(step, &mut labels).await;
        let no_outcome = report.actual.is_none();
        steps.push(report);
        if no_outcome {
            out.line(&out.style.bad("no outcome in time: stopping here"));
            break;
        }
    }
    let end = stage.finale(&labels).await;
    let report = Report::judge(steps, stage.floor, i64::from(stage.spec.desired), end, run_start);
    summary::print(out, &report);
    Ok(report)
}
