//! The local cloud: moto, the ECS/ELB simulator, the project's functions and
//! the template's event rules behind one endpoint, all wired from
//! `template.yaml`.

pub mod bench;
pub mod cbor;
pub mod chaos;
pub mod cli;
pub mod cloudformation;
pub mod demo;
pub mod emf_log;
pub mod faults;
pub mod function_url;
pub mod functions;
pub mod iam;
pub mod meter;
pub mod moto;
pub mod registry;
pub mod router;
pub mod rules;
pub mod schedules;
pub mod seed;
pub mod setup;
pub mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::sim::{self, Behavior, Sim, SimConfig};
use faults::{EventFaultKind, FaultPlan, Faults};
use functions::{Function, FunctionHost, Handlers, HostError, LambdaError};
use meter::Meter;
use moto::{MotoEndpoints, MotoError, Motos};
use rules::Rule;
use setup::{Created, SetupError};
use template::{FunctionUrl, Stack, Template, TemplateError};

/// How to start the local cloud.
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// The repository root (template, state machine, `.venv`).
    pub repo: PathBuf,
    /// Router port; 0 picks a free one.
    pub port: u16,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Template parameter overrides (e.g. a short `PollIntervalSeconds`).
    pub parameters: BTreeMap<String, String>,
    pub stack_name: String,
    pub region: String,
    pub account: String,
    /// Send Lambda invocations to this `cargo lambda watch` endpoint (the real
    /// `bootstrap` binaries) instead of the in-process steps.
    pub forward_functions: Option<String>,
    /// The template to run; `None`: `repo/template.yaml`.
    pub template: Option<PathBuf>,
    /// Binaries that run these handlers instead of their steps (tests).
    pub handlers: Handlers,
    /// Faults to inject from the start (changeable while running: `/_local/faults`).
    pub faults: FaultPlan,
    /// One moto for every service, instead of DynamoDB and Step Functions
    /// each in a process of their own (the benchmark compares the two).
    pub single_moto: bool,
}

