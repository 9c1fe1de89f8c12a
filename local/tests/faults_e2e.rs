//! The fault layer as the SDK meets it: each protocol's own error shape, so
//! the SDK's retry really runs (three attempts, each one hit); a dropped
//! connection; latency; only the stack's own calls hit; a plan replaced
//! while running.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use autodeploy_local::cloud::faults::{Count, FaultPlan};
use autodeploy_local::cloud::{Cloud, CloudConfig, FUNCTION_ACCESS_KEY, sdk_config, sdk_config_as};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use serde_json::Value;

const PLAN: &str = r#"{"seed": 1, "calls": [
    {"service": "ecs", "operation": "ListClusters", "fraction": 1, "fault": "throttle"},
    {"service": "dynamodb", "operation": "ListTables", "fraction": 1, "fault": {"serverError": 500}},
    {"service": "elasticloadbalancing", "operation": "DescribeLoadBalancers", "fraction": 1, "fault": "throttle"},
    {"service": "states", "operation": "ListStateMachines", "fraction": 1, "fault": "dropConnection"},
    {"service": "lambda", "operation": "Invoke", "fraction": 1, "fault": "throttle"},
    {"service": "events", "operation": "ListRules", "fraction": 1, "fault": {"latencyMillis": 400}}
]}"#;

async fn injected(cloud: &Cloud) -> Vec<Count> {
    cloud.faults.injected().calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_reach_the_sdk_in_each_protocols_own_shape_and_only_for_the_stacks_calls() {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.faults = FaultPlan::parse(PLAN).unwrap();
    let running = tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.unwrap().unwrap();
    let cloud = running.cloud.clone();
    let stack = sdk_config_as(&cloud.endpoint, &cloud.stack.region, FUNCTION_ACCESS_KEY).await;
    let three = Count { matched: 3, injected: 3 };

    // awsJson 1.1, HTTP 400 ThrottlingException: the SDK retries it (three attempts in all).
    let err = aws_sdk_ecs::Client::new(&stack).list_clusters().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    assert_eq!(injected(&cloud).await[0], three, "every attempt of the SDK's retry was hit");

    // awsJson 1.0, a 500 with DynamoDB's modelled InternalServerError.
    let err = aws_sdk_dynamodb::Client::new(&stack).list_tables().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InternalServerError"), "{err:?}");
    assert_eq!(injected(&cloud).await[1], three);

    // awsQuery: ELBv2's <ErrorResponse> with code Throttling.
    let err = aws_sdk_elasticloadbalancingv2::Client::new(&stack).describe_load_balancers().send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(injected(&cloud).await[2], three);

    // A connection closed before any answer: a dispatch failure, retried.
    let err = aws_sdk_sfn::Client::new(&stack).list_state_machines().send().await.unwrap_err();
    assert!(matches!(err, aws_sdk_sfn::error::SdkError::DispatchFailure(_)), "{err:?}");
    assert_eq!(injected(&cloud).await[3], three);

    // restJson1: Lambda's 429 TooManyRequestsException.
    assert_eq!(lambda_invoke(&cloud).await, (429, "TooManyRequestsException".to_owned()));

    // Latency: answered, late.
    let started = Instant::now();
    aws_sdk_eventbridge::Client::new(&stack).list_rules().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());

    // The harness's (and the operator's) calls are never hit.
    let harness = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    aws_sdk_ecs::Client::new(&harness).list_clusters().send().await.unwrap();
    assert_eq!(injected(&cloud).await[0], three, "not even counted");

    // A new plan while running: nothing injected any more, and the report says so.
    let http = reqwest::Client::new();
    let url = format!("{}/_local/faults", cloud.endpoint);
    let refused = http.put(&url).body(r#"{"calls": [{"fraction": 2, "fault": "throttle"}]}"#).send().await.unwrap();
    assert_eq!(refused.status(), 400, "a plan with a mistake is refused");
    assert!(refused.text().await.unwrap().contains("fraction 2"));
    let report: Value = http.put(&url).body("{}").send().await.unwrap().json().await.unwrap();
    assert_eq!(report["plan"]["calls"], serde_json::json!([]));
    aws_sdk_ecs::Client::new(&stack).list_clusters().send().await.unwrap();
    let report: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["injected"]["calls"], serde_json::json!([]));
    running.stop().await;
}

/// Lambda's Invoke API as the state machine engine calls it (restJson1; the
/// workspace has no SDK for Lambda), with the stack's key in its SigV4
/// scope: the status and error type.
async fn lambda_invoke(cloud: &Cloud) -> (u16, String) {
    let url = format!("{}/2015-03-31/functions/any/invocations", cloud.endpoint);
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={FUNCTION_ACCESS_KEY}/20261201/{}/lambda/aws4_request, SignedHeaders=host, Signature=0",
        cloud.stack.region
    );
    let resp = reqwest::Client::new().post(url).header("authorization", auth).body("{}").send().await.unwrap();
    let kind = resp.headers().get("x-amzn-errortype").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (resp.status().as_u16(), kind)
}
