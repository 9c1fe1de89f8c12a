//! The benchmark (`autodeploy-local bench`, `make bench`): the pipeline side
//! by side with what users would pick instead, on one simulator at one
//! speed; what a deployment costs; the functions' size, cold init and
//! memory; and how the pipeline grows with pushes and deployments in flight.
//! It reports its targets; it asserts none of them (a loaded machine is
//! slower, not wrong). `--smoke` is the one-deploy-per-tool run `make test`
//! makes.

pub mod binaries;
pub mod cost;
pub mod peers;
pub mod plot;
pub mod report;
pub mod scale;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{Cloud, CloudConfig};
use peers::{Peers, Run, Tool};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Run(String),
}

/// Arguments of `autodeploy-local bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// One good deploy per tool, nothing else measured at size (what `make test` runs).
    #[arg(long)]
    pub smoke: bool,
    /// Good deploys per tool (each tool also deploys one bad build).
    #[arg(long, default_value_t = 10)]
    pub deploys: usize,
    /// Simulated seconds per real second, the same for every tool.
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// Where the peer tools are (`aws` and fabfuel's `ecs`); default: the repository's `.venv/bin`.
    #[arg(long, value_name = "DIR")]
    pub tools: Option<PathBuf>,
    /// Skip the tools side by side and their slow rollouts.
    #[arg(long)]
    pub no_peers: bool,
    /// Skip building and measuring the release binaries.
    #[arg(long)]
    pub no_functions: bool,
    /// Skip the bursts and the cost per event.
    #[arg(long)]
    pub no_scale: bool,
    /// A burst of pushes within 10 s, as SERVICESxPUSHES (repeatable; default
    /// 50x4 and 100x5: 200 and 500 pushes).
    #[arg(long, value_name = "SERVICESxPUSHES")]
    pub burst: Vec<Burst>,
    /// Write `<date>.json`, `latest.json`, `latest.md` and `latest.svg` here.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Replace the Markdown between `<!-- bench:start -->` and `<!-- bench:end -->` in this file.
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// Repository root (template.yaml, statemachine/, .venv).
    #[arg(long)]
    pub repo: Option<PathBuf>,
}

/// `services` × `pushes` (`50x4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub services: usize,
    pub pushes: usize,
}

