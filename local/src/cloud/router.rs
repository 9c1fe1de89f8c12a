//! One endpoint for everything: ECS and ELBv2 calls go to the simulator,
//! Lambda Invoke to the function host, function URLs (`/lambda-url/…`) to
//! their functions, requests to the simulated load balancers' listeners
//! (`/elb/<name>/<port>/…`) to the simulator, EventBridge PutEvents through the
//! template's rules (and on to moto), CloudFormation (signed for
//! `cloudformation`, or `Version=2010-05-15`) to the local stack's description
//! ([`cloudformation`]), the rest to moto.
//!
//! The stack's own AWS calls pass the fault plan first ([`super::faults`]):
//! a throttle or 5xx answered in the protocol's own error shape, latency, or
//! the connection closed before any answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::cloudformation;
use super::faults::{CallFaultKind, FaultPlan};
use super::function_url::{self, UrlRequest};
use super::functions::error_body;
use super::{Cloud, PushRequest, cbor};
use crate::sim::api;
use crate::sim::requests::PATH_PREFIX as ELB_PREFIX;

pub fn router(cloud: Arc<Cloud>) -> Router {
    Router::new().fallback(dispatch).with_state(cloud)
}

/// Closes the connection a request came on, before any answer: what a
/// dropped connection looks like to the client (hyper's "connection closed
/// before message completed", which the SDK retries as a transient error).
#[derive(Clone)]
struct Hangup(Arc<tokio::sync::Notify>);

/// Serves `app` on `listener`, as `axum::serve` does (HTTP/1 and 2, the peer's
/// address as [`ConnectInfo`]: a function URL event's `sourceIp`), with each
/// connection able to be dropped by its request ([`Hangup`]).
pub async fn serve(listener: tokio::net::TcpListener, app: Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: try again shortly.
                tracing::warn!(error = %e, "router accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let hangup = Hangup(Arc::new(tokio::sync::Notify::new()));
            let signal = hangup.0.clone();
            let service = hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(hangup.clone());
                app.clone().oneshot(req.map(Body::new))
            });
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                served = conn => if let Err(e) = served {
                    tracing::debug!(error = %e, "router connection ended");
                },
                // Dropping the connection closes its socket, the request unanswered.
                () = signal.notified() => tracing::debug!(%peer, "injected fault: connection dropped"),
            }
        });
    }
}

/// Which AWS call a request is, and who made it: the SigV4 scope's service
/// and access key, and the operation (JSON protocols' `X-Amz-Target`, the
/// query protocol's `Action`, Lambda's Invoke path, RPC v2 CBOR's path).
#[derive(Debug, PartialEq, Eq)]
struct Call<'a> {
    service: &'a str,
    operation: String,
    access_key: &'a str,
    protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Json,
    Query,
    RestJson,
    Cbor,
}

impl Call<'_> {
    /// The hosted functions' and the state machine's calls (the others are
    /// the harness's, a peer tool's or a person's).
    fn is_the_stacks(&self) -> bool {
        self.access_key == super::FUNCTION_ACCESS_KEY || self.access_key == super::STATE_MACHINE_ACCESS_KEY
    }

    /// Who made the call, as the meter names callers.
    fn caller(&self) -> &str {
        if self.is_the_stacks() { super::meter::STACK } else { self.access_key }
    }
}

fn call_of<'a>(headers: &'a HeaderMap, path: &str, body: &[u8]) -> Option<Call<'a>> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    // `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, …`
    let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let access_key = parts.next()?;
    let service = parts.nth(2)?;
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let (operation, protocol) = if let Some(target) = header("x-amz-target") {
        (target.rsplit('.').next()?.to_owned(), Protocol::Json)
    } else if path.starts_with("/2015-03-31/functions/") {
        ("Invoke".to_owned(), Protocol::RestJson)
    } else if let Some((_, op)) = cbor::operation(path) {
        (op.to_owned(), Protocol::Cbor)
    } else {
        let action = form_urlencoded::parse(body).find(|(k, _)| k == "Action")?.1.into_owned();
        (action, Protocol::Query)
    };
    Some(Call { service, operation, access_key, protocol })
}

