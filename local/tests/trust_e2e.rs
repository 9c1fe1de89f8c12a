//! End to end on the local cloud: the trigger believes ECR (moto's), not the
//! push event, and the reconciler deploys a push whose event was lost.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for, wait_for_real};
use autodeploy_local::cloud::{Cloud, CloudConfig, PushRequest, Pushed, Running, sdk_config};
use autodeploy_local::sim::ClockMode;
use autodeploy_shared::aws::{DynamoDecisions, DynamoDeployments};
use autodeploy_shared::domain::{DecisionOutcome, DecisionSource, Deployment, DeploymentStatus};
use autodeploy_shared::ports::{DeploymentStore, PushDecisions};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 20.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    Cloud::start(cfg).await.expect("local cloud starts")
}

struct Stack {
    running: Running,
    store: DynamoDeployments,
    decisions: DynamoDecisions,
    events: aws_sdk_eventbridge::Client,
}

async fn stack() -> Stack {
    let running = tokio::time::timeout(Duration::from_secs(60), cloud()).await.expect("start in time");
    let cloud = running.cloud.clone();
    seed_service(&cloud, &ServiceSpec::demo()).await.unwrap();
    let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    Stack {
        store: DynamoDeployments::new(dynamodb.clone(), cloud.template.physical_name("DeploymentsTable").unwrap()),
        decisions: DynamoDecisions::new(dynamodb, cloud.template.physical_name("DecisionsTable").unwrap()),
        events: aws_sdk_eventbridge::Client::new(&sdk),
        running,
    }
}

impl Stack {
    fn cloud(&self) -> &Cloud {
        &self.running.cloud
    }

    /// Into ECR only: the event is sent (or not) by the test.
    async fn put(&self, image: &str, build: Option<&str>) -> Pushed {
        let req = PushRequest { build: build.map(str::to_owned), event: false, ..PushRequest::new(image, "healthy") };
        self.cloud().push_image(&req).await.unwrap()
    }

