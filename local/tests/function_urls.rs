//! Function URLs through the local cloud's router: an AWS_IAM URL refuses
//! unsigned requests and passes a signed one to its function as Lambda's
//! payload format 2.0 event, with the caller moto's STS knows; the function's
//! answer comes back by Lambda's rules. The functions are a test handler
//! (`echo`) on a stack of its own (`fixtures/function_urls/template.yaml`).

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autodeploy_local::cloud::function_url::call_function_url;
use autodeploy_local::cloud::functions::{LambdaError, handler};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running};
use aws_credential_types::Credentials;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every event the `echo` functions got.
type Calls = Arc<Mutex<Vec<Value>>>;

/// `echo` answers the request's `{"answer": …}`, fails with `{"fail": …}`,
/// else returns the event it got.
async fn cloud() -> (Running, Calls) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cfg = CloudConfig::new(repo);
    cfg.port = 0;
    cfg.template = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/function_urls/template.yaml"));
    let calls = Calls::default();
    let seen = calls.clone();
    cfg.handlers.insert(
        "echo",
        handler(move |event: Value| {
            seen.lock().unwrap().push(event.clone());
            async move {
                let body: Value = event["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
                if let Some(message) = body["fail"].as_str() {
                    return Err(LambdaError { error_type: "Boom".into(), error_message: message.into() });
                }
                Ok(body.get("answer").cloned().unwrap_or(event))
            }
        }),
    );
    let running = tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.expect("start in time");
    (running.expect("local cloud starts"), calls)
}

