//! Detection and correctness side by side: the pipeline, the AWS CLI
//! (`update-service` + `wait services-stable`) and fabfuel's `ecs deploy`,
//! each rolling its own service of one simulator at one speed, one tool at a
//! time. Each tool signs with its own access key, so the meter counts its
//! ECS and ELB calls apart from everyone else's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use serde::Serialize;

use super::super::meter::{Mark, Meter, STACK, Snapshot};
use super::super::seed::{Seeded, ServiceSpec, seed_service};
use super::super::{Cloud, PushRequest, Pushed, sdk_config, sdk_config_as};
use super::BenchError;

/// The tools compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tool {
    Pipeline,
    AwsCli,
    Fabfuel,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Pipeline, Tool::AwsCli, Tool::Fabfuel];

    pub fn label(self) -> &'static str {
        match self {
            Tool::Pipeline => "ecs-autodeploy",
            Tool::AwsCli => "aws ecs wait services-stable",
            Tool::Fabfuel => "fabfuel ecs deploy",
        }
    }

    /// The service it deploys (cluster [`CLUSTER`]).
    fn service(self) -> &'static str {
        match self {
            Tool::Pipeline => "pipeline",
            Tool::AwsCli => "awscli",
            Tool::Fabfuel => "fabfuel",
        }
    }

    /// Who the meter counts its calls as.
    fn caller(self) -> &'static str {
        match self {
            Tool::Pipeline => STACK,
            Tool::AwsCli => "BENCHAWSCLI00000",
            Tool::Fabfuel => "BENCHFABFUEL0000",
        }
    }
}

pub const CLUSTER: &str = "bench";

/// One deployment by one tool.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    /// A good build (its containers start and pass health checks) or a bad one (they crash).
    pub good: bool,
    /// From the simulator's COMPLETED instant (of the new deployment; of
    /// ECS's rollback for a bad build) to the tool's "done": the pipeline's
    /// verdict (SendTaskSuccess), a peer's exit.
    pub detection_ms: Option<f64>,
    /// The pipeline only: from the COMPLETED instant to the record's terminal status.
    pub recorded_ms: Option<f64>,
    /// From the push (the pipeline) or the first call (a peer) to done.
    pub start_to_done_ms: f64,
    pub ecs_calls: u64,
    pub elb_calls: u64,
    /// Every call the tool made during the deploy, by `service:Operation`.
    pub calls: std::collections::BTreeMap<String, u64>,
    /// The pipeline's final status; a peer's exit status.
    pub outcome: String,
    /// What the tool said last (the record's reason, a peer's last line).
    pub words: String,
    /// The service's revision afterwards and its status: `ACTIVE`, or
    /// `INACTIVE` (deregistered while the service runs it).
    pub final_revision: String,
    pub final_revision_status: String,
    /// The service runs the pushed build afterwards.
    pub runs_new_build: bool,
    /// What a demanding user expects: a good build running and reported a
    /// success; a bad one not running, the previous revision still
    /// registered, and not reported a success.
    pub correct: bool,
    /// The COMPLETED instant the detection is measured from (wall-clock ms).
    #[serde(skip)]
    pub completed_at_ms: Option<f64>,
    /// The pipeline only: the deployment's id and what the meter saw during it.
    #[serde(skip)]
    pub deployment: Option<Deployment>,
    #[serde(skip)]
    pub metered: Snapshot,
}

/// The three services, seeded, and how to reach the peer tools.
pub struct Peers {
    cloud: Arc<Cloud>,
    store: DynamoDeployments,
    ecs: aws_sdk_ecs::Client,
    /// Where `aws` and `ecs` (fabfuel) are.
    tools: PathBuf,
    seeded: Vec<(Tool, Seeded)>,
    /// The last tag pushed (each deploy pushes the next: `v2`, `v3`, …).
    tag: std::sync::atomic::AtomicUsize,
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> BenchError + '_ {
    move |e| BenchError::Run(format!("{what}: {e}"))
}