/// The answer for an injected throttle or server error, in the protocol's
/// and the service's own shape (the error codes of each service's model:
/// ECS `ServerException`, DynamoDB `InternalServerError`, ELBv2's query
/// `Throttling`, Lambda's 429 `TooManyRequestsException`).
fn injected_error(call: &Call<'_>, fault: CallFaultKind) -> Response {
    let (status, code, message) = match (fault, call.service) {
        (CallFaultKind::Throttle, "lambda") => (429, "TooManyRequestsException", "Rate Exceeded."),
        (CallFaultKind::Throttle, _) if call.protocol == Protocol::Query => (400, "Throttling", "Rate exceeded"),
        (CallFaultKind::Throttle, _) => (400, "ThrottlingException", "Rate exceeded"),
        (CallFaultKind::ServerError(s), "ecs") => (s, "ServerException", "injected fault: server error"),
        (CallFaultKind::ServerError(s), "dynamodb") => (s, "InternalServerError", "injected fault: server error"),
        (CallFaultKind::ServerError(s), "lambda") => (s, "ServiceException", "injected fault: server error"),
        (CallFaultKind::ServerError(503), _) => (503, "ServiceUnavailable", "injected fault: service unavailable"),
        (CallFaultKind::ServerError(s), _) => (s, "InternalFailure", "injected fault: server error"),
        (CallFaultKind::DropConnection | CallFaultKind::LatencyMillis(_), _) => {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let builder = Response::builder().status(status).header("x-amzn-errortype", code);
    let built = match call.protocol {
        Protocol::Json => builder
            .header("content-type", "application/x-amz-json-1.1")
            .body(Body::from(json!({"__type": code, "message": message}).to_string())),
        Protocol::RestJson => builder
            .header("content-type", "application/json")
            .body(Body::from(json!({"Type": "Service", "message": message}).to_string())),
        Protocol::Query => {
            let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
            builder.header("content-type", "text/xml").body(Body::from(format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            )))
        }
        Protocol::Cbor => match cbor::from_json(&json!({"__type": code, "message": message})) {
            Ok(bytes) => builder
                .header("content-type", "application/cbor")
                .header("smithy-protocol", "rpc-v2-cbor")
                .body(Body::from(bytes)),
            Err(_) => builder.body(Body::empty()),
        },
    };
    built.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The fault plan's decision for one request: `Some(answer)` to answer
/// instead of serving it. Only the stack's own calls are candidates (the
/// hosted functions' and the state machine's); latency is served after.
async fn apply_call_faults(cloud: &Cloud, call: &Call<'_>, extensions: &Extensions) -> Option<Response> {
    if !call.is_the_stacks() {
        return None;
    }
    let Some(fault) = cloud.faults.on_call(call.service, &call.operation) else {
        cloud.faults.count_call(call.service, &call.operation, false);
        return None;
    };
    tracing::info!(service = call.service, operation = %call.operation, ?fault, "injected fault");
    let answered = matches!(fault, CallFaultKind::LatencyMillis(_));
    cloud.faults.count_call(call.service, &call.operation, !answered);
    match fault {
        CallFaultKind::LatencyMillis(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        CallFaultKind::DropConnection => match extensions.get::<Hangup>() {
            Some(Hangup(signal)) => {
                signal.notify_one();
                // The connection task drops this request with its connection.
                std::future::pending::<()>().await;
                None
            }
            None => Some(injected_error(call, CallFaultKind::ServerError(502))),
        },
        fault => Some(injected_error(call, fault)),
    }
}

impl Cloud {
    /// `<endpoint>/elb/<name>/<port>`: the local URL of the listener on `port` of a
    /// simulated load balancer named by name or ARN (what its DNS name and port are on
    /// AWS); append the request path. `None` when there is no such load balancer; a port
    /// without a listener is answered 503 (see `local/README.md`).
    pub fn load_balancer_url(&self, name_or_arn: &str, port: u16) -> Option<String> {
        let path = self.sim.load_balancer_path(name_or_arn, i64::from(port))?;
        Some(format!("{}{path}", self.endpoint))
    }
}

async fn dispatch(
    State(cloud): State<Arc<Cloud>>,
    method: Method,
    uri: Uri,
    version: Version,
    extensions: Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path.starts_with(function_url::PATH_PREFIX) {
        let source_ip = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "127.0.0.1".to_owned(), |ConnectInfo(peer)| peer.ip().to_string());
        return function_url::serve(&cloud, UrlRequest { method, uri, version, headers, body, source_ip }).await;
    }
    if path.starts_with(ELB_PREFIX) {
        return api::traffic::serve(&cloud.sim, &method, &uri, &headers);
    }
    if path.starts_with("/_sim/") || path == "/_sim" {
        let req = http::Request::builder().method(method).uri(uri.clone()).body(Body::from(body));
        return match req {
            Ok(req) => match api::router(cloud.sim.clone()).oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            },
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
    }
    if let Some(rest) = path.strip_prefix("/_local/") {
        return local_api(&cloud, &method, rest, &body).await;
    }
    let call = call_of(&headers, path, &body);
    if let Some(call) = &call {
        cloud.meter.count_call(call.caller(), call.service, &call.operation);
        if let Some(answer) = apply_call_faults(&cloud, call, &extensions).await {
            return answer;
        }
    }
    // The stack's DynamoDB reads: how many items each returned.
    let counts_items = call.as_ref().is_some_and(|c| c.is_the_stacks() && c.service == "dynamodb");
    if let Some(name) = path.strip_prefix("/2015-03-31/functions/").and_then(|p| p.strip_suffix("/invocations")) {
        let name = percent_decode(name);
        let kind = headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()).unwrap_or("RequestResponse");
        return invoke(&cloud, &name, kind, &body).await;
    }
    // Before the simulator's ELBv2, which takes any `Action=` without a `Version`.
    if cloudformation::is_cloudformation(&headers, uri.query(), &body) {
        return cloudformation::serve(&cloud, &headers, uri.query(), &body);
    }
    if let Some(r) = api::try_handle(&cloud.sim, &headers, uri.query(), &body) {
        return r;
    }
    if let Some((service, op)) = cbor::operation(path)
        && headers.get("smithy-protocol").and_then(|v| v.to_str().ok()) == Some("rpc-v2-cbor")
    {
        return rpc_v2_cbor(&cloud, service, op, &headers, &body).await;
    }
    if headers.get("x-amz-target").and_then(|v| v.to_str().ok()) == Some("AWSEvents.PutEvents")
        && let Ok(req) = serde_json::from_slice::<Value>(&body)
    {
        for entry in req.get("Entries").and_then(Value::as_array).into_iter().flatten() {
            cloud.put_event(entry);
        }
    }
    let moto = cloud.moto.of(call.as_ref().map_or("", |c| c.service));
    proxy(&cloud, moto, method, &uri, &headers, body, counts_items).await
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lambda's Invoke API: `RequestResponse` waits, `Event` queues (202),
/// `DryRun` checks (204). Function errors are HTTP 200 with
/// `X-Amz-Function-Error: Unhandled`, as Lambda answers them.
async fn invoke(cloud: &Arc<Cloud>, name: &str, kind: &str, body: &[u8]) -> Response {
    let Some(function) = cloud.host.find(name).cloned() else {
        let msg = json!({"Type": "User", "message": format!("Function not found: {name}")});
        let mut r = (StatusCode::NOT_FOUND, msg.to_string()).into_response();
        r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("ResourceNotFoundException"));
        return r;
    };
    let payload: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                let msg = json!({"Type": "User", "message": format!("Could not parse request body into json: {e}")});
                let mut r = (StatusCode::BAD_REQUEST, msg.to_string()).into_response();
                r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("InvalidRequestContentException"));
                return r;
            }
        }
    };
    match kind {
        "Event" => {
            tokio::spawn(async move {
                let _ = function.invoke(payload).await;
            });
            StatusCode::ACCEPTED.into_response()
        }
        "DryRun" => StatusCode::NO_CONTENT.into_response(),
        _ => match function.invoke(payload).await {
            Ok(out) => (StatusCode::OK, out.to_string()).into_response(),
            Err(e) => {
                let mut r = (StatusCode::OK, error_body(&e).to_string()).into_response();
                r.headers_mut().insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
                r
            }
        },
    }
}