impl CloudConfig {
    pub fn new(repo: PathBuf) -> Self {
        Self {
            repo,
            port: 4566,
            speed: 1.0,
            parameters: BTreeMap::new(),
            stack_name: "ecs-autodeploy-local".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            forward_functions: None,
            template: None,
            handlers: Handlers::default(),
            faults: FaultPlan::default(),
            single_moto: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot listen on port {0}: {1}")]
    Bind(u16, std::io::Error),
    #[error(transparent)]
    Faults(#[from] faults::PlanError),
}

/// An AWS API call to the local cloud that failed: which operation, and the
/// SDK's error.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {source}")]
pub struct CallError {
    pub operation: &'static str,
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl CallError {
    /// For `map_err` on an SDK call: `.send().await.map_err(CallError::of("CreateCluster"))`.
    pub fn of<E: std::error::Error + Send + Sync + 'static>(operation: &'static str) -> impl FnOnce(E) -> Self {
        move |e| Self { operation, source: Box::new(e) }
    }
}

/// Why [`Cloud::push`] refused an image.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0:?} is not repo:tag")]
    NotRepoTag(String),
    /// An unknown behaviour, or a reference the simulator's catalogue refuses.
    #[error(transparent)]
    Image(#[from] sim::ImageError),
    /// moto's ECR refused the image.
    #[error("ECR: {0}")]
    Ecr(#[from] CallError),
}

/// What to push.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// `repository:tag`.
    pub image: String,
    /// How the simulator runs it.
    pub behavior: String,
    /// The build the image is made from (default: the tag): the same build
    /// pushed under another tag is the same image, with the same digest.
    pub build: Option<String>,
    /// Whether ECR's push event goes out (`false`: an event that was lost).
    pub event: bool,
}

impl PushRequest {
    pub fn new(image: &str, behavior: &str) -> Self {
        Self { image: image.to_owned(), behavior: behavior.to_owned(), build: None, event: true }
    }
}

/// A pushed image, as the push command reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub image: String,
    pub behavior: String,
    /// Whether the push event was sent.
    pub event: bool,
}

/// Shared state of a running local cloud.
/// Lambda's asynchronous invocation: the first try and `MaximumRetryAttempts: 2`.
const ASYNC_ATTEMPTS: u32 = 3;

pub struct Cloud {
    pub sim: Sim,
    pub host: FunctionHost,
    pub template: Template,
    pub stack: Stack,
    /// Where each service's moto listens.
    pub moto: MotoEndpoints,
    pub endpoint: String,
    pub http: reqwest::Client,
    pub created: Created,
    rules: Vec<Rule>,
    schedules: Vec<schedules::Schedule>,
    delivered: Mutex<Vec<Value>>,
    seq: AtomicU64,
    /// moto's SQS, through the router: where failed asynchronous invocations go.
    sqs: aws_sdk_sqs::Client,
    /// moto's ECR, through the router: where pushed images are.
    ecr: aws_sdk_ecr::Client,
    /// The template's function URLs, served under `/lambda-url/`.
    function_urls: Vec<FunctionUrl>,
    /// The stack as the router's CloudFormation answers for it.
    described: cloudformation::StackDescription,
    /// What to inject, and what was.
    pub faults: Faults,
    /// What was called, read and invoked, and when (the benchmark's figures).
    pub meter: Meter,
}

/// The running processes and tasks; dropping it stops them all.
pub struct Running {
    pub cloud: Arc<Cloud>,
    moto: Option<Motos>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub async fn stop(mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(m) = self.moto.take() {
            m.stop().await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The simulator's Lambda hook invoker: the hosted function whose ARN is `hookTargetArn`
/// (`arn:aws:lambda:<region>:<account>:function:<physical name>`, optionally qualified,
/// in the stack's region and account), invoked synchronously as ECS reads its answer.
/// Any other ARN, or a function error, is an invocation failure (ECS rolls back).
fn hook_invoker(cloud: std::sync::Weak<Cloud>) -> sim::HookInvoker {
    Arc::new(move |arn: String, payload: Value| {
        let cloud = cloud.upgrade();
        Box::pin(async move {
            let cloud = cloud.ok_or("the local cloud has stopped")?;
            let (region, account) = (&cloud.stack.region, &cloud.stack.account);
            let prefix = format!("arn:aws:lambda:{region}:{account}:function:");
            let function = arn
                .strip_prefix(&prefix)
                .and_then(|_| cloud.host.find(&arn))
                .cloned()
                .ok_or_else(|| format!("no function {arn} in the local cloud"))?;
            function.invoke(payload).await.map_err(|e| format!("{}: {}", e.error_type, e.error_message))
        })
    })
}

/// SDK configuration pointing every client at the router.
pub async fn sdk_config(endpoint: &str, region: &str) -> autodeploy_shared::aws::SdkConfig {
    sdk_config_as(endpoint, region, "test").await
}

/// The access key the hosted functions sign with (their role's, on AWS): how
/// the router tells the stack's own calls, which faults may hit, from the
/// harness's and the operator's.
pub const FUNCTION_ACCESS_KEY: &str = "ASIALOCALFUNCTIONS01";
/// The access key moto's state machine engine signs its Lambda invocations with.
pub const STATE_MACHINE_ACCESS_KEY: &str = "ak";

/// As [`sdk_config`], signing with `access_key` (e.g. [`FUNCTION_ACCESS_KEY`]).
pub async fn sdk_config_as(endpoint: &str, region: &str, access_key: &str) -> autodeploy_shared::aws::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .http_client(autodeploy_shared::aws::https_client())
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(access_key, "test", None, None, "local-cloud"))
        .load()
        .await
}

impl Cloud {
    /// Starts moto, the simulator, the function host and the router, and
    /// creates the template's resources.
    pub async fn start(cfg: CloudConfig) -> Result<Running, CloudError> {
        // reqwest is built without a TLS provider of its own: ring, as the SDK.
        autodeploy_shared::aws::install_ring_tls();
        let stack = Stack { name: cfg.stack_name.clone(), region: cfg.region.clone(), account: cfg.account.clone() };
        let path = cfg.template.clone().unwrap_or_else(|| cfg.repo.join("template.yaml"));
        let mut template = Template::load(&path, stack.clone(), &cfg.parameters)?;
        emf_log::install(&stack.name);

        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await.map_err(|e| CloudError::Bind(cfg.port, e))?;
        let port = listener.local_addr().map_err(|e| CloudError::Bind(cfg.port, e))?.port();
        let endpoint = format!("http://127.0.0.1:{port}");
        // Function URLs are the router's: known only once it has its port.
        template.endpoint.clone_from(&endpoint);
        let rules = rules::from_template(&template)?;
        let schedules = schedules::from_template(&template)?;
        let function_urls = template.function_urls()?;
        let described = cloudformation::StackDescription::of(&template, chrono::Utc::now())?;
        let motos = Motos::start(&moto::moto_binary(&cfg.repo), port, cfg.single_moto).await?;

        let sim = Sim::new(SimConfig {
            region: cfg.region.clone(),
            account: cfg.account.clone(),
            speed: cfg.speed,
            ..SimConfig::default()
        });
        cfg.faults.check()?;
        let faults = Faults::new(cfg.faults.clone());
        let sdk = sdk_config(&endpoint, &cfg.region).await;
        let functions_sdk = sdk_config_as(&endpoint, &cfg.region, FUNCTION_ACCESS_KEY).await;
        let mut host =
            FunctionHost::hosting(&template, &functions_sdk, cfg.forward_functions.as_deref(), &cfg.handlers)?;
        host.use_faults(&faults);
        let meter = Meter::default();
        host.use_meter(&meter);
        let created = setup::create_all(&template, &motos.endpoints).await?;
        let cloud = Arc::new(Cloud {
            sim: sim.clone(),
            host,
            template,
            stack,
            moto: motos.endpoints.clone(),
            endpoint: endpoint.clone(),
            http: reqwest::Client::new(),
            created,
            rules,
            schedules,
            delivered: Mutex::new(Vec::new()),
            seq: AtomicU64::new(0),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            function_urls,
            described,
            faults,
            meter,
        });

        // ECS events from the simulator flow through the same rules as AWS's would.
        let weak = Arc::downgrade(&cloud);
        sim.add_sink(sim::events::callback(move |event| {
            if let Some(c) = weak.upgrade() {
                c.meter.saw_event(event);
                c.deliver(event.clone(), "default");
            }
        }));
        // ECS invokes a service's Lambda lifecycle hooks: here, the hosted functions.
        sim.set_hook_invoker(hook_invoker(Arc::downgrade(&cloud)));
        let server = tokio::spawn(router::serve(listener, router::router(cloud.clone())));
        let clock = sim.start_clock();
        let mut tasks = vec![server, clock];
        tasks.extend(cloud.start_schedules());
        Ok(Running { cloud, moto: Some(motos), tasks })
    }

    /// A task per schedule with a rate, invoking its function asynchronously
    /// as EventBridge would (the first run after one period).
    fn start_schedules(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for s in &self.schedules {
            let Some(every) = s.every else {
                tracing::warn!(schedule = %s.name, expression = %s.expression, "only rate() schedules run locally");
                continue;
            };
            let (weak, schedule) = (Arc::downgrade(self), s.clone());
            tasks.push(tokio::spawn(async move {
                let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    ticks.tick().await;
                    let Some(cloud) = weak.upgrade() else { return };
                    if let Err(e) = cloud.fire(&schedule).await {
                        tracing::warn!(schedule = %schedule.name, error = %e, "scheduled invocation failed");
                    }
                }
            }));
        }
        tasks
    }

    async fn fire(&self, schedule: &schedules::Schedule) -> Result<Value, String> {
        let function = self
            .host
            .by_logical_id(&schedule.function)
            .cloned()
            .ok_or_else(|| format!("no function {}", schedule.function))?;
        let event =
            schedules::scheduled_event(&self.next_id(), &self.stack.account, &self.stack.region, &schedule.name);
        function.invoke(event).await.map_err(|e| format!("{}: {}", e.error_type, e.error_message))
    }

    /// Every scheduled function once, now (the reconciler without waiting for
    /// its rate): their answers by schedule name.
    pub async fn reconcile_now(&self) -> Result<Value, String> {
        let mut out = serde_json::Map::new();
        for s in &self.schedules {
            out.insert(s.name.clone(), self.fire(s).await?);
        }
        Ok(Value::Object(out))
    }

    fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        uuid_of(&format!("{}-{n}", self.stack.name))
    }

    /// A PutEvents entry: through the template's rules (moto gets it too, from the router).
    pub fn put_event(&self, entry: &Value) {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        match rules::envelope(entry, &self.stack.account, &self.stack.region, &self.next_id(), &now) {
            Ok(event) => {
                let bus = entry.get("EventBusName").and_then(Value::as_str).unwrap_or("default");
                let bus = bus.rsplit('/').next().unwrap_or(bus).to_owned();
                self.deliver(event, &bus);
            }
            Err(e) => tracing::warn!(error = %e, "PutEvents entry not delivered"),
        }
    }

    /// Delivers an event to every matching rule's function, asynchronously,
    /// with Lambda's two retries of an asynchronous invocation; an event that
    /// fails all three goes to the function's on-failure queue, as Lambda's
    /// destination record ("Capturing records of Lambda asynchronous
    /// invocations" in the Lambda developer guide).
    pub fn deliver(&self, event: Value, bus: &str) {
        self.delivered.lock().unwrap_or_else(PoisonError::into_inner).push(json!({"bus": bus, "event": event}));
        let source = event.get("source").and_then(Value::as_str).unwrap_or_default().to_owned();
        for rule in self.rules.iter().filter(|r| r.bus == bus && rules::matches(&r.pattern, &event)) {
            let Some(function) = self.host.by_logical_id(&rule.function).cloned() else {
                tracing::error!(rule = %rule.name, "rule targets a function the host does not have");
                continue;
            };
            // EventBridge delivers at least once, not always in order ("Amazon
            // EventBridge events": "at least once"; ECS's events guide: order
            // by `detail.version`): the fault plan may drop, repeat, delay or
            // reorder a delivery.
            let (mut copies, mut hold, mut reorder) = (1, Duration::ZERO, 0);
            for fault in self.faults.on_event(&source, &rule.name) {
                match fault {
                    EventFaultKind::Drop => copies = 0,
                    EventFaultKind::Duplicate(n) => copies *= n,
                    EventFaultKind::DelayMillis(ms) => hold += Duration::from_millis(ms),
                    EventFaultKind::ReorderWithinMillis(window) => reorder = reorder.max(window),
                }
            }
            if copies == 0 {
                tracing::info!(rule = %rule.name, %source, "injected fault: delivery dropped");
                continue;
            }
            for _ in 0..copies {
                // Each copy held on its own, so copies and events overtake each other.
                let shuffle = Duration::from_millis(self.faults.reorder_delay(reorder));
                self.invoke_async(&function, &rule.name, event.clone(), hold + shuffle);
            }
        }
    }

    /// One asynchronous invocation of `function` for a rule, after `hold`.
    fn invoke_async(&self, function: &Function, rule_name: &str, event: Value, hold: Duration) {
        let (function, rule_name) = (function.clone(), rule_name.to_owned());
        let failed = Undelivered { sqs: self.sqs.clone(), stack: self.stack.clone() };
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            for attempt in 1..=ASYNC_ATTEMPTS {
                match function.invoke_queued(event.clone()).await {
                    Ok(_) => return,
                    Err(e) if attempt < ASYNC_ATTEMPTS => {
                        tracing::info!(rule = %rule_name, error = %e.error_message, "retrying asynchronous invocation");
                        tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt - 1))).await;
                    }
                    Err(e) => failed.record(&function, event.clone(), &e).await,
                }
            }
        });
    }

    /// Every event that went through the local EventBridge.
    pub fn delivered(&self) -> Vec<Value> {
        self.delivered.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `repo:tag` with `behavior` and its ECR push event (see [`Self::push_image`]).
    pub async fn push(&self, image: &str, behavior: &str) -> Result<Pushed, PushError> {
        self.push_image(&PushRequest::new(image, behavior)).await
    }

    /// The image into moto's ECR and the simulator's catalogue (which decides
    /// how its containers behave), then, unless `event` is off, ECR's push
    /// event exactly as ECR sends it. The digest is ECR's: sha256 of a
    /// manifest made from the repository, build and behaviour.
    pub async fn push_image(&self, req: &PushRequest) -> Result<Pushed, PushError> {
        let (repository, tag) = req
            .image
            .rsplit_once(':')
            .filter(|(r, t)| !r.is_empty() && !t.is_empty() && !t.contains('/'))
            .ok_or_else(|| PushError::NotRepoTag(req.image.clone()))?;
        let behavior_value: Behavior = req.behavior.parse()?;
        let manifest = registry::manifest(repository, req.build.as_deref().unwrap_or(tag), &req.behavior);
        let digest = registry::digest_of(&manifest);
        let registry_host = format!("{}.dkr.ecr.{}.amazonaws.com", self.stack.account, self.stack.region);
        let full = format!("{registry_host}/{repository}:{tag}");
        self.sim.register_image(&full, Some(&digest), behavior_value)?;
        registry::put_image(&self.ecr, repository, tag, &manifest).await?;
        if req.event {
            let event = json!({
                "version": "0",
                "id": self.next_id(),
                "detail-type": "ECR Image Action",
                "source": "aws.ecr",
                "account": self.stack.account,
                "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "region": self.stack.region,
                "resources": [],
                "detail": {
                    "result": "SUCCESS",
                    "repository-name": repository,
                    "image-digest": digest,
                    "action-type": "PUSH",
                    "image-tag": tag,
                    "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
                    "artifact-media-type": "application/vnd.oci.image.config.v1+json",
                }
            });
            self.deliver(event, "default");
        }
        Ok(Pushed {
            repository: repository.into(),
            tag: tag.into(),
            digest,
            image: full,
            behavior: req.behavior.clone(),
            event: req.event,
        })
    }
}

