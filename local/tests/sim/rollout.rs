//! Rolling updates that succeed.

use autodeploy_local::sim::Behavior;
use aws_sdk_ecs::types::{DeploymentRolloutState, DesiredStatus};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use crate::common::{self, CLUSTER, SERVICE, Setup, assert_limits};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_rollout_completes_and_keeps_minimum_healthy() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    let tg = env.service(&v1, Setup::default()).await;
    let first = env.primary().await;
    assert_eq!(env.settle(first.id().unwrap(), 600), "COMPLETED");
    let before = env.describe().await;
    assert_eq!((before.running_count(), before.desired_count()), (4, 4));
    assert!(before.events().iter().any(|e| e.message().unwrap().contains("has reached a steady state")));

    let td2 = env.task_def(&v2).await;
    let updated_at = env.sim.now() / 1000;
    let svc = env.update(&td2).await;
    // UpdateService returns the new PRIMARY deployment.
    let d = &svc.deployments()[0];
    let id = d.id().unwrap().to_string();
    assert!(id.starts_with("ecs-svc/") && id.len() == 8 + 19 && id[8..].bytes().all(|b| b.is_ascii_digit()), "{id}");
    assert_eq!(d.status(), Some("PRIMARY"));
    assert_eq!(d.task_definition(), Some(td2.as_str()));
    assert_eq!(d.rollout_state(), Some(&DeploymentRolloutState::InProgress));
    assert_eq!((d.desired_count(), d.running_count(), d.pending_count(), d.failed_tasks()), (4, 0, 0, 0));
    assert!(d.created_at().is_some() && d.updated_at().is_some());
    assert_eq!(svc.deployments()[1].status(), Some("ACTIVE"));
    assert_eq!(svc.task_definition(), Some(td2.as_str()));
    let dc = svc.deployment_configuration().unwrap();
    assert_eq!((dc.minimum_healthy_percent(), dc.maximum_percent()), (Some(100), Some(200)));
    let breaker = dc.deployment_circuit_breaker().unwrap();
    assert!(breaker.enable() && breaker.rollback());
    let lb = &svc.load_balancers()[0];
    assert_eq!(
        (lb.target_group_arn(), lb.container_name(), lb.container_port()),
        (Some(tg.as_str()), Some("web"), Some(8080))
    );

    assert_eq!(env.settle(&id, 900), "COMPLETED");
    assert!(env.settle_service(600));
    let samples = env.series();
    let n = assert_limits(&samples, updated_at);
    assert!(n >= 5, "only {n} samples during the rollout");
    let last = samples.last().unwrap();
    assert_eq!(last.version(&td2).map(|v| v.healthy), Some(4));
    assert_eq!(last.versions.len(), 1);
    // Both versions were serving side by side at some point (maximumPercent 200).
    assert!(samples.iter().any(|s| s.versions.len() == 2 && s.alive > 4));

    // Tasks carry the deployment id, the new image and a private IP registered as a target.
    let arns = env.ecs.list_tasks().cluster(CLUSTER).service_name(SERVICE).send().await.unwrap().task_arns().to_vec();
    assert_eq!(arns.len(), 4);
    let tasks = env.ecs.describe_tasks().cluster(CLUSTER).set_tasks(Some(arns)).send().await.unwrap();
    let health = env.targets(&tg).await;
    for t in tasks.tasks() {
        assert_eq!(t.started_by(), Some(id.as_str()));
        assert_eq!(t.group(), Some("service:web"));
        assert_eq!(t.task_definition_arn(), Some(td2.as_str()));
        assert_eq!(t.last_status(), Some("RUNNING"));
        assert_eq!(t.containers()[0].image(), Some(v2.as_str()));
        assert!(t.containers()[0].image_digest().is_some_and(|d| v2.ends_with(d)));
        let ip = t.attachments()[0]
            .details()
            .iter()
            .find(|d| d.name() == Some("privateIPv4Address"))
            .and_then(|d| d.value())
            .unwrap();
        let target = health.iter().find(|h| h.target().and_then(|x| x.id()) == Some(ip)).expect("task registered");
        assert_eq!(target.target().unwrap().port(), Some(8080));
        assert_eq!(target.target_health().unwrap().state(), Some(&TargetHealthStateEnum::Healthy));
    }
    assert_eq!(health.len(), 4, "old targets drained and removed");
    let by_started = env.ecs.list_tasks().cluster(CLUSTER).started_by(&id).send().await.unwrap();
    assert_eq!(by_started.task_arns().len(), 4);
    let stopped = env
        .ecs
        .list_tasks()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.task_arns().len(), 4, "the four v1 tasks");

    // Events: the deployment's IN_PROGRESS and COMPLETED, task changes, steady state.
    let deployment_events = env.events("ECS Deployment State Change");
    let names: Vec<&str> = deployment_events
        .iter()
        .filter(|e| e["detail"]["deploymentId"] == id.as_str())
        .map(|e| e["detail"]["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"]);
    let e = deployment_events.last().unwrap();
    assert_eq!(e["source"], "aws.ecs");
    assert_eq!(e["resources"][0], svc.service_arn().unwrap());
    assert_eq!(e["detail"]["reason"], format!("ECS deployment {id} completed."));
    let task_events = env.events("ECS Task State Change");
    let running = task_events
        .iter()
        .find(|e| e["detail"]["lastStatus"] == "RUNNING" && e["detail"]["startedBy"] == id.as_str())
        .unwrap();
    assert_eq!(running["detail"]["group"], "service:web");
    assert_eq!(running["detail"]["attachments"][0]["type"], "eni");
    assert!(running["resources"][0].as_str().unwrap().contains(":task/apps/"));
    assert!(env.events("ECS Service Action").iter().any(|e| e["detail"]["eventName"] == "SERVICE_STEADY_STATE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maximum_percent_is_never_exceeded() {
    for (min, max) in [(50, 150), (0, 100), (75, 125)] {
        let env = common::start().await;
        let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
        let v2 = common::image(&env.sim, "v2", Behavior::Slow(6));
        env.service(&v1, Setup { min, max, ..Setup::default() }).await;
        assert!(env.settle_service(600));
        let from = env.sim.now() / 1000;
        let td2 = env.task_def(&v2).await;
        let id = env.update(&td2).await.deployments()[0].id().unwrap().to_string();
        assert_eq!(env.settle(&id, 1200), "COMPLETED", "min {min} max {max}");
        let samples = env.series();
        assert_limits(&samples, from);
        let peak = samples.iter().filter(|s| s.t >= from).map(|s| s.alive).max().unwrap();
        assert_eq!(peak, 4 * max as i64 / 100, "min {min} max {max}: the scheduler uses the whole maximumPercent");
        let floor = samples.iter().filter(|s| s.t >= from).map(|s| s.healthy).min().unwrap();
        assert_eq!(floor, (4 * min as i64 + 99) / 100, "min {min} max {max}: old tasks stop down to the minimum");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_update_mid_rollout_drains_the_superseded_deployment() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let v2 = common::image(&env.sim, "v2", Behavior::Slow(6));
    let v3 = common::image(&env.sim, "v3", Behavior::Healthy);
    env.service(&v1, Setup::default()).await;
    assert!(env.settle_service(600));
    let from = env.sim.now() / 1000;
    let td2 = env.task_def(&v2).await;
    let d2 = env.update(&td2).await.deployments()[0].id().unwrap().to_string();
    env.sim.advance(15);
    let mid = env.primary().await;
    assert_eq!(mid.id(), Some(d2.as_str()));
    assert_eq!(mid.rollout_state(), Some(&DeploymentRolloutState::InProgress));
    assert!(mid.running_count() + mid.pending_count() > 0, "v2 tasks were started");

    let td3 = env.task_def(&v3).await;
    let svc = env.update(&td3).await;
    let d3 = svc.deployments()[0].id().unwrap().to_string();
    assert_ne!(d2, d3);
    let statuses: Vec<(&str, &str)> =
        svc.deployments().iter().map(|d| (d.id().unwrap(), d.status().unwrap())).collect();
    assert_eq!(statuses[0], (d3.as_str(), "PRIMARY"));
    assert!(statuses.contains(&(d2.as_str(), "ACTIVE")));

    assert_eq!(env.settle(&d3, 900), "COMPLETED");
    let svc = env.describe().await;
    assert_eq!(svc.deployments().len(), 1, "v1 and v2 deployments drained");
    assert_eq!(svc.running_count(), 4);
    let samples = env.series();
    assert_limits(&samples, from);
    assert_eq!(samples.last().unwrap().version(&td3).map(|v| v.healthy), Some(4));
    let v2_started =
        env.sim.read(|w| w.tasks.values().filter(|t| t.started_by.as_deref() == Some(d2.as_str())).count());
    let v2_alive = env
        .sim
        .read(|w| w.tasks.values().filter(|t| t.started_by.as_deref() == Some(d2.as_str()) && t.is_alive()).count());
    assert!(v2_started > 0);
    assert_eq!(v2_alive, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_start_survives_only_with_a_grace_period() {
    // slow:20 fails two checks 5 s apart before it answers: ELB marks it unhealthy and ECS
    // replaces it, unless healthCheckGracePeriodSeconds covers the start-up.
    for (grace, expected) in [(None, "FAILED"), (Some(30), "COMPLETED")] {
        let env = common::start().await;
        let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
        let v2 = common::image(&env.sim, "v2", Behavior::Slow(20));
        env.service(&v1, Setup::default()).await;
        assert!(env.settle_service(600));
        let td2 = env.task_def(&v2).await;
        let out = env
            .ecs
            .update_service()
            .cluster(CLUSTER)
            .service(SERVICE)
            .task_definition(&td2)
            .set_health_check_grace_period_seconds(grace)
            .send()
            .await
            .unwrap();
        let svc = out.service().unwrap();
        assert_eq!(svc.health_check_grace_period_seconds(), grace);
        let id = svc.deployments()[0].id().unwrap().to_string();
        assert_eq!(env.settle(&id, 900), expected, "grace {grace:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_rollouts_replay_identically_for_a_seed() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let env = common::start().await;
        let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
        let v2 = common::image(&env.sim, "v2", Behavior::Flaky(0.35));
        env.service(&v1, Setup::default()).await;
        assert!(env.settle_service(600));
        let td2 = env.task_def(&v2).await;
        let id = env.update(&td2).await.deployments()[0].id().unwrap().to_string();
        let state = env.settle(&id, 1800);
        env.sim.advance(120);
        runs.push((state, env.sim.events(), env.series().len()));
    }
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].2, runs[1].2);
    assert!(runs[0].1 == runs[1].1, "event logs differ between two runs with the same seed");
    let failed_checks = runs[0]
        .1
        .iter()
        .filter(|e| e["detail"]["stoppedReason"].as_str().is_some_and(|r| r.starts_with("Task failed ELB")))
        .count();
    assert!(failed_checks > 0, "flaky:0.35 with unhealthy threshold 2 fails some tasks");
}
