//! The ECS adapter's service-deployment calls against aws-smithy-mocks: which
//! service deployment is ours, what it says, where production ends up, and
//! ECS's own rollback.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::aws::EcsClient;
use autodeploy_shared::domain::{DeploymentStrategy, LifecycleStage, ServiceDeploymentStatus};
use autodeploy_shared::ports::{Ecs, StopOutcome};
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::describe_service_revisions::DescribeServiceRevisionsOutput;
use aws_sdk_ecs::operation::list_service_deployments::ListServiceDeploymentsOutput;
use aws_sdk_ecs::operation::stop_service_deployment::{StopServiceDeploymentError, StopServiceDeploymentOutput};
use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentStrategy as SdkStrategy, ResolvedConfiguration, Rollback, ServiceDeployment,
    ServiceDeploymentBrief, ServiceDeploymentLifecycleStage, ServiceDeploymentStatus as SdkStatus, ServiceRevision,
    ServiceRevisionLoadBalancer, ServiceRevisionSummary, StopServiceDeploymentStopType,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

const SD_OURS: &str = "arn:aws:ecs:us-east-1:1:service-deployment/demo/web/NCWGC2ZR-taawPAYrIaU5";
const SD_OTHER: &str = "arn:aws:ecs:us-east-1:1:service-deployment/demo/web/2OpWf9AkJKOIuWfBW7Ata";
const REV_OURS: &str = "arn:aws:ecs:us-east-1:1:service-revision/demo/web/3541978090126952138";
const REV_OTHER: &str = "arn:aws:ecs:us-east-1:1:service-revision/demo/web/4980306466373577095";
const GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-green/abc";

fn brief(arn: &str, revision: &str) -> ServiceDeploymentBrief {
    ServiceDeploymentBrief::builder()
        .service_deployment_arn(arn)
        .target_service_revision_arn(revision)
        .status(SdkStatus::InProgress)
        .build()
}

#[tokio::test]
async fn finds_ours_by_its_target_revision_and_reads_stage_weights_and_rollback() {
    let list = mock!(aws_sdk_ecs::Client::list_service_deployments)
        .match_requests(|r| {
            r.cluster() == Some("demo")
                && r.service() == Some("web")
                && r.max_results() == Some(100)
                && r.next_token().is_none()
        })
        .then_output(|| {
            ListServiceDeploymentsOutput::builder()
                .service_deployments(brief(SD_OTHER, REV_OTHER))
                .service_deployments(brief(SD_OURS, REV_OURS))
                .build()
        });
    let describe = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .match_requests(|r| r.service_deployment_arns() == [SD_OURS.to_owned()])
        .then_output(|| {
            DescribeServiceDeploymentsOutput::builder()
                .service_deployments(
                    ServiceDeployment::builder()
                        .service_deployment_arn(SD_OURS)
                        .status(SdkStatus::RollbackInProgress)
                        .status_reason("alarm fired")
                        .lifecycle_stage(ServiceDeploymentLifecycleStage::ProductionTrafficShift)
                        .deployment_configuration(
                            DeploymentConfiguration::builder()
                                .strategy(SdkStrategy::Canary)
                                .bake_time_in_minutes(5)
                                .build(),
                        )
                        .target_service_revision(
                            ServiceRevisionSummary::builder()
                                .arn(REV_OURS)
                                .requested_task_count(4)
                                .running_task_count(4)
                                .pending_task_count(0)
                                .requested_production_traffic_weight(5.0)
                                .requested_test_traffic_weight(100.0)
                                .build(),
                        )
                        .rollback(
                            Rollback::builder()
                                .reason("the alarm web-5xx fired")
                                .service_revision_arn(REV_OTHER)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&list, &describe]));
    let sd = ecs.find_service_deployment("demo", "web", "ecs-svc/3541978090126952138").await.unwrap().unwrap();
    assert_eq!(sd.arn, SD_OURS);
    assert_eq!(sd.short_id(), "NCWGC2ZR-taawPAYrIaU5");
    assert_eq!(sd.status, ServiceDeploymentStatus::RollbackInProgress);
    assert_eq!(sd.strategy, Some(DeploymentStrategy::Canary));
    assert_eq!(sd.lifecycle_stage, Some(LifecycleStage::ProductionTrafficShift));
    assert_eq!(sd.bake_time_minutes, Some(5));
    let target = sd.target.unwrap();
    assert_eq!((target.production_traffic_weight, target.test_traffic_weight), (Some(5.0), Some(100.0)));
    assert_eq!(target.running_task_count, 4);
    assert_eq!(sd.rollback_reason.as_deref(), Some("the alarm web-5xx fired"));
    assert_eq!(sd.rollback_revision_arn.as_deref(), Some(REV_OTHER));
    assert_eq!((list.num_calls(), describe.num_calls()), (1, 1));
}

#[tokio::test]
async fn none_matches_or_the_endpoint_has_none() {
    let list = mock!(aws_sdk_ecs::Client::list_service_deployments).then_output(|| {
        ListServiceDeploymentsOutput::builder().service_deployments(brief(SD_OTHER, REV_OTHER)).build()
    });
    let unsupported = mock!(aws_sdk_ecs::Client::list_service_deployments).then_http_response(|| {
        Response::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"UnknownOperationException","message":"no such operation"}"#),
        )
    });
    let denied = mock!(aws_sdk_ecs::Client::list_service_deployments).then_http_response(|| {
        Response::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"AccessDeniedException","message":"not authorized"}"#),
        )
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&list, &unsupported, &denied]));
    // A prefix of the revision id is not the revision.
    assert!(ecs.find_service_deployment("demo", "web", "ecs-svc/498030646637357709").await.unwrap().is_none());
    assert!(ecs.find_service_deployment("demo", "web", "ecs-svc/1").await.unwrap().is_none());
    // A missing permission is a fault to see, not a reason to look elsewhere.
    let err = ecs.find_service_deployment("demo", "web", "ecs-svc/1").await.unwrap_err();
    assert_eq!(err.error_type(), "AwsError", "{err}");
}