/// Where an event goes once every invocation of it failed.
struct Undelivered {
    sqs: aws_sdk_sqs::Client,
    stack: Stack,
}

impl Undelivered {
    /// An event whose invocations all failed: the destination record on the
    /// function's on-failure queue, or a warning when it has none.
    async fn record(&self, function: &Function, event: Value, error: &LambdaError) {
        let Some(queue) = &function.on_failure_queue else {
            tracing::warn!(function = %function.name, error = %error.error_message, "event dropped after {ASYNC_ATTEMPTS} attempts");
            return;
        };
        let Stack { region, account, .. } = &self.stack;
        let record = json!({
            "version": "1.0",
            "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "requestContext": {
                "requestId": request_id(&function.name, &event),
                "functionArn": format!("arn:aws:lambda:{region}:{account}:function:{}:$LATEST", function.name),
                "condition": "RetriesExhausted",
                "approximateInvokeCount": ASYNC_ATTEMPTS,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": functions::error_body(error),
        });
        let sent = async {
            let url = self.sqs.get_queue_url().queue_name(queue).send().await?.queue_url.unwrap_or_default();
            self.sqs.send_message().queue_url(url).message_body(record.to_string()).send().await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        };
        match sent.await {
            Ok(()) => {
                tracing::warn!(function = %function.name, %queue, error = %error.error_message, "event sent to the on-failure queue")
            }
            Err(e) => {
                tracing::error!(function = %function.name, %queue, error = %e, "event lost: the on-failure queue refused it")
            }
        }
    }
}

/// A request id for a destination record, the same for the same event and
/// function (derived only when an event fails, never on the delivery path).
fn request_id(function: &str, event: &Value) -> String {
    uuid_of(&format!("{function}|{event}"))
}

/// A UUID-shaped id derived from `seed`: stable, unlike a random one.
fn uuid_of(seed: &str) -> String {
    let h = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