fn spec(tool: Tool) -> ServiceSpec {
    ServiceSpec {
        cluster: CLUSTER.into(),
        service: tool.service().into(),
        repository: tool.service().into(),
        desired: 2,
        target_id: format!("bench-{}", tool.service()),
        // A slow build's containers pass their health checks minutes after
        // they start: ECS leaves them that long (a crashing one still fails).
        health_check_grace_seconds: Some(600),
        // Only the pipeline's service is a deploy target's; a peer's tags
        // never match (the reconciler must leave its repository alone).
        tag_rule: if tool == Tool::Pipeline {
            serde_json::json!({"type": "glob", "pattern": "v*"})
        } else {
            serde_json::json!({"type": "glob", "pattern": "never-*"})
        },
        ..ServiceSpec::demo()
    }
}

impl Peers {
    pub async fn seed(cloud: Arc<Cloud>, tools: &Path) -> Result<Self, BenchError> {
        let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
        let table = cloud.template.physical_name("DeploymentsTable").map_err(fail("template"))?;
        let store = DynamoDeployments::new(aws_sdk_dynamodb::Client::new(&sdk), table);
        let mut seeded = Vec::new();
        for tool in Tool::ALL {
            let s = seed_service(&cloud, &spec(tool)).await.map_err(fail("seeding"))?;
            seeded.push((tool, s));
        }
        for bin in ["aws", "ecs"] {
            if !tools.join(bin).exists() {
                return Err(BenchError::Run(format!("no {bin} in {} (make tools installs it)", tools.display())));
            }
        }
        Ok(Self { cloud, store, ecs: aws_sdk_ecs::Client::new(&sdk), tools: tools.to_owned(), seeded, tag: 1.into() })
    }

    fn service_arn(&self, tool: Tool) -> &str {
        self.seeded.iter().find(|(t, _)| *t == tool).map_or("", |(_, s)| s.service_arn.as_str())
    }

    /// One deployment by `tool` of a new build whose containers behave as
    /// `behavior` says (`healthy`, `crash`, `slow:<seconds>`).
    pub async fn deploy(&self, tool: Tool, behavior: &str) -> Result<Run, BenchError> {
        let tag = self.tag.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let good = behavior != "crash";
        let before_revision = self.running(tool).await?.0;
        let meter = self.cloud.meter.clone();
        let before = meter.snapshot();
        let started = Meter::now_ms();
        let image = format!("{}:v{tag}", tool.service());
        let event = tool == Tool::Pipeline;
        let pushed = self
            .cloud
            .push_image(&PushRequest { event, ..PushRequest::new(&image, behavior) })
            .await
            .map_err(fail("push"))?;
        let mut run = match tool {
            Tool::Pipeline => self.by_pipeline(&pushed, started).await?,
            Tool::AwsCli | Tool::Fabfuel => self.by_peer(tool, &pushed).await?,
        };
        run.good = good;
        let metered = meter.snapshot().since(&before);
        run.ecs_calls = metered.calls_to(tool.caller(), "ecs");
        run.elb_calls = metered.calls_to(tool.caller(), "elasticloadbalancing");
        run.calls = metered.calls.get(tool.caller()).cloned().unwrap_or_default();
        run.metered = metered;
        let (final_revision, status, image) = self.running(tool).await?;
        run.runs_new_build = image.contains(&pushed.digest);
        run.correct = if good {
            run.runs_new_build && is_success(&run)
        } else {
            final_revision == before_revision && status == "ACTIVE" && !is_success(&run)
        };
        run.final_revision = final_revision;
        run.final_revision_status = status;
        Ok(run)
    }

    /// The revision the service runs, its status and its `app` container's image.
    async fn running(&self, tool: Tool) -> Result<(String, String, String), BenchError> {
        let described = self
            .ecs
            .describe_services()
            .cluster(CLUSTER)
            .services(tool.service())
            .send()
            .await
            .map_err(fail("DescribeServices"))?;
        let arn = described.services().first().and_then(|s| s.task_definition()).unwrap_or_default().to_owned();
        let td = self
            .ecs
            .describe_task_definition()
            .task_definition(&arn)
            .send()
            .await
            .map_err(fail("DescribeTaskDefinition"))?
            .task_definition
            .unwrap_or_else(|| aws_sdk_ecs::types::TaskDefinition::builder().build());
        let status = td.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
        let image = td.container_definitions().iter().find(|c| c.name() == Some("app")).and_then(|c| c.image());
        Ok((arn, status, image.unwrap_or_default().to_owned()))
    }

