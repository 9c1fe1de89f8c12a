//! The benchmark at its smoke size (`make bench` runs it in full): one good
//! deploy per tool on one simulator, a small burst and the cost of one ECS
//! event at 1 and 2 deployments in flight. What it checks is that every
//! figure is measured and every tool did what it says, never how fast.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use autodeploy_local::cloud::bench::peers::Tool;
use autodeploy_local::cloud::bench::{self, BenchArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_deploy_per_tool_and_every_figure_measured() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile_dir();
    let args = BenchArgs {
        smoke: true,
        deploys: 1,
        speed: 10.0,
        tools: None,
        no_peers: false,
        no_functions: true,
        no_scale: false,
        burst: Vec::new(),
        write: None,
        readme: None,
        repo: Some(repo),
    };
    let r = bench::run(&args).await.unwrap();
    let text = bench::report::markdown(&r);
    println!("{text}");
    bench::write_all(&out, &r, &text).unwrap();

    // Each tool deployed its build, the simulator's COMPLETED instant and
    // the tool's calls were seen.
    assert_eq!(r.runs.len(), 3);
    for tool in Tool::ALL {
        let run = r.runs.iter().find(|x| x.tool == tool).unwrap();
        assert!(run.correct, "{tool:?}: {run:#?}");
        assert!(run.detection_ms.is_some_and(|d| d >= 0.0), "{tool:?}: no detection measured");
        assert!(run.ecs_calls > 0, "{tool:?}: no ECS call counted");
    }
    // The pipeline's cost from its execution's history and its invocations.
    let cost = r.costs.first().unwrap();
    assert!(cost.transitions > 0 && cost.invocations > 0 && cost.dollars > 0.0, "{cost:#?}");
    assert_eq!(cost.invocations_by_function.get("on-image-push"), Some(&1));
    assert!(cost.polling.transitions > 0);
    // The burst passed the chaos suite's checks; each level of the event curve was measured.
    assert!(r.bursts.iter().all(|b| b.report.passed()), "{:#?}", r.bursts);
    assert_eq!(r.event_costs.iter().map(|c| c.in_flight).collect::<Vec<_>>(), [1, 2]);
    assert!(r.event_costs.iter().all(|c| c.events == 5 && c.dynamodb_items_read > 0.0), "{:#?}", r.event_costs);
    // Every target is reported (met or not); what this run did not measure says so.
    assert!(r.targets.iter().any(|t| t.target.starts_with("detection") && t.met.is_some()));
    assert!(r.targets.iter().any(|t| t.met.is_none()));

    // What it writes: the JSON, the table and the picture.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("latest.json")).unwrap()).unwrap();
    assert_eq!(json["tools"].as_array().unwrap().len(), 3);
    assert!(json["runs"][0]["detectionMs"].is_number());
    assert!(std::fs::read_to_string(out.join("latest.md")).unwrap().contains("| ecs-autodeploy |"));
    let svg = std::fs::read_to_string(out.join("latest.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("ecs-autodeploy"));
}

/// A fresh directory under the system's temp dir.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("autodeploy-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