impl std::str::FromStr for Burst {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('x').ok_or_else(|| format!("{s:?}: expected SERVICESxPUSHES, e.g. 50x4"))?;
        let n = |v: &str| v.parse::<usize>().ok().filter(|n| (1..=1000).contains(n));
        match (n(a), n(b)) {
            (Some(services), Some(pushes)) => Ok(Self { services, pushes }),
            _ => Err(format!("{s:?}: services and pushes are 1 to 1000 each")),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    pub date: String,
    pub smoke: bool,
    pub speed: f64,
    pub cores: usize,
    pub runs: Vec<Run>,
    pub tools: Vec<report::ToolSummary>,
    pub costs: Vec<cost::Cost>,
    /// One slow rollout per tool (containers a long time starting).
    pub slow: Vec<Run>,
    pub slow_behavior: String,
    pub binaries: Vec<binaries::Binary>,
    pub release_build_seconds: Option<f64>,
    pub bursts: Vec<scale::BurstRun>,
    pub event_costs: Vec<scale::EventCost>,
    pub targets: Vec<report::Target>,
}

pub(crate) fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

/// A local cloud for the tools: the template's own settings, at `speed`.
async fn start(repo: &std::path::Path, speed: f64) -> Result<super::Running, BenchError> {
    let mut cfg = CloudConfig::new(repo.to_owned());
    cfg.port = 0;
    cfg.speed = speed;
    Cloud::start(cfg).await.map_err(|e| BenchError::Run(format!("starting the local cloud: {e}")))
}

/// Good deploys round-robin over the tools (so a load change hits all
/// alike), then one bad build each.
async fn side_by_side(
    repo: &std::path::Path,
    tools: &std::path::Path,
    deploys: usize,
    speed: f64,
    bad: bool,
) -> Result<(Vec<Run>, Vec<cost::Cost>), BenchError> {
    let running = start(repo, speed).await?;
    let cloud = running.cloud.clone();
    let result = async {
        let peers = Peers::seed(cloud.clone(), tools).await?;
        let mut runs = Vec::new();
        let builds = std::iter::repeat_n("healthy", deploys).chain(bad.then_some("crash"));
        for (round, behavior) in builds.enumerate() {
            for tool in Tool::ALL {
                let run = peers.deploy(tool, behavior).await?;
                eprintln!(
                    "bench: {} {} #{}: {} in {:.1} s, detected after {}",
                    tool.label(),
                    behavior,
                    round + 1,
                    run.outcome,
                    run.start_to_done_ms / 1000.0,
                    run.detection_ms.map_or("-".into(), |d| format!("{:.2} s", d / 1000.0)),
                );
                runs.push(run);
            }
        }
        let mut costs = Vec::new();
        for run in &runs {
            if let Some(c) = cost::of(&cloud, run, speed).await? {
                costs.push(c);
            }
        }
        Ok((runs, costs))
    }
    .await;
    running.stop().await;
    result
}

/// One slow rollout per tool at once, in real time (speed 1): what each
/// calls while ECS takes minutes.
async fn slow_rollouts(
    repo: &std::path::Path,
    tools: &std::path::Path,
    behavior: &str,
) -> Result<Vec<Run>, BenchError> {
    let running = start(repo, 1.0).await?;
    let cloud = running.cloud.clone();
    let result = async {
        let peers = Arc::new(Peers::seed(cloud.clone(), tools).await?);
        let mut all = tokio::task::JoinSet::new();
        for tool in Tool::ALL {
            let (peers, behavior) = (peers.clone(), behavior.to_owned());
            all.spawn(async move { peers.deploy(tool, &behavior).await });
        }
        let mut runs = Vec::new();
        while let Some(run) = all.join_next().await {
            runs.push(run.map_err(|e| BenchError::Run(e.to_string()))??);
        }
        runs.sort_by_key(|r| r.tool);
        Ok(runs)
    }
    .await;
    running.stop().await;
    result
}

/// Runs the benchmark, prints its report, writes what `args` asks for.
pub async fn command(args: BenchArgs) -> Result<(), BenchError> {
    let results = run(&args).await?;
    let text = report::markdown(&results);
    println!("{text}");
    if let Some(dir) = &args.write {
        write_all(dir, &results, &text)?;
    }
    if let Some(readme) = &args.readme {
        report::splice_readme(readme, &text).map_err(|e| BenchError::Run(format!("{}: {e}", readme.display())))?;
    }
    Ok(())
}

/// Every measurement `args` asks for, one after another.
pub async fn run(args: &BenchArgs) -> Result<Results, BenchError> {
    let repo = super::cli::find_repo(args.repo.clone());
    let tools = args.tools.clone().unwrap_or_else(|| repo.join(".venv/bin"));
    let deploys = if args.smoke { 1 } else { args.deploys.max(1) };
    let (runs, costs) = if args.no_peers {
        (Vec::new(), Vec::new())
    } else {
        eprintln!("bench: {deploys} good deploys and {} bad per tool at {}x", u8::from(!args.smoke), args.speed);
        side_by_side(&repo, &tools, deploys, args.speed, !args.smoke).await?
    };

    let slow_behavior = "slow:240".to_owned();
    let slow = if args.smoke || args.no_peers {
        Vec::new()
    } else {
        eprintln!("bench: one {slow_behavior} rollout per tool, in real time");
        slow_rollouts(&repo, &tools, &slow_behavior).await?
    };

    let (binaries, release_build_seconds) = if args.smoke || args.no_functions {
        (Vec::new(), None)
    } else {
        eprintln!("bench: cargo build --release -p autodeploy-functions");
        let took = binaries::build(&repo).await?;
        let running = start(&repo, args.speed).await?;
        let measured = binaries::measure(&running.cloud, &repo, 20).await;
        running.stop().await;
        (measured?, Some(took.as_secs_f64()))
    };

    let (bursts, event_costs) = if args.no_scale {
        (Vec::new(), Vec::new())
    } else {
        let sizes: Vec<Burst> = match (&args.burst[..], args.smoke) {
            ([], true) => vec![Burst { services: 3, pushes: 2 }],
            ([], false) => vec![Burst { services: 50, pushes: 4 }, Burst { services: 100, pushes: 5 }],
            (chosen, _) => chosen.to_vec(),
        };
        let mut bursts = Vec::new();
        for (i, Burst { services, pushes }) in sizes.into_iter().enumerate() {
            let scenario = scale::burst(services, pushes, Duration::from_secs(10));
            // The first size also on one moto for everything: what splitting it gains.
            for single_moto in [true, false].into_iter().filter(|single| !single || (i == 0 && !args.smoke)) {
                let motos = if single_moto { 1 } else { 3 };
                eprintln!("bench: {} ({})", scenario.fault, if single_moto { "one moto" } else { "three motos" });
                let report = scale::run_burst(repo.clone(), &scenario, single_moto).await?;
                bursts.push(scale::BurstRun { moto_processes: motos, report });
            }
        }
        let levels: &[usize] = if args.smoke { &[1, 2] } else { &[1, 10, 50, 200] };
        eprintln!("bench: the cost of one ECS event at {levels:?} deployments in flight");
        (bursts, scale::event_costs(repo.clone(), levels, 5).await?)
    };

    let tools_summary = report::summarize(&runs);
    let mut results = Results {
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        smoke: args.smoke,
        speed: args.speed,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        runs,
        tools: tools_summary,
        costs,
        slow,
        slow_behavior,
        binaries,
        release_build_seconds,
        bursts,
        event_costs,
        targets: Vec::new(),
    };
    results.targets = report::targets(&results);
    Ok(results)
}

/// Writes `<date>.json`, `latest.json`, `latest.md` (`text`) and `latest.svg` into `dir`.
pub fn write_all(dir: &std::path::Path, results: &Results, text: &str) -> Result<(), BenchError> {
    let io = |e: std::io::Error| BenchError::Run(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let json = serde_json::to_string_pretty(results).map_err(|e| BenchError::Run(e.to_string()))?;
    std::fs::write(dir.join(format!("{}.json", results.date)), &json).map_err(io)?;
    std::fs::write(dir.join("latest.json"), &json).map_err(io)?;
    std::fs::write(dir.join("latest.md"), text).map_err(io)?;
    std::fs::write(dir.join("latest.svg"), plot::svg(results)).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_services_times_pushes() {
        assert_eq!("50x4".parse(), Ok(Burst { services: 50, pushes: 4 }));
        for bad in ["50", "x4", "0x4", "50x0", "50x4x2", "5000x1", "ax4"] {
            assert!(bad.parse::<Burst>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_median_of_sorted_values() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
    }
}
