//! Events reach an EventBridge PutEvents endpoint and in-process subscribers.

use std::sync::{Arc, Mutex};

use autodeploy_local::sim::Behavior;
use autodeploy_local::sim::eventbridge::EventBridgeSink;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;

use crate::common::{self, Setup};

type Seen = Arc<Mutex<Vec<Value>>>;

async fn put_events(
    State(seen): State<Seen>,
    headers: HeaderMap,
    body: Bytes,
) -> ([(&'static str, &'static str); 1], String) {
    assert_eq!(headers.get("x-amz-target").and_then(|v| v.to_str().ok()), Some("AWSEvents.PutEvents"));
    let req: Value = serde_json::from_slice(&body).expect("PutEvents JSON");
    let entries = req["Entries"].as_array().cloned().unwrap_or_default();
    let n = entries.len();
    seen.lock().unwrap().extend(entries);
    let ids: Vec<Value> = (0..n).map(|i| serde_json::json!({"EventId": format!("e{i}")})).collect();
    (
        [("content-type", "application/x-amz-json-1.1")],
        serde_json::json!({"FailedEntryCount": 0, "Entries": ids}).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_put_to_eventbridge_and_channels() {
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bus_url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/", post(put_events)).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let env = common::start().await;
    env.sim.add_sink(Arc::new(EventBridgeSink::spawn(&bus_url, "us-east-1", "autodeploy")));
    let mut rx = env.sim.subscribe();
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    env.service(&v1, Setup { desired: 2, ..Setup::default() }).await;
    assert!(env.settle_service(300));

    let mut channel = Vec::new();
    while let Ok(e) = rx.try_recv() {
        channel.push(e);
    }
    assert_eq!(channel, env.sim.events(), "subscribers see every event, in order");
    let completed =
        channel.iter().find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_COMPLETED").unwrap().clone();

    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = seen.lock().unwrap().clone();
        if entries.len() == channel.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(entries.len(), channel.len(), "every event forwarded");
    let put = entries.iter().find(|e| e["Detail"].as_str().unwrap().contains("SERVICE_DEPLOYMENT_COMPLETED")).unwrap();
    assert_eq!(put["Source"], "aws.ecs");
    assert_eq!(put["DetailType"], "ECS Deployment State Change");
    assert_eq!(put["EventBusName"], "autodeploy");
    assert_eq!(put["Resources"], completed["resources"]);
    let detail: Value = serde_json::from_str(put["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail, completed["detail"]);
    assert!(put["Time"].is_number());
}
