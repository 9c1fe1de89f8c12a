//! ECS's own record of each rollout: service deployments and service revisions,
//! through the SDK, for the rolling-update strategy.

use autodeploy_local::sim::Behavior;
use aws_sdk_ecs::types::{ServiceDeploymentStatus as Status, StopServiceDeploymentStopType};

use crate::common::{self, CLUSTER, SERVICE, Setup};

async fn deployments(env: &common::Env) -> Vec<aws_sdk_ecs::types::ServiceDeploymentBrief> {
    let out = env.ecs.list_service_deployments().cluster(CLUSTER).service(SERVICE).send().await.unwrap();
    out.service_deployments().to_vec()
}

async fn full(env: &common::Env, arn: &str) -> aws_sdk_ecs::types::ServiceDeployment {
    let out = env.ecs.describe_service_deployments().service_deployment_arns(arn).send().await.unwrap();
    assert!(out.failures().is_empty(), "{:?}", out.failures());
    out.service_deployments()[0].clone()
}

#[tokio::test]
async fn every_rollout_has_a_service_deployment_and_a_revision() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let v2 = common::image(&env.sim, "v2", Behavior::Healthy);
    env.service(&v1, Setup::default()).await;
    assert!(env.settle_service(600));
    let first = deployments(&env).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].status(), Some(&Status::Successful));
    let created = full(&env, first[0].service_deployment_arn().unwrap()).await;
    assert!(created.source_service_revisions().is_empty(), "CreateService rolls out from nothing");
    let target = created.target_service_revision().unwrap();
    assert_eq!((target.requested_task_count(), target.running_task_count()), (4, 4));
    assert!(created.finished_at().is_some() && created.started_at().is_some());
    assert_eq!(created.deployment_circuit_breaker().unwrap().status().map(|s| s.as_str()), Some("MONITORING_COMPLETE"));

    // Its revision: the task definition and the pinned image, and the id the
    // `deployments[]` entry carries.
    let svc = env.describe().await;
    let ecs_id = svc.deployments()[0].id().unwrap().to_owned();
    let revision_arn = target.arn().unwrap();
    assert!(revision_arn.ends_with(&format!("service-revision/{CLUSTER}/{SERVICE}/{}", &ecs_id["ecs-svc/".len()..])));
    let revisions = env.ecs.describe_service_revisions().service_revision_arns(revision_arn).send().await.unwrap();
    let rev = &revisions.service_revisions()[0];
    assert_eq!(rev.task_definition(), svc.task_definition());
    assert_eq!(rev.container_images()[0].image(), Some(v1.as_str()));
    assert_eq!(rev.container_images()[0].image_digest(), v1.split_once('@').map(|(_, d)| d));
    assert_eq!(svc.current_service_deployment(), first[0].service_deployment_arn());

    // An update: a second deployment, newest first, from the first revision.
    let td2 = env.task_def(&v2).await;
    env.update(&td2).await;
    assert!(env.settle_service(900));
    let both = deployments(&env).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[1].service_deployment_arn(), first[0].service_deployment_arn(), "newest first");
    let update = full(&env, both[0].service_deployment_arn().unwrap()).await;
    assert_eq!(update.status(), Some(&Status::Successful));
    assert_eq!(update.source_service_revisions()[0].arn(), Some(revision_arn));
    // The counts are those of when it finished: v1 drained, v2 all running.
    assert_eq!(update.source_service_revisions()[0].running_task_count(), 0);
    assert_eq!(update.target_service_revision().unwrap().running_task_count(), 4);

    // Filters and pages.
    let successful =
        env.ecs.list_service_deployments().cluster(CLUSTER).service(SERVICE).status(Status::Successful).max_results(1);
    let page = successful.clone().send().await.unwrap();
    assert_eq!(page.service_deployments().len(), 1);
    let rest = successful.next_token(page.next_token().unwrap()).send().await.unwrap();
    assert_eq!(rest.service_deployments()[0].service_deployment_arn(), first[0].service_deployment_arn());
    assert!(rest.next_token().is_none());
    let none = env.ecs.list_service_deployments().cluster(CLUSTER).service(SERVICE).status(Status::Stopped);
    assert!(none.send().await.unwrap().service_deployments().is_empty());
    let unknown = env.ecs.describe_service_deployments().service_deployment_arns("arn:nope").send().await.unwrap();
    assert_eq!(unknown.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test]