#[tokio::test]
async fn production_target_groups_come_from_the_resolved_configuration() {
    let rule = mock!(aws_sdk_ecs::Client::describe_service_revisions)
        .match_requests(|r| r.service_revision_arns() == [REV_OURS.to_owned()])
        .then_output(|| {
            DescribeServiceRevisionsOutput::builder()
                .service_revisions(
                    ServiceRevision::builder()
                        .service_revision_arn(REV_OURS)
                        .resolved_configuration(
                            ResolvedConfiguration::builder()
                                .load_balancers(ServiceRevisionLoadBalancer::builder().target_group_arn(GREEN).build())
                                .load_balancers(ServiceRevisionLoadBalancer::builder().target_group_arn(GREEN).build())
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
    assert_eq!(ecs.production_target_groups(REV_OURS).await.unwrap(), vec![GREEN.to_owned()]);
}

#[tokio::test]
async fn rollback_asks_ecs_and_a_finished_deployment_is_finished() {
    let ok = mock!(aws_sdk_ecs::Client::stop_service_deployment)
        .match_requests(|r| {
            r.service_deployment_arn() == Some(SD_OURS)
                && r.stop_type() == Some(&StopServiceDeploymentStopType::Rollback)
        })
        .then_output(|| StopServiceDeploymentOutput::builder().service_deployment_arn(SD_OURS).build());
    let conflict = mock!(aws_sdk_ecs::Client::stop_service_deployment).then_error(|| {
        StopServiceDeploymentError::ConflictException(
            aws_sdk_ecs::types::error::ConflictException::builder().message("already finished").build(),
        )
    });
    let gone = mock!(aws_sdk_ecs::Client::stop_service_deployment).then_error(|| {
        StopServiceDeploymentError::ServiceDeploymentNotFoundException(
            aws_sdk_ecs::types::error::ServiceDeploymentNotFoundException::builder().message("no such").build(),
        )
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&ok, &conflict, &gone]));
    assert_eq!(ecs.roll_back_service_deployment(SD_OURS).await.unwrap(), StopOutcome::RollingBack);
    assert_eq!(ecs.roll_back_service_deployment(SD_OURS).await.unwrap(), StopOutcome::Finished);
    assert_eq!(ecs.roll_back_service_deployment(SD_OURS).await.unwrap_err().error_type(), "UpdateRejected");
}

#[tokio::test]
async fn ours_is_looked_for_on_the_next_pages_too() {
    let first = mock!(aws_sdk_ecs::Client::list_service_deployments)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListServiceDeploymentsOutput::builder()
                .service_deployments(brief(SD_OTHER, REV_OTHER))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_ecs::Client::list_service_deployments)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| ListServiceDeploymentsOutput::builder().service_deployments(brief(SD_OURS, REV_OURS)).build());
    let describe = mock!(aws_sdk_ecs::Client::describe_service_deployments).then_output(|| {
        DescribeServiceDeploymentsOutput::builder()
            .service_deployments(
                ServiceDeployment::builder().service_deployment_arn(SD_OURS).status(SdkStatus::InProgress).build(),
            )
            .build()
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&first, &second, &describe]));
    let sd = ecs.find_service_deployment("demo", "web", "ecs-svc/3541978090126952138").await.unwrap().unwrap();
    assert_eq!((sd.arn.as_str(), sd.status), (SD_OURS, ServiceDeploymentStatus::InProgress));
    assert_eq!((first.num_calls(), second.num_calls(), describe.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn continue_names_the_hook_and_the_action_and_a_refusal_is_typed() {
    use autodeploy_shared::domain::{HookAction, HookRunStatus, HookTargetType};
    use aws_sdk_ecs::operation::continue_service_deployment::{
        ContinueServiceDeploymentError, ContinueServiceDeploymentOutput,
    };
    use aws_sdk_ecs::types::{
        DeploymentLifecycleHookAction, DeploymentLifecycleHookDetail, DeploymentLifecycleHookStatus,
        DeploymentLifecycleHookTargetType,
    };
    let hook = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";
    let ok = mock!(aws_sdk_ecs::Client::continue_service_deployment)
        .match_requests(move |r| {
            r.service_deployment_arn() == Some(SD_OURS)
                && r.hook_id() == Some(hook)
                && r.action() == Some(&DeploymentLifecycleHookAction::Rollback)
        })
        .then_output(|| ContinueServiceDeploymentOutput::builder().build());
    let refused = mock!(aws_sdk_ecs::Client::continue_service_deployment).then_error(|| {
        ContinueServiceDeploymentError::InvalidParameterException(
            aws_sdk_ecs::types::error::InvalidParameterException::builder().message("hook is not waiting").build(),
        )
    });
    let describe = mock!(aws_sdk_ecs::Client::describe_service_deployments).then_output(move || {
        DescribeServiceDeploymentsOutput::builder()
            .service_deployments(
                ServiceDeployment::builder()
                    .service_deployment_arn(SD_OURS)
                    .status(SdkStatus::InProgress)
                    .lifecycle_stage(ServiceDeploymentLifecycleStage::PostTestTrafficShift)
                    .lifecycle_hook_details(
                        DeploymentLifecycleHookDetail::builder()
                            .hook_id(hook)
                            .target_type(DeploymentLifecycleHookTargetType::Pause)
                            .status(DeploymentLifecycleHookStatus::AwaitingAction)
                            .expires_at(aws_smithy_types::DateTime::from_secs(1_796_119_200))
                            .timeout_action(DeploymentLifecycleHookAction::Rollback)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&ok, &refused, &describe]));
    ecs.continue_service_deployment(SD_OURS, hook, &HookAction::Rollback).await.unwrap();
    let err = ecs.continue_service_deployment(SD_OURS, hook, &HookAction::Rollback).await.unwrap_err();
    assert_eq!(err.error_type(), "UpdateRejected", "{err}");
    assert_eq!((ok.num_calls(), refused.num_calls()), (1, 1));
    // The hook details are read: ECS waits at the PAUSE hook until it expires.
    let sd = ecs.describe_service_deployment(SD_OURS).await.unwrap().unwrap();
    let h = &sd.hooks[0];
    assert_eq!((&h.target_type, &h.status), (&HookTargetType::Pause, &HookRunStatus::AwaitingAction));
    assert_eq!(h.timeout_action, Some(HookAction::Rollback));
    let paused = sd.paused_at().unwrap();
    assert_eq!(paused.hook_id, hook);
    assert_eq!(paused.lifecycle_stage, Some(LifecycleStage::PostTestTrafficShift));
    assert_eq!(paused.expires_at.map(|t| t.timestamp()), Some(1_796_119_200));
}
