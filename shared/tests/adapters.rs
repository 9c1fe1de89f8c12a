//! AWS adapters against aws-smithy-mocks: what each sends, how often, and how
//! each AWS answer maps onto the port's contract.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::aws::{AwsNotifier, EcsClient, ElbTargetHealth, SfnCallbacks, SfnExecutions};
use autodeploy_shared::domain::{
    Deployment, DeploymentStateChange, HumanMessage, ImageDigest, NewDeployment, RolloutState, ServiceRef, TagRule,
    TargetHealthReason, TargetHealthState,
};
use autodeploy_shared::ports::{Delivery, Ecs, Executions, Notifier, StartOutcome, TargetHealth, TaskCallbacks};
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::update_service::{UpdateServiceError, UpdateServiceOutput};
use aws_sdk_ecs::types::{
    Attachment, Deployment as EcsDeployment, DeploymentRolloutState, KeyValuePair, LoadBalancer, Service, Task,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use serde_json::json;

fn http_error(status: u16, body: &str) -> Response {
    Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body.to_owned()))
}

fn service() -> Service {
    Service::builder()
        .service_arn("arn:aws:ecs:us-east-1:1:service/demo/web")
        .status("ACTIVE")
        .task_definition("arn:aws:ecs:us-east-1:1:task-definition/web:2")
        .desired_count(2)
        .load_balancers(
            LoadBalancer::builder().target_group_arn("arn:tg/a").container_name("app").container_port(80).build(),
        )
        .load_balancers(
            LoadBalancer::builder().target_group_arn("arn:tg/a").container_name("app").container_port(8080).build(),
        )
        .load_balancers(
            LoadBalancer::builder().target_group_arn("arn:tg/b").container_name("app").container_port(80).build(),
        )
        .deployments(
            EcsDeployment::builder()
                .id("ecs-svc/2")
                .status("PRIMARY")
                .task_definition("arn:aws:ecs:us-east-1:1:task-definition/web:2")
                .desired_count(2)
                .running_count(1)
                .pending_count(1)
                .failed_tasks(0)
                .rollout_state(DeploymentRolloutState::InProgress)
                .build(),
        )
        .deployments(
            EcsDeployment::builder()
                .id("ecs-svc/1")
                .status("ACTIVE")
                .task_definition("arn:aws:ecs:us-east-1:1:task-definition/web:1")
                .desired_count(2)
                .running_count(2)
                .rollout_state(DeploymentRolloutState::Completed)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn describe_service_maps_deployments_and_dedupes_target_groups() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|r| r.cluster() == Some("demo") && r.services() == ["web".to_owned()])
        .then_output(|| DescribeServicesOutput::builder().services(service()).build());
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, [&rule]));
    let s = ecs.describe_service("demo", "web").await.unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(s.target_group_arns, ["arn:tg/a", "arn:tg/b"]);
    assert_eq!(s.deployments.len(), 2);
    let p = s.primary().unwrap();
    assert_eq!(
        (p.id.as_str(), p.rollout_state.clone(), p.running_count, p.pending_count),
        ("ecs-svc/2", Some(RolloutState::InProgress), 1, 1)
    );
    assert!(s.alternate_target_group_arns.is_empty() && s.strategy.is_none());
}

#[tokio::test]
async fn describe_service_reads_the_strategy_its_alternate_groups_and_current_service_deployment() {
    use aws_sdk_ecs::types::{AdvancedConfiguration, DeploymentConfiguration, DeploymentStrategy};
    let blue_green = || {
        let lb = |tg: &str, alternate: &str| {
            LoadBalancer::builder()
                .target_group_arn(tg)
                .container_name("app")
                .container_port(80)
                .advanced_configuration(
                    AdvancedConfiguration::builder()
                        .alternate_target_group_arn(alternate)
                        .production_listener_rule("arn:rule/prod")
                        .build(),
                )
                .build()
        };
        let mut s = service();
        s.load_balancers = Some(vec![lb("arn:tg/blue", "arn:tg/green"), lb("arn:tg/blue", "arn:tg/green")]);
        s.deployment_configuration =
            Some(DeploymentConfiguration::builder().strategy(DeploymentStrategy::BlueGreen).build());
        s.current_service_deployment = Some("arn:aws:ecs:us-east-1:1:service-deployment/demo/web/abc".into());
        s
    };
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .then_output(move || DescribeServicesOutput::builder().services(blue_green()).build());
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, [&rule]));
    let s = ecs.describe_service("demo", "web").await.unwrap();
    assert_eq!(s.target_group_arns, ["arn:tg/blue"]);
    assert_eq!(s.alternate_target_group_arns, ["arn:tg/green"]);
    assert_eq!(s.all_target_groups(), ["arn:tg/blue", "arn:tg/green"]);
    assert_eq!(s.strategy, Some(autodeploy_shared::domain::DeploymentStrategy::BlueGreen));
    assert_eq!(
        s.current_service_deployment.as_deref(),
        Some("arn:aws:ecs:us-east-1:1:service-deployment/demo/web/abc")
    );
}

