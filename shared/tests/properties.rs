//! Property tests of every parser of outside input: the EventBridge events
//! (ECR, ECS, CloudWatch, the reconciler's schedule), the function URL
//! requests (`operate`, `decide-approval`), the lifecycle hook's invocation
//! and every step's input as its Lambda receives it. Arbitrary JSON, and
//! AWS's documented samples and the state machine's payloads mutated, must
//! never panic: each parses to a valid value or to the typed error the
//! handler maps (`MalformedEvent` for a payload that is not the input).
//!
//! 256 cases a property by default (`make test`); `PROPTEST_CASES=100000`
//! (`make proptest-long`) is the long mode. A failure names the minimal case
//! and the `PROPTEST_RNG_SEED` that reproduces it; nothing is written to disk.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::{BuildHasher, RandomState};

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{
    ApprovalPolicy, DeploymentId, HookChecks, HookFindings, HookInvocation, HookStatus, MAX_SOAK_SECONDS, decide,
    is_ecr_repository_name,
};
use autodeploy_shared::error::QUOTE_LIMIT;
use autodeploy_shared::events::{EcrEvent, parse_ecr_event, parse_ecs_event};
use autodeploy_shared::ports::Clock;
use autodeploy_shared::steps::*;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value, json};

use crate::common::{self, World, digest};

// ---------------------------------------------------------------------------
// The samples: AWS's documented payloads and the state machine's.

const ECR_PUSH: &str = include_str!("../../tests/fixtures/aws-events/ecr-image-push.json");
const ECR_DELETE: &str = include_str!("../../tests/fixtures/aws-events/ecr-image-delete.json");
const ECS_EVENTS: [&str; 7] = [
    include_str!("../../tests/fixtures/aws-events/ecs-deployment-completed.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-deployment-failed.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-deployment-in-progress.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-hook-state-change-awaiting-action.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-service-action-placement-failure.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-service-action-steady-state.json"),
    include_str!("../../tests/fixtures/aws-events/ecs-task-state-change-running.json"),
];
const ALARM: &str = include_str!("../../tests/fixtures/aws-events/cloudwatch-alarm-unhealthy-hosts.json");

/// EventBridge's scheduled event (the EventBridge user guide's sample).
const SCHEDULED: &str = r#"{
  "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2015-10-08T16:53:06Z", "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"], "detail": {}
}"#;

/// A function URL request, payload format 2.0 (the Lambda developer guide's
/// sample, signed with AWS_IAM); `body` is set per entry point.
const URL_REQUEST: &str = r#"{
  "version": "2.0", "routeKey": "$default", "rawPath": "/my/path",
  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
  "cookies": ["cookie1", "cookie2"],
  "headers": {"header1": "value1", "header2": "value1,value2", "content-type": "application/json"},
  "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
  "requestContext": {
    "accountId": "123456789012", "apiId": "abcdefghijklmnopqrstuvwxyz012345", "authentication": null,
    "authorizer": {"iam": {"accessKey": "AKIAIOSFODNN7EXAMPLE", "accountId": "123456789012",
      "callerId": "AIDACKCEVSQ6C2EXAMPLE", "cognitoIdentity": null, "principalOrgId": null,
      "userArn": "arn:aws:iam::123456789012:user/alice", "userId": "AIDACKCEVSQ6C2EXAMPLE"}},
    "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws",
    "domainPrefix": "abcdefghijklmnopqrstuvwxyz012345",
    "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
      "userAgent": "agent"},
    "requestId": "id", "routeKey": "$default", "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390
  },
  "body": "", "pathParameters": null, "isBase64Encoded": false, "stageVariables": null
}"#;

/// What ECS sends a lifecycle hook ("Lifecycle hooks for Amazon ECS service
/// deployments"), with the stack's own `hookDetails`.
const HOOK_INVOCATIONS: [&str; 2] = [
    r#"{
      "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5", "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
      "resourceArn": "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28",
      "executionDetails": {
        "serviceArn": "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service",
        "targetServiceRevisionArn": "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900",
        "testTrafficWeights": {},
        "productionTrafficWeights": {
          "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900": 100,
          "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/1920498462936580504": 0
        }
      }
    }"#,
    r#"{
      "executionId": "e8d5a28f", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
      "resourceArn": "arn:aws:ecs:us-west-2:123456789012:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28",
      "executionDetails": {
        "serviceArn": "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service",
        "targetServiceRevisionArn": "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900",
        "testTrafficWeights": {
          "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900": 100
        },
        "productionTrafficWeights": {}
      },
      "hookDetails": {"approvalChecked": true, "autodeploy": {
        "targetHealth": true, "alarms": ["web-5xx"], "soakSeconds": 120,
        "soakStartedAt": "2026-03-05T15:54:41.618Z",
        "http": {"url": "http://internal-web:8080/health", "expectStatus": 200, "requests": 10, "timeoutSeconds": 5}
      }}
    }"#,
];

const TASK_TOKEN: &str = "AQCEAAAAKgAAAAMAAAAAAAAAAQ3yN5Ewk0G1cXb1b4tCDtsQTn1H0n9Ja0vTGAcYB/9pZfSxpB4b1Vb4m2Xz==";
const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:ecs-autodeploy-deploy:web-d-0123";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/943f017f100becff";

/// A verdict as "Check the rollout" selects it or the event handler sends it back.
fn verdict(outcome: &str, phase: &str) -> Value {
    json!({
        "outcome": outcome, "phase": phase, "ecsDeploymentId": "ecs-svc/8395934399520542203",
        "reason": "ECS deployment ecs-svc/8395934399520542203 completed: 2 tasks running, every target group healthy",
        "targetHealth": [{"targetGroupArn": TG, "desiredCount": 2, "healthyCount": 1, "targets": [
            {"id": "10.0.0.11", "port": 80, "state": "healthy",
             "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/demo/c13b4cb40f1f4fe4a2971f76ae5a47ad"},
            {"id": "10.0.0.12", "port": 80, "state": "unhealthy", "reason": "Elb.InitialHealthChecking"}
        ]}],
        "observedAt": "2026-03-05T15:54:41.618Z",
        "progress": {
            "serviceDeploymentArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/web/0EYSiB0qap8xf0N76FsbE",
            "status": "IN_PROGRESS", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "productionTrafficWeight": 0.0, "testTrafficWeight": 100.0, "bakeTimeMinutes": 5,
            "updatedAt": "2026-03-05T15:54:41.618Z",
            "paused": {"hookId": "ecs-pause-e7tK9G_WRJqNF", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
                       "expiresAt": "2026-03-05T16:04:41.000Z", "timeoutAction": "ROLLBACK"},
            "hooks": [{"hookId": "ecs-pause-e7tK9G_WRJqNF", "targetType": "PAUSE", "status": "AWAITING_ACTION",
                       "expiresAt": "2026-03-05T16:04:41.000Z", "timeoutAction": "ROLLBACK"}]
        }
    })
}

