//! `autodeploy-local up | push | demo`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::seed::SeedError;
use super::{Cloud, CloudConfig, CloudError};

/// The repository root: `--repo`, else the nearest directory upwards with a
/// `template.yaml`, else the checkout this binary was built from.
pub fn find_repo(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(r) = explicit {
        return r;
    }
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            if dir.join("template.yaml").exists() && dir.join("statemachine").exists() {
                return dir;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why `up` or `push` failed, or a `--parameter` was refused.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0:?} is not NAME=VALUE")]
    Override(String),
    #[error(transparent)]
    Start(#[from] CloudError),
    #[error("seeding the demo service: {0}")]
    Seed(#[from] SeedError),
    #[error("cannot write {}: {source}", path.display())]
    EnvFile { path: PathBuf, source: std::io::Error },
    #[error("is `autodeploy-local up` running at {endpoint}? {source}")]
    Unreachable { endpoint: String, source: reqwest::Error },
    #[error("reading the answer from {endpoint}: {source}")]
    Answer { endpoint: String, source: reqwest::Error },
    #[error("refused: {0}")]
    Refused(String),
    #[error("cannot read {}: {source}", path.display())]
    FaultsFile { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Faults { path: PathBuf, source: super::faults::PlanError },
}

/// `--parameter`'s value parser (clap takes any error type that converts to a boxed error).
fn parse_override(s: &str) -> Result<(String, String), CommandError> {
    s.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).ok_or_else(|| CommandError::Override(s.to_owned()))
}

/// Shared by `up` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct CloudArgs {
    /// Router port (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Simulated seconds per real second for ECS and the load balancer.
    #[arg(long, default_value_t = 10.0)]
    pub speed: f64,
    /// Template parameter override, NAME=VALUE (repeatable).
    #[arg(long = "parameter", value_parser = parse_override)]
    pub parameters: Vec<(String, String)>,
    /// Repository root (template.yaml, statemachine/, .venv).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// Run the real `bootstrap` binaries: forward Lambda invocations to a
    /// `cargo lambda watch` endpoint (e.g. http://127.0.0.1:9000).
    #[arg(long, value_name = "URL")]
    pub cargo_lambda: Option<String>,
    /// Inject faults from the start: a JSON fault plan (see local/README.md;
    /// replace it while running with PUT /_local/faults).
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
}

impl CloudArgs {
    pub fn config(&self) -> Result<CloudConfig, CommandError> {
        let mut cfg = CloudConfig::new(find_repo(self.repo.clone()));
        cfg.port = self.port;
        cfg.speed = self.speed;
        cfg.parameters = self.parameters.iter().cloned().collect::<BTreeMap<_, _>>();
        cfg.forward_functions = self.cargo_lambda.clone();
        if let Some(path) = &self.faults {
            let text = std::fs::read_to_string(path)
                .map_err(|source| CommandError::FaultsFile { path: path.clone(), source })?;
            cfg.faults = super::faults::FaultPlan::parse(&text)
                .map_err(|source| CommandError::Faults { path: path.clone(), source })?;
        }
        Ok(cfg)
    }
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// Also create the demo service (cluster demo, service web, deploy target for `web:v*`).
    #[arg(long)]
    pub seed_demo: bool,
}

/// Starts everything in the foreground until Ctrl-C (or SIGTERM), then stops
/// every child process.
pub async fn up(args: UpArgs) -> Result<(), CommandError> {
    let running = Cloud::start(args.cloud.config()?).await?;
    let cloud = running.cloud.clone();
    if args.seed_demo {
        super::seed::seed_service(&cloud, &super::seed::ServiceSpec::demo()).await?;
    }
    println!("ecs-autodeploy local cloud listening on {}", cloud.endpoint);
    println!(
        "  moto (DynamoDB, Step Functions, EventBridge, SNS, SQS) behind it; ECS + ELBv2 simulated; Lambda Invoke runs the project's steps"
    );
    println!("  functions: {}", cloud.host.names().join(", "));
    for u in cloud.function_urls() {
        println!("  function URL {} ({}): {}", u.logical_id, u.auth_type.as_str(), u.url);
    }
    println!("  created:   {}", serde_json::to_string(&cloud.created).unwrap_or_default());
    if !cloud.faults.plan().is_empty() {
        println!("  faults:    {}", serde_json::to_string(&cloud.faults.plan()).unwrap_or_default());
    }
    println!();
    println!("Point the AWS CLI or an SDK at it:");
    println!(
        "  export AWS_ENDPOINT_URL={} AWS_REGION={region} AWS_DEFAULT_REGION={region} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test",
        cloud.endpoint,
        region = cloud.stack.region
    );
    println!("Push an image (emits the ECR push event):");
    println!("  cargo run -p autodeploy-local -- push web:v2 --behavior healthy --endpoint {}", cloud.endpoint);
    if let Some(url) = &args.cloud.cargo_lambda {
        let dir = find_repo(args.cloud.repo.clone()).join(".local-cloud");
        let path = dir.join("functions.env");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, super::functions::env_file(&cloud.host)))
            .map_err(|source| CommandError::EnvFile { path: path.clone(), source })?;
        println!(
            "Functions run in `cargo lambda watch` at {url}; start it with the template's variables and this endpoint:"
        );
        println!(
            "  AWS_ENDPOINT_URL={} AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY=test AWS_REGION={} cargo lambda watch --env-file {}",
            cloud.endpoint,
            super::FUNCTION_ACCESS_KEY,
            cloud.stack.region,
            path.display()
        );
    }
    println!("Ctrl-C stops everything.");
    wait_for_shutdown().await;
    println!("stopping…");
    running.stop().await;
    Ok(())
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// The image, `repository:tag`.
    pub image: String,
    /// How the simulator runs it: healthy, crash, unhealthy, slow:<seconds>, flaky:<p>, errors.
    #[arg(long, default_value = "healthy")]
    pub behavior: String,
    /// The build the image is made from (default: the tag). The same build
    /// pushed under another tag is the same image, with the same digest.
    #[arg(long)]
    pub build: Option<String>,
    /// Put the image into ECR but send no push event (an event that was lost;
    /// the reconciler finds the image).
    #[arg(long)]
    pub no_event: bool,
    /// The running local cloud (`autodeploy-local up`).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// The running local cloud (`autodeploy-local up`).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
}

/// Puts the image into ECR and the simulator's catalogue and emits ECR's push event.
pub async fn push(args: PushArgs) -> Result<(), CommandError> {
    let body = serde_json::json!({
        "image": args.image, "behavior": args.behavior, "build": args.build, "event": !args.no_event
    });
    call_local(&args.endpoint, "push", Some(body)).await
}

/// Runs the reconciler once, now.
pub async fn reconcile(args: ReconcileArgs) -> Result<(), CommandError> {
    call_local(&args.endpoint, "reconcile", None).await
}

/// `POST /_local/<what>` on a running local cloud; prints the answer.
async fn call_local(endpoint: &str, what: &str, body: Option<serde_json::Value>) -> Result<(), CommandError> {
    let endpoint = &endpoint.to_owned();
    let mut req = reqwest::Client::new().post(format!("{}/_local/{what}", endpoint.trim_end_matches('/')));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.map_err(|source| CommandError::Unreachable { endpoint: endpoint.clone(), source })?;
    let status = resp.status();
    let text = resp.text().await.map_err(|source| CommandError::Answer { endpoint: endpoint.clone(), source })?;
    if !status.is_success() {
        return Err(CommandError::Refused(text));
    }
    println!("{text}");
    Ok(())
}
