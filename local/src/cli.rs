//! `autodeploy-local sim`: serve the simulator on one endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

use crate::sim::eventbridge::EventBridgeSink;
use crate::sim::images::{Behavior, ImageError};
use crate::sim::{Sim, SimConfig, api};

/// Shown under `autodeploy-local sim --help`.
pub const CONTROL_API_HELP: &str = "\
ENDPOINT
  ECS (awsJson1_1, X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>) and ELBv2
  (awsQuery, Action=...&Version=2015-12-01) are both served on POST /:
    AWS_ENDPOINT_URL=http://127.0.0.1:<port> aws ecs list-clusters
  Requests to a load balancer's listener (its rules, weights, healthy targets):
    curl http://127.0.0.1:<port>/elb/<load balancer name>/<listener port>/<path>

CONTROL API (JSON)
  GET  /_sim/health                    ok
  GET  /_sim/state                     snapshot: clock, images, services, tasks, targets, load balancers
  GET  /_sim/series?cluster=C&service=S
                                       recorded samples: desired, minHealthy, maxAllowed,
                                       alive, healthy, per task definition counts
  GET  /_sim/events?since=N            emitted EventBridge events from index N
  GET  /_sim/images                    the image catalogue
  POST /_sim/images                    {\"image\": \"web:v2\", \"digest\": \"sha256:...\",
                                        \"behavior\": \"healthy\"}  (or {\"images\": [...]})
  GET  /_sim/clock                     {now, time, speed, manual}
  POST /_sim/clock                     {\"speed\": 60, \"manual\": false}
  POST /_sim/clock/advance             {\"seconds\": 30}  step simulated time

IMAGE BEHAVIOURS
  healthy          starts and passes every health check
  crash            essential container exits 1 right after start
  unhealthy        runs, fails every load balancer health check (HTTP 500)
  slow:<seconds>   health checks fail until <seconds> after RUNNING
  flaky:<p>        each health check fails with probability p (seeded)
  errors           passes every health check, answers 500 to every other request
  Images not in the catalogue fail with CannotPullContainerError (stopCode
  TaskFailedToStart) unless --unknown-images is given.";

/// Arguments of `autodeploy-local sim`.
#[derive(Debug, Clone, Args)]
#[command(after_help = CONTROL_API_HELP)]
pub struct SimArgs {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4580)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Simulated seconds per real second (60: a 5-minute rollout in 5 s).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start with a manual clock: time moves only through POST /_sim/clock/advance.
    #[arg(long)]
    pub manual_clock: bool,
    /// Add an image to the catalogue: REF=BEHAVIOR, REF being repo:tag, repo@sha256:...
    /// or repo:tag@sha256:... (registers both keys). Repeatable.
    #[arg(long = "image", value_name = "REF=BEHAVIOR")]
    pub images: Vec<String>,
    /// Behaviour of images missing from the catalogue (default: they cannot be pulled).
    #[arg(long, value_name = "BEHAVIOR")]
    pub unknown_images: Option<Behavior>,
    /// Region used in ARNs.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id used in ARNs.
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// Seed for ids, IP addresses and flaky health checks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also send events to this EventBridge PutEvents endpoint.
    #[arg(long, value_name = "URL")]
    pub events_url: Option<String>,
    /// Event bus name for --events-url.
    #[arg(long, default_value = "default")]
    pub event_bus: String,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("--image {0}: expected REF=BEHAVIOR")]
    ImageArg(String),
    #[error("--image: {0}")]
    Image(#[from] ImageError),
    #[error("--speed must be a positive number")]
    Speed,
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

impl SimArgs {
    /// The simulator these arguments describe, with its catalogue filled.
    pub fn build(&self) -> Result<Sim, CliError> {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(CliError::Speed);
        }
        let sim = Sim::new(SimConfig {
            region: self.region.clone(),
            account: self.account.clone(),
            seed: self.seed,
            start_time: None,
            speed: self.speed,
            manual_clock: self.manual_clock,
            default_image_behavior: self.unknown_images,
        });
        for spec in &self.images {
            let (image, behavior) = spec.rsplit_once('=').ok_or_else(|| CliError::ImageArg(spec.clone()))?;
            sim.register_image(image, None, behavior.parse()?)?;
        }
        Ok(sim)
    }
}

/// Binds, prints `listening on http://ADDR`, and serves until the process ends.
pub async fn run(args: SimArgs) -> Result<(), CliError> {
    let sim = args.build()?;
    if let Some(url) = &args.events_url {
        sim.add_sink(Arc::new(EventBridgeSink::spawn(url, &args.region, &args.event_bus)));
    }
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| CliError::Bind(addr.clone(), e))?;
    let local: SocketAddr = listener.local_addr().map_err(|e| CliError::Bind(addr, e))?;
    let mode = if args.manual_clock { "manual clock".to_string() } else { format!("speed {}", args.speed) };
    println!("autodeploy-local sim listening on http://{local} ({mode})");
    tracing::info!(%local, "simulator ready");
    api::serve(listener, sim).await.map_err(CliError::Serve)
}