/// A Lambda error as a `Catch` puts it at `$.error`.
fn step_error() -> Value {
    let cause =
        r#"{"errorType":"UpdateRejected","errorMessage":"ECS rejected the update: service inactive","trace":[]}"#;
    json!({"Error": "UpdateRejected", "Cause": cause})
}

/// The state as "Roll back" receives it whole (`Payload.$: $`).
fn run_state(id: &str) -> Value {
    json!({
        "deploymentId": id, "cluster": "demo", "service": "web",
        "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:{}", "12".repeat(32)),
        "tag": "v2", "coalesceSeconds": 5,
        "claim": {"outcome": "GRANTED", "status": "REGISTERING", "pollIntervalSeconds": 60},
        "revision": {"outcome": "REGISTERED", "status": "UPDATING"},
        "rollout": {"ecsDeploymentId": "ecs-svc/8395934399520542203", "deadline": "2026-03-05T16:54:41.618Z",
                    "pollIntervalSeconds": 60},
    })
}

/// Each step's input as `statemachine/deploy.asl.json` builds it.
fn claim_inputs(id: &str) -> Vec<Value> {
    vec![json!({"deploymentId": id, "executionArn": EXECUTION}), json!({"deploymentId": id})]
}
fn await_service_inputs(id: &str) -> Vec<Value> {
    ["AWAITING_APPROVAL", "QUEUED", "HELD"]
        .map(|w| json!({"deploymentId": id, "taskToken": TASK_TOKEN, "waitingIn": w}))
        .into()
}
fn approval_request_inputs(id: &str) -> Vec<Value> {
    vec![json!({"deploymentId": id, "expired": false}), json!({"deploymentId": id, "expired": true})]
}
fn deployment_inputs(id: &str) -> Vec<Value> {
    vec![json!({"deploymentId": id})]
}
fn await_inputs(id: &str) -> Vec<Value> {
    ["ROLLOUT", "ROLLBACK"].map(|p| json!({"deploymentId": id, "phase": p, "taskToken": TASK_TOKEN})).into()
}
fn check_inputs(id: &str) -> Vec<Value> {
    ["ROLLOUT", "ROLLBACK"].map(|p| json!({"deploymentId": id, "phase": p})).into()
}
fn outcome_inputs(id: &str) -> Vec<Value> {
    vec![
        json!({"deploymentId": id, "outcome": "SUCCEEDED", "verdict": verdict("SUCCEEDED", "ROLLOUT")}),
        json!({"deploymentId": id, "outcome": "ROLLED_BACK", "verdict": verdict("SUCCEEDED", "ROLLBACK")}),
        json!({"deploymentId": id, "outcome": "FAILED", "verdict": verdict("FAILED", "ROLLBACK")}),
        json!({"deploymentId": id, "outcome": "FAILED", "error": step_error()}),
    ]
}
fn roll_back_inputs(id: &str) -> Vec<Value> {
    let mut failed = run_state(id);
    failed["verdict"] = verdict("FAILED", "ROLLOUT");
    let mut errored = run_state(id);
    errored["error"] = json!({"Error": "States.Timeout", "Cause": ""});
    let mut lambda_error = run_state(id);
    lambda_error["error"] = step_error();
    // A function that ran out of time, as Lambda reports it.
    let mut timed_out = run_state(id);
    let cause = r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 6f2a1c6e Error: Task timed out after 30.00 seconds"}"#;
    timed_out["error"] = json!({"Error": "Sandbox.Timedout", "Cause": cause});
    vec![failed, errored, lambda_error, timed_out]
}

fn operate_bodies() -> Vec<Value> {
    let token = "7d1c0b7e9a4f4c2e8b1d";
    vec![
        json!({"action": "DEPLOY", "service": "demo/web", "image": "web:v2", "requestToken": token,
               "reason": "hotfix for incident 4711", "force": false}),
        json!({"action": "DEPLOY", "service": "demo/web", "requestToken": token,
               "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:{}", "02".repeat(32))}),
        json!({"action": "ROLLBACK", "service": "demo/web", "requestToken": token, "reason": "v2 is slow"}),
        json!({"action": "ROLLBACK", "service": "demo/web", "requestToken": token, "to": "d-0123456789abcdef01234567"}),
        json!({"action": "ROLLBACK", "service": "demo/web", "requestToken": token, "to": "web:1"}),
        json!({"action": "FREEZE", "service": "demo/web", "reason": "incident 4711"}),
        json!({"action": "UNFREEZE", "service": "arn:aws:ecs:us-east-1:123456789012:service/demo/web"}),
    ]
}

fn decision_bodies(id: &str) -> Vec<Value> {
    vec![
        json!({"deploymentId": id, "decision": "APPROVE", "reason": "checked the canary"}),
        json!({"deploymentId": id, "decision": "REJECT"}),
    ]
}

fn sample(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A function URL request carrying `body` (as text, or base64 as Lambda
/// sends a binary body).
fn url_request(body: &Value, base64: bool) -> Value {
    let mut r = sample(URL_REQUEST);
    let text = body.to_string();
    r["body"] = if base64 { json!(aws_smithy_types::base64::encode(&text)) } else { json!(text) };
    r["isBase64Encoded"] = json!(base64);
    r
}

/// An id no deployment has: the pure parsers do not look records up.
const SOME_ID: &str = "d-0123456789abcdef01234567";

// ---------------------------------------------------------------------------
// The runner: the case count from the environment, no files, a seed to
// reproduce a failure with.

const SHORT_CASES: u32 = 256;

/// `PROPTEST_CASES` (default 256) cases with a seed chosen now unless
/// `PROPTEST_RNG_SEED` names one; no failure persistence (nothing written
/// into the source tree, in CI or elsewhere).
fn config() -> (Config, u64) {
    // The default reads every PROPTEST_* variable (shrink limits, seed, ...).
    let base = Config::default();
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(SHORT_CASES);
    let seed = match base.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => RandomState::new().hash_one("proptest seed"),
    };
    let config = Config { cases, failure_persistence: None, rng_seed: RngSeed::Fixed(seed), ..base };
    (config, seed)
}

/// Runs `property` on `strategy`'s cases; a failure (a panic included) panics
/// with the minimal case and how to run the same cases again. A property
/// that never sees a valid value, or never a refused one, tests nothing.
fn check<S>(what: &str, strategy: S, property: impl Fn(S::Value) -> Result<Parsed, TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let (config, seed) = config();
    let cases = config.cases;
    let seen = std::cell::Cell::new((0_u32, 0_u32));
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |v| {
        let parsed = property(v)?;
        let (valid, refused) = seen.get();
        seen.set(if parsed == Parsed::Valid { (valid + 1, refused) } else { (valid, refused + 1) });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{what}: {e}\nthe same cases again: PROPTEST_RNG_SEED={seed} PROPTEST_CASES={cases}");
    }
    let (valid, refused) = seen.get();
    // Shown with --nocapture: how the cases came out.
    eprintln!("{what}: {cases} cases, {valid} valid, {refused} refused");
    assert!(cases < 100 || (valid > 0 && refused > 0), "{what}: {valid} valid and {refused} refused of {cases} cases");
}

// ---------------------------------------------------------------------------
// Strategies: arbitrary JSON over a sample's vocabulary, and mutated samples.

/// The keys and strings of a parser's samples, so that arbitrary JSON has the
/// names the parser looks for and mutations put real values in wrong places.
#[derive(Debug, Clone)]
struct Vocabulary {
    keys: Vec<String>,
    strings: Vec<String>,
}

fn vocabulary(samples: &[Value]) -> Vocabulary {
    fn walk(v: &Value, keys: &mut BTreeSet<String>, strings: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    keys.insert(k.clone());
                    walk(v, keys, strings);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, keys, strings)),
            Value::String(s) => {
                strings.insert(s.clone());
                // A body is JSON in a string: its names and values too.
                if let Ok(inner @ (Value::Object(_) | Value::Array(_))) = serde_json::from_str::<Value>(s) {
                    walk(&inner, keys, strings);
                }
            }
            _ => {}
        }
    }
    let (mut keys, mut strings) = (BTreeSet::new(), BTreeSet::new());
    samples.iter().for_each(|s| walk(s, &mut keys, &mut strings));
    strings.extend(NEAR_MISSES.iter().map(|s| (*s).to_owned()));
    Vocabulary { keys: keys.into_iter().collect(), strings: strings.into_iter().collect() }
}