/// The local cloud's own control API.
async fn local_api(cloud: &Arc<Cloud>, method: &Method, rest: &str, body: &[u8]) -> Response {
    match rest {
        "health" => (StatusCode::OK, "ok").into_response(),
        // The fault plan in force and what it injected; PUT replaces it.
        "faults" if method == Method::PUT => {
            match std::str::from_utf8(body).map_err(|e| e.to_string()).and_then(|text| {
                FaultPlan::parse(if text.trim().is_empty() { "{}" } else { text }).map_err(|e| e.to_string())
            }) {
                Ok(plan) => {
                    cloud.faults.set(plan);
                    faults_report(cloud)
                }
                Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
            }
        }
        "faults" => faults_report(cloud),
        "events" => (StatusCode::OK, Value::Array(cloud.delivered()).to_string()).into_response(),
        // The functions' embedded-metric documents, as CloudWatch Logs holds them.
        "metrics" => (StatusCode::OK, Value::Array(super::emf_log::documents()).to_string()).into_response(),
        "push" => {
            let req: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return (StatusCode::BAD_REQUEST, format!("push: {e}")).into_response(),
            };
            let text = |k: &str| req.get(k).and_then(Value::as_str);
            let push = PushRequest {
                image: text("image").unwrap_or_default().to_owned(),
                behavior: text("behavior").unwrap_or("healthy").to_owned(),
                build: text("build").map(str::to_owned),
                event: req.get("event").and_then(Value::as_bool).unwrap_or(true),
            };
            match cloud.push_image(&push).await {
                Ok(pushed) => (StatusCode::OK, serde_json::to_string(&pushed).unwrap_or_default()).into_response(),
                Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            }
        }
        // One reconciler pass now, instead of waiting for its schedule.
        "reconcile" => match cloud.reconcile_now().await {
            Ok(report) => (StatusCode::OK, report.to_string()).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
        },
        _ => (StatusCode::NOT_FOUND, format!("no /_local/{rest}")).into_response(),
    }
}

