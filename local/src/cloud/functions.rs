//! The function host: runs the project's steps in-process, each with the
//! environment its function gets in `template.yaml`, and answers the Lambda
//! Invoke API the way Lambda does (errors as `X-Amz-Function-Error: Unhandled`
//! with `errorType`/`errorMessage`), so the state machine's Retry and Catch
//! behave as they do in AWS. Every invocation is held to its function's
//! template `Timeout`, as Lambda holds it, and may be failed on purpose after
//! its work ([`super::faults`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use autodeploy_shared::DeployError;
use autodeploy_shared::aws::{FromVars, SdkConfig, steps};
use autodeploy_shared::config::Vars;
use autodeploy_shared::steps::{Step, handle};
use serde::Serialize;
use serde_json::{Value, json};

use super::faults::{Faults, FunctionFaultKind};
use super::meter::Meter;
use super::template::{Template, TemplateError};

type Reply = Result<Value, LambdaError>;
type Invoke = Handler;

/// What a hosted function runs: the event in, Lambda's answer out.
pub type Handler = Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, LambdaError>> + Send>> + Send + Sync>;

/// A [`Handler`] from an async closure.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, LambdaError>> + Send + 'static,
{
    Arc::new(move |event| Box::pin(f(event)))
}

/// Handlers that run in place of the steps, by the binary the template names
/// (for tests: a function the project does not ship, or a stand-in).
#[derive(Clone, Default)]
pub struct Handlers(BTreeMap<String, Handler>);

impl Handlers {
    /// `binary` runs `handler` instead of its step.
    pub fn insert(&mut self, binary: &str, handler: Handler) {
        self.0.insert(binary.to_owned(), handler);
    }
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// An error as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaError {
    pub error_type: String,
    pub error_message: String,
}

impl From<DeployError> for LambdaError {
    fn from(e: DeployError) -> Self {
        Self { error_type: e.error_type().to_owned(), error_message: e.to_string() }
    }
}

/// One hosted function.
#[derive(Clone)]
pub struct Function {
    pub logical_id: String,
    pub name: String,
    pub binary: String,
    pub environment: HashMap<String, String>,
    /// The queue its failed asynchronous invocations go to, if the template names one.
    pub on_failure_queue: Option<String>,
    /// The template's `Timeout`: an invocation still running then is stopped.
    pub timeout: Duration,
    /// The template's `ReservedConcurrentExecutions`: that many asynchronous
    /// invocations run at once, the rest wait in the queue (`None`: unreserved).
    pub reserved: Option<Arc<tokio::sync::Semaphore>>,
    invoke: Invoke,
    faults: Faults,
    meter: Meter,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").field("name", &self.name).field("binary", &self.binary).finish()
    }
}

/// Hosts one step, built from exactly the variables `vars` (the template's).
fn hosted<S>(config: &SdkConfig, vars: &HashMap<String, String>) -> Result<Invoke, DeployError>
where
    S: Step + FromVars + 'static,
    S::Output: 'static,
{
    let strict = StrictVars::new(vars);
    let step = Arc::new(S::from_vars(config, &strict)?);
    strict.all_given(S::NAME)?;
    Ok(Arc::new(move |payload| {
        let step = step.clone();
        Box::pin(async move {
            match handle(&*step, payload).await {
                Ok(out) => serde_json::to_value(out).map_err(|e| LambdaError {
                    error_type: "Runtime.SerializationError".into(),
                    error_message: e.to_string(),
                }),
                Err(e) => Err(e.into()),
            }
        })
    }))
}

type Build = fn(&SdkConfig, &HashMap<String, String>) -> Result<Invoke, DeployError>;

/// Every deployed step, by the binary `template.yaml` names for it.
const STEPS: [(&str, Build); 15] = [
    (steps::OnImagePush::NAME, hosted::<steps::OnImagePush>),
    (steps::Reconcile::NAME, hosted::<steps::Reconcile>),
    (steps::ClaimService::NAME, hosted::<steps::ClaimService>),
    (steps::AwaitService::NAME, hosted::<steps::AwaitService>),
    (steps::RegisterRevision::NAME, hosted::<steps::RegisterRevision>),
    (steps::UpdateService::NAME, hosted::<steps::UpdateService>),
    (steps::AwaitRollout::NAME, hosted::<steps::AwaitRollout>),
    (steps::CheckRollout::NAME, hosted::<steps::CheckRollout>),
    (steps::RollBack::NAME, hosted::<steps::RollBack>),
    (steps::RecordOutcome::NAME, hosted::<steps::RecordOutcome>),
    (steps::OnEcsEvent::NAME, hosted::<steps::OnEcsEvent>),
    (steps::VerifyHook::NAME, hosted::<steps::VerifyHook>),
    (steps::RequestApproval::NAME, hosted::<steps::RequestApproval>),
    (steps::DecideApproval::NAME, hosted::<steps::DecideApproval>),
    (steps::Operate::NAME, hosted::<steps::Operate>),
];

