//! The ECR and CloudWatch adapters against aws-smithy-mocks: what they ask,
//! and how AWS's answers map onto the ports.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::aws::{CloudWatchAlarms, EcrImages};
use autodeploy_shared::domain::{AlarmStateValue, ImageDigest};
use autodeploy_shared::ports::{Alarms, ImageRegistry};
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, StateValue};
use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
use aws_sdk_ecr::types::{ImageDetail, TagStatus};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

fn digest(c: char) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
}

fn detail(d: &ImageDigest, tags: &[&str], pushed_ms: i64) -> ImageDetail {
    ImageDetail::builder()
        .image_digest(d.as_str())
        .set_image_tags(Some(tags.iter().map(|t| (*t).to_owned()).collect()))
        .image_pushed_at(aws_smithy_types::DateTime::from_millis(pushed_ms))
        .image_manifest_media_type("application/vnd.oci.image.manifest.v1+json")
        .artifact_media_type("application/vnd.cncf.helm.config.v1+json")
        .build()
}

#[tokio::test]
async fn describe_image_asks_the_pushs_registry_and_maps_ecrs_answer() {
    let d = digest('a');
    let found = mock!(aws_sdk_ecr::Client::describe_images)
        .match_requests(|r| {
            r.registry_id() == Some("999999999999")
                && r.repository_name() == Some("web")
                && r.image_ids().first().and_then(|i| i.image_digest())
                    == Some(&format!("sha256:{}", "a".repeat(64))[..])
        })
        .then_output(move || {
            DescribeImagesOutput::builder().image_details(detail(&digest('a'), &["v1"], 1_700_000_000_250)).build()
        });
    let no_image = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::ImageNotFoundException(
            aws_sdk_ecr::types::error::ImageNotFoundException::builder().message("no").build(),
        )
    });
    let no_repo = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::RepositoryNotFoundException(
            aws_sdk_ecr::types::error::RepositoryNotFoundException::builder().message("no").build(),
        )
    });
    let throttled = mock!(aws_sdk_ecr::Client::describe_images).then_http_response(|| {
        Response::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"ThrottlingException","message":"slow down"}"#),
        )
    });
    let client = mock_client!(aws_sdk_ecr, RuleMode::Sequential, [&found, &no_image, &no_repo, &throttled]);
    let ecr = EcrImages::new(client, "123456789012", "us-east-1");

    let image = ecr.describe_image("999999999999", "us-east-1", "web", &d).await.unwrap().unwrap();
    assert_eq!(image.tags, ["v1"]);
    assert_eq!(image.pushed_at.unwrap().timestamp_millis(), 1_700_000_000_250, "ECR's milliseconds are kept");
    assert!(image.not_an_image().is_some(), "a Helm chart by ECR's own media types");
    assert_eq!(ecr.describe_image("1", "us-east-1", "web", &d).await.unwrap(), None);
    assert_eq!(ecr.describe_image("1", "us-east-1", "web", &d).await.unwrap(), None);
    assert_eq!(ecr.describe_image("1", "us-east-1", "web", &d).await.unwrap_err().error_type(), "Retryable");
}

#[tokio::test]
async fn image_tagged_asks_for_the_tag_and_maps_a_missing_one_to_none() {
    let found = mock!(aws_sdk_ecr::Client::describe_images)
        .match_requests(|r| {
            r.registry_id() == Some("123456789012")
                && r.repository_name() == Some("web")
                && r.image_ids().first().and_then(|i| i.image_tag()) == Some("v3")
        })
        .then_output(|| {
            DescribeImagesOutput::builder().image_details(detail(&digest('c'), &["v3", "latest"], 3)).build()
        });
    let no_image = mock!(aws_sdk_ecr::Client::describe_images).then_error(|| {
        DescribeImagesError::ImageNotFoundException(
            aws_sdk_ecr::types::error::ImageNotFoundException::builder().message("no").build(),
        )
    });
    let ecr = EcrImages::new(
        mock_client!(aws_sdk_ecr, RuleMode::Sequential, [&found, &no_image]),
        "123456789012",
        "us-east-1",
    );
    let image = ecr.image_tagged("123456789012", "us-east-1", "web", "v3").await.unwrap().unwrap();
    assert_eq!(image.digest, digest('c'));
    assert_eq!(ecr.image_tagged("123456789012", "us-east-1", "web", "v9").await.unwrap(), None);
}

#[tokio::test]
async fn tagged_images_reads_every_page_of_the_home_registry() {
    let first = mock!(aws_sdk_ecr::Client::describe_images)
        .match_requests(|r| {
            r.registry_id() == Some("123456789012")
                && r.filter().and_then(|f| f.tag_status()) == Some(&TagStatus::Tagged)
                && r.next_token().is_none()
        })
        .then_output(|| {
            DescribeImagesOutput::builder().image_details(detail(&digest('a'), &["v1"], 1)).next_token("page-2").build()
        });
    let second = mock!(aws_sdk_ecr::Client::describe_images)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| DescribeImagesOutput::builder().image_details(detail(&digest('b'), &["v2"], 2)).build());
    let ecr =
        EcrImages::new(mock_client!(aws_sdk_ecr, RuleMode::Sequential, [&first, &second]), "123456789012", "us-east-1");
    let images = ecr.tagged_images("web").await.unwrap();
    assert_eq!(images.iter().map(|i| i.tags[0].as_str()).collect::<Vec<_>>(), ["v1", "v2"]);
}

fn alarm(name: &str, tg_dimension: Option<&str>, metric_math_tg: Option<&str>) -> MetricAlarm {
    let dim = |v: &str| Dimension::builder().name("TargetGroup").value(v).build();
    let mut b =
        MetricAlarm::builder().alarm_name(name).state_value(StateValue::Alarm).state_reason("Threshold Crossed");
    if let Some(tg) = tg_dimension {
        b = b.dimensions(dim(tg)).dimensions(Dimension::builder().name("LoadBalancer").value("app/x/1").build());
    }
    if let Some(tg) = metric_math_tg {
        let metric = Metric::builder()
            .namespace("AWS/ApplicationELB")
            .metric_name("HTTPCode_Target_5XX_Count")
            .dimensions(dim(tg))
            .build();
        b = b.metrics(
            MetricDataQuery::builder()
                .id("m1")
                .metric_stat(MetricStat::builder().metric(metric).period(60).stat("Sum").build())
                .build(),
        );
    }
    b.build()
}

#[tokio::test]
async fn firing_asks_for_metric_alarms_in_alarm_and_keeps_those_on_our_target_groups_or_named() {
    let rule = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.state_value() == Some(&StateValue::Alarm) && r.alarm_types() == [AlarmType::MetricAlarm])
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(alarm("web-unhealthy", Some("targetgroup/web/1"), None))
                .metric_alarms(alarm("web-5xx", None, Some("targetgroup/web/1")))
                .metric_alarms(alarm("api-unhealthy", Some("targetgroup/api/2"), None))
                .metric_alarms(alarm("web-latency", None, None))
                .build()
        });
    let alarms = CloudWatchAlarms::new(mock_client!(aws_sdk_cloudwatch, [&rule]));
    let firing = alarms.firing(&["web-latency".into()], &["targetgroup/web/1".into()]).await.unwrap();
    let names: Vec<_> = firing.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["web-unhealthy", "web-5xx", "web-latency"]);
    assert!(firing.iter().all(|a| a.state == AlarmStateValue::Alarm && a.reason == "Threshold Crossed"));
}