/// Values that are almost what a parser wants: ARNs, digests, ids, times,
/// states and tokens off by one part.
const NEAR_MISSES: &[&str] = &[
    // digests: short, long, upper case, another algorithm, trailing newline
    "sha256:7f5b2640fe6fb4f46592dfd3410c4a79",
    "sha256:7f5b2640fe6fb4f46592dfd3410c4a7",
    "sha256:7F5B2640FE6FB4F46592DFD3410C4A79DAC4F89E4782432E0378ABCD1234",
    "sha512:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234",
    "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234\n",
    "sha256:",
    "sha256:é7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd123",
    // ARNs: missing or extra parts, other partitions, wrong services
    "arn:aws:ecs:us-west-2:111122223333:service/default",
    "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest/extra",
    "arn:aws:ecs:::service//",
    "arn:aws-cn:ecs:cn-north-1:111122223333:service/default/servicetest",
    "arn:aws:ecs:us-west-2:111122223333:cluster/",
    "arn:aws:iam::123456789012:user/",
    "arn:aws:sts::123456789012:assumed-role/oncall/bob",
    "arn:",
    "service:",
    "service:sample-fargate/extra",
    "targetgroup/web/",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web",
    // deployment ids and tokens
    "d-0123456789abcdef0123456",
    "d-0123456789abcdef012345678",
    "d-0123456789ABCDEF01234567",
    "d-0123456789abcdef0123456g",
    "d-éééééééééééé",
    "D-0123456789abcdef01234567",
    "7d1c0b7e9a4f4c2e8b1",
    "7d1c0b7e9a4f4c2e8b1d7d1c0b7e9a4f4c2e8b1d7d1c0b7e9a4f4c2e8b1d7d1c0",
    "7d1c0b7e9a4f4c2e8b1d!",
    // times: no zone, out of range, the edges of what RFC 3339 can write
    "2019-11-16T01:54:34",
    "2019-13-16T01:54:34Z",
    "2019-11-16T01:54:60Z",
    "2019-02-29T00:00:00Z",
    "2019-11-16 01:54:34Z",
    "0000-01-01T00:00:00Z",
    "0000-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999999Z",
    "9999-12-31T23:59:59-01:00",
    "+275760-09-13T00:00:00Z",
    "1970-01-01T00:00:00Z",
    // states and names, almost
    "push",
    "Push",
    "PUSH ",
    "success",
    "ALARM\u{0}",
    "alarm",
    "ROLL_OUT",
    "SUCCEEDED ",
    "APPROVE\n",
    "approve",
    "post",
    "GET",
    "DEPLOY ",
    "demo/",
    "/web",
    "demo/web/extra",
    "web:",
    "web@",
    "web@sha256:abc",
    "localhost:5000/web:v2",
    "http://user:pw@internal-web/",
    "http:// internal-web/",
    "ftp://internal-web/",
    "e30=",
    "not base64!",
];

fn number() -> impl Strategy<Value = Number> {
    let edges: Vec<Number> = [
        json!(0),
        json!(-1),
        json!(1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(i64::from(i32::MAX) + 1),
        json!(i64::from(i32::MIN) - 1),
        json!(u64::from(u32::MAX) + 1),
        json!(9_007_199_254_740_993_u64),
        json!(86_401),
        json!(0.5),
        json!(-0.0),
        json!(1e308),
        json!(-1e308),
        json!(f64::MIN_POSITIVE),
        json!(100.000_000_1),
    ]
    .into_iter()
    .filter_map(|v| v.as_number().cloned())
    .collect();
    prop_oneof![
        3 => select(edges),
        1 => any::<i64>().prop_map(Number::from),
        1 => any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
}

/// Strings a parser gets wrong if it slices bytes, trusts lengths or
/// forgets control characters.
fn nasty_string(vocabulary: &Vocabulary) -> BoxedStrategy<String> {
    let huge =
        (select(vec![255_usize, 256, 257, 300, 301, 1024, 1025, 65_536, 300_000]), select(vec!['a', 'é', '0', '😀']))
            .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect::<String>());
    prop_oneof![
        4 => select(vocabulary.strings.clone()),
        1 => Just(String::new()),
        2 => proptest::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        1 => proptest::collection::vec(proptest::char::range('\0', '\u{1f}'), 1..8).prop_map(String::from_iter),
        1 => huge,
    ]
    .boxed()
}

fn key(vocabulary: &Vocabulary) -> BoxedStrategy<String> {
    prop_oneof![
        4 => select(vocabulary.keys.clone()),
        1 => nasty_string(vocabulary),
    ]
    .boxed()
}

/// Any JSON value, with the samples' keys and strings most of the time.
fn any_json(vocabulary: &Vocabulary) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        nasty_string(vocabulary).prop_map(Value::String),
    ];
    let keys = key(vocabulary);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
    .boxed()
}

/// How a string is changed.
#[derive(Debug, Clone)]
enum Edit {
    /// Replaced by another: empty, huge, unicode, control characters, a near miss.
    Set(String),
    /// A fragment inserted at a character (positions wrap around).
    Insert(usize, String),
    /// Cut at a character.
    Cut(usize),
    /// One character dropped.
    Drop(usize),
    /// One character changed: case, the next digit, `:` ↔ `/`, `-` ↔ `_`,
    /// ASCII ↔ not.
    Flip(usize),
}