#[tokio::test]
async fn missing_or_inactive_service_is_service_not_found() {
    let inactive = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder().services(Service::builder().status("INACTIVE").build()).build()
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, [&inactive]));
    assert_eq!(ecs.describe_service("demo", "web").await.unwrap_err().error_type(), "ServiceNotFound");

    let no_cluster = mock!(aws_sdk_ecs::Client::describe_services).then_http_response(|| {
        http_error(400, r#"{"__type":"ClusterNotFoundException","message":"Cluster not found."}"#)
    });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, [&no_cluster]));
    assert_eq!(ecs.describe_service("demo", "web").await.unwrap_err().error_type(), "ServiceNotFound");
}

#[tokio::test]
async fn update_service_sends_only_the_task_definition_and_maps_errors() {
    let ok = mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(|r| {
            r.cluster() == Some("demo")
                && r.service() == Some("web")
                && r.task_definition() == Some("arn:td:3")
                && r.force_new_deployment().is_none()
                && r.desired_count().is_none()
                && r.deployment_configuration().is_none()
        })
        .then_output(|| UpdateServiceOutput::builder().service(service()).build());
    let rejected = mock!(aws_sdk_ecs::Client::update_service).then_error(|| {
        UpdateServiceError::InvalidParameterException(
            aws_sdk_ecs::types::error::InvalidParameterException::builder().message("bad").build(),
        )
    });
    let throttled = mock!(aws_sdk_ecs::Client::update_service)
        .then_http_response(|| http_error(400, r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#));
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&ok, &rejected, &throttled]);
    let ecs = EcsClient::new(client);
    assert_eq!(ecs.update_service("demo", "web", "arn:td:3").await.unwrap().deployments[0].id, "ecs-svc/2");
    assert_eq!(ecs.update_service("demo", "web", "arn:td:3").await.unwrap_err().error_type(), "UpdateRejected");
    let err = ecs.update_service("demo", "web", "arn:td:3").await.unwrap_err();
    assert_eq!(err.error_type(), "Retryable", "{err}");
    // Throttling is retried by the SDK's standard retry (3 attempts) before the
    // adapter sees it and hands it to the state machine's Retry as `Retryable`.
    assert_eq!((ok.num_calls(), rejected.num_calls(), throttled.num_calls()), (1, 1, 3));
}

#[tokio::test]
async fn service_tasks_lists_running_tasks_and_reads_their_ips() {
    let list = mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(|r| {
            r.cluster() == Some("demo")
                && r.service_name() == Some("web")
                && r.desired_status() == Some(&aws_sdk_ecs::types::DesiredStatus::Running)
        })
        .then_output(|| aws_sdk_ecs::operation::list_tasks::ListTasksOutput::builder().task_arns("arn:task/1").build());
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .match_requests(|r| r.tasks() == ["arn:task/1".to_owned()])
        .then_output(|| {
            aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .task_arn("arn:task/1")
                        .started_by("ecs-svc/2")
                        .task_definition_arn("arn:td:2")
                        .last_status("RUNNING")
                        .attachments(
                            Attachment::builder()
                                .r#type("ElasticNetworkInterface")
                                .details(KeyValuePair::builder().name("subnetId").value("subnet-1").build())
                                .details(KeyValuePair::builder().name("privateIPv4Address").value("10.0.0.7").build())
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, [&list, &describe]));
    let tasks = ecs.service_tasks("demo", "web").await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].private_ips, ["10.0.0.7"]);
    assert_eq!(tasks[0].started_by.as_deref(), Some("ecs-svc/2"));
    assert_eq!((list.num_calls(), describe.num_calls()), (1, 1));
}

