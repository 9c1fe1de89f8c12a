//! The clone at the wire: the RegisterTaskDefinition body must be the
//! DescribeTaskDefinition response minus its read-only members, with only the
//! image changed and our tags merged — including members this SDK release does
//! not model (a typed clone would silently drop them).

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use autodeploy_shared::aws::EcsClient;
use autodeploy_shared::aws::task_definition_json::READ_ONLY_MEMBERS;
use autodeploy_shared::ports::Ecs;
use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

const FULL: &str = include_str!("../../tests/fixtures/ecs/describe-task-definition-full.json");
const SOURCE: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
const NEW_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn event(response: String) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder().uri("https://ecs.us-east-1.amazonaws.com/").body(SdkBody::empty()).unwrap(),
        http::Response::builder().status(200).body(SdkBody::from(response)).unwrap(),
    )
}

fn client(replay: &StaticReplayClient) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .http_client(replay.clone())
            .build(),
    )
}

fn body_json(req: &aws_smithy_runtime_api::http::Request) -> Value {
    serde_json::from_slice(req.body().bytes().expect("in-memory body")).unwrap()
}

#[tokio::test]
async fn clone_carries_every_writable_member_and_changes_only_the_image() {
    let registered = json!({"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8", "family": "web", "revision": 8}});
    let replay = StaticReplayClient::new(vec![event(FULL.to_owned()), event(registered.to_string())]);
    let ecs = EcsClient::new(client(&replay));

    let view = ecs.describe_task_definition(SOURCE).await.unwrap();
    assert_eq!(view.containers.len(), 2);
    assert_eq!(view.tag("team"), Some("payments"));
    let images = BTreeMap::from([("app".to_owned(), NEW_IMAGE.to_owned())]);
    let tags = vec![
        ("ecs-autodeploy:image-tag".to_owned(), "v2".to_owned()),
        ("ecs-autodeploy:deployment-id".to_owned(), "d-000000000000000000000001".to_owned()),
    ];
    let arn = ecs.register_revision(SOURCE, &images, &tags).await.unwrap();
    assert_eq!(arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8");

    let requests = replay.actual_requests().collect::<Vec<_>>();
    assert_eq!(requests.len(), 2, "one describe (reused for the clone), one register");
    assert_eq!(
        requests[0].headers().get("x-amz-target").unwrap(),
        "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition"
    );
    assert_eq!(body_json(requests[0]), json!({"taskDefinition": SOURCE, "include": ["TAGS"]}));
    assert_eq!(
        requests[1].headers().get("x-amz-target").unwrap(),
        "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"
    );
    let sent = body_json(requests[1]);
    assert_eq!(
        requests[1].headers().get("content-length").unwrap(),
        requests[1].body().bytes().unwrap().len().to_string().as_str()
    );

    // Expected: the source minus read-only members, app's image replaced, tags merged.
    let full: Value = serde_json::from_str(FULL).unwrap();
    let mut expected = full["taskDefinition"].clone();
    let obj = expected.as_object_mut().unwrap();
    for member in READ_ONLY_MEMBERS {
        assert!(obj.remove(member).is_some(), "fixture lacks read-only member {member}");
    }
    obj["containerDefinitions"][0]["image"] = json!(NEW_IMAGE);
    obj.insert(
        "tags".into(),
        json!([
            {"key": "team", "value": "payments"},
            {"key": "ecs-autodeploy:image-tag", "value": "v2"},
            {"key": "ecs-autodeploy:deployment-id", "value": "d-000000000000000000000001"}
        ]),
    );
    assert_eq!(sent, expected);
    assert_eq!(
        sent["trustedExecutionConfiguration"],
        json!({"enabled": false}),
        "a member newer than this SDK survives"
    );
    assert_eq!(sent["aMemberThisSdkHasNeverHeardOf"], json!({"kept": true}));
    assert_eq!(sent["containerDefinitions"][1]["image"], json!("public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27"));
}

#[tokio::test]
async fn unknown_container_is_refused_before_anything_is_registered() {
    let replay = StaticReplayClient::new(vec![event(FULL.to_owned())]);
    let ecs = EcsClient::new(client(&replay));
    let images = BTreeMap::from([("nope".to_owned(), NEW_IMAGE.to_owned())]);
    let err = ecs.register_revision(SOURCE, &images, &[]).await.unwrap_err();
    assert_eq!(err.error_type(), "NoMatchingContainer");
    assert_eq!(replay.actual_requests().count(), 1, "only the describe");
}

#[test]
fn read_only_members_are_exactly_task_definition_minus_register_request() {
    // From botocore's ecs model (2014-11-13): TaskDefinition members that
    // RegisterTaskDefinitionRequest does not have. `tags` is the only
    // request member that is not in TaskDefinition (it comes from the response's `tags`).
    let task_definition = [
        "taskDefinitionArn",
        "containerDefinitions",
        "family",
        "taskRoleArn",
        "executionRoleArn",
        "networkMode",
        "revision",
        "volumes",
        "status",
        "requiresAttributes",
        "placementConstraints",
        "compatibilities",
        "runtimePlatform",
        "requiresCompatibilities",
        "cpu",
        "memory",
        "inferenceAccelerators",
        "pidMode",
        "ipcMode",
        "proxyConfiguration",
        "registeredAt",
        "deregisteredAt",
        "deleteRequestedAt",
        "registeredBy",
        "ephemeralStorage",
        "enableFaultInjection",
        "trustedExecutionConfiguration",
    ];
    let register = [
        "family",
        "taskRoleArn",
        "executionRoleArn",
        "networkMode",
        "containerDefinitions",
        "volumes",
        "placementConstraints",
        "requiresCompatibilities",
        "cpu",
        "memory",
        "tags",
        "pidMode",
        "ipcMode",
        "proxyConfiguration",
        "inferenceAccelerators",
        "ephemeralStorage",
        "runtimePlatform",
        "enableFaultInjection",
        "trustedExecutionConfiguration",
    ];
    let mut read_only: Vec<&str> = task_definition.into_iter().filter(|m| !register.contains(m)).collect();
    let mut ours = READ_ONLY_MEMBERS.to_vec();
    read_only.sort_unstable();
    ours.sort_unstable();
    assert_eq!(read_only, ours);
}
