//! The demo end to end, in-process: what `make demo` shows must hold — v2
//! SUCCEEDED, the bad v3 ROLLED_BACK with v2 serving throughout, v4
//! SUCCEEDED, v5 SUPERSEDED by v6 pushed within a second, v6 SUCCEEDED with
//! every target healthy, notifications received, and healthy
//! tasks never below the minimum (from the simulator's recorded series).

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::CloudConfig;
use autodeploy_local::cloud::demo::{self, view::Style};
use autodeploy_local::cloud::seed::SeedStrategy;
use autodeploy_shared::domain::DeploymentStatus;

/// The demo's lines through the test harness's capture (shown if the test fails).
struct Captured;

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        print!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The demo's local cloud at 10× on a free port, with the demo's poll and
/// coalescing settings, and output captured in plain text.
fn demo_setup() -> (CloudConfig, demo::Output) {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 10.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "2".into());
    (cfg, demo::Output::new(Style::plain(), Captured))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_goes_as_promised() {
    let (cfg, out) = demo_setup();
    let report =
        tokio::time::timeout(Duration::from_secs(180), demo::demo(cfg, "unhealthy", SeedStrategy::Rolling, &out))
            .await
            .expect("the demo finishes in time")
            .expect("the demo runs");

    assert!(report.ok(), "{report:#?}");
    let outcomes: Vec<_> = report.steps.iter().map(|s| (s.step.tag.as_str(), s.actual)).collect();
    assert_eq!(
        outcomes,
        [
            ("v2", Some(DeploymentStatus::Succeeded)),
            ("v3", Some(DeploymentStatus::RolledBack)),
            ("v4", Some(DeploymentStatus::Succeeded)),
            ("v6", Some(DeploymentStatus::Succeeded)),
        ]
    );
    for s in &report.steps {
        assert!(s.min_healthy.is_some_and(|m| m >= report.floor), "{s:#?}");
        assert!(s.bus_events >= 2 && s.sns_messages >= 1, "{s:#?}");
    }
    let v3 = &report.steps[1];
    assert!(v3.min_serving.is_some_and(|m| m >= report.floor), "v2 kept serving: {v3:#?}");
    assert!(v3.failure_reason.is_some(), "{v3:#?}");
    assert_eq!(report.floor, 2);
    assert_eq!(report.final_healthy_targets, 4);
    assert_eq!(report.final_versions.len(), 1);
    assert_eq!((report.final_versions[0].label.as_str(), report.final_versions[0].healthy), ("v6", 4));
    assert_eq!(report.steps[3].step.preceded_by.as_ref().map(|(t, _)| t.as_str()), Some("v5"));
    assert!(report.steps[3].problems.is_empty(), "v5 SUPERSEDED: {:#?}", report.steps[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blue_green_demo_keeps_blue_serving_and_shows_the_traffic() {
    let (cfg, out) = demo_setup();
    let report =
        tokio::time::timeout(Duration::from_secs(240), demo::demo(cfg, "crash", SeedStrategy::BlueGreen, &out))
            .await
            .expect("the demo finishes in time")
            .expect("the demo runs");

    assert!(report.ok(), "{report:#?}");
    let outcomes: Vec<_> = report.steps.iter().map(|s| (s.step.tag.as_str(), s.actual)).collect();
    assert_eq!(outcomes, [("v2", Some(DeploymentStatus::Succeeded)), ("v3", Some(DeploymentStatus::RolledBack))]);
    let v3 = &report.steps[1];
    assert!(v3.min_serving.is_some_and(|m| m >= report.floor), "v2 kept serving: {v3:#?}");
    // The service ends on v2, wherever blue/green left it, with all of production.
    assert_eq!(report.final_healthy_targets, 4);
    assert_eq!(report.final_versions.len(), 1, "{:#?}", report.final_versions);
    let v2 = &report.final_versions[0];
    assert_eq!((v2.label.as_str(), v2.healthy, v2.production_traffic), ("v2", 4, Some(100)));
}