async fn a_circuit_breaker_rollback_is_a_state_of_the_failed_deployment() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let bad = common::image(&env.sim, "v2", Behavior::Crash);
    env.service(&v1, Setup::default()).await;
    assert!(env.settle_service(600));
    let good_revision = deployments(&env).await[0].target_service_revision_arn().unwrap().to_owned();
    let td2 = env.task_def(&bad).await;
    let failed_id = env.update(&td2).await.deployments()[0].id().unwrap().to_owned();
    assert_eq!(env.settle(&failed_id, 1800), "FAILED");

    let listed = deployments(&env).await;
    assert_eq!(listed.len(), 2, "a rollback makes no new service deployment");
    let failed = full(&env, listed[0].service_deployment_arn().unwrap()).await;
    assert_eq!(failed.status(), Some(&Status::RollbackInProgress));
    let rollback = failed.rollback().unwrap();
    assert_eq!(rollback.service_revision_arn(), Some(good_revision.as_str()), "back to the last good revision");
    assert!(rollback.reason().unwrap().starts_with("ECS deployment circuit breaker: "));
    let breaker = failed.deployment_circuit_breaker().unwrap();
    assert_eq!(breaker.status().map(|s| s.as_str()), Some("TRIGGERED"));
    assert!(breaker.failure_count() >= breaker.threshold() && breaker.threshold() == 3);

    assert!(env.settle_service(1800));
    let done = full(&env, listed[0].service_deployment_arn().unwrap()).await;
    assert_eq!(done.status(), Some(&Status::RollbackSuccessful));
    assert!(done.finished_at().is_some());
    // The service runs the good revision again, under the rollback's entry.
    let svc = env.describe().await;
    let current: Vec<_> = svc.current_service_revisions().iter().filter_map(|r| r.arn()).collect();
    assert_eq!(current, [good_revision.as_str()]);

    // The next bad build rolls back to the same revision.
    let failed_again = env.update(&env.task_def(&bad).await).await.deployments()[0].id().unwrap().to_owned();
    assert_eq!(env.settle(&failed_again, 1800), "FAILED");
    let again = full(&env, deployments(&env).await[0].service_deployment_arn().unwrap()).await;
    assert_eq!(again.rollback().unwrap().service_revision_arn(), Some(good_revision.as_str()));
    assert_eq!(again.source_service_revisions()[0].arn(), Some(good_revision.as_str()));
}

#[tokio::test]
async fn a_newer_deployment_stops_the_one_in_progress_and_a_rollback_can_be_asked_for() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let slow = common::image(&env.sim, "v2", Behavior::Slow(300));
    let v3 = common::image(&env.sim, "v3", Behavior::Healthy);
    env.service(&v1, Setup::default()).await;
    assert!(env.settle_service(600));
    env.update(&env.task_def(&slow).await).await;
    env.sim.advance(30);
    env.update(&env.task_def(&v3).await).await;
    let listed = deployments(&env).await;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[1].status(), Some(&Status::Stopped), "superseded");
    assert!(listed[1].finished_at().is_some());
    assert_eq!(listed[0].status(), Some(&Status::InProgress));

    // StopServiceDeployment ROLLBACK on the deployment in progress.
    let arn = listed[0].service_deployment_arn().unwrap().to_owned();
    let stopped = env
        .ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.service_deployment_arn(), Some(arn.as_str()));
    assert_eq!(full(&env, &arn).await.status(), Some(&Status::RollbackInProgress));
    assert!(env.settle_service(1800));
    let back = full(&env, &arn).await;
    assert_eq!(back.status(), Some(&Status::RollbackSuccessful));
    let svc = env.describe().await;
    let first_td = env
        .ecs
        .describe_service_revisions()
        .service_revision_arns(back.rollback().unwrap().service_revision_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(svc.task_definition(), first_td.service_revisions()[0].task_definition(), "v1 again");

    // A finished deployment cannot be stopped; an unknown one does not exist; ABORT is not offered.
    let again = env.ecs.stop_service_deployment().service_deployment_arn(&arn).send().await.unwrap_err();
    assert_eq!(again.as_service_error().and_then(|e| e.meta().code()), Some("ConflictException"));
    let missing = env.ecs.stop_service_deployment().service_deployment_arn(format!("{arn}x")).send().await.unwrap_err();
    assert_eq!(missing.as_service_error().and_then(|e| e.meta().code()), Some("ServiceDeploymentNotFoundException"));
    let abort = env
        .ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Abort)
        .send()
        .await
        .unwrap_err();
    assert_eq!(abort.as_service_error().and_then(|e| e.meta().code()), Some("InvalidParameterException"));
}