#[tokio::test]
async fn target_health_maps_state_and_reason() {
    use aws_sdk_elasticloadbalancingv2::types::{
        TargetDescription, TargetHealth as Health, TargetHealthDescription, TargetHealthReasonEnum,
        TargetHealthStateEnum,
    };
    let rule = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health)
        .match_requests(|r| r.target_group_arn() == Some("arn:tg/a") && r.targets().is_empty())
        .then_output(|| {
            aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput::builder()
                .target_health_descriptions(
                    TargetHealthDescription::builder()
                        .target(TargetDescription::builder().id("10.0.0.7").port(80).build())
                        .target_health(
                            Health::builder()
                                .state(TargetHealthStateEnum::Unhealthy)
                                .reason(TargetHealthReasonEnum::FailedHealthChecks)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let elb = ElbTargetHealth::new(mock_client!(aws_sdk_elasticloadbalancingv2, [&rule]));
    let targets = elb.describe("arn:tg/a").await.unwrap();
    assert_eq!(targets[0].state, TargetHealthState::Unhealthy);
    assert_eq!(targets[0].reason, Some(TargetHealthReason::FailedHealthChecks));
    assert_eq!(targets[0].port, Some(80));
}

#[tokio::test]
async fn start_execution_is_at_most_once_per_name() {
    use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
    let started = mock!(aws_sdk_sfn::Client::start_execution)
        .match_requests(|r| {
            r.state_machine_arn() == Some("arn:sm")
                && r.name() == Some("web-d-1")
                && r.input() == Some(r#"{"deploymentId":"d-1"}"#)
        })
        .then_output(|| {
            StartExecutionOutput::builder()
                .execution_arn("arn:exec/1")
                .start_date(aws_smithy_types::DateTime::from(std::time::SystemTime::now()))
                .build()
                .unwrap()
        });
    // The same name and input while that run goes on: Step Functions answers
    // with it, started an hour ago; this call started nothing.
    let running = mock!(aws_sdk_sfn::Client::start_execution).then_output(|| {
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        StartExecutionOutput::builder()
            .execution_arn("arn:exec/1")
            .start_date(aws_smithy_types::DateTime::from(an_hour_ago))
            .build()
            .unwrap()
    });
    let exists = mock!(aws_sdk_sfn::Client::start_execution).then_error(|| {
        StartExecutionError::ExecutionAlreadyExists(
            aws_sdk_sfn::types::error::ExecutionAlreadyExists::builder().message("exists").build(),
        )
    });
    let full = mock!(aws_sdk_sfn::Client::start_execution)
        .then_http_response(|| http_error(400, r#"{"__type":"ExecutionLimitExceeded","message":"too many"}"#));
    let sfn = SfnExecutions::new(
        mock_client!(aws_sdk_sfn, RuleMode::Sequential, [&started, &running, &exists, &full]),
        "arn:sm",
    );
    let input = json!({"deploymentId": "d-1"});
    assert_eq!(
        sfn.start("web-d-1", &input).await.unwrap(),
        StartOutcome::Started { execution_arn: "arn:exec/1".into() }
    );
    assert_eq!(sfn.start("web-d-1", &input).await.unwrap(), StartOutcome::AlreadyStarted);
    assert_eq!(sfn.start("web-d-1", &input).await.unwrap(), StartOutcome::AlreadyStarted);
    assert_eq!(sfn.start("web-d-1", &input).await.unwrap_err().error_type(), "AwsError");
}

#[tokio::test]
async fn send_task_success_treats_spent_tokens_as_gone() {
    use aws_sdk_sfn::operation::send_task_success::{SendTaskSuccessError, SendTaskSuccessOutput};
    let ok = mock!(aws_sdk_sfn::Client::send_task_success)
        .match_requests(|r| r.task_token() == Some("tok") && r.output() == Some(r#"{"outcome":"SUCCEEDED"}"#))
        .then_output(|| SendTaskSuccessOutput::builder().build());
    let timed_out = mock!(aws_sdk_sfn::Client::send_task_success)
        .then_error(|| SendTaskSuccessError::TaskTimedOut(aws_sdk_sfn::types::error::TaskTimedOut::builder().build()));
    let invalid = mock!(aws_sdk_sfn::Client::send_task_success)
        .then_error(|| SendTaskSuccessError::InvalidToken(aws_sdk_sfn::types::error::InvalidToken::builder().build()));
    let cb = SfnCallbacks::new(mock_client!(aws_sdk_sfn, RuleMode::Sequential, [&ok, &timed_out, &invalid]));
    let out = json!({"outcome": "SUCCEEDED"});
    assert_eq!(cb.succeed("tok", &out).await.unwrap(), Delivery::Sent);
    assert_eq!(cb.succeed("tok", &out).await.unwrap(), Delivery::Gone);
    assert_eq!(cb.succeed("tok", &out).await.unwrap(), Delivery::Gone);
}

fn deployment() -> Deployment {
    let svc = ServiceRef::new("demo", "web").unwrap();
    let digest = ImageDigest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
    Deployment::new(
        NewDeployment {
            service: &svc,
            repository: "web",
            registry: "1.dkr.ecr.us-east-1.amazonaws.com",
            digest: &digest,
            tag: Some("v2"),
            target_id: "prod",
            tag_rule: &TagRule::Exact { pattern: "v2".into() },
            containers: &[],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: None,
            image_pushed_at: None,
            note: None,
        },
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    )
}

#[tokio::test]
async fn notifier_publishes_the_event_and_the_human_message() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    let d = deployment();
    let change = DeploymentStateChange::of(&d);
    let expected_detail = serde_json::to_value(&change).unwrap();
    let put = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(move |r| {
            let e = &r.entries()[0];
            r.entries().len() == 1
                && e.source() == Some("ecs-autodeploy")
                && e.detail_type() == Some("Deployment State Change")
                && e.event_bus_name() == Some("bus")
                && serde_json::from_str::<serde_json::Value>(e.detail().unwrap()).unwrap() == expected_detail
        })
        .sequence()
        .output(|| PutEventsOutput::builder().failed_entry_count(0).build())
        .times(2)
        .build();
    let publish = mock!(aws_sdk_sns::Client::publish)
        .match_requests(|r| {
            r.topic_arn() == Some("arn:topic")
                && r.subject().is_some_and(|s| s.len() <= 100)
                && r.message().is_some_and(|m| m.contains("Timeline"))
        })
        .then_output(|| aws_sdk_sns::operation::publish::PublishOutput::builder().message_id("m").build());
    let n = AwsNotifier::new(
        mock_client!(aws_sdk_eventbridge, [&put]),
        mock_client!(aws_sdk_sns, [&publish]),
        "bus",
        "arn:topic",
    );
    n.publish(&change, None).await.unwrap();
    assert_eq!((put.num_calls(), publish.num_calls()), (1, 0), "no SNS for non-terminal changes");
    n.publish(&change, Some(&HumanMessage::of(&d))).await.unwrap();
    assert_eq!((put.num_calls(), publish.num_calls()), (2, 1));
}

#[tokio::test]
async fn a_rejected_event_entry_is_retryable() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    let put = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(PutEventsResultEntry::builder().error_code("InternalFailure").error_message("try again").build())
            .build()
    });
    let publish = mock!(aws_sdk_sns::Client::publish)
        .then_output(|| aws_sdk_sns::operation::publish::PublishOutput::builder().build());
    let n = AwsNotifier::new(
        mock_client!(aws_sdk_eventbridge, [&put]),
        mock_client!(aws_sdk_sns, [&publish]),
        "bus",
        "arn:topic",
    );
    let err = n.publish(&DeploymentStateChange::of(&deployment()), None).await.unwrap_err();
    assert_eq!(err.error_type(), "Retryable");
    assert!(err.to_string().contains("InternalFailure"));
}

/// A router's 502 without an error code, a 503 and a 429 are worth another
/// try (the state machine's `Retryable`), whatever the body says; a 400 with
/// a client error code is not.
#[tokio::test]
async fn transient_http_answers_are_retryable_whatever_their_error_code() {
    let answers: [(u16, &str, &str); 5] = [
        (502, "", "Retryable"),
        (503, r#"{"__type":"SomethingNewException","message":"try later"}"#, "Retryable"),
        (500, r#"{"__type":"ClientException","message":"internal"}"#, "Retryable"),
        (429, r#"{"message":"slow down"}"#, "Retryable"),
        (400, r#"{"__type":"ClientException","message":"no such cluster"}"#, "AwsError"),
    ];
    for (status, body, expected) in answers {
        let answer = mock!(aws_sdk_ecs::Client::describe_services).then_http_response(move || http_error(status, body));
        let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&answer]));
        let err = ecs.describe_service("demo", "web").await.unwrap_err();
        assert_eq!(err.error_type(), expected, "HTTP {status} {body}: {err}");
        if body.contains("__type") {
            assert!(err.to_string().contains(&format!("HTTP {status}")), "the status is in the message: {err}");
        }
    }
}

#[tokio::test]
async fn recent_revisions_asks_for_the_familys_newest_active_ones_only() {
    use aws_sdk_ecs::operation::list_task_definitions::ListTaskDefinitionsOutput;
    use aws_sdk_ecs::types::{SortOrder, TaskDefinitionStatus};
    let listed = mock!(aws_sdk_ecs::Client::list_task_definitions)
        .match_requests(|r| {
            r.family_prefix() == Some("web")
                && r.sort() == Some(&SortOrder::Desc)
                && r.status() == Some(&TaskDefinitionStatus::Active)
                && r.max_results() == Some(10)
        })
        .then_output(|| {
            ListTaskDefinitionsOutput::builder()
                .task_definition_arns("arn:aws:ecs:us-east-1:1:task-definition/web:9")
                .task_definition_arns("arn:aws:ecs:us-east-1:1:task-definition/web-canary:3")
                .task_definition_arns("arn:aws:ecs:us-east-1:1:task-definition/web:8")
                .build()
        });
    let ecs = EcsClient::new(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&listed]));
    let arns = ecs.recent_revisions("web", 10).await.unwrap();
    assert_eq!(
        arns,
        ["arn:aws:ecs:us-east-1:1:task-definition/web:9", "arn:aws:ecs:us-east-1:1:task-definition/web:8"]
    );
}

#[tokio::test]
async fn a_run_is_alive_only_while_step_functions_says_running() {
    use autodeploy_shared::aws::SfnRuns;
    use autodeploy_shared::ports::Runs;
    use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
    use aws_sdk_sfn::types::ExecutionStatus;
    let at = aws_smithy_types::DateTime::from_secs(1_800_000_000);
    let described = |status: ExecutionStatus| {
        mock!(aws_sdk_sfn::Client::describe_execution)
            .match_requests(|r| r.execution_arn() == Some("arn:aws:states:us-east-1:1:execution:deploy:web-d-1"))
            .then_output(move || {
                DescribeExecutionOutput::builder()
                    .execution_arn("arn:aws:states:us-east-1:1:execution:deploy:web-d-1")
                    .state_machine_arn("arn:aws:states:us-east-1:1:stateMachine:deploy")
                    .status(status.clone())
                    .start_date(at)
                    .build()
                    .unwrap()
            })
    };
    let running = described(ExecutionStatus::Running);
    let succeeded = described(ExecutionStatus::Succeeded);
    let gone = mock!(aws_sdk_sfn::Client::describe_execution).then_error(|| {
        DescribeExecutionError::ExecutionDoesNotExist(
            aws_sdk_sfn::types::error::ExecutionDoesNotExist::builder().message("no").build(),
        )
    });
    let runs = SfnRuns::new(mock_client!(aws_sdk_sfn, RuleMode::Sequential, [&running, &succeeded, &gone]));
    let arn = "arn:aws:states:us-east-1:1:execution:deploy:web-d-1";
    assert!(runs.is_running(arn).await.unwrap());
    assert!(!runs.is_running(arn).await.unwrap(), "ended");
    assert!(!runs.is_running(arn).await.unwrap(), "unknown to Step Functions");
}
