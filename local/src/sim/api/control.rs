//! The control API (`/_sim/*`), JSON in and out:
//!
//! | Method | Path | Body / query | Effect |
//! |---|---|---|---|
//! | GET  | `/_sim/health` | | `ok` |
//! | GET  | `/_sim/state` | | snapshot of everything |
//! | GET  | `/_sim/series` | `?cluster=C&service=S` | recorded samples of a service |
//! | GET  | `/_sim/events` | `?since=N` | emitted events from index N |
//! | GET  | `/_sim/images` | | the image catalogue |
//! | POST | `/_sim/images` | `{image, digest?, behavior}` or `{images: [...]}` | add images |
//! | GET  | `/_sim/clock` | | time and mode |
//! | POST | `/_sim/clock` | `{speed?, manual?}` | change mode |
//! | POST | `/_sim/clock/advance` | `{seconds}` | step simulated time |

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::sim::clock::{ClockMode, iso_seconds};
use crate::sim::{Behavior, Sim};

/// Longest single advance (one simulated week), so a typo cannot hang the server.
const MAX_ADVANCE_S: u64 = 7 * 24 * 3600;

pub fn routes() -> Router<Sim> {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/state", get(state))
        .route("/series", get(series))
        .route("/events", get(events))
        .route("/images", get(images).post(add_images))
        .route("/clock", get(clock).post(set_clock))
        .route("/clock/advance", post(advance))
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg.into()}))).into_response()
}

/// Parses a JSON body without axum's rejection types, so errors are JSON too.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn state(State(sim): State<Sim>) -> Json<Value> {
    Json(sim.state())
}

#[derive(Deserialize)]
struct SeriesQuery {
    cluster: Option<String>,
    service: Option<String>,
}

async fn series(State(sim): State<Sim>, Query(q): Query<SeriesQuery>) -> Response {
    let Some(service) = q.service else {
        return bad("query parameter 'service' is required");
    };
    match sim.series(q.cluster.as_deref(), &service) {
        Some(samples) => Json(json!({"service": service, "samples": samples})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no series for service '{service}'")})))
            .into_response(),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    since: Option<usize>,
}

async fn events(State(sim): State<Sim>, Query(q): Query<EventsQuery>) -> Json<Value> {
    let all = sim.events();
    let since = q.since.unwrap_or(0).min(all.len());
    Json(json!({"events": &all[since..], "next": all.len()}))
}

async fn images(State(sim): State<Sim>) -> Json<Value> {
    Json(sim.state()["images"].clone())
}

#[derive(Deserialize)]
struct ImageSpec {
    image: String,
    digest: Option<String>,
    behavior: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ImagesBody {
    Many { images: Vec<ImageSpec> },
    One(ImageSpec),
}

async fn add_images(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Response {
    let specs = match body::<ImagesBody>(&bytes) {
        Ok(ImagesBody::Many { images }) => images,
        Ok(ImagesBody::One(one)) => vec![one],
        Err(e) => return bad(e),
    };
    let mut keys = Vec::new();
    for s in specs {
        let behavior: Behavior = match s.behavior.parse() {
            Ok(b) => b,
            Err(e) => return bad(e.to_string()),
        };
        match sim.register_image(&s.image, s.digest.as_deref(), behavior) {
            Ok(k) => keys.extend(k),
            Err(e) => return bad(e.to_string()),
        }
    }
    Json(json!({"registered": keys})).into_response()
}

fn clock_json(sim: &Sim) -> Value {
    let (now, mode) = (sim.now(), sim.clock_mode());
    json!({"now": now / 1000, "time": iso_seconds(now), "speed": mode.speed, "manual": mode.manual})
}

async fn clock(State(sim): State<Sim>) -> Json<Value> {
    Json(clock_json(&sim))
}

#[derive(Deserialize)]
struct ClockBody {
    speed: Option<f64>,
    manual: Option<bool>,
}

async fn set_clock(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Response {
    let b: ClockBody = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    let mut mode: ClockMode = sim.clock_mode();
    if let Some(s) = b.speed {
        if !(s.is_finite() && s > 0.0) {
            return bad("speed must be a positive number");
        }
        mode.speed = s;
    }
    if let Some(m) = b.manual {
        mode.manual = m;
    }
    sim.set_clock_mode(mode);
    Json(clock_json(&sim)).into_response()
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: u64,
}

async fn advance(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Response {
    let b: AdvanceBody = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    if b.seconds > MAX_ADVANCE_S {
        return bad(format!("seconds must be at most {MAX_ADVANCE_S}"));
    }
    // Stepping holds the simulator lock; keep it off the async workers.
    let s = sim.clone();
    let _ = tokio::task::spawn_blocking(move || s.advance(b.seconds)).await;
    Json(clock_json(&sim)).into_response()
}
