//! Services without a load balancer: health comes from container health checks, or from
//! 40 s of RUNNING when there are none (API reference, minimumHealthyPercent).

use autodeploy_local::sim::Behavior;
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, ContainerDefinition, DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck,
    NetworkConfiguration, NetworkMode,
};

use crate::common::{self, CLUSTER};

async fn service(env: &common::Env, name: &str, image: &str, health_check: bool) -> String {
    let mut c = ContainerDefinition::builder().name("app").image(image);
    if health_check {
        let hc = HealthCheck::builder().command("CMD-SHELL").command("true").interval(5).retries(2).build().unwrap();
        c = c.health_check(hc);
    }
    let td = env
        .ecs
        .register_task_definition()
        .family(name)
        .network_mode(NetworkMode::Awsvpc)
        .container_definitions(c.build())
        .send()
        .await
        .unwrap();
    let out = env
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name(name)
        .task_definition(td.task_definition().unwrap().task_definition_arn().unwrap())
        .desired_count(2)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("s").build().unwrap())
                .build(),
        )
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .deployment_circuit_breaker(DeploymentCircuitBreaker::builder().enable(true).rollback(false).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.service().unwrap().deployments()[0].id().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_health_checks_and_the_40_second_rule() {
    let env = common::start().await;
    env.ecs.create_cluster().cluster_name(CLUSTER).send().await.unwrap();
    let good = common::image(&env.sim, "good", Behavior::Healthy);
    let bad = common::image(&env.sim, "bad", Behavior::Unhealthy);

    // No health check: counted healthy 40 s after RUNNING (RUNNING at +8 s).
    let start = env.sim.now();
    let plain = service(&env, "plain", &good, false).await;
    assert_eq!(env.settle(&plain, 300), "COMPLETED");
    let took = (env.sim.now() - start) / 1000;
    assert!((46..=52).contains(&took), "completed after {took} s");

    // Container health check HEALTHY after startPeriod + interval.
    let checked = service(&env, "checked", &good, true).await;
    assert_eq!(env.settle(&checked, 300), "COMPLETED");
    let arns = env.ecs.list_tasks().cluster(CLUSTER).service_name("checked").send().await.unwrap().task_arns().to_vec();
    let tasks = env.ecs.describe_tasks().cluster(CLUSTER).set_tasks(Some(arns)).send().await.unwrap();
    for t in tasks.tasks() {
        assert_eq!(t.health_status().map(|h| h.as_str()), Some("HEALTHY"));
        assert_eq!(t.containers()[0].health_status().map(|h| h.as_str()), Some("HEALTHY"));
    }

    // Failing container health checks: tasks replaced, breaker trips.
    let failing = service(&env, "failing", &bad, true).await;
    assert_eq!(env.settle(&failing, 900), "FAILED");
    let svc =
        env.ecs.describe_services().cluster(CLUSTER).services("failing").send().await.unwrap().services()[0].clone();
    assert_eq!(
        svc.deployments()[0].rollout_state_reason(),
        Some("ECS deployment circuit breaker: task failed container health checks.")
    );
    let stopped = env
        .ecs
        .list_tasks()
        .cluster(CLUSTER)
        .service_name("failing")
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
        .unwrap()
        .task_arns()
        .to_vec();
    let tasks = env.ecs.describe_tasks().cluster(CLUSTER).set_tasks(Some(stopped)).send().await.unwrap();
    assert!(tasks.tasks().iter().all(|t| t.stopped_reason() == Some("Task failed container health checks")));
}
