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
use crate::sim::{Behavior, ImageError, Sim};

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

/// Why a control request was refused. Every one answers `{"error": message}`:
/// 404 for a service without a series, 400 for the rest.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("invalid JSON body: {0}")]
    Body(serde_json::Error),
    #[error("query parameter '{0}' is required")]
    MissingQuery(&'static str),
    #[error("no series for service '{0}'")]
    NoSeries(String),
    /// An unknown behaviour, or an image reference or digest the catalogue refuses.
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("speed must be a positive number")]
    Speed,
    #[error("seconds must be at most {}", MAX_ADVANCE_S)]
    TooFar,
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NoSeries(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// Parses a JSON body without axum's rejection types, so errors are JSON too.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(ControlError::Body)
}

async fn state(State(sim): State<Sim>) -> Json<Value> {
    Json(sim.state())
}

#[derive(Deserialize)]
struct SeriesQuery {
    cluster: Option<String>,
    service: Option<String>,
}

async fn series(State(sim): State<Sim>, Query(q): Query<SeriesQuery>) -> Result<Json<Value>, ControlError> {
    let service = q.service.ok_or(ControlError::MissingQuery("service"))?;
    match sim.series(q.cluster.as_deref(), &service) {
        Some(samples) => Ok(Json(json!({"service": service, "samples": samples}))),
        None => Err(ControlError::NoSeries(service)),
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

async fn add_images(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Result<Json<Value>, ControlError> {
    let specs = match body::<ImagesBody>(&bytes)? {
        ImagesBody::Many { images } => images,
        ImagesBody::One(one) => vec![one],
    };
    let mut keys = Vec::new();
    for s in specs {
        let behavior: Behavior = s.behavior.parse()?;
        keys.extend(sim.register_image(&s.image, s.digest.as_deref(), behavior)?);
    }
    Ok(Json(json!({"registered": keys})))
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

async fn set_clock(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Result<Json<Value>, ControlError> {
    let b: ClockBody = body(&bytes)?;
    let mut mode: ClockMode = sim.clock_mode();
    if let Some(s) = b.speed {
        if !(s.is_finite() && s > 0.0) {
            return Err(ControlError::Speed);
        }
        mode.speed = s;
    }
    if let Some(m) = b.manual {
        mode.manual = m;
    }
    sim.set_clock_mode(mode);
    Ok(Json(clock_json(&sim)))
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: u64,
}

async fn advance(State(sim): State<Sim>, bytes: axum::body::Bytes) -> Result<Json<Value>, ControlError> {
    let b: AdvanceBody = body(&bytes)?;
    if b.seconds > MAX_ADVANCE_S {
        return Err(ControlError::TooFar);
    }
    // Stepping holds the simulator lock; keep it off the async workers.
    let s = sim.clone();
    let _ = tokio::task::spawn_blocking(move || s.advance(b.seconds)).await;
    Ok(Json(clock_json(&sim)))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;
    use crate::sim::SimConfig;

    async fn call(method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
        let app = routes().with_state(Sim::new(SimConfig::default()));
        let req = Request::builder().method(method).uri(uri).body(Body::from(body.to_owned())).unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn refusals_are_json_with_the_reason() {
        let (status, v) = call("POST", "/clock/advance", "{").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().starts_with("invalid JSON body: "), "{v}");
        let (status, v) = call("POST", "/clock/advance", r#"{"seconds": 999999999}"#).await;
        assert_eq!((status, v), (StatusCode::BAD_REQUEST, json!({"error": "seconds must be at most 604800"})));
        let (status, v) = call("POST", "/clock", r#"{"speed": -1}"#).await;
        assert_eq!((status, v), (StatusCode::BAD_REQUEST, json!({"error": "speed must be a positive number"})));
        let (status, v) = call("GET", "/series", "").await;
        assert_eq!((status, v), (StatusCode::BAD_REQUEST, json!({"error": "query parameter 'service' is required"})));
        let (status, v) = call("GET", "/series?service=web", "").await;
        assert_eq!((status, v), (StatusCode::NOT_FOUND, json!({"error": "no series for service 'web'"})));
        let (status, v) = call("POST", "/images", r#"{"image": "web:v1", "behavior": "sleepy"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().starts_with("unknown behaviour 'sleepy'"), "{v}");
    }
}