fn faults_report(cloud: &Cloud) -> Response {
    let report =
        json!({"plan": cloud.faults.plan(), "injected": cloud.faults.injected(), "calls": cloud.faults.calls()});
    (StatusCode::OK, report.to_string()).into_response()
}

/// An RPC v2 CBOR call (CloudWatch) as the awsJson 1.0 call moto serves, and
/// moto's answer back as CBOR (see [`cbor`]).
async fn rpc_v2_cbor(cloud: &Cloud, service: &str, op: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let cbor_answer = |status: StatusCode, v: &Value| match cbor::from_json(v) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header("content-type", "application/cbor")
            .header("smithy-protocol", "rpc-v2-cbor")
            .body(Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let input = match cbor::to_json(body) {
        Ok(v) => v,
        Err(e) => {
            return cbor_answer(
                StatusCode::BAD_REQUEST,
                &json!({"__type": "SerializationException", "message": e.to_string()}),
            );
        }
    };
    let mut req = cloud
        .http
        .post(format!("{}/", cloud.moto.of("monitoring")))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("{service}.{op}"))
        .body(input.to_string());
    if let Some(auth) = headers.get("authorization") {
        req = req.header("authorization", auth);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("moto: {e}")).into_response(),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let text = resp.text().await.unwrap_or_default();
    let answer: Value = if text.is_empty() {
        json!({})
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| json!({"__type": "InternalFailure", "message": text}))
    };
    cbor_answer(status, &answer)
}

/// Hands the request to `moto` (its service's) unchanged and its answer back.
async fn proxy(
    cloud: &Cloud,
    moto: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    count_items: bool,
) -> Response {
    let url = format!("{moto}{}", uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut req = cloud.http.request(method, url).body(body);
    for (k, v) in headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let mut out = Response::builder().status(status.as_u16());
            for (k, v) in resp.headers() {
                if k != "transfer-encoding" && k != "content-length" && k != "connection" {
                    out = out.header(k, v);
                }
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            if count_items && status.is_success() {
                cloud.meter.count_items(&bytes);
            }
            out.body(Body::from(bytes)).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("moto: {e}")).into_response(),
    }
}
