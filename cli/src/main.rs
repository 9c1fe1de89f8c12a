//! `autodeploy`: the operator's command line for an ecs-autodeploy stack.
//! It reads the stack's own records (DynamoDB), and decides approvals through
//! the stack's approval URL as the caller's IAM identity.

mod commands;
mod error;
mod exit;
mod output;
mod render;
mod signed;
mod stack;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::Format;

/// Operate an ecs-autodeploy stack: what its deployments did, and decide the
/// ones that wait for approval.
#[derive(Debug, Parser)]
#[command(name = "autodeploy", version, about, after_help = exit::HELP)]
struct Cli {
    /// The stack's CloudFormation name: its outputs say where everything is.
    #[arg(long, global = true, env = "AUTODEPLOY_STACK")]
    stack: Option<String>,
    /// `text` for people, `json` for programs (a stable shape per command).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One deployment: its status, image, revisions, reason and whole timeline.
    Show { deployment: String },
    /// Per service of the deploy targets: what runs and since when, the last
    /// outcome, what waits or is in flight, any freeze, target health.
    Status {
        /// Only this service: `CLUSTER/SERVICE`.
        service: Option<String>,
    },
    /// A service's deployments, newest first.
    History {
        /// `CLUSTER/SERVICE`.
        service: String,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
    },
    /// Follow a deployment until it ends, live; the exit status says how.
    Watch {
        /// A deployment id, or `CLUSTER/SERVICE`: the service's newest
        /// deployment that has not ended (none: its latest one's exit status).
        #[arg(value_name = "DEPLOYMENT|CLUSTER/SERVICE")]
        deployment: String,
        /// Give up after this long (the exit status then says so).
        #[arg(long, default_value_t = 3600)]
        timeout_seconds: u64,
    },
    /// Why a push did or did not deploy: what was decided about it, per deploy target.
    Why {
        /// `REPOSITORY`, `REPOSITORY:TAG` or `REPOSITORY@sha256:…`.
        image: String,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
    },
    /// The deploy targets: list, add (checked against ECS first), remove, enable, disable.
    Targets {
        #[command(subcommand)]
        command: commands::TargetsCommand,
    },
    /// Deploy an image by hand, through the pipeline (approval, lock, queue, newest wins).
    Deploy {
        /// `CLUSTER/SERVICE`.
        service: String,
        /// `REPO:TAG` (resolved to its digest through ECR) or `REPO@sha256:…`.
        #[arg(long)]
        image: String,
        /// Recorded with the deployment and shown to everyone who hears of it.
        #[arg(long)]
        reason: Option<String>,
        /// Deploy even while the service is frozen.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        request: Request,
    },
    /// Run an earlier successful deployment's revision again, through the pipeline.
    Rollback {
        /// `CLUSTER/SERVICE`.
        service: String,
        /// A deployment id or a revision (`web:7`, `7`); default: the newest
        /// successful one that is not what the service runs.
        #[arg(long, value_name = "DEPLOYMENT|REVISION")]
        to: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        request: Request,
    },
    /// Hold every rollout of a service: pushes wait HELD until it is unfrozen.
    Freeze {
        /// `CLUSTER/SERVICE`.
        service: String,
        /// Why (shown on every held push).
        #[arg(long)]
        reason: String,
    },
    /// End a freeze: the newest held push deploys.
    Unfreeze {
        /// `CLUSTER/SERVICE`.
        service: String,
    },
    /// Approve a deployment that waits for approval.
    Approve {
        deployment: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a deployment that waits for approval.
    Reject {
        deployment: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Shell completions on stdout, e.g. `autodeploy completions bash > ~/.local/share/bash-completion/completions/autodeploy`.
    Completions { shell: clap_complete::Shell },
}

/// What `deploy` and `rollback` share: waiting, and the request's token.
#[derive(Debug, clap::Args)]
struct Request {
    /// Follow the deployment until it ends; the exit status says how.
    #[arg(long)]
    wait: bool,
    /// With --wait: give up after this long (exit status 7).
    #[arg(long, default_value_t = 3600)]
    timeout_seconds: u64,
    /// The same token makes a repeated request the same deployment (e.g. a CI
    /// job's run id); default: a new one.
    #[arg(long, value_name = "16-64 of [A-Za-z0-9_-]")]
    request_token: Option<String>,
}

impl Request {
    fn wait(&self) -> commands::Wait {
        commands::Wait { wait: self.wait, timeout: std::time::Duration::from_secs(self.timeout_seconds) }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("autodeploy: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, error::CliError> {
    // Needs no stack and no AWS.
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut <Cli as clap::CommandFactory>::command(),
            "autodeploy",
            &mut std::io::stdout(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    // rustls with ring for the SDK and for reqwest (built without a provider).
    autodeploy_shared::aws::install_ring_tls();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(autodeploy_shared::aws::https_client())
        .load()
        .await;
    let stack = stack::find(&config, cli.stack.as_deref()).await?;
    let out = output::Output::new(cli.output);
    match cli.command {
        Command::Show { deployment } => commands::show(&stack, &out, &deployment).await,
        Command::Status { service } => commands::status(&stack, &out, service.as_deref()).await,
        Command::History { service, limit } => commands::history(&stack, &out, &service, limit.into()).await,
        Command::Watch { deployment, timeout_seconds } => {
            commands::watch(&stack, &out, &deployment, std::time::Duration::from_secs(timeout_seconds)).await
        }
        Command::Why { image, limit } => commands::why(&stack, &out, &image, limit.into()).await,
        Command::Targets { command } => commands::targets(&stack, &out, command).await,
        Command::Deploy { service, image, reason, force, request } => {
            let options = (reason.as_deref(), force, request.request_token.as_deref());
            commands::deploy(&stack, &out, &service, &image, options, request.wait()).await
        }
        Command::Rollback { service, to, reason, request } => {
            let options = (reason.as_deref(), request.request_token.as_deref());
            commands::rollback(&stack, &out, &service, to.as_deref(), options, request.wait()).await
        }
        Command::Freeze { service, reason } => commands::freeze(&stack, &out, &service, &reason).await,
        Command::Unfreeze { service } => commands::unfreeze(&stack, &out, &service).await,
        Command::Approve { deployment, reason } => {
            commands::decide(&config, &stack, &out, &deployment, "APPROVE", reason.as_deref()).await
        }
        Command::Reject { deployment, reason } => {
            commands::decide(&config, &stack, &out, &deployment, "REJECT", reason.as_deref()).await
        }
        Command::Completions { .. } => Ok(ExitCode::SUCCESS),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
