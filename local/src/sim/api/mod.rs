//! HTTP front end: ECS (awsJson1_1) and ELBv2 (awsQuery) on `POST /`, the control API
//! under `/_sim/`, and requests to the load balancers' listeners under `/elb/`
//! ([`traffic`]). [`router`] can be mounted by a larger local cloud; [`try_handle`] lets a
//! router that also serves other AWS services pass ECS/ELB requests through.

pub mod control;
pub mod ecs;
pub mod elb;
pub mod error;
pub mod traffic;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

use crate::sim::Sim;
use error::{EcsError, ElbError};

/// The ELBv2 API version that marks an awsQuery request as ELBv2.
pub const ELB_VERSION: &str = "2015-12-01";

/// Routes: `POST /` (ECS and ELBv2), `/_sim/*` (control API) and `/elb/*` (listeners).
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/", post(aws))
        .nest("/_sim", control::routes())
        .route("/elb/{*rest}", any(listener))
        .with_state(sim)
}

async fn listener(State(sim): State<Sim>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    traffic::serve(&sim, &method, &uri, &headers)
}

/// Serves [`router`] on `listener` and drives the clock in real-time mode.
pub async fn serve(listener: tokio::net::TcpListener, sim: Sim) -> std::io::Result<()> {
    let _clock = sim.start_clock();
    axum::serve(listener, router(sim)).await
}

/// Answers the request if it is an ECS or ELBv2 API call; `None` otherwise.
pub fn try_handle(sim: &Sim, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Option<Response> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let op = target.strip_prefix(ecs::TARGET_PREFIX)?;
        return Some(ecs::handle(sim, op, body));
    }
    let mut params = elb::params::Params::parse(body);
    if let Some(q) = query {
        params.0.extend(elb::params::Params::parse(q.as_bytes()).0);
    }
    let version = params.get("Version");
    (params.get("Action").is_some() && version.is_none_or(|v| v == ELB_VERSION)).then(|| elb::handle(sim, &params))
}

async fn aws(State(sim): State<Sim>, headers: HeaderMap, uri: Uri, body: Bytes) -> Response {
    if let Some(r) = try_handle(&sim, &headers, uri.query(), &body) {
        return r;
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return EcsError::new("UnknownOperationException", format!("Unknown X-Amz-Target '{target}'")).into_response();
    }
    ElbError::new("MissingAction", "Expected an ECS (X-Amz-Target) or ELBv2 (Action=…&Version=2015-12-01) request")
        .into_response_with("00000000-0000-4000-a000-000000000000")
}