/// Builds the step a binary runs, configured from `vars` only.
fn step_for(binary: &str, config: &SdkConfig, vars: &HashMap<String, String>) -> Result<Invoke, DeployError> {
    let (_, build) = STEPS
        .iter()
        .find(|(name, _)| *name == binary)
        .ok_or_else(|| DeployError::InvalidInput(format!("the function host has no step for binary {binary:?}")))?;
    build(config, vars)
}

/// The template's variables for one function, noting every name the step
/// asks for that the template does not set. The deployed function would
/// silently fall back to a default there (or fail), so the host refuses it.
struct StrictVars<'a> {
    vars: &'a HashMap<String, String>,
    missing: Mutex<BTreeSet<String>>,
}

impl<'a> StrictVars<'a> {
    fn new(vars: &'a HashMap<String, String>) -> Self {
        Self { vars, missing: Mutex::default() }
    }

    fn all_given(&self, step: &str) -> Result<(), DeployError> {
        let missing = self.missing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = missing.iter().map(String::as_str).collect();
        Err(DeployError::InvalidInput(format!(
            "{step} reads {} but template.yaml does not set {}",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )))
    }
}

impl Vars for StrictVars<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let value = self.vars.get(name).cloned();
        if value.is_none() {
            self.missing.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(name.to_owned());
        }
        value
    }
}

/// Invokes `binary` on a `cargo lambda watch` server (Lambda's Invoke API).
fn forwarder(url: &str, binary: &str) -> Invoke {
    let endpoint = format!("{}/2015-03-31/functions/{binary}/invocations", url.trim_end_matches('/'));
    let http = reqwest::Client::new();
    Arc::new(move |payload| {
        let (http, endpoint) = (http.clone(), endpoint.clone());
        Box::pin(async move {
            let fail = |error_type: &str, e: String| LambdaError { error_type: error_type.into(), error_message: e };
            let resp = http
                .post(&endpoint)
                .json(&payload)
                .send()
                .await
                .map_err(|e| fail("Lambda.ServiceException", e.to_string()))?;
            let function_error = resp.headers().contains_key("x-amz-function-error");
            let status = resp.status();
            let body: Value = resp.json().await.map_err(|e| fail("Lambda.ServiceException", e.to_string()))?;
            if function_error {
                let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                return Err(LambdaError { error_type: field("errorType"), error_message: field("errorMessage") });
            }
            if !status.is_success() {
                return Err(fail("Lambda.ServiceException", format!("cargo lambda watch answered {status}: {body}")));
            }
            Ok(body)
        })
    })
}

/// The union of every function's variables, as `NAME=value` lines for
/// `cargo lambda watch --env-file` (the names agree across functions).
pub fn env_file(host: &FunctionHost) -> String {
    let mut vars: Vec<(String, String)> =
        host.functions.values().flat_map(|f| f.environment.iter().map(|(k, v)| (k.clone(), v.clone()))).collect();
    vars.sort();
    vars.dedup();
    vars.into_iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("function {0}: {1}")]
    Function(String, DeployError),
}

/// Every function of the template, by name and by ARN.
#[derive(Clone, Default)]
pub struct FunctionHost {
    functions: HashMap<String, Function>,
}

impl FunctionHost {
    /// One hosted function per `AWS::Serverless::Function`, each configured
    /// with exactly its template environment: a variable the template forgets
    /// fails here, before the deployed function would fail or fall back to a
    /// default without it.
    ///
    /// With `forward_to` (a `cargo lambda watch` endpoint), invocations go to
    /// the real `bootstrap` binaries there instead of the in-process steps.
    pub fn from_template(t: &Template, config: &SdkConfig, forward_to: Option<&str>) -> Result<Self, HostError> {
        Self::hosting(t, config, forward_to, &Handlers::default())
    }