    /// The push's event starts the pipeline; done is its verdict, then its record.
    async fn by_pipeline(&self, pushed: &Pushed, started: f64) -> Result<Run, BenchError> {
        let key = format!("{CLUSTER}/{}", Tool::Pipeline.service());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        let d = loop {
            let history = self.store.history(&key, 10).await.map_err(fail("history"))?;
            if let Some(d) = history.into_iter().find(|d| d.digest.as_str() == pushed.digest && d.status.is_terminal())
            {
                break d;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(BenchError::Run(format!("{}: not terminal after 600 s", pushed.image)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // The record is terminal before its step's invocation ends: the run's
        // end is when every invocation of it has been counted.
        self.wait_run_ended(&d).await?;
        let marks = self.cloud.meter.marks_since(started);
        let terminal_at = d.timeline.iter().rev().find(|e| e.state == d.status).map_or(d.updated_at, |e| e.at);
        let recorded = terminal_at.timestamp_micros() as f64 / 1000.0;
        let completed = completed_before(&marks, self.service_arn(Tool::Pipeline), recorded);
        let verdict = marks
            .iter()
            .find(|m| m.what.starts_with("states:SendTask") && completed.is_some_and(|c| m.at_ms >= c))
            .map(|m| m.at_ms);
        Ok(Run {
            tool: Tool::Pipeline,
            good: true,
            detection_ms: completed.zip(verdict).map(|(c, v)| v - c),
            completed_at_ms: completed,
            recorded_ms: completed.map(|c| recorded - c),
            start_to_done_ms: recorded - started,
            ecs_calls: 0,
            elb_calls: 0,
            calls: Default::default(),
            outcome: d.status.as_str().to_owned(),
            words: d
                .failure_reason
                .clone()
                .unwrap_or_else(|| d.timeline.last().map(|e| e.detail.clone()).unwrap_or_default()),
            final_revision: String::new(),
            final_revision_status: String::new(),
            runs_new_build: false,
            correct: false,
            deployment: Some(d),
            metered: Snapshot::default(),
        })
    }

    async fn wait_run_ended(&self, d: &Deployment) -> Result<(), BenchError> {
        let arn = super::cost::execution_arn(&self.cloud, d)?;
        let sdk = sdk_config(&self.cloud.endpoint, &self.cloud.stack.region).await;
        let sfn = aws_sdk_sfn::Client::new(&sdk);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let described =
                sfn.describe_execution().execution_arn(&arn).send().await.map_err(fail("DescribeExecution"))?;
            if described.status().as_str() != "RUNNING" {
                // The last step's answer reaches Step Functions after the function ended.
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(BenchError::Run(format!("{arn}: still running 120 s after its record ended")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A peer tool deploys the pushed image by digest, as its users run it.
    async fn by_peer(&self, tool: Tool, pushed: &Pushed) -> Result<Run, BenchError> {
        let (registry, _) = pushed.image.split_once('/').unwrap_or_default();
        let pinned = format!("{registry}/{}@{}", pushed.repository, pushed.digest);
        let env = self.env(tool);
        let started = Meter::now_ms();
        let (status, out) = match tool {
            Tool::AwsCli => {
                // What a script does first: the running revision, cloned with the new image.
                let revision = self.register_as(tool, &pinned).await?;
                let service = tool.service();
                let update = ["ecs", "update-service", "--cluster", CLUSTER, "--service", service];
                let (status, out) =
                    run_tool(&self.tools.join("aws"), &[&update[..], &["--task-definition", &revision]].concat(), &env)
                        .await?;
                if status != 0 {
                    (status, out)
                } else {
                    let wait = ["ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", service];
                    run_tool(&self.tools.join("aws"), &wait, &env).await?
                }
            }
            _ => {
                let args = ["deploy", CLUSTER, tool.service(), "--image", "app", &pinned, "--timeout", "600"];
                run_tool(&self.tools.join("ecs"), &args, &env).await?
            }
        };
        let done = Meter::now_ms();
        let marks = self.cloud.meter.marks_since(started);
        let completed = completed_before(&marks, self.service_arn(tool), done);
        let last = out.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("(nothing)");
        Ok(Run {
            tool,
            good: true,
            detection_ms: completed.map(|c| done - c),
            completed_at_ms: completed,
            recorded_ms: None,
            start_to_done_ms: done - started,
            ecs_calls: 0,
            elb_calls: 0,
            calls: Default::default(),
            outcome: format!("exit {status}"),
            words: strip_ansi(last),
            final_revision: String::new(),
            final_revision_status: String::new(),
            runs_new_build: false,
            correct: false,
            deployment: None,
            metered: Snapshot::default(),
        })
    }

    /// The service's revision with its `app` container on `image`, registered
    /// under `tool`'s key (its calls are the tool's).
    async fn register_as(&self, tool: Tool, image: &str) -> Result<String, BenchError> {
        let sdk = sdk_config_as(&self.cloud.endpoint, &self.cloud.stack.region, tool.caller()).await;
        let ecs = aws_sdk_ecs::Client::new(&sdk);
        let current = self.running(tool).await?.0;
        let td = ecs
            .describe_task_definition()
            .task_definition(current)
            .send()
            .await
            .map_err(fail("DescribeTaskDefinition"))?
            .task_definition
            .ok_or_else(|| BenchError::Run("DescribeTaskDefinition: no task definition".into()))?;
        let containers = td
            .container_definitions()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if c.name() == Some("app") {
                    c.image = Some(image.to_owned());
                }
                c
            })
            .collect();
        let registered = ecs
            .register_task_definition()
            .family(td.family().unwrap_or(tool.service()))
            .set_network_mode(td.network_mode().cloned())
            .set_cpu(td.cpu().map(str::to_owned))
            .set_memory(td.memory().map(str::to_owned))
            .set_container_definitions(Some(containers))
            .send()
            .await
            .map_err(fail("RegisterTaskDefinition"))?;
        registered
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(str::to_owned)
            .ok_or_else(|| BenchError::Run("RegisterTaskDefinition: no ARN".into()))
    }

    /// A peer's environment: this local cloud, the peer's own key, no files.
    fn env(&self, tool: Tool) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.cloud.endpoint.clone()),
            ("AWS_DEFAULT_REGION", self.cloud.stack.region.clone()),
            ("AWS_REGION", self.cloud.stack.region.clone()),
            ("AWS_ACCESS_KEY_ID", tool.caller().to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "bench".into()),
            ("AWS_PAGER", String::new()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("NO_COLOR", "1".into()),
        ]
    }
}

/// The last COMPLETED event of `service` before `done` (a good build's
/// rollout; ECS's rollback after a bad one).
fn completed_before(marks: &[Mark], service: &str, done: f64) -> Option<f64> {
    marks
        .iter()
        .rev()
        .find(|m| m.subject == service && m.what.ends_with(":SERVICE_DEPLOYMENT_COMPLETED") && m.at_ms <= done)
        .map(|m| m.at_ms)
}

/// Runs a peer's command to its end: exit status, stdout then stderr.
async fn run_tool(program: &Path, args: &[&str], env: &[(&'static str, String)]) -> Result<(i32, String), BenchError> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str()))).kill_on_drop(true);
    let done = tokio::time::timeout(Duration::from_secs(900), cmd.output())
        .await
        .map_err(|_| BenchError::Run(format!("{} {}: no end after 900 s", program.display(), args.join(" "))))?
        .map_err(fail("starting a peer tool"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
    Ok((done.status.code().unwrap_or(-1), text))
}

/// A line without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A status the pipeline ends a deployment with, as the runs report it.
pub fn is_success(run: &Run) -> bool {
    match run.tool {
        Tool::Pipeline => run.outcome == DeploymentStatus::Succeeded.as_str(),
        _ => run.outcome == "exit 0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_codes() {
        assert_eq!(strip_ansi("\u{1b}[32mDeployment successful\u{1b}[0m"), "Deployment successful");
    }

    #[test]
    fn the_completion_is_the_last_one_of_the_service_before_done() {
        let mark = |at_ms, subject: &str, what: &str| Mark {
            at_ms,
            what: format!("ECS Deployment State Change:{what}"),
            subject: subject.into(),
            deployment: String::new(),
        };
        let marks = [
            mark(1.0, "a", "SERVICE_DEPLOYMENT_COMPLETED"),
            mark(2.0, "b", "SERVICE_DEPLOYMENT_COMPLETED"),
            mark(3.0, "a", "SERVICE_DEPLOYMENT_FAILED"),
            mark(4.0, "a", "SERVICE_DEPLOYMENT_COMPLETED"),
            mark(9.0, "a", "SERVICE_DEPLOYMENT_COMPLETED"),
        ];
        assert_eq!(completed_before(&marks, "a", 5.0), Some(4.0));
        assert_eq!(completed_before(&marks, "c", 5.0), None);
    }
}