/// One change to one node of a sample.
#[derive(Debug, Clone)]
enum Mutation {
    /// The field or element is removed (at the root: the payload is null).
    Delete,
    /// Any other JSON value there, often of another type.
    Replace(Value),
    /// The same value as another type: `"5"` ↔ `5`, `x` → `[x]`, `{…}` → `[…]`.
    Retype,
    /// The string there edited (anything else is first written as a string).
    Text(Edit),
    /// A number from the edges: negative, huge, fractional.
    Number(Number),
    /// A field added to the nearest object (a known name or any).
    Add(String, Value),
}

fn mutation(vocabulary: &Vocabulary) -> impl Strategy<Value = Mutation> + use<> {
    let fragment = nasty_string(vocabulary);
    let edit = prop_oneof![
        2 => nasty_string(vocabulary).prop_map(Edit::Set),
        1 => (any::<usize>(), fragment).prop_map(|(i, s)| Edit::Insert(i, s)),
        1 => any::<usize>().prop_map(Edit::Cut),
        1 => any::<usize>().prop_map(Edit::Drop),
        2 => any::<usize>().prop_map(Edit::Flip),
    ];
    prop_oneof![
        3 => Just(Mutation::Delete),
        2 => any_json(vocabulary).prop_map(Mutation::Replace),
        2 => Just(Mutation::Retype),
        4 => edit.prop_map(Mutation::Text),
        1 => number().prop_map(Mutation::Number),
        2 => (key(vocabulary), any_json(vocabulary)).prop_map(|(k, v)| Mutation::Add(k, v)),
    ]
}

/// A path from the root to one node: object keys and array indexes.
#[derive(Debug, Clone)]
enum Hop {
    Key(String),
    At(usize),
}

fn paths(v: &Value) -> Vec<Vec<Hop>> {
    fn walk(v: &Value, here: &mut Vec<Hop>, out: &mut Vec<Vec<Hop>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    here.push(Hop::Key(k.clone()));
                    walk(child, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    here.push(Hop::At(i));
                    walk(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn node<'a>(v: &'a mut Value, path: &[Hop]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Hop::Key(k) => &mut v[k.as_str()],
        Hop::At(i) => &mut v[*i],
    })
}

fn edit(s: &str, e: &Edit) -> String {
    let chars: Vec<char> = s.chars().collect();
    let at = |i: &usize, extra: usize| i % (chars.len() + extra);
    match e {
        Edit::Set(t) => t.clone(),
        Edit::Insert(i, t) => {
            let n = at(i, 1);
            chars[..n].iter().chain(t.chars().collect::<Vec<_>>().iter()).chain(&chars[n..]).collect()
        }
        Edit::Cut(i) => chars[..at(i, 1)].iter().collect(),
        Edit::Drop(_) | Edit::Flip(_) if chars.is_empty() => String::new(),
        Edit::Drop(i) => {
            let n = at(i, 0);
            chars.iter().enumerate().filter(|(j, _)| *j != n).map(|(_, c)| c).collect()
        }
        Edit::Flip(i) => {
            let n = at(i, 0);
            let flip = |c: char| match c {
                'a'..='z' => c.to_ascii_uppercase(),
                'A'..='Z' => c.to_ascii_lowercase(),
                '0'..='8' => char::from(c as u8 + 1),
                '9' => 'a',
                ':' => '/',
                '/' => ':',
                '-' => '_',
                '_' => '-',
                c if c.is_ascii() => 'é',
                _ => 'x',
            };
            chars.iter().enumerate().map(|(j, c)| if j == n { flip(*c) } else { *c }).collect()
        }
    }
}

/// Applies `m` at the node `at` picks; the root only when it has no
/// children (arbitrary JSON covers payloads that are not objects).
fn apply(root: &mut Value, at: usize, m: &Mutation) {
    let all = paths(root);
    let inner = if all.len() > 1 { &all[1..] } else { &all[..] };
    let path = &inner[at % inner.len()];
    match m {
        Mutation::Delete => match path.split_last() {
            None => *root = Value::Null,
            Some((last, parent)) => match (node(root, parent), last) {
                (Value::Object(o), Hop::Key(k)) => {
                    o.remove(k);
                }
                (Value::Array(a), Hop::At(i)) => {
                    a.remove(*i);
                }
                _ => {}
            },
        },
        Mutation::Replace(v) => *node(root, path) = v.clone(),
        Mutation::Retype => {
            let n = node(root, path);
            *n = match n.take() {
                Value::String(s) => serde_json::from_str::<Value>(&s)
                    .ok()
                    .filter(|v| !v.is_string())
                    .unwrap_or_else(|| Value::Array(vec![Value::String(s)])),
                Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
                Value::Object(o) => Value::Array(o.into_iter().map(|(_, v)| v).collect()),
                other => Value::String(other.to_string()),
            };
        }
        Mutation::Text(e) => {
            let n = node(root, path);
            let text = match n {
                Value::String(s) => s.clone(),
                ref other => other.to_string(),
            };
            *n = Value::String(edit(&text, e));
        }
        Mutation::Number(x) => *node(root, path) = Value::Number(x.clone()),
        Mutation::Add(k, v) => {
            // The nearest object at or above the node.
            let objects = (0..=path.len()).rev().find(|&n| node(root, &path[..n]).is_object());
            match objects {
                Some(n) => {
                    if let Value::Object(o) = node(root, &path[..n]) {
                        o.insert(k.clone(), v.clone());
                    }
                }
                None => *node(root, path) = json!({ k.as_str(): v }),
            }
        }
    }
}

/// One of `samples` with one to four mutations.
fn mutated(samples: Vec<Value>, vocabulary: &Vocabulary) -> impl Strategy<Value = Value> + use<> {
    // Mostly one: a payload with one thing wrong reaches furthest.
    let few = prop_oneof![
        2 => proptest::collection::vec((any::<usize>(), mutation(vocabulary)), 1..=1),
        1 => proptest::collection::vec((any::<usize>(), mutation(vocabulary)), 2..=4),
    ];
    (select(samples), few).prop_map(|(mut v, mutations)| {
        for (at, m) in &mutations {
            apply(&mut v, *at, m);
        }
        v
    })
}

/// Mutated samples most of the time, arbitrary JSON otherwise.
fn payloads(samples: Vec<Value>) -> impl Strategy<Value = Value> {
    let vocabulary = vocabulary(&samples);
    prop_oneof![
        3 => mutated(samples, &vocabulary),
        1 => any_json(&vocabulary),
    ]
}

/// Function URL requests: the request mutated, or a mutated body in an
/// intact request (as text or base64).
fn url_requests(bodies: Vec<Value>) -> impl Strategy<Value = Value> {
    let requests: Vec<Value> = bodies.iter().map(|b| url_request(b, false)).collect();
    let vocabulary = vocabulary(&requests);
    prop_oneof![
        2 => mutated(requests, &vocabulary),
        2 => (mutated(bodies.clone(), &vocabulary), any::<bool>()).prop_map(|(b, b64)| url_request(&b, b64)),
        1 => (any_json(&vocabulary), any::<bool>()).prop_map(|(b, b64)| url_request(&b, b64)),
        1 => any_json(&vocabulary),
    ]
}

// ---------------------------------------------------------------------------
// What must hold of a parse.

/// What a case came to: a valid value, or the typed error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    Valid,
    Refused,
}