/// A raw request (no signature unless the headers carry one).
async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
    let mut req = reqwest::Client::new().request(method, url).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_iam_url_refuses_unsigned_requests_and_passes_the_moto_callers_identity() {
    let (running, calls) = cloud().await;
    let cloud = running.cloud.clone();
    let url = cloud.function_url("EchoFunction").expect("EchoFunction has a URL");
    assert_eq!(url, format!("{}/lambda-url/{}-EchoFunction/", cloud.endpoint, cloud.stack.name));
    assert_eq!(cloud.function_url("EchoFunctionUrl"), Some(url.clone()), "by the URL's logical id too");
    let caller = cloud.host.by_logical_id("CallerFunction").unwrap();
    assert_eq!(caller.environment["ECHO_URL"], url, "!GetAtt EchoFunctionUrl.FunctionUrl");

    // No signature, or one for another service: refused before the function runs.
    let unsigned = send(Method::POST, &url, &[("content-type", "application/json")], "{}").await;
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(unsigned.json::<Value>().await.unwrap(), json!({"Message": "Forbidden"}));
    let s3 =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    assert_eq!(send(Method::GET, &url, &[("authorization", s3)], "").await.status(), StatusCode::FORBIDDEN);
    assert!(calls.lock().unwrap().is_empty(), "the function never ran");

    // Signed as an IAM user made in moto: the event names that user.
    let approver = cloud.iam_user("approver").await.unwrap();
    let body = json!({"deploymentId": "d-1", "decision": "APPROVE"});
    let region = &cloud.stack.region;
    let (status, event) =
        call_function_url(&format!("{url}decide/now?by=me&by=you"), Method::POST, &body, &approver, region)
            .await
            .unwrap();
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "$default");
    assert_eq!(event["rawPath"], "/decide/now");
    assert_eq!(event["rawQueryString"], "by=me&by=you");
    assert_eq!(event["queryStringParameters"], json!({"by": "me,you"}));
    assert_eq!(event["body"], body.to_string());
    assert_eq!(event["isBase64Encoded"], false);
    assert_eq!(event["headers"]["content-type"], "application/json");
    assert!(event["headers"]["authorization"].as_str().unwrap().starts_with("AWS4-HMAC-SHA256 Credential="));
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], cloud.stack.account);
    assert_eq!(context["http"]["method"], "POST");
    assert_eq!(context["http"]["path"], "/decide/now");
    assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(context["stage"], "$default");
    let iam = &context["authorizer"]["iam"];
    assert_eq!(iam["userArn"], format!("arn:aws:iam::{}:user/approver", cloud.stack.account));
    assert_eq!(iam["accessKey"], approver.access_key_id());
    assert_eq!(iam["accountId"], cloud.stack.account);
    assert_eq!(iam["callerId"], iam["userId"]);
    assert!(!iam["userId"].as_str().unwrap().is_empty());
    assert_eq!(calls.lock().unwrap().len(), 1);

    // A key moto does not know: moto's default identity.
    let stranger = Credentials::new("AKIASTRANGER", "any", None, None, "test");
    let (status, event) = call_function_url(&url, Method::GET, &Value::Null, &stranger, region).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        event["requestContext"]["authorizer"]["iam"]["userArn"],
        format!("arn:aws:sts::{}:user/moto", cloud.stack.account)
    );
    assert_eq!((&event["rawPath"], event.get("body")), (&json!("/"), None));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_answer_comes_back_by_lambdas_rules() {
    let (running, _) = cloud().await;
    let cloud = running.cloud.clone();
    let url = cloud.function_url("OpenFunction").unwrap();
    assert!(url.ends_with("/lambda-url/open-echo/"), "{url}");
    let json = [("content-type", "application/json")];

    // AuthType NONE: no signature needed, no identity given.
    let event: Value = send(Method::PUT, &url, &json, "{}").await.json().await.unwrap();
    assert_eq!(event["requestContext"]["accountId"], "anonymous");
    assert!(event["requestContext"].get("authorizer").is_none(), "{event}");
    assert_eq!(event["requestContext"]["http"]["method"], "PUT");

    // statusCode: that status, its headers, cookies and (base64-decoded) body.
    let custom = json!({"answer": {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Custom": "yes"},
        "cookies": ["a=1; Max-Age=60", "b=2"],
        "body": "bWFkZQ==",
        "isBase64Encoded": true,
    }});
    let resp = send(Method::POST, &url, &json, &custom.to_string()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["x-custom"], "yes");
    assert_eq!(resp.headers()["content-type"], "text/plain");
    let cookies: Vec<_> = resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(cookies, ["a=1; Max-Age=60", "b=2"]);
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    assert_eq!(resp.text().await.unwrap(), "made");

    // Any other JSON: 200, application/json, the JSON as the body.
    let plain = json!({"answer": {"approved": true, "body": "not special"}});
    let resp = send(Method::POST, &url, &json, &plain.to_string()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.json::<Value>().await.unwrap(), plain["answer"]);
    let resp = send(Method::POST, &url, &json, r#"{"answer": "Hello, world!"}"#).await;
    assert_eq!(resp.text().await.unwrap(), "\"Hello, world!\"");

    // A function error: 502.
    let resp = send(Method::POST, &url, &json, r#"{"fail": "boom"}"#).await;
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"Message": "Internal Server Error"}));

    // A URL the stack does not have.
    let nope = format!("{}/lambda-url/nope/", cloud.endpoint);
    assert_eq!(send(Method::GET, &nope, &[], "").await.status(), StatusCode::NOT_FOUND);
    running.stop().await;
}

/// The stack's own approval URL: `decide-approval` reads the event this cloud
/// makes (Lambda's types) and the caller moto knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stacks_approval_url_reaches_decide_approval_as_the_signed_caller() {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    let running = tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.expect("start in time");
    let running = running.expect("local cloud starts");
    let cloud = running.cloud.clone();
    let url = cloud.function_url("DecideApprovalFunctionUrl").expect("the stack's approval URL");
    let request = cloud.host.by_logical_id("RequestApprovalFunction").unwrap();
    assert_eq!(request.environment["APPROVAL_URL"], url, "the URL the stack hands out is the one served");

    let decision = json!({"deploymentId": "d-000000000000000000000001", "decision": "APPROVE"});
    let unsigned = send(Method::POST, &url, &[("content-type", "application/json")], &decision.to_string()).await;
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);

    let approver = cloud.iam_user("release-manager").await.unwrap();
    let region = &cloud.stack.region;
    // The step got a POST with a body and a caller: it looked the deployment up.
    let (status, answer) = call_function_url(&url, Method::POST, &decision, &approver, region).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["errorType"], "DeploymentNotFound", "{answer}");
    let (status, _) = call_function_url(&url, Method::GET, &Value::Null, &approver, region).await.unwrap();
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    running.stop().await;
}
