//! Emitted events have the documented shapes: the samples from the ECS Developer Guide
//! (AWS's documented samples, kept in `tests/fixtures/`).

use std::collections::BTreeSet;

use autodeploy_local::sim::Behavior;
use serde_json::Value;

use crate::common::{self, Setup};

const TASK_RUNNING: &str = include_str!("../fixtures/ecs-task-state-change-running.json");
const DEPLOYMENT_IN_PROGRESS: &str = include_str!("../fixtures/ecs-deployment-in-progress.json");
const DEPLOYMENT_COMPLETED: &str = include_str!("../fixtures/ecs-deployment-completed.json");
const DEPLOYMENT_FAILED: &str = include_str!("../fixtures/ecs-deployment-failed.json");
const STEADY_STATE: &str = include_str!("../fixtures/ecs-service-action-steady-state.json");

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn sample(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn is_iso_seconds(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.len() == 20 && s.ends_with('Z')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_match_the_documented_samples() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let v2 = common::image(&env.sim, "v2", Behavior::Crash);
    env.service(&v1, Setup { desired: 2, ..Setup::default() }).await;
    assert!(env.settle_service(300));
    let td2 = env.task_def(&v2).await;
    let id = env.update(&td2).await.deployments()[0].id().unwrap().to_string();
    assert_eq!(env.settle(&id, 900), "FAILED");
    let events = env.sim.events();

    for (fixture, name) in [
        (DEPLOYMENT_IN_PROGRESS, "SERVICE_DEPLOYMENT_IN_PROGRESS"),
        (DEPLOYMENT_COMPLETED, "SERVICE_DEPLOYMENT_COMPLETED"),
        (DEPLOYMENT_FAILED, "SERVICE_DEPLOYMENT_FAILED"),
        (STEADY_STATE, "SERVICE_STEADY_STATE"),
    ] {
        let want = sample(fixture);
        let got = events.iter().find(|e| e["detail"]["eventName"] == name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(keys(got), keys(&want), "{name} envelope");
        assert_eq!(keys(&got["detail"]), keys(&want["detail"]), "{name} detail");
        assert_eq!(got["detail-type"], want["detail-type"]);
        assert_eq!(got["source"], "aws.ecs");
        assert_eq!(got["detail"]["eventType"], want["detail"]["eventType"], "{name}");
        assert_eq!((got["account"].as_str(), got["region"].as_str()), (Some("123456789012"), Some("us-east-1")));
        assert!(is_iso_seconds(got["time"].as_str().unwrap()), "{}", got["time"]);
        assert!(
            got["resources"][0].as_str().unwrap().starts_with("arn:aws:ecs:us-east-1:123456789012:service/apps/web")
        );
    }
    let failed = events.iter().find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED").unwrap();
    assert_eq!(
        failed["detail"]["reason"],
        sample(DEPLOYMENT_FAILED)["detail"]["reason"],
        "crash: 'task failed to start'"
    );
    assert_eq!(failed["detail"]["deploymentId"], id.as_str());

    let want = sample(TASK_RUNNING);
    let got = events
        .iter()
        .find(|e| e["detail-type"] == "ECS Task State Change" && e["detail"]["lastStatus"] == "RUNNING")
        .expect("a RUNNING task event");
    assert_eq!(keys(got), keys(&want));
    let missing: Vec<_> = keys(&want["detail"]).difference(&keys(&got["detail"])).cloned().collect();
    assert!(missing.is_empty(), "task detail lacks {missing:?}");
    let (c, wc) = (&got["detail"]["containers"][0], &want["detail"]["containers"][0]);
    let missing: Vec<_> = keys(wc).difference(&keys(c)).cloned().collect();
    assert!(missing.is_empty(), "container lacks {missing:?}");
    let names = |v: &Value| -> BTreeSet<String> {
        v["attachments"][0]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(&want["detail"]).is_subset(&names(&got["detail"])));
    assert_eq!(got["detail"]["attachments"][0]["type"], "eni");
    assert_eq!(got["detail"]["group"], "service:web");
    assert!(got["detail"]["startedBy"].as_str().unwrap().starts_with("ecs-svc/"));
    assert!(chrono::DateTime::parse_from_rfc3339(got["detail"]["startedAt"].as_str().unwrap()).is_ok());

    let stopped = events
        .iter()
        .find(|e| e["detail-type"] == "ECS Task State Change" && e["detail"]["stopCode"] == "EssentialContainerExited")
        .expect("a crashed task event");
    assert_eq!(stopped["detail"]["desiredStatus"], "STOPPED");
    assert_eq!(stopped["detail"]["stoppedReason"], "Essential container in task exited");
    assert_eq!(stopped["detail"]["containers"][0]["exitCode"], 1);
}