/// The error a parser of outside input may return: `MalformedEvent`, the
/// `errorType` Lambda reports (and the function URL answers with 400), its
/// message clipped (`DeployError::malformed`).
fn malformed(e: &DeployError) -> Result<Parsed, TestCaseError> {
    prop_assert_eq!(e.error_type(), "MalformedEvent", "{}", e);
    let len = e.to_string().len();
    prop_assert!(len <= QUOTE_LIMIT + 200, "the message quotes too much: {} bytes", len);
    Ok(Parsed::Refused)
}

fn field<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|v| !v.is_null())
}

/// Whether every container on the way to `pointer` is an object (or the way
/// ends early). serde reads a struct from an array too, field by field in
/// order: such a value is valid but cannot be compared with the payload by name.
fn named_all_the_way(v: &Value, pointer: &str) -> bool {
    let mut at = v;
    for part in pointer.split('/').skip(1) {
        match at {
            Value::Object(m) => match m.get(part) {
                Some(next) => at = next,
                None => return true,
            },
            Value::Null => return true,
            _ => return false,
        }
    }
    true
}

/// A value of `T` written back reads as the same value: the record, the
/// next step or the logs see what was parsed.
fn round_trips<T: Serialize + DeserializeOwned>(value: &T) -> Result<(), TestCaseError> {
    let written = serde_json::to_value(value).map_err(|e| TestCaseError::fail(format!("cannot write it: {e}")))?;
    let again: T = serde_json::from_value(written.clone())
        .map_err(|e| TestCaseError::fail(format!("cannot read back {written}: {e}")))?;
    prop_assert_eq!(serde_json::to_value(&again).unwrap(), written);
    Ok(())
}

/// The payload names the variant `parsed` is: as a string, or as serde
/// also reads a unit variant, `{"VARIANT": null}`.
fn same_variant<T: Serialize>(given: Option<&Value>, parsed: &T) -> Result<(), TestCaseError> {
    let name = serde_json::to_value(parsed).unwrap();
    let as_map = name.as_str().map(|n| json!({ n: null }));
    prop_assert!(given == Some(&name) || given == as_map.as_ref(), "{:?} read as {}", given, name);
    Ok(())
}

