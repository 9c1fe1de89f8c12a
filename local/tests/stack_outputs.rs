//! CloudFormation through the local cloud's router: `DescribeStacks` of the
//! local stack answers every output of `template.yaml`, resolved, and each
//! output names a resource the local cloud has (moto's table, state machine,
//! bus, topic and queue; the hosted function; the function URL). Asked with a
//! SigV4-signed query request, as the SDKs send it, and with the AWS CLI
//! (`.venv/bin/aws`, its own botocore parsing the answer), given nothing but
//! `AWS_ENDPOINT_URL`. Unknown stacks and resources get CloudFormation's
//! `ValidationError`, actions the local cloud does not serve `InvalidAction`.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use reqwest::StatusCode;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(repo());
    cfg.port = 0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.expect("start in time").expect("starts")
}

/// The keys of the template's `Outputs`, read from the file itself.
fn template_outputs() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    // An output with a Condition is left out when it is false: the template's
    // conditional outputs all are under the defaults the cloud starts with.
    doc["Outputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, o)| o.get("Condition").is_none())
        .map(|(k, _)| k.as_str().unwrap().to_owned())
        .collect()
}

/// A CloudFormation query request, signed as the SDKs sign it (service
/// `cloudformation`, `region`): the status and the XML.
async fn query(endpoint: &str, region: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let mut body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    body.push_str("&Version=2010-05-15");
    let url = format!("{endpoint}/");
    let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
    let identity = Credentials::new("test", "test", None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("cloudformation")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable =
        SignableRequest::new("POST", &url, headers.iter().copied(), SignableBody::Bytes(body.as_bytes())).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = reqwest::Client::new().post(&url).body(body);
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    (StatusCode::from_u16(resp.status().as_u16()).unwrap(), resp.text().await.unwrap())
}

/// The text of every `<tag>` in `xml`, unescaped.
fn texts(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(t, _)| t))
        .map(|t| {
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// `aws <args>` against the router: its exit status, its JSON (or null) and its stderr.
async fn aws(endpoint: &str, args: &[&str]) -> (bool, Value, String) {
    let out = tokio::process::Command::new(repo().join(".venv/bin/aws"))
        .args(args)
        .args(["--output", "json"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_PAGER", "")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .await
        .expect("the AWS CLI in .venv (make tools)");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), json, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_stacks_answers_every_output_resolved_to_the_local_clouds_resources() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    let (name, region, account) = (&cloud.stack.name, &cloud.stack.region, &cloud.stack.account);
    let t = &cloud.template;
    let function_arn =
        |id: &str| format!("arn:aws:lambda:{region}:{account}:function:{}", t.physical_name(id).unwrap());
    let expected = BTreeMap::from([
        ("ApprovalUrl".to_owned(), cloud.function_url("DecideApprovalFunction").unwrap()),
        ("ApproverPolicyArn".into(), format!("arn:aws:iam::{account}:policy/{name}-ApproverPolicy")),
        (
            "DeployStateMachineArn".into(),
            format!(
                "arn:aws:states:{region}:{account}:stateMachine:{}",
                t.physical_name("DeployStateMachine").unwrap()
            ),
        ),
        ("TargetsTableName".into(), t.physical_name("TargetsTable").unwrap()),
        ("DecisionsTableName".into(), t.physical_name("DecisionsTable").unwrap()),
        ("DeploymentsTableName".into(), t.physical_name("DeploymentsTable").unwrap()),
        ("EventBusName".into(), t.physical_name("DeploymentEventBus").unwrap()),
        (
            "NotificationTopicArn".into(),
            format!("arn:aws:sns:{region}:{account}:{}", t.physical_name("NotificationTopic").unwrap()),
        ),
        ("VerifyHookFunctionArn".into(), function_arn("VerifyHookFunction")),
        // What tests/hooks_e2e.rs gives ECS as the hook's role.
        ("HookInvokeRoleArn".into(), format!("arn:aws:iam::{account}:role/{name}-HookInvokeRole")),
        (
            "UndeliveredEventsQueueUrl".into(),
            format!("http://sqs.{region}.localhost/{account}/{}", t.physical_name("UndeliveredEventsQueue").unwrap()),
        ),
    ]);
    // Every output the template declares, resolved as the cloud resolves the
    // functions' variables; those the operator CLI reads checked one by one.
    let resolved: BTreeMap<String, String> = t.outputs().unwrap().into_iter().map(|o| (o.key, o.value)).collect();
    assert_eq!(resolved.keys().cloned().collect::<BTreeSet<_>>(), template_outputs());
    for (key, value) in &expected {
        assert_eq!(resolved.get(key), Some(value), "output {key}");
    }

    // Signed as the SDKs sign it.
    let (status, xml) = query(&cloud.endpoint, region, &[("Action", "DescribeStacks"), ("StackName", name)]).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(
        xml.starts_with(
            "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member>"
        ),
        "{xml}"
    );
    assert!(xml.ends_with("</RequestId></ResponseMetadata></DescribeStacksResponse>"), "{xml}");
    let answered: BTreeMap<_, _> = texts(&xml, "OutputKey").into_iter().zip(texts(&xml, "OutputValue")).collect();
    assert_eq!(answered, resolved);
    assert_eq!(texts(&xml, "StackName"), [name.as_str()]);
    assert_eq!(texts(&xml, "StackStatus"), ["CREATE_COMPLETE"]);
    let stack_id = texts(&xml, "StackId").remove(0);
    assert!(stack_id.starts_with(&format!("arn:aws:cloudformation:{region}:{account}:stack/{name}/")), "{stack_id}");
    let parameters: BTreeMap<_, _> =
        texts(&xml, "ParameterKey").into_iter().zip(texts(&xml, "ParameterValue")).collect();
    assert_eq!(parameters["PollIntervalSeconds"], "10", "as overridden");
    assert_eq!(parameters["RolloutTimeoutSeconds"], "1800", "the default");
    assert_eq!(parameters["ClusterNames"], "default");
    assert_eq!(parameters.len(), t.parameters.len());

    // Every output names something the local cloud has.
    let sdk = sdk_config(&cloud.endpoint, region).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    for key in ["TargetsTableName", "DecisionsTableName", "DeploymentsTableName"] {
        dynamodb.describe_table().table_name(&expected[key]).send().await.unwrap();
    }
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    sfn.describe_state_machine().state_machine_arn(&expected["DeployStateMachineArn"]).send().await.unwrap();
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events.describe_event_bus().name(&expected["EventBusName"]).send().await.unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk);
    sns.get_topic_attributes().topic_arn(&expected["NotificationTopicArn"]).send().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    sqs.get_queue_attributes().queue_url(&expected["UndeliveredEventsQueueUrl"]).send().await.unwrap();
    assert!(cloud.host.find(&expected["VerifyHookFunctionArn"]).is_some(), "the hook function is hosted");

    // By ARN, and with no name: the same stack.
    let (_, by_arn) = query(&cloud.endpoint, region, &[("Action", "DescribeStacks"), ("StackName", &stack_id)]).await;
    let (_, all) = query(&cloud.endpoint, region, &[("Action", "DescribeStacks")]).await;
    for other in [by_arn, all] {
        assert_eq!(texts(&other, "StackId"), [stack_id.as_str()]);
        assert_eq!(texts(&other, "OutputValue"), texts(&xml, "OutputValue"));
    }

    // Unknown stacks, another region, actions not served.
    let (status, error) = query(&cloud.endpoint, region, &[("Action", "DescribeStacks"), ("StackName", "nope")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error.starts_with("<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id nope does not exist</Message></Error><RequestId>"),
        "{error}"
    );
    let (status, _) = query(&cloud.endpoint, "eu-west-1", &[("Action", "DescribeStacks"), ("StackName", name)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the stack is in {region} only");
    let (status, error) = query(&cloud.endpoint, region, &[("Action", "DeleteStack"), ("StackName", name)]).await;
    assert_eq!((status, texts(&error, "Code")), (StatusCode::BAD_REQUEST, vec!["InvalidAction".to_owned()]));

    // The AWS CLI, with nothing but AWS_ENDPOINT_URL.
    let (ok, described, stderr) =
        aws(&cloud.endpoint, &["cloudformation", "describe-stacks", "--stack-name", name]).await;
    assert!(ok, "{stderr}");
    let stack = &described["Stacks"][0];
    assert_eq!((&stack["StackId"], &stack["StackStatus"]), (&Value::from(stack_id.clone()), &"CREATE_COMPLETE".into()));
    let outputs: BTreeMap<String, String> = stack["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["OutputKey"].as_str().unwrap().into(), o["OutputValue"].as_str().unwrap().into()))
        .collect();
    assert_eq!(outputs, resolved);
    assert!(stack["Outputs"].as_array().unwrap().iter().all(|o| o["Description"].is_string()), "{stack}");
    let (ok, _, stderr) = aws(&cloud.endpoint, &["cloudformation", "describe-stacks", "--stack-name", "nope"]).await;
    assert!(
        !ok && stderr.contains("(ValidationError)") && stderr.contains("Stack with id nope does not exist"),
        "{stderr}"
    );

    let (ok, listed, stderr) =
        aws(&cloud.endpoint, &["cloudformation", "list-stack-resources", "--stack-name", name]).await;
    assert!(ok, "{stderr}");
    let resources: BTreeMap<String, (String, String)> = listed["StackResourceSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_owned();
            (field("LogicalResourceId"), (field("ResourceType"), field("PhysicalResourceId")))
        })
        .collect();
    assert_eq!(
        resources["DeploymentsTable"],
        ("AWS::DynamoDB::Table".into(), expected["DeploymentsTableName"].clone())
    );
    assert_eq!(
        resources["VerifyHookFunction"],
        ("AWS::Lambda::Function".into(), t.physical_name("VerifyHookFunction").unwrap())
    );
    assert_eq!(resources["DecideApprovalFunctionUrl"].0, "AWS::Lambda::Url");
    assert_eq!(resources.len(), t.resources.len() + cloud.function_urls().len());
    let (ok, one, stderr) = aws(
        &cloud.endpoint,
        &[
            "cloudformation",
            "describe-stack-resource",
            "--stack-name",
            name,
            "--logical-resource-id",
            "DeployStateMachine",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(one["StackResourceDetail"]["PhysicalResourceId"], expected["DeployStateMachineArn"].as_str());
    running.stop().await;
}
