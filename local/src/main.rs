//! `autodeploy-local`: the local cloud's command line.

use std::io::Write;
use std::process::ExitCode;

use autodeploy_local::cli::{self, SimArgs};
use autodeploy_local::cloud::{bench, chaos, cli as cloud_cli, demo};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "autodeploy-local", version, about = "Local cloud for ecs-autodeploy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ECS + ELBv2 simulator (and its control API) on one endpoint.
    Sim(SimArgs),
    /// Start the whole local cloud (moto, simulator, functions, rules) from template.yaml.
    Up(cloud_cli::UpArgs),
    /// Push an image to a running local cloud: into ECR and the catalogue, and the ECR push event.
    Push(cloud_cli::PushArgs),
    /// Run the reconciler of a running local cloud once, now (it also runs on its schedule).
    Reconcile(cloud_cli::ReconcileArgs),
    /// From nothing: a good deploy, a bad build rolled back, a recovery, and two racing pushes, shown live.
    Demo(demo::DemoArgs),
    /// The chaos suite: every scenario under its fault plan, its checks, the reliability table.
    Chaos(chaos::ChaosArgs),
    /// The benchmark: the pipeline beside the AWS CLI and fabfuel, cost per deploy, functions, scale.
    Bench(bench::BenchArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // reqwest is built without a TLS provider of its own: ring, as the SDK.
    autodeploy_shared::aws::install_ring_tls();
    // The demo's output is the show: only warnings from the logs, unless RUST_LOG says otherwise.
    let default_level = if matches!(cli.command, Command::Demo(_) | Command::Bench(_)) { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into()))
        .with_writer(std::io::stderr)
        .init();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Sim(args) => cli::run(args).await.map_err(Into::into),
        Command::Up(args) => cloud_cli::up(args).await.map_err(Into::into),
        Command::Push(args) => cloud_cli::push(args).await.map_err(Into::into),
        Command::Reconcile(args) => cloud_cli::reconcile(args).await.map_err(Into::into),
        Command::Chaos(args) => chaos::command(args).await.map_err(Into::into),
        Command::Bench(args) => bench::command(args).await.map_err(Into::into),
        Command::Demo(args) => match demo::run(args).await {
            // `demo | head`: the reader has what it wanted and nobody is left
            // to tell; the local cloud is stopped.
            Err(demo::DemoError::OutputClosed) => Ok(()),
            r => r.map_err(Into::into),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!: it panics if stderr is a closed pipe too.
            let _ = writeln!(std::io::stderr(), "autodeploy-local: {e}");
            ExitCode::FAILURE
        }
    }
}
