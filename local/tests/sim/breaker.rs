//! Bad builds: the circuit breaker fails the deployment and rolls back while the old
//! version keeps serving.

use autodeploy_local::sim::Behavior;
use aws_sdk_ecs::types::{DeploymentRolloutState, DesiredStatus};

use crate::common::{self, CLUSTER, SERVICE, Setup, assert_limits};

/// Rolls out a bad `behavior` (None = not in the catalogue); returns (stop codes/reasons
/// of the failed tasks) after asserting the rollback.
async fn bad_build_rolls_back(behavior: Option<Behavior>, setup: Setup) -> Vec<(String, String)> {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let bad = match behavior {
        Some(b) => common::image(&env.sim, "v2", b),
        None => format!("{}@sha256:{:0>64}", common::REPO, "dead"),
    };
    env.service(&v1, setup).await;
    assert!(env.settle_service(600));
    let td1 = env.describe().await.task_definition().unwrap().to_string();
    let from = env.sim.now() / 1000;
    let td2 = env.task_def(&bad).await;
    let failed_id = env.update(&td2).await.deployments()[0].id().unwrap().to_string();

    assert_eq!(env.settle(&failed_id, 1800), "FAILED", "{behavior:?}");
    let svc = env.describe().await;
    let rollback = &svc.deployments()[0];
    let failed =
        svc.deployments().iter().find(|d| d.id() == Some(failed_id.as_str())).expect("failed deployment listed");
    assert_eq!(failed.status(), Some("ACTIVE"));
    assert_eq!(failed.rollout_state(), Some(&DeploymentRolloutState::Failed));
    assert!(failed.rollout_state_reason().unwrap().starts_with("ECS deployment circuit breaker: "));
    assert!(failed.failed_tasks() >= 3, "threshold clamp(ceil(0.5 × 4), 3, 200) = 3, got {}", failed.failed_tasks());
    assert_eq!(rollback.status(), Some("PRIMARY"));
    assert_eq!(rollback.task_definition(), Some(td1.as_str()), "rolls back to the last COMPLETED revision");
    assert!(rollback.rollout_state_reason().unwrap().contains("rolling back"));
    let rollback_id = rollback.id().unwrap().to_string();
    assert_ne!(rollback_id, failed_id);

    assert_eq!(env.settle(&rollback_id, 1800), "COMPLETED");
    assert!(env.settle_service(900));
    let svc = env.describe().await;
    assert_eq!((svc.task_definition(), svc.running_count()), (Some(td1.as_str()), 4));

    // The old version served throughout: healthy v1 tasks never below the minimum.
    let samples = env.series();
    assert_limits(&samples, from);
    for s in samples.iter().filter(|s| s.t >= from) {
        let v1_healthy = s.version(&td1).map_or(0, |v| v.healthy);
        assert!(v1_healthy >= s.min_healthy, "v1 healthy {v1_healthy} < {} at {}", s.min_healthy, s.time);
        assert_eq!(s.version(&td2).map_or(0, |v| v.healthy), 0, "the bad build never counted healthy");
    }

    let names: Vec<String> = env
        .events("ECS Deployment State Change")
        .iter()
        .map(|e| {
            format!("{} {}", e["detail"]["deploymentId"].as_str().unwrap(), e["detail"]["eventName"].as_str().unwrap())
        })
        .collect();
    let failed_event = format!("{failed_id} SERVICE_DEPLOYMENT_FAILED");
    let rollback_done = format!("{rollback_id} SERVICE_DEPLOYMENT_COMPLETED");
    let pos = |s: &str| names.iter().position(|n| n == s).unwrap_or_else(|| panic!("{s} not in {names:?}"));
    assert!(pos(&format!("{failed_id} SERVICE_DEPLOYMENT_IN_PROGRESS")) < pos(&failed_event));
    assert!(pos(&failed_event) < pos(&format!("{rollback_id} SERVICE_DEPLOYMENT_IN_PROGRESS")));
    assert!(pos(&rollback_done) > pos(&failed_event));
    let failed_ev = env
        .events("ECS Deployment State Change")
        .into_iter()
        .find(|e| e["detail"]["eventName"] == "SERVICE_DEPLOYMENT_FAILED")
        .unwrap();
    assert_eq!(failed_ev["detail"]["eventType"], "ERROR");
    assert!(env.events("ECS Service Action").iter().any(|e| e["detail"]["eventName"] == "SERVICE_TASK_START_IMPAIRED"));

    let stopped = env
        .ecs
        .list_tasks()
        .cluster(CLUSTER)
        .started_by(&failed_id)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap()
        .task_arns()
        .to_vec();
    assert!(stopped.len() >= 3);
    let tasks = env.ecs.describe_tasks().cluster(CLUSTER).set_tasks(Some(stopped)).send().await.unwrap();
    tasks
        .tasks()
        .iter()
        .map(|t| {
            (
                t.stop_code().map(|c| c.as_str().to_string()).unwrap_or_default(),
                t.stopped_reason().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashing_build_trips_the_breaker_and_rolls_back() {
    let stops = bad_build_rolls_back(Some(Behavior::Crash), Setup::default()).await;
    assert!(
        stops
            .iter()
            .any(|(code, reason)| code == "EssentialContainerExited" && reason == "Essential container in task exited"),
        "{stops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_build_trips_the_breaker_and_rolls_back() {
    let stops = bad_build_rolls_back(Some(Behavior::Unhealthy), Setup { min: 50, ..Setup::default() }).await;
    assert!(
        stops.iter().any(|(code, reason)| code == "ServiceSchedulerInitiated" && reason.starts_with("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/")),
        "{stops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_image_cannot_be_pulled_and_rolls_back() {
    let stops = bad_build_rolls_back(None, Setup::default()).await;
    assert!(
        stops
            .iter()
            .any(|(code, reason)| code == "TaskFailedToStart" && reason.starts_with("CannotPullContainerError")),
        "{stops:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rollback_the_failed_deployment_stops_launching() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let v2 = common::image(&env.sim, "v2", Behavior::Crash);
    env.service(&v1, Setup { rollback: false, ..Setup::default() }).await;
    assert!(env.settle_service(600));
    let td2 = env.task_def(&v2).await;
    let id = env.update(&td2).await.deployments()[0].id().unwrap().to_string();
    assert_eq!(env.settle(&id, 1800), "FAILED");
    env.sim.advance(300);
    let svc = env.describe().await;
    assert_eq!(svc.deployments()[0].id(), Some(id.as_str()), "no rollback deployment");
    assert_eq!(svc.deployments()[0].running_count() + svc.deployments()[0].pending_count(), 0);
    assert_eq!(svc.running_count(), 4, "v1 keeps serving");
    let launched = env.sim.read(|w| w.tasks.values().filter(|t| t.started_by.as_deref() == Some(id.as_str())).count());
    env.sim.advance(300);
    let later = env.sim.read(|w| w.tasks.values().filter(|t| t.started_by.as_deref() == Some(id.as_str())).count());
    assert_eq!(launched, later, "a FAILED deployment launches no more tasks");
    let _ = SERVICE;
}
