//! `autodeploy-local`: the local cloud's command line.

use std::process::ExitCode;

use autodeploy_local::cli::{self, SimArgs};
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
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Sim(args) => cli::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autodeploy-local: {e}");
            ExitCode::FAILURE
        }
    }
}