fn valid_id(id: &DeploymentId, payload: &Value) -> Result<(), TestCaseError> {
    let s = id.as_str();
    prop_assert!(s.len() == 26 && s.starts_with("d-") && s[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{}", s);
    prop_assert_eq!(field(payload, "/deploymentId"), Some(&json!(s)));
    Ok(())
}

/// `T::parse` (what `handle` does first): a valid input naming the
/// payload's deployment, that writes back as it read, or `MalformedEvent`.
fn step_input<T>(
    payload: Value,
    also: impl Fn(&T, &Value) -> Result<(), TestCaseError>,
) -> Result<Parsed, TestCaseError>
where
    T: StepInput + ForDeployment + Serialize,
{
    match <T as StepInput>::parse(payload.clone()) {
        Ok(input) => {
            prop_assert!(payload.is_object());
            let id = StepInput::deployment_id(&input).ok_or_else(|| TestCaseError::fail("no deployment id"))?;
            valid_id(id, &payload)?;
            round_trips(&input)?;
            also(&input, &payload)?;
            Ok(Parsed::Valid)
        }
        Err(e) => malformed(&e),
    }
}

// ---------------------------------------------------------------------------
// The EventBridge events.

#[test]
fn ecr_events_parse_to_a_push_an_ignored_action_or_a_malformed_event() {
    let samples = vec![sample(ECR_PUSH), sample(ECR_DELETE)];
    check("ECR Image Action", payloads(samples), |payload| {
        let parsed = parse_ecr_event(payload.clone());
        // What on-image-push's handler does with the payload.
        prop_assert_eq!(&EcrEvent::parse(payload.clone()), &parsed);
        prop_assert!(
            parsed.is_err() || (payload["source"] == "aws.ecr" && payload["detail-type"] == "ECR Image Action")
        );
        let by_name = payload["detail"].is_object();
        match parsed {
            Ok(EcrEvent::Push(p)) => {
                let hex = p.digest.as_str().strip_prefix("sha256:").unwrap_or_default();
                prop_assert!((32..=128).contains(&hex.len()), "{}", p.digest);
                prop_assert!(hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{}", p.digest);
                prop_assert!(!p.account.is_empty() && !p.region.is_empty());
                prop_assert_eq!(field(&payload, "/account"), Some(&json!(p.account)));
                prop_assert_eq!(field(&payload, "/region"), Some(&json!(p.region)));
                prop_assert!(is_ecr_repository_name(&p.repository), "{}", p.repository);
                prop_assert!(p.tag.as_ref().is_none_or(|t| !t.is_empty() && t.len() <= 300));
                prop_assert_eq!(p.claimed_at.is_some(), field(&payload, "/time").is_some());
                if by_name {
                    prop_assert_eq!(field(&payload, "/detail/image-digest"), Some(&json!(p.digest.as_str())));
                    prop_assert_eq!(field(&payload, "/detail/action-type"), Some(&json!("PUSH")));
                    prop_assert_eq!(field(&payload, "/detail/result"), Some(&json!("SUCCESS")));
                    prop_assert_eq!(field(&payload, "/detail/repository-name"), Some(&json!(p.repository)));
                    let tag = field(&payload, "/detail/image-tag").filter(|t| *t != "").cloned();
                    prop_assert_eq!(tag, p.tag.map(Value::String));
                }
                Ok(Parsed::Valid)
            }
            Ok(EcrEvent::Ignored(why)) => {
                let pushed = field(&payload, "/detail/action-type") == Some(&json!("PUSH"))
                    && field(&payload, "/detail/result") == Some(&json!("SUCCESS"));
                prop_assert!(!(by_name && pushed), "a successful push ignored: {}", why);
                prop_assert!(why.len() <= QUOTE_LIMIT + 40, "{} bytes", why.len());
                Ok(Parsed::Valid)
            }
            Err(e) => malformed(&e),
        }
    });
}

#[test]
fn ecs_and_alarm_events_parse_to_a_signal_nothing_or_a_malformed_event() {
    let samples: Vec<Value> = ECS_EVENTS.iter().chain([&ALARM]).map(|s| sample(s)).collect();
    check("ECS and CloudWatch events", payloads(samples), |payload| {
        let parsed = parse_ecs_event(payload.clone());
        // What on-ecs-event's handler does with the payload.
        let expected = parsed.clone().map(|s| s.map_or(EcsEvent::Ignored, EcsEvent::Signal));
        prop_assert_eq!(EcsEvent::parse(payload.clone()), expected);
        let kind = (payload["source"].as_str(), payload["detail-type"].as_str());
        let signal = match parsed {
            Err(e) => return malformed(&e),
            Ok(signal) => signal,
        };
        if let Some(EcsSignal::Deployment { service_arn, .. } | EcsSignal::Service { service_arn, .. }) = &signal {
            prop_assert_eq!(field(&payload, "/resources/0"), Some(&json!(service_arn)));
        }
        if !payload["detail"].is_object() {
            // Read by position: nothing to compare by name.
            return Ok(Parsed::Valid);
        }
        let detail = |name: &str| field(&payload, &format!("/detail/{name}")).cloned();
        match signal {
            Some(EcsSignal::Deployment { deployment_id, event_name, .. }) => {
                prop_assert_eq!(kind, (Some("aws.ecs"), Some("ECS Deployment State Change")));
                prop_assert_eq!(detail("deploymentId"), Some(json!(deployment_id)));
                prop_assert_eq!(detail("eventName"), Some(json!(event_name)));
            }
            Some(EcsSignal::Service { event_name, .. }) => {
                prop_assert_eq!(kind, (Some("aws.ecs"), Some("ECS Service Action")));
                prop_assert_eq!(detail("eventName"), Some(json!(event_name)));
            }
            Some(EcsSignal::Hook { service_arn, service_deployment_arn, event_name }) => {
                prop_assert_eq!(kind, (Some("aws.ecs"), Some("ECS Hook State Change")));
                prop_assert_eq!(detail("serviceArn"), Some(json!(service_arn)));
                prop_assert_eq!(detail("serviceDeploymentArn"), Some(json!(service_deployment_arn)));
                prop_assert_eq!(detail("eventName"), Some(json!(event_name)));
            }
            Some(EcsSignal::Task { cluster_arn, service, started_by, last_status }) => {
                prop_assert_eq!(kind, (Some("aws.ecs"), Some("ECS Task State Change")));
                prop_assert_eq!(detail("clusterArn"), Some(json!(cluster_arn)));
                prop_assert_eq!(detail("group"), Some(json!(format!("service:{service}"))));
                prop_assert_eq!(detail("startedBy"), started_by.map(Value::String));
                prop_assert_eq!(detail("lastStatus"), Some(json!(last_status.to_string())));
            }
            Some(EcsSignal::Alarm { alarm_name, reason, target_groups }) => {
                prop_assert_eq!(kind, (Some("aws.cloudwatch"), Some("CloudWatch Alarm State Change")));
                prop_assert_eq!(detail("alarmName"), Some(json!(alarm_name)));
                if named_all_the_way(&payload, "/detail/state/value") {
                    prop_assert_eq!(field(&payload, "/detail/state/value"), Some(&json!("ALARM")));
                    let said = field(&payload, "/detail/state/reason").cloned().unwrap_or(json!(""));
                    prop_assert_eq!(said, json!(reason));
                }
                let metrics = field(&payload, "/detail/configuration/metrics").cloned().unwrap_or(json!([]));
                let metrics = metrics.as_array().cloned().unwrap_or_default();
                let dimension = "/metricStat/metric/dimensions/TargetGroup";
                if named_all_the_way(&payload, "/detail/configuration/metrics")
                    && metrics.iter().all(|m| named_all_the_way(m, dimension))
                {
                    let named: Vec<Value> = metrics.iter().filter_map(|m| field(m, dimension)).cloned().collect();
                    let parsed: Vec<Value> = target_groups.iter().map(|tg| json!(tg)).collect();
                    prop_assert_eq!(named, parsed);
                }
            }
            None => {
                let task_of_no_service = kind == (Some("aws.ecs"), Some("ECS Task State Change"))
                    && !detail("group").is_some_and(|g| g.as_str().is_some_and(|g| g.starts_with("service:")));
                let alarm_not_firing = kind == (Some("aws.cloudwatch"), Some("CloudWatch Alarm State Change"))
                    && (!named_all_the_way(&payload, "/detail/state/value")
                        || field(&payload, "/detail/state/value") != Some(&json!("ALARM")));
                prop_assert!(task_of_no_service || alarm_not_firing, "ignored: {}", payload);
            }
        }
        Ok(Parsed::Valid)
    });
}

#[test]
fn scheduled_events_are_any_object_and_nothing_else() {
    check("Scheduled Event", payloads(vec![sample(SCHEDULED)]), |payload| {
        match ReconcileInput::parse(payload.clone()) {
            Ok(input) => {
                prop_assert_eq!(input, ReconcileInput);
                prop_assert!(payload.is_object());
                Ok(Parsed::Valid)
            }
            Err(e) => {
                prop_assert!(!payload.is_object());
                malformed(&e)
            }
        }
    });
}

// ---------------------------------------------------------------------------
// The function URL requests.

#[test]
fn function_url_requests_parse_or_are_malformed() {
    let mut bodies = operate_bodies();
    bodies.extend(decision_bodies(SOME_ID));
    check("function URL request", url_requests(bodies), |payload| match UrlCall::parse(payload.clone()) {
        Ok(call) => {
            let r = &call.0;
            prop_assert!(StepInput::deployment_id(&call).is_none());
            prop_assert_eq!(r.body.clone().map(Value::String), field(&payload, "/body").cloned());
            prop_assert_eq!(Some(json!(r.is_base64_encoded)), field(&payload, "/isBase64Encoded").cloned());
            if named_all_the_way(&payload, "/requestContext/http/method") {
                let method = r.request_context.http.method.clone().map(Value::String);
                prop_assert_eq!(method, field(&payload, "/requestContext/http/method").cloned());
            }
            Ok(Parsed::Valid)
        }
        Err(e) => malformed(&e),
    });
}

/// The function URL's answer: a status the entry point documents, a JSON
/// body with a message, and a refusal's `errorType` one the caller can fix.
fn answered(r: &aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse) -> Result<Parsed, TestCaseError> {
    let body: Value = serde_json::from_str(r.body.as_deref().unwrap_or_default())
        .map_err(|e| TestCaseError::fail(format!("the answer is not JSON: {e}")))?;
    prop_assert!([200, 201, 202, 400, 403, 404, 405, 409].contains(&r.status_code), "{} {}", r.status_code, body);
    if r.status_code < 400 {
        return Ok(Parsed::Valid);
    }
    prop_assert!(body["message"].is_string(), "{}", body);
    if let Some(kind) = body.get("errorType") {
        let refusals = [
            "MalformedEvent",
            "InvalidInput",
            "DeploymentNotFound",
            "ServiceNotFound",
            "NoMatchingContainer",
            "ApprovalRefused",
            "RequestRefused",
            "StaleTransition",
        ];
        prop_assert!(kind.as_str().is_some_and(|t| refusals.contains(&t)), "{}", body);
    }
    Ok(Parsed::Refused)
}

/// Runs `step` through `handle` as Lambda does, on a runtime made once per test.
fn handled<S: Step>(rt: &tokio::runtime::Runtime, step: &S, payload: Value) -> Result<S::Output, DeployError> {
    rt.block_on(handle(step, payload))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn operate_answers_every_request_with_a_status_or_a_malformed_event() {
    let rt = runtime();
    let w = rt.block_on(async {
        let w = common::world(None).await;
        w.images.push("web", "v2", &digest(2), w.clock.now());
        w
    });
    check("operate", url_requests(operate_bodies()), |payload| {
        match handled(&rt, &w.operate(), payload) {
            Ok(answer) => answered(&answer),
            // Only what Lambda could not even read as a request is a function error.
            Err(e) => malformed(&e),
        }
    });
}

#[test]
fn decide_approval_answers_every_request_with_a_status_or_a_malformed_event() {
    let rt = runtime();
    let (w, id) = rt.block_on(async {
        let w = common::world(Some(ApprovalPolicy::default())).await;
        let id = w.push("v2", &digest(2)).await;
        w.request_approval().run(ApprovalRequestInput { deployment_id: id.clone(), expired: false }).await.unwrap();
        (w, id)
    });
    check("decide-approval", url_requests(decision_bodies(id.as_str())), |payload| {
        match handled(&rt, &w.decide_approval(), payload) {
            Ok(answer) => answered(&answer),
            Err(e) => malformed(&e),
        }
    });
}

// ---------------------------------------------------------------------------
// The lifecycle hook's invocation.

#[test]
fn hook_invocations_parse_and_their_settings_are_checked() {
    let samples: Vec<Value> = HOOK_INVOCATIONS.iter().map(|s| sample(s)).collect();
    check("lifecycle hook invocation", payloads(samples), |payload| {
        let hook = match HookInvocation::parse(payload.clone()) {
            Ok(hook) => hook,
            Err(e) => return malformed(&e),
        };
        prop_assert!(StepInput::deployment_id(&hook).is_none());
        prop_assert_eq!(field(&payload, "/resourceArn"), Some(&json!(hook.resource_arn)));
        prop_assert_eq!(field(&payload, "/lifecycleStage"), Some(&json!(hook.lifecycle_stage.to_string())));
        round_trips(&hook)?;
        let _ = hook.execution_details.is_rollback(&hook.lifecycle_stage);
        // The settings are read in the step; a misconfigured hook answers FAILED.
        if let Ok(checks) = HookChecks::from_details(hook.hook_details.as_ref()) {
            prop_assert!((0..=MAX_SOAK_SECONDS).contains(&checks.soak_seconds));
            if let Some(http) = &checks.http {
                prop_assert!(http.url.starts_with("http://") || http.url.starts_with("https://"));
                prop_assert!((1..=100).contains(&http.requests) && (1..=10).contains(&http.timeout_seconds));
                prop_assert!(http.expect_status.is_none_or(|s| (100..=599).contains(&s)));
            }
            round_trips(&checks)?;
            let answer = decide(&checks, &HookFindings::default(), chrono::Utc::now());
            prop_assert!(answer.hook_status != HookStatus::Failed, "{}", answer.reason);
            prop_assert!(answer.call_back_delay.is_none_or(|d| d > 0));
        }
        Ok(Parsed::Valid)
    });
}

#[test]
fn verify_hook_answers_every_invocation_or_it_is_malformed() {
    let rt = runtime();
    let w = rt.block_on(common::world(None));
    let samples: Vec<Value> = HOOK_INVOCATIONS.iter().map(|s| sample(s)).collect();
    check("verify-hook", payloads(samples), |payload| match handled(&rt, &w.verify_hook(), payload) {
        Ok(answer) => {
            prop_assert!(!answer.reason.is_empty());
            prop_assert!(answer.call_back_delay.is_none_or(|d| d > 0));
            Ok(Parsed::Valid)
        }
        Err(e) => malformed(&e),
    });
}

// ---------------------------------------------------------------------------
// Every step's input as the state machine sends it.

#[test]
fn claim_inputs_parse_or_are_malformed() {
    check("claim-service input", payloads(claim_inputs(SOME_ID)), |payload| {
        step_input::<ClaimInput>(payload, |input, payload| {
            prop_assert_eq!(input.execution_arn.clone().map(Value::String), field(payload, "/executionArn").cloned());
            Ok(())
        })
    });
}

#[test]
fn await_service_inputs_parse_or_are_malformed() {
    check("await-service input", payloads(await_service_inputs(SOME_ID)), |payload| {
        step_input::<AwaitServiceInput>(payload, |input, payload| {
            prop_assert_eq!(field(payload, "/taskToken"), Some(&json!(input.task_token)));
            Ok(())
        })
    });
}

#[test]
fn approval_request_inputs_parse_or_are_malformed() {
    check("request-approval input", payloads(approval_request_inputs(SOME_ID)), |payload| {
        step_input::<ApprovalRequestInput>(payload, |input, payload| {
            prop_assert_eq!(field(payload, "/expired").cloned().unwrap_or(json!(false)), json!(input.expired));
            Ok(())
        })
    });
}

#[test]
fn deployment_inputs_parse_or_are_malformed() {
    // register-revision's and update-service's.
    check("deployment input", payloads(deployment_inputs(SOME_ID)), |payload| {
        step_input::<DeploymentInput>(payload, |_, _| Ok(()))
    });
}

#[test]
fn await_rollout_inputs_parse_or_are_malformed() {
    check("await-rollout input", payloads(await_inputs(SOME_ID)), |payload| {
        step_input::<AwaitInput>(payload, |input, payload| {
            same_variant(field(payload, "/phase"), &input.phase)?;
            prop_assert_eq!(field(payload, "/taskToken"), Some(&json!(input.task_token)));
            Ok(())
        })
    });
}

#[test]
fn check_rollout_inputs_parse_or_are_malformed() {
    check("check-rollout input", payloads(check_inputs(SOME_ID)), |payload| {
        step_input::<CheckInput>(payload, |input, payload| {
            same_variant(field(payload, "/phase"), &input.phase)?;
            Ok(())
        })
    });
}

#[test]
fn record_outcome_inputs_parse_or_are_malformed() {
    check("record-outcome input", payloads(outcome_inputs(SOME_ID)), |payload| {
        step_input::<OutcomeInput>(payload, |input, payload| {
            same_variant(field(payload, "/outcome"), &input.outcome)?;
            if let Some(e) = &input.error {
                prop_assert!(!e.message().is_empty() || e.error.is_empty());
            }
            Ok(())
        })
    });
}

#[test]
fn roll_back_inputs_parse_or_are_malformed() {
    check("roll-back input", payloads(roll_back_inputs(SOME_ID)), |payload| {
        step_input::<RollBackInput>(payload, |input, _| {
            // Without an error or a verdict's reason, still a reason.
            let reason = input.reason();
            let given = input.error.is_some() || input.verdict.as_ref().is_some_and(|v| v.reason.is_some());
            prop_assert!(given || reason == "rollout failed", "{}", reason);
            Ok(())
        })
    });
}

/// Each step, in one world with one deployment the samples name, through
/// `handle` on mutated inputs: no panic, and no error but the step's own.
#[test]
fn every_step_handles_mutated_inputs_with_its_own_errors() {
    let rt = runtime();
    let (w, id): (World, DeploymentId) = rt.block_on(async {
        let w = common::world(None).await;
        let id = w.push("v2", &digest(2)).await;
        (w, id)
    });
    let id = id.as_str();
    let steps: Vec<(&str, Vec<Value>)> = vec![
        ("claim-service", claim_inputs(id)),
        ("await-service", await_service_inputs(id)),
        ("request-approval", approval_request_inputs(id)),
        ("register-revision", deployment_inputs(id)),
        ("update-service", deployment_inputs(id)),
        ("await-rollout", await_inputs(id)),
        ("check-rollout", check_inputs(id)),
        ("record-outcome", outcome_inputs(id)),
        ("roll-back", roll_back_inputs(id)),
    ];
    let strategy = proptest::strategy::Union::new(
        steps.into_iter().map(|(name, samples)| payloads(samples).prop_map(move |p| (name, p)).boxed()),
    );
    check("steps through handle", strategy, |(name, payload)| {
        let out = match name {
            "claim-service" => handled(&rt, &w.claim_service(), payload).map(|o| json!(o)),
            "await-service" => handled(&rt, &w.await_service(), payload).map(|o| json!(o)),
            "request-approval" => handled(&rt, &w.request_approval(), payload).map(|o| json!(o)),
            "register-revision" => handled(&rt, &w.register_revision(), payload).map(|o| json!(o)),
            "update-service" => handled(&rt, &w.update_service(), payload).map(|o| json!(o)),
            "await-rollout" => handled(&rt, &w.await_rollout(), payload).map(|o| json!(o)),
            "check-rollout" => handled(&rt, &w.check_rollout(), payload).map(|o| json!(o)),
            "record-outcome" => handled(&rt, &w.record_outcome(), payload).map(|o| json!(o)),
            "roll-back" => handled(&rt, &w.roll_back(), payload).map(|o| json!(o)),
            other => unreachable!("{other}"),
        };
        match out {
            Ok(_) => Ok(Parsed::Valid),
            Err(e) => {
                // The in-memory ports never fail as AWS can: any of those is a bug.
                prop_assert!(!matches!(e, DeployError::Aws(_) | DeployError::Retryable(_)), "{}: {}", name, e);
                Ok(Parsed::Refused)
            }
        }
    });
}

// ---------------------------------------------------------------------------
// What the properties found, kept as plain tests.

/// A time whose offset moves it out of the years 0000 to 9999 in UTC was
/// read, and then written as `-0001-12-31T23:00:00.000Z`, which nothing
/// reads back: a record holding it could not be loaded again. Such a time
/// is now a `MalformedEvent`; the edges themselves still read and write back.
#[test]
fn a_time_that_cannot_be_written_back_is_malformed() {
    for (time, readable) in [
        ("0000-01-01T00:00:00+01:00", false),
        ("9999-12-31T23:59:59-01:00", false),
        ("0000-01-01T00:00:00Z", true),
        ("9999-12-31T23:59:59.999Z", true),
        ("0000-01-01T00:00:00-01:00", true),
    ] {
        let mut input = outcome_inputs(SOME_ID).swap_remove(0);
        input["verdict"]["observedAt"] = json!(time);
        input["verdict"]["progress"]["hooks"][0]["expiresAt"] = json!(time);
        match OutcomeInput::parse(input) {
            Ok(parsed) => {
                assert!(readable, "{time} read");
                round_trips(&parsed).unwrap();
            }
            Err(e) => {
                assert!(!readable, "{time}: {e}");
                assert_eq!(e.error_type(), "MalformedEvent");
            }
        }
        let details = json!({"autodeploy": {"soakSeconds": 60, "soakStartedAt": time}});
        assert_eq!(HookChecks::from_details(Some(&details)).is_ok(), readable, "{time}");
    }
}

// ---------------------------------------------------------------------------
// The samples themselves are what the parsers accept: mutations start from
// valid inputs.

#[test]
fn every_sample_parses() {
    assert!(matches!(parse_ecr_event(sample(ECR_PUSH)).unwrap(), EcrEvent::Push(_)));
    assert!(matches!(parse_ecr_event(sample(ECR_DELETE)).unwrap(), EcrEvent::Ignored(_)));
    for e in ECS_EVENTS.iter().chain([&ALARM]) {
        assert!(parse_ecs_event(sample(e)).unwrap().is_some(), "{e}");
    }
    ReconcileInput::parse(sample(SCHEDULED)).unwrap();
    for body in operate_bodies().iter().chain(&decision_bodies(SOME_ID)) {
        for b64 in [false, true] {
            let call = UrlCall::parse(url_request(body, b64)).unwrap();
            let raw = call.0.body.unwrap();
            let text =
                if b64 { String::from_utf8(aws_smithy_types::base64::decode(&raw).unwrap()).unwrap() } else { raw };
            assert_eq!(&serde_json::from_str::<Value>(&text).unwrap(), body);
        }
    }
    for h in HOOK_INVOCATIONS {
        let hook = HookInvocation::parse(sample(h)).unwrap();
        HookChecks::from_details(hook.hook_details.as_ref()).unwrap();
    }
    fn all<T: StepInput>(samples: Vec<Value>) {
        for s in samples {
            T::parse(s.clone()).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }
    all::<ClaimInput>(claim_inputs(SOME_ID));
    all::<AwaitServiceInput>(await_service_inputs(SOME_ID));
    all::<ApprovalRequestInput>(approval_request_inputs(SOME_ID));
    all::<DeploymentInput>(deployment_inputs(SOME_ID));
    all::<AwaitInput>(await_inputs(SOME_ID));
    all::<CheckInput>(check_inputs(SOME_ID));
    all::<OutcomeInput>(outcome_inputs(SOME_ID));
    all::<RollBackInput>(roll_back_inputs(SOME_ID));
}

#[test]
fn the_mutations_reach_every_node_and_keep_strings_whole() {
    let v = json!({"a": [1, {"b": "é😀x"}], "c": null});
    assert_eq!(paths(&v).len(), 6);
    let flipped: Vec<String> = (0..4).map(|i| edit("é😀x", &Edit::Flip(i))).collect();
    assert_eq!(flipped, ["x😀x", "éxx", "é😀X", "x😀x"]);
    assert_eq!(edit("é😀x", &Edit::Insert(1, "\u{0}".into())), "é\u{0}😀x");
    assert_eq!(edit("é😀x", &Edit::Cut(2)), "é😀");
    let mut deleted = v.clone();
    apply(&mut deleted, 4, &Mutation::Delete);
    assert_eq!(deleted, json!({"a": [1, {"b": "é😀x"}]}));
    let mut retyped = json!({"n": "5"});
    apply(&mut retyped, 0, &Mutation::Retype);
    assert_eq!(retyped, json!({"n": 5}));
}
