//! The chaos suite at its smoke size: each scenario on its own local cloud,
//! its checks all passing (`make chaos` runs the full size and writes the
//! reliability table).

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::chaos::{self, Size};

async fn scenario(name: &str) {
    let s = chaos::scenarios(Size::Smoke, 1).into_iter().find(|s| s.name == name).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let report = chaos::run(repo, &s, Duration::from_secs(600)).await.unwrap();
    println!("{}", chaos::table(std::slice::from_ref(&report), Size::Smoke, 1));
    assert!(report.passed(), "{}: {:#?}", name, report.problems);
    assert!(report.faults_injected > 0, "{name}: nothing was injected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_and_5xx_calls() {
    scenario("throttled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ecs_event_lost() {
    scenario("ecs-events-lost").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ecs_event_three_times_and_reordered() {
    scenario("ecs-events-repeated").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_failing_once_after_its_work() {
    scenario("steps-fail-after-work").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ecr_push_event_lost() {
    scenario("ecr-events-lost").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_with_transient_failures() {
    scenario("burst").await;
}
