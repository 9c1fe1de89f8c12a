//! End to end through the local cloud: the template's EventBridge rule →
//! on-image-push → the state machine (moto) → the functions → the simulator
//! and DynamoDB, and back through ECS events.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for, wait_for_real};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(repo());
    cfg.port = 0;
    cfg.speed = 20.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    Cloud::start(cfg).await.expect("local cloud starts")
}

async fn store(cloud: &Cloud) -> DynamoDeployments {
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    DynamoDeployments::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        cloud.template.physical_name("DeploymentsTable").unwrap(),
    )
}

/// The newest deployment of the service once it is terminal.
async fn outcome(cloud: &Cloud, store: &DynamoDeployments, service_key: &str, tag: &str) -> Deployment {
    wait_for(cloud, 3600, || async {
        let history = store.history(service_key, 20).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && d.status.is_terminal())
    })
    .await
    .unwrap_or_else(|| panic!("no terminal deployment of {tag} for {service_key}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_deploy_then_bad_build_rolled_back() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    let spec = ServiceSpec::demo();
    seed_service(&cloud, &spec).await.unwrap();
    let store = store(&cloud).await;

    cloud.push("web:v2", "healthy").await.unwrap();
    let good = outcome(&cloud, &store, "demo/web", "v2").await;
    assert_eq!(good.status, Succeeded, "{good:#?}");

    cloud.push("web:v3", "crash").await.unwrap();
    let bad = outcome(&cloud, &store, "demo/web", "v3").await;
    assert_eq!(bad.status, RolledBack, "{bad:#?}");

    // The records' timelines are what happened.
    use DeploymentStatus::*;
    let states = |d: &Deployment| d.timeline.iter().map(|e| e.state).collect::<Vec<_>>();
    assert_eq!(states(&good), [Pending, Registering, Updating, Waiting, Succeeded]);
    assert_eq!(states(&bad), [Pending, Registering, Updating, Waiting, RollingBack, RolledBack]);
    assert!(bad.failure_reason.as_deref().unwrap_or_default().contains("circuit breaker"), "{bad:#?}");
    assert_eq!(good.target_health[0].healthy_count, 4);
    assert_eq!(bad.previous_task_definition, good.new_task_definition, "v3 was rolled back to v2's revision");

    // Healthy targets never went below the minimum (2 of 4) at any recorded instant,
    // and while v3 was failing, v2 kept serving.
    let series = cloud.sim.series(Some("demo"), "web").expect("series recorded");
    let v2_td = good.new_task_definition.clone().unwrap();
    let mut saw_v3 = false;
    // From the first moment the seeded service was fully healthy (its creation ramps up from 0).
    let steady = series.iter().position(|s| s.healthy >= s.desired).expect("the service became healthy");
    for s in &series[steady..] {
        assert!(s.healthy >= s.min_healthy, "healthy {} < minimum {} at {}", s.healthy, s.min_healthy, s.time);
        assert!(s.alive <= s.max_allowed, "{} tasks alive > maximum {} at {}", s.alive, s.max_allowed, s.time);
        if s.versions.iter().any(|v| v.images.iter().any(|i| i.contains(&bad.digest.to_string()))) {
            saw_v3 = true;
            let v2_healthy: i64 = s.versions.iter().filter(|v| v.task_definition == v2_td).map(|v| v.healthy).sum();
            assert!(v2_healthy >= 2, "v2 healthy {v2_healthy} at {} while v3 was rolling", s.time);
        }
    }
    assert!(saw_v3, "the series shows the v3 rollout");

    // A tag ECR takes (up to 300 characters) but ECS would refuse as a tag value
    // (over 256): the revision is registered without it and the deploy goes on.
    let long = format!("v4-{}", "x".repeat(270));
    cloud.push(&format!("web:{long}"), "healthy").await.unwrap();
    let tagged = outcome(&cloud, &store, "demo/web", &long).await;
    assert_eq!(tagged.status, Succeeded, "{tagged:#?}");
    let updating = tagged.timeline.iter().find(|e| e.state == Updating).unwrap();
    assert!(updating.detail.contains("image tag is not kept"), "{}", updating.detail);

    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_non_matching_tags_and_foreign_registries_are_ignored_and_duplicates_start_one_run() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let store = store(&cloud).await;
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let ecr_entry = |action: &str, tag: &str, digest: &str| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source("aws.ecr")
            .detail_type("ECR Image Action")
            .detail(
                serde_json::json!({
                    "result": "SUCCESS", "repository-name": "web", "image-digest": digest,
                    "action-type": action, "image-tag": tag
                })
                .to_string(),
            )
            .build()
    };
    // A DELETE, a push whose tag the target's `v*` rule does not accept, and a
    // Helm chart pushed with a tag the rule does accept.
    let ignored = format!("sha256:{}", "0".repeat(64));
    let helm = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .source("aws.ecr")
        .detail_type("ECR Image Action")
        .detail(
            serde_json::json!({
                "result": "SUCCESS", "repository-name": "web", "image-digest": format!("sha256:{}", "1".repeat(64)),
                "action-type": "PUSH", "image-tag": "v9-chart",
                "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
                "artifact-media-type": "application/vnd.cncf.helm.config.v1+json"
            })
            .to_string(),
        )
        .build();
    events
        .put_events()
        .entries(ecr_entry("DELETE", "v1", &ignored))
        .entries(ecr_entry("PUSH", "latest", &ignored))
        .entries(helm)
        .send()
        .await
        .unwrap();

    // The same push delivered three times, concurrently.
    let pushed = cloud.push("web:v5", "healthy").await.unwrap();
    let dup = || ecr_entry("PUSH", "v5", &pushed.digest);
    let (a, b) = tokio::join!(events.put_events().entries(dup()).send(), events.put_events().entries(dup()).send());
    a.unwrap();
    b.unwrap();

    // Forged pushes of a new image, as anyone allowed to invoke the function
    // could send them: another account's registry, another region's.
    let on_push = cloud.host.by_logical_id("OnImagePushFunction").unwrap();
    let forged_digest = format!("sha256:{}", "7".repeat(64));
    for (account, region) in [("999999999999", "us-east-1"), ("123456789012", "eu-west-1")] {
        let forged = serde_json::json!({
            "version": "0", "id": "forged", "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": account, "time": "2026-12-01T00:00:00Z", "region": region, "resources": [],
            "detail": {"result": "SUCCESS", "repository-name": "web", "image-digest": forged_digest,
                       "action-type": "PUSH", "image-tag": "v6"}
        });
        let report = on_push.invoke(forged).await.unwrap();
        assert_eq!(report["started"], serde_json::json!([]), "{report}");
        assert!(report["refused"][0]["reason"].as_str().unwrap().contains("not this stack's registry"), "{report}");
    }

    let done = outcome(&cloud, &store, "demo/web", "v5").await;
    assert_eq!(done.status, DeploymentStatus::Succeeded);
    let all = store.recent(50).await.unwrap();
    assert_eq!(
        all.len(),
        1,
        "one deployment: nothing for the DELETE, the `latest` push, the chart, the duplicates or the forged pushes: {all:#?}"
    );
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn.list_state_machines().send().await.unwrap().state_machines()[0].state_machine_arn().to_owned();
    let runs = sfn.list_executions().state_machine_arn(machine).send().await.unwrap();
    assert_eq!(runs.executions().len(), 1, "one run");
    // The DELETE went through the bus but no rule sent it to a function.
    assert!(cloud.delivered().iter().any(|e| e["event"]["detail"]["action-type"] == "DELETE"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_image_fans_out_to_two_services() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let canary = ServiceSpec {
        service: "web-canary".into(),
        target_id: "demo-web-canary".into(),
        desired: 2,
        ..ServiceSpec::demo()
    };
    seed_service(&cloud, &canary).await.unwrap();
    let store = store(&cloud).await;

    cloud.push("web:v2", "healthy").await.unwrap();
    let web = outcome(&cloud, &store, "demo/web", "v2").await;
    let web_canary = outcome(&cloud, &store, "demo/web-canary", "v2").await;
    assert_eq!((web.status, web_canary.status), (DeploymentStatus::Succeeded, DeploymentStatus::Succeeded));
    assert_ne!(web.deployment_id, web_canary.deployment_id);
    assert_eq!(web.image, web_canary.image, "the same digest-pinned image");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_keeps_failing_lands_in_the_undelivered_queue_and_the_good_target_still_deploys() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let store = store(&cloud).await;
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    // A second target for the same pushes whose cluster is not an ECS name:
    // every invocation of on-image-push fails on it (after starting demo/web).
    aws_sdk_dynamodb::Client::new(&sdk)
        .put_item()
        .table_name(cloud.template.physical_name("TargetsTable").unwrap())
        .item("repository", AttributeValue::S("web".into()))
        .item("targetId", AttributeValue::S("broken".into()))
        .item("cluster", AttributeValue::S("not a cluster".into()))
        .item("service", AttributeValue::S("web".into()))
        .item(
            "tagRule",
            AttributeValue::M(
                [("type".into(), AttributeValue::S("glob".into())), ("pattern".into(), AttributeValue::S("v*".into()))]
                    .into(),
            ),
        )
        .item("enabled", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();

    let pushed = cloud.push("web:v2", "healthy").await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .get_queue_url()
        .queue_name(cloud.template.physical_name("UndeliveredEventsQueue").unwrap())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let record: serde_json::Value = wait_for(&cloud, 3600, || async {
        let got = sqs.receive_message().queue_url(&queue).send().await.ok()?;
        let body = got.messages().first()?.body()?.to_owned();
        serde_json::from_str(&body).ok()
    })
    .await
    .expect("a destination record on the undelivered-events queue");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert!(record["requestContext"]["functionArn"].as_str().unwrap().contains(":function:"), "{record}");
    assert_eq!(record["requestPayload"]["detail"]["image-digest"], serde_json::json!(pushed.digest));
    assert_eq!(record["responsePayload"]["errorType"], "InvalidInput", "{record}");

    // The retries were idempotent: one deployment of demo/web, and it succeeded.
    let done = outcome(&cloud, &store, "demo/web", "v2").await;
    assert_eq!(done.status, DeploymentStatus::Succeeded);
    assert_eq!(store.recent(50).await.unwrap().len(), 1);
    running.stop().await;
}

/// Whether `doc` is an embedded metric format document CloudWatch would turn
/// into metrics (its specification's rules), and if so the metrics it
/// defines: (namespace, name, unit, dimensions with their values, values).
type Extracted = (String, String, String, Vec<(String, String)>, Vec<f64>);

fn extract_emf(doc: &serde_json::Value) -> Result<Vec<Extracted>, String> {
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];
    let aws = doc.get("_aws").ok_or("no _aws")?;
    aws.get("Timestamp").and_then(serde_json::Value::as_u64).ok_or("_aws.Timestamp is not epoch milliseconds")?;
    let directives = aws.get("CloudWatchMetrics").and_then(|v| v.as_array()).ok_or("no CloudWatchMetrics array")?;
    let mut out = Vec::new();
    for d in directives {
        let ns =
            d.get("Namespace").and_then(|v| v.as_str()).filter(|n| (1..=255).contains(&n.len())).ok_or("Namespace")?;
        let sets = d.get("Dimensions").and_then(|v| v.as_array()).ok_or("Dimensions")?;
        let metrics = d.get("Metrics").and_then(|v| v.as_array()).filter(|m| m.len() <= 100).ok_or("Metrics")?;
        for set in sets {
            let names = set.as_array().filter(|s| s.len() <= 30).ok_or("a dimension set is not an array of ≤ 30")?;
            let mut dims = Vec::new();
            for n in names {
                let n = n.as_str().ok_or("a dimension name is not a string")?;
                let v = doc.get(n).and_then(|v| v.as_str()).ok_or(format!("dimension {n} has no string value"))?;
                dims.push((n.to_owned(), v.to_owned()));
            }
            for m in metrics {
                let name = m.get("Name").and_then(|v| v.as_str()).ok_or("a metric without Name")?;
                let unit = m.get("Unit").and_then(|v| v.as_str()).unwrap_or("None");
                if !UNITS.contains(&unit) {
                    return Err(format!("{name}: unit {unit} is not CloudWatch's"));
                }
                let values = match doc.get(name) {
                    Some(serde_json::Value::Number(n)) => vec![n.as_f64().ok_or("not a number")?],
                    Some(serde_json::Value::Array(a)) if a.len() <= 100 => {
                        a.iter().map(|v| v.as_f64().ok_or("a value is not a number")).collect::<Result<_, _>>()?
                    }
                    _ => return Err(format!("metric {name} has no number or array of ≤ 100 numbers")),
                };
                out.push((ns.to_owned(), name.to_owned(), unit.to_owned(), dims.clone(), values));
            }
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_and_a_bad_deploy_write_the_embedded_metrics_the_dashboard_reads() {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    // Its own service name: the metrics log is the process's, and other tests deploy demo/web.
    let spec = ServiceSpec { service: "metered".into(), target_id: "demo-metered".into(), ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.unwrap();
    let store = store(&cloud).await;
    cloud.push("web:v2", "healthy").await.unwrap();
    assert_eq!(outcome(&cloud, &store, "demo/metered", "v2").await.status, DeploymentStatus::Succeeded);
    cloud.push("web:v3", "crash").await.unwrap();
    assert_eq!(outcome(&cloud, &store, "demo/metered", "v3").await.status, DeploymentStatus::RolledBack);

    // The last one is written after record-outcome returns, a moment after the record ends.
    let read = || async {
        let docs: Vec<serde_json::Value> =
            reqwest::get(format!("{}/_local/metrics", cloud.endpoint)).await.ok()?.json().await.ok()?;
        let rolled_back = docs.iter().any(|d| d["Service"] == "demo/metered" && d["Outcome"] == "ROLLED_BACK");
        rolled_back.then_some(docs)
    };
    let docs = wait_for_real(30, read).await.expect("the rolled-back deployment's metrics");
    let mut metrics = Vec::new();
    for doc in &docs {
        metrics.extend(extract_emf(doc).unwrap_or_else(|e| panic!("{e}: {doc}")));
    }
    let stack = ("Stack".to_owned(), cloud.stack.name.clone());
    assert!(metrics.iter().all(|(ns, _, _, dims, _)| ns == "ECSAutodeploy" && dims.first() == Some(&stack)));
    let ours = |name: &str, outcome: &str| -> f64 {
        metrics
            .iter()
            .filter(|(_, n, unit, dims, _)| {
                n == name
                    && unit == "Count"
                    && dims.contains(&("Service".into(), "demo/metered".into()))
                    && dims.contains(&("Outcome".into(), outcome.into()))
            })
            .flat_map(|(_, _, _, _, v)| v.iter().copied())
            .sum()
    };
    // Exactly one of each: the state machine retries nothing twice into a count.
    assert_eq!(ours("ServiceDeployments", "SUCCEEDED"), 1.0);
    assert_eq!(ours("ServiceDeployments", "ROLLED_BACK"), 1.0);
    let seconds = |name: &str| metrics.iter().filter(|(_, n, unit, _, _)| n == name && unit == "Seconds").count();
    assert!(seconds("DeployDuration") >= 1 && seconds("DetectionDelay") >= 1, "{docs:#?}");
    assert!(metrics.iter().any(|(_, n, _, dims, _)| n == "Rollbacks" && dims.len() == 1));
    running.stop().await;
}