    /// As [`Self::from_template`], with the binaries `handlers` names running
    /// their handler instead (neither a step nor forwarded).
    pub fn hosting(
        t: &Template,
        config: &SdkConfig,
        forward_to: Option<&str>,
        handlers: &Handlers,
    ) -> Result<Self, HostError> {
        let mut functions = HashMap::new();
        for (id, _) in t.of_type("AWS::Serverless::Function") {
            let binary = t.function_binary(id)?;
            let environment = t.function_environment(id)?;
            let invoke = match (handlers.0.get(&binary), forward_to) {
                (Some(handler), _) => handler.clone(),
                (None, Some(url)) => forwarder(url, &binary),
                (None, None) => {
                    step_for(&binary, config, &environment).map_err(|e| HostError::Function(id.clone(), e))?
                }
            };
            let name = t.physical_name(id)?;
            let on_failure_queue = t.function_failure_queue(id)?;
            let timeout = t.function_timeout(id)?;
            let reserved =
                t.function_reserved_concurrency(id)?.map(|n| Arc::new(tokio::sync::Semaphore::new(n as usize)));
            let function = Function {
                logical_id: id.clone(),
                name: name.clone(),
                binary,
                environment,
                on_failure_queue,
                timeout,
                reserved,
                invoke,
                faults: Faults::default(),
                meter: Meter::default(),
            };
            functions.insert(name, function);
        }
        Ok(Self { functions })
    }

    /// Accepts a name, an ARN or a partial ARN, with or without qualifier.
    pub fn find(&self, name_or_arn: &str) -> Option<&Function> {
        let name = match name_or_arn.split_once(":function:") {
            Some((_, rest)) => rest,
            None => name_or_arn,
        };
        let name = name.split(':').next().unwrap_or(name);
        self.functions.get(name)
    }

    /// Every function consults `faults` from now on.
    pub fn use_faults(&mut self, faults: &Faults) {
        for f in self.functions.values_mut() {
            f.faults = faults.clone();
        }
    }

    /// Every function counts its invocations and their durations on `meter`.
    pub fn use_meter(&mut self, meter: &Meter) {
        for f in self.functions.values_mut() {
            f.meter = meter.clone();
        }
    }

    pub fn by_logical_id(&self, id: &str) -> Option<&Function> {
        self.functions.values().find(|f| f.logical_id == id)
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<_> = self.functions.keys().cloned().collect();
        v.sort();
        v
    }
}

