//! Deregistration delay: targets drain for `deregistration_delay.timeout_seconds` and
//! the task stays DEACTIVATING until they are gone.

use autodeploy_local::sim::Behavior;
use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetHealthReasonEnum, TargetHealthStateEnum};

use crate::common::{self, CLUSTER, SERVICE, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_task_drains_for_the_deregistration_delay() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let tg = env.service(&v1, Setup { deregistration_delay: 30, ..Setup::default() }).await;
    assert!(env.settle_service(600));
    let arn = env.ecs.list_tasks().cluster(CLUSTER).service_name(SERVICE).send().await.unwrap().task_arns()[0].clone();
    let task = env.ecs.describe_tasks().cluster(CLUSTER).tasks(&arn).send().await.unwrap().tasks()[0].clone();
    let ip = task.attachments()[0]
        .details()
        .iter()
        .find(|d| d.name() == Some("privateIPv4Address"))
        .unwrap()
        .value()
        .unwrap()
        .to_string();

    let stopped = env.ecs.stop_task().cluster(CLUSTER).task(&arn).reason("test").send().await.unwrap();
    let t = stopped.task().unwrap();
    assert_eq!((t.desired_status(), t.last_status()), (Some("STOPPED"), Some("DEACTIVATING")));
    assert_eq!(t.stop_code().map(|c| c.as_str()), Some("UserInitiated"));

    let state_of = |h: &[aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription]| {
        h.iter().find(|d| d.target().and_then(|t| t.id()) == Some(ip.as_str())).and_then(|d| d.target_health()).cloned()
    };
    let h = state_of(&env.targets(&tg).await).expect("draining target listed");
    assert_eq!(h.state(), Some(&TargetHealthStateEnum::Draining));
    assert_eq!(h.reason(), Some(&TargetHealthReasonEnum::DeregistrationInProgress));

    env.sim.advance(29);
    let h = state_of(&env.targets(&tg).await).expect("still draining at 29 s");
    assert_eq!(h.state(), Some(&TargetHealthStateEnum::Draining));
    let still = env.ecs.describe_tasks().cluster(CLUSTER).tasks(&arn).send().await.unwrap().tasks()[0].clone();
    assert_eq!(still.last_status(), Some("DEACTIVATING"), "the task waits for draining");

    env.sim.advance(2);
    assert!(state_of(&env.targets(&tg).await).is_none(), "removed after 30 s");
    let asked = env
        .elb
        .describe_target_health()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id(&ip).port(8080).build())
        .send()
        .await
        .unwrap();
    let h = asked.target_health_descriptions()[0].target_health().unwrap();
    assert_eq!(
        (h.state(), h.reason()),
        (Some(&TargetHealthStateEnum::Unused), Some(&TargetHealthReasonEnum::NotRegistered))
    );

    env.sim.advance(10);
    let done = env.ecs.describe_tasks().cluster(CLUSTER).tasks(&arn).send().await.unwrap().tasks()[0].clone();
    assert_eq!(done.last_status(), Some("STOPPED"));
    assert!(done.stopped_at().is_some() && done.execution_stopped_at().is_some());
    assert_eq!(done.containers()[0].exit_code(), Some(0));
    // The service replaced the task.
    assert!(env.settle_service(300));
    assert_eq!(env.describe().await.running_count(), 4);
    // The lifecycle was reported in order.
    let seen: Vec<String> = env
        .events("ECS Task State Change")
        .iter()
        .filter(|e| e["resources"][0] == arn.as_str())
        .map(|e| e["detail"]["lastStatus"].as_str().unwrap().to_string())
        .collect();
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(
        dedup,
        ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_registration_follows_health_thresholds() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let tg = env.service(&v1, Setup { desired: 0, ..Setup::default() }).await;
    // An address no task holds: checks time out, unhealthy after 2 failures.
    env.elb
        .register_targets()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id("10.9.9.9").port(8080).build())
        .send()
        .await
        .unwrap();
    let h = env.targets(&tg).await[0].target_health().unwrap().clone();
    assert_eq!(
        (h.state(), h.reason()),
        (Some(&TargetHealthStateEnum::Initial), Some(&TargetHealthReasonEnum::RegistrationInProgress))
    );
    env.sim.advance(4);
    let h = env.targets(&tg).await[0].target_health().unwrap().clone();
    assert_eq!(
        (h.state(), h.reason()),
        (Some(&TargetHealthStateEnum::Initial), Some(&TargetHealthReasonEnum::InitialHealthChecking))
    );
    env.sim.advance(5);
    let h = env.targets(&tg).await[0].target_health().unwrap().clone();
    assert_eq!(
        (h.state(), h.reason()),
        (Some(&TargetHealthStateEnum::Unhealthy), Some(&TargetHealthReasonEnum::Timeout))
    );
    env.elb
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id("10.9.9.9").port(8080).build())
        .send()
        .await
        .unwrap();
    assert_eq!(env.targets(&tg).await[0].target_health().unwrap().state(), Some(&TargetHealthStateEnum::Draining));
    env.sim.advance(10);
    assert!(env.targets(&tg).await.is_empty());
}