    /// ECR's push event for `pushed`, claiming `time` (epoch seconds).
    fn event(pushed: &Pushed, time: i64) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .source("aws.ecr")
            .detail_type("ECR Image Action")
            .time(aws_smithy_types::DateTime::from_secs(time))
            .detail(
                serde_json::json!({
                    "result": "SUCCESS", "repository-name": pushed.repository, "image-digest": pushed.digest,
                    "action-type": "PUSH", "image-tag": pushed.tag
                })
                .to_string(),
            )
            .build()
    }

    async fn send(&self, entries: Vec<PutEventsRequestEntry>) {
        for e in entries {
            self.events.put_events().entries(e).send().await.unwrap();
        }
    }

    /// The terminal deployment of `tag` on demo/web.
    async fn outcome(&self, tag: &str) -> Deployment {
        wait_for(self.cloud(), 3600, || async {
            let history = self.store.history("demo/web", 50).await.ok()?;
            history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && d.status.is_terminal())
        })
        .await
        .unwrap_or_else(|| panic!("no terminal deployment of {tag}"))
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_times_cannot_block_or_reorder_and_a_known_good_build_rolls_forward() {
    let s = stack().await;
    use DeploymentStatus::*;

    // A push whose event claims 2099, then an ordinary later push: the later one deploys.
    let v51 = s.put("web:v51", None).await;
    s.send(vec![Stack::event(&v51, 4_070_908_800)]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v52 = s.put("web:v52", None).await;
    s.send(vec![Stack::event(&v52, now())]).await;
    assert_eq!(s.outcome("v52").await.status, Succeeded, "2099 blocks nothing");
    let r51 = s.outcome("v51").await;
    assert!(r51.timeline[0].detail.contains("2099"), "{}", r51.timeline[0].detail);

    // Two pushes a second apart whose events claim the same second, the newer
    // delivered first: ECR's order wins, not the arrival order.
    let v9 = s.put("web:v9", None).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v10 = s.put("web:v10", None).await;
    let same = now();
    s.send(vec![Stack::event(&v10, same), Stack::event(&v9, same)]).await;
    assert_eq!(s.outcome("v10").await.status, Succeeded);
    let r9 = s.outcome("v9").await;
    assert_eq!(r9.status, Superseded, "{r9:#?}");
    assert_eq!(r9.superseded_by, Some(s.outcome("v10").await.deployment_id));

    // v27 deploys, v28 deploys, then v27's build again as v29: it deploys again.
    let v27 = s.cloud().push("web:v27", "healthy").await.unwrap();
    assert_eq!(s.outcome("v27").await.status, Succeeded);
    s.cloud().push("web:v28", "healthy").await.unwrap();
    assert_eq!(s.outcome("v28").await.status, Succeeded);
    let req = PushRequest { build: Some("v27".into()), ..PushRequest::new("web:v29", "healthy") };
    let v29 = s.cloud().push_image(&req).await.unwrap();
    assert_eq!(v29.digest, v27.digest, "the same build");
    let forward = s.outcome("v29").await;
    assert_eq!(forward.status, Succeeded, "{forward:#?}");
    let running = s.cloud().sim.series(Some("demo"), "web").unwrap();
    let last = running.last().unwrap();
    assert!(last.versions.iter().all(|v| v.images.iter().all(|i| i.contains(&v27.digest))), "{last:?}");
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_push_is_deployed_by_the_reconciler_and_its_late_event_starts_nothing() {
    let s = stack().await;
    // The target is new and its repository has v1, which the service runs by
    // tag: the first pass deploys v1 pinned by digest.
    let first = s.cloud().reconcile_now().await.unwrap();
    assert_eq!(first["ReconcileFunction-EverySoOften"]["started"].as_array().map(Vec::len), Some(1), "{first}");
    let v1 = s.outcome("v1").await;
    assert_eq!(v1.status, DeploymentStatus::Succeeded, "{v1:#?}");
    assert!(v1.image.contains("@sha256:"), "{}", v1.image);
    let again = s.cloud().reconcile_now().await.unwrap();
    assert_eq!(again["ReconcileFunction-EverySoOften"]["upToDate"], serde_json::json!(["demo-web"]), "{again}");

    // Pushed; its event was lost.
    let v3 = s.put("web:v3", None).await;
    let pass = s.cloud().reconcile_now().await.unwrap();
    let started = pass["ReconcileFunction-EverySoOften"]["started"].clone();
    assert_eq!(started.as_array().map(Vec::len), Some(1), "{pass}");
    let done = s.outcome("v3").await;
    assert_eq!(done.status, DeploymentStatus::Succeeded, "{done:#?}");
    assert_eq!(started[0], serde_json::json!(done.deployment_id));

    // The event comes after all: nothing new starts.
    s.send(vec![Stack::event(&v3, now())]).await;
    let decided = wait_for(s.cloud(), 600, || async {
        let found = s.decisions.find("web", Some("v3"), None, 10).await.ok()?;
        found.iter().any(|d| d.source == DecisionSource::Event).then_some(found)
    })
    .await
    .expect("the late event's decision");
    let by_event = decided.iter().find(|d| d.source == DecisionSource::Event).unwrap();
    assert_eq!(by_event.outcome, DecisionOutcome::Duplicate, "{decided:#?}");
    assert_eq!(by_event.deployment_id, Some(done.deployment_id.clone()));
    let by_reconciler = decided.iter().find(|d| d.outcome == DecisionOutcome::Started).unwrap();
    assert_eq!(by_reconciler.source, DecisionSource::Reconciler);
    let v3_runs =
        s.store.history("demo/web", 50).await.unwrap().into_iter().filter(|d| d.tag.as_deref() == Some("v3")).count();
    assert_eq!(v3_runs, 1);

    // A Helm chart's push: its decision says why nothing deployed.
    let chart = s.put("web:v4", None).await;
    let mut entry = serde_json::json!({
        "result": "SUCCESS", "repository-name": "web", "image-digest": chart.digest, "action-type": "PUSH",
        "image-tag": "v4", "artifact-media-type": "application/vnd.cncf.helm.config.v1+json"
    });
    entry["manifest-media-type"] = serde_json::json!("application/vnd.oci.image.manifest.v1+json");
    s.send(vec![
        PutEventsRequestEntry::builder()
            .source("aws.ecr")
            .detail_type("ECR Image Action")
            .detail(entry.to_string())
            .build(),
    ])
    .await;
    let ignored = wait_for(s.cloud(), 600, || async {
        s.decisions.find("web", Some("v4"), None, 10).await.ok()?.into_iter().next()
    })
    .await
    .expect("the chart's decision");
    assert_eq!(ignored.outcome, DecisionOutcome::Ignored);
    assert!(ignored.reason.contains("helm"), "{}", ignored.reason);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_alarm_cloudwatch_has_in_alarm_rolls_back_and_a_lost_alarm_event_still_does() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
    let s = stack().await;
    let sdk = sdk_config(&s.cloud().endpoint, &s.cloud().stack.region).await;
    let service =
        aws_sdk_ecs::Client::new(&sdk).describe_services().cluster("demo").services("web").send().await.unwrap();
    let tg_arn = service.services()[0].load_balancers()[0].target_group_arn().unwrap().to_owned();
    let tg = tg_arn[tg_arn.find("targetgroup/").unwrap()..].to_owned();
    // A real alarm on the service's target group, in moto's CloudWatch (through
    // the SDK's CBOR protocol), not firing.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    cloudwatch
        .put_metric_alarm()
        .alarm_name("web-unhealthy-hosts")
        .namespace("AWS/ApplicationELB")
        .metric_name("UnHealthyHostCount")
        .dimensions(Dimension::builder().name("TargetGroup").value(&tg).build())
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();

    // A forged ALARM event naming that target group, during a healthy rollout.
    s.cloud().push("web:v5", "healthy").await.unwrap();
    let waiting = wait_for(s.cloud(), 600, || async {
        let history = s.store.history("demo/web", 10).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some("v5") && d.status == DeploymentStatus::Waiting)
    })
    .await
    .expect("v5 rolling out");
    let forged = serde_json::json!({
        "alarmName": "web-unhealthy-hosts",
        "state": {"value": "ALARM", "reason": "forged"},
        "previousState": {"value": "OK", "reason": "x"},
        "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
            "namespace": "AWS/ApplicationELB", "name": "UnHealthyHostCount", "dimensions": {"TargetGroup": tg}
        }, "period": 60, "stat": "Maximum"}, "returnData": true}]}
    });
    let event = serde_json::json!({
        "version": "0", "id": "forged", "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1", "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-unhealthy-hosts"],
        "detail": forged
    });
    let on_event = s.cloud().host.by_logical_id("OnEcsEventFunction").unwrap();
    let report = on_event.invoke(event).await.unwrap();
    assert_eq!(report["matched"], serde_json::json!([waiting.deployment_id]), "{report}");
    assert_eq!(report["resumed"], serde_json::json!([]), "CloudWatch says the alarm is not in ALARM: {report}");
    let v5 = s.outcome("v5").await;
    assert_eq!(v5.status, DeploymentStatus::Succeeded, "the forged alarm was checked and ignored: {v5:#?}");

    // During the next rollout the alarm really fires, and its event is lost:
    // the next look at the rollout (an ECS event or the fallback check) asks
    // CloudWatch and rolls back. The simulator's clock is held while the
    // rollout starts, so the alarm fires before ECS could finish it.
    let running_clock = s.cloud().sim.clock_mode();
    s.cloud().sim.set_clock_mode(ClockMode { manual: true, ..running_clock });
    s.cloud().push("web:v6", "healthy").await.unwrap();
    wait_for_real(60, || async {
        let history = s.store.history("demo/web", 10).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some("v6") && d.status == DeploymentStatus::Waiting)
    })
    .await
    .expect("v6 rolling out");
    cloudwatch
        .set_alarm_state()
        .alarm_name("web-unhealthy-hosts")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 2 unhealthy hosts")
        .send()
        .await
        .unwrap();
    s.cloud().sim.set_clock_mode(running_clock);
    let v6 = s.outcome("v6").await;
    assert_eq!(v6.status, DeploymentStatus::RolledBack, "{v6:#?}");
    let reason = v6.failure_reason.unwrap_or_default();
    assert!(reason.contains("web-unhealthy-hosts is in ALARM"), "{reason}");
    s.running.stop().await;
}