/// A hash of an invocation's input: the state machine retries a step with
/// the same one, but for the task token (a new one per attempt).
fn input_hash(payload: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut same = payload.clone();
    if let Some(fields) = same.as_object_mut() {
        fields.remove("taskToken");
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    same.to_string().hash(&mut h);
    h.finish()
}

/// Lambda's request ids, one per invocation.
static INVOCATIONS: AtomicU64 = AtomicU64::new(0);

impl Function {
    /// One invocation as Lambda runs it: on its own task (a panic is an error,
    /// as the runtime reports it), stopped at the function's `Timeout` with
    /// Lambda's `Sandbox.Timedout` (the work it had not finished stays
    /// unfinished), then failed on purpose if the fault plan says so.
    pub async fn invoke(&self, payload: Value) -> Reply {
        let request_id = format!("{:08x}-local", INVOCATIONS.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(function = %self.name, %request_id, "invoke");
        let started = Instant::now();
        let input = input_hash(&payload);
        let event = super::meter::event_kind(&payload);
        let mut run = tokio::spawn((self.invoke)(payload));
        let reply = match tokio::time::timeout(self.timeout, &mut run).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => Err(LambdaError { error_type: "Runtime.Panic".into(), error_message: e.to_string() }),
            Err(_) => {
                run.abort();
                Err(self.timed_out(&request_id))
            }
        };
        let reply = match reply {
            // Only work that was done can be failed after it.
            Ok(out) => match self.faults.on_invoke(&self.binary, input) {
                None => Ok(out),
                Some(fault) => Err(self.injected(fault, &request_id, started).await),
            },
            Err(e) => Err(e),
        };
        self.meter.count_invocation(&self.binary, event, started.elapsed());
        // As the Lambda entry does after each invocation.
        super::emf_log::flush();
        if let Err(e) = &reply {
            tracing::info!(function = %self.name, %request_id, error_type = %e.error_type, error = %e.error_message, "function error");
        }
        reply
    }

    /// An invocation from Lambda's asynchronous queue: with reserved
    /// concurrency it waits for one of the function's slots. Lambda returns a
    /// throttled event to the queue and tries it again for up to six hours
    /// ("Asynchronous invocation" in the Lambda developer guide): throttling
    /// delays an event, it never fails it or counts as one of its retries.
    pub async fn invoke_queued(&self, payload: Value) -> Reply {
        let _slot = match &self.reserved {
            // The semaphore is never closed, so acquiring only waits.
            Some(slots) => slots.acquire().await.ok(),
            None => None,
        };
        self.invoke(payload).await
    }

    /// Lambda's answer for an invocation that ran out of time.
    fn timed_out(&self, request_id: &str) -> LambdaError {
        LambdaError {
            error_type: "Sandbox.Timedout".into(),
            error_message: format!(
                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                self.timeout.as_secs_f64()
            ),
        }
    }

    /// The error an injected fault answers with, once the work is done.
    async fn injected(&self, fault: FunctionFaultKind, request_id: &str, started: Instant) -> LambdaError {
        match fault {
            FunctionFaultKind::FailAfter => LambdaError {
                error_type: "Retryable".into(),
                error_message: "injected fault: the work is done, its answer was lost".into(),
            },
            FunctionFaultKind::CrashAfter => LambdaError {
                error_type: "Runtime.ExitError".into(),
                error_message: format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
            },
            FunctionFaultKind::TimeOutAfter => {
                tokio::time::sleep(self.timeout.saturating_sub(started.elapsed())).await;
                self.timed_out(request_id)
            }
        }
    }
}

/// The Invoke API's error body.
pub fn error_body(e: &LambdaError) -> Value {
    json!({ "errorType": e.error_type, "errorMessage": e.error_message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;
    use axum::routing::post;

    /// A stand-in for `cargo lambda watch`: echoes, or fails the way Lambda does.
    async fn fake_watch() -> String {
        async fn invoke(axum::extract::Path(name): axum::extract::Path<String>, body: String) -> (HeaderMap, String) {
            let mut headers = HeaderMap::new();
            if name == "failing" {
                headers.insert("x-amz-function-error", "Unhandled".parse().unwrap());
                return (headers, json!({"errorType": "Retryable", "errorMessage": "try again"}).to_string());
            }
            (headers, json!({"function": name, "got": serde_json::from_str::<Value>(&body).unwrap()}).to_string())
        }
        let app = axum::Router::new().route("/2015-03-31/functions/{name}/invocations", post(invoke));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn template() -> Template {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let stack = super::super::template::Stack {
            name: "local".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        Template::load(&path, stack, &Default::default()).unwrap()
    }

    /// The template's variables for the function that runs `binary`.
    fn environment_of(t: &Template, binary: &str) -> HashMap<String, String> {
        let (id, _) = t
            .of_type("AWS::Serverless::Function")
            .find(|(id, _)| t.function_binary(id).unwrap() == binary)
            .unwrap_or_else(|| panic!("no function runs {binary}"));
        t.function_environment(id).unwrap()
    }

    #[tokio::test]
    async fn every_function_of_the_template_is_hosted_with_exactly_its_variables() {
        let config = crate::cloud::sdk_config("http://127.0.0.1:9", "us-east-1").await;
        let host = FunctionHost::from_template(&template(), &config, None).unwrap();
        let binaries: BTreeSet<String> = host.functions.values().map(|f| f.binary.clone()).collect();
        let steps: BTreeSet<String> = STEPS.iter().map(|(name, _)| (*name).to_owned()).collect();
        assert_eq!(binaries, steps, "one hosted step per function, none left over");
    }

    #[tokio::test]
    async fn a_step_that_reads_a_variable_the_template_does_not_set_is_refused() {
        let config = crate::cloud::sdk_config("http://127.0.0.1:9", "us-east-1").await;
        let mut vars = environment_of(&template(), steps::UpdateService::NAME);
        assert!(hosted::<steps::UpdateService>(&config, &vars).is_ok());
        vars.remove("ROLLOUT_TIMEOUT_SECONDS");
        let err = hosted::<steps::UpdateService>(&config, &vars).err().unwrap();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("update-service reads ROLLOUT_TIMEOUT_SECONDS"), "{err}");
    }

    #[tokio::test]
    async fn a_hosted_step_answers_like_lambda() {
        let config = crate::cloud::sdk_config("http://127.0.0.1:9", "us-east-1").await;
        let vars = environment_of(&template(), steps::AwaitService::NAME);
        let invoke = hosted::<steps::AwaitService>(&config, &vars).unwrap();
        let err = invoke(json!({"deploymentId": "nope"})).await.unwrap_err();
        assert_eq!(err.error_type, "MalformedEvent");
        let err = invoke(json!({"deploymentId": "d-000000000000000000000001", "taskToken": ""})).await.unwrap_err();
        assert_eq!(err.error_type, "InvalidInput");
    }

    /// A function around `invoke`, held to `timeout`, under `faults`.
    fn function(timeout: Duration, faults: &str, invoke: Handler) -> Function {
        Function {
            logical_id: "TestFunction".into(),
            name: "test".into(),
            binary: "update-service".into(),
            environment: HashMap::new(),
            on_failure_queue: None,
            timeout,
            reserved: None,
            invoke,
            faults: Faults::new(super::super::faults::FaultPlan::parse(faults).unwrap()),
            meter: Meter::default(),
        }
    }

    /// A handler that counts the work it finished, after `work`.
    fn worker(done: &Arc<AtomicU64>, work: Duration) -> Handler {
        let done = done.clone();
        handler(move |_| {
            let done = done.clone();
            async move {
                tokio::time::sleep(work).await;
                done.fetch_add(1, Ordering::SeqCst);
                Ok(json!({"done": true}))
            }
        })
    }

    #[tokio::test]
    async fn an_invocation_past_its_timeout_is_stopped_and_answered_as_lambda_does() {
        let done = Arc::new(AtomicU64::new(0));
        let f = function(Duration::from_millis(100), "{}", worker(&done, Duration::from_millis(400)));
        let err = f.invoke(json!({})).await.unwrap_err();
        assert_eq!(err.error_type, "Sandbox.Timedout");
        assert!(err.error_message.ends_with("Task timed out after 0.10 seconds"), "{}", err.error_message);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(done.load(Ordering::SeqCst), 0, "the work it had not finished stays unfinished");
        let quick = function(Duration::from_secs(1), "{}", worker(&done, Duration::ZERO));
        assert_eq!(quick.invoke(json!({})).await.unwrap(), json!({"done": true}));
    }

    #[tokio::test]
    async fn reserved_concurrency_holds_queued_invocations_back_and_fails_none() {
        let (running, most) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (r, m) = (running.clone(), most.clone());
        let mut f = function(
            Duration::from_secs(5),
            "{}",
            handler(move |_| {
                let (r, m) = (r.clone(), m.clone());
                async move {
                    m.fetch_max(r.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok(json!({"done": true}))
                }
            }),
        );
        f.reserved = Some(Arc::new(tokio::sync::Semaphore::new(2)));
        let f = Arc::new(f);
        let all: Vec<_> = (0..8)
            .map(|_| {
                tokio::spawn({
                    let f = f.clone();
                    async move { f.invoke_queued(json!({})).await }
                })
            })
            .collect();
        for one in all {
            assert_eq!(one.await.unwrap().unwrap(), json!({"done": true}));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "at most the reserved two at once");
    }

    #[tokio::test]
    async fn a_panic_is_an_error_not_a_crash() {
        let f = function(Duration::from_secs(1), "{}", handler(|_| async { panic!("boom") }));
        assert_eq!(f.invoke(json!({})).await.unwrap_err().error_type, "Runtime.Panic");
    }

    #[tokio::test]
    async fn an_injected_fault_answers_an_error_after_the_work_is_done() {
        let done = Arc::new(AtomicU64::new(0));
        let plan = |fault: &str| {
            format!(r#"{{"functions": [{{"function": "update-service", "fraction": 1, "fault": "{fault}"}}]}}"#)
        };
        let failing = function(Duration::from_secs(1), &plan("failAfter"), worker(&done, Duration::ZERO));
        assert_eq!(failing.invoke(json!({})).await.unwrap_err().error_type, "Retryable");
        let crashing = function(Duration::from_secs(1), &plan("crashAfter"), worker(&done, Duration::ZERO));
        assert_eq!(crashing.invoke(json!({})).await.unwrap_err().error_type, "Runtime.ExitError");
        let started = Instant::now();
        let hanging = function(Duration::from_millis(200), &plan("timeOutAfter"), worker(&done, Duration::ZERO));
        assert_eq!(hanging.invoke(json!({})).await.unwrap_err().error_type, "Sandbox.Timedout");
        assert!(started.elapsed() >= Duration::from_millis(200), "held until its timeout");
        assert_eq!(done.load(Ordering::SeqCst), 3, "every one of them did its work");
        let other = function(
            Duration::from_secs(1),
            &plan("failAfter").replace("update-service", "roll-back"),
            worker(&done, Duration::ZERO),
        );
        assert!(other.invoke(json!({})).await.is_ok(), "a fault for another function leaves this one alone");
    }

    #[tokio::test]
    async fn forwarding_maps_results_and_function_errors() {
        let url = fake_watch().await;
        let ok = forwarder(&url, "on-image-push")(json!({"a": 1})).await.unwrap();
        assert_eq!(ok, json!({"function": "on-image-push", "got": {"a": 1}}));
        let err = forwarder(&url, "failing")(json!({})).await.unwrap_err();
        assert_eq!(err, LambdaError { error_type: "Retryable".into(), error_message: "try again".into() });
        let down = forwarder("http://127.0.0.1:9", "x")(json!({})).await.unwrap_err();
        assert_eq!(down.error_type, "Lambda.ServiceException");
    }
}
