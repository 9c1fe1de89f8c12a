//! `on-image-push` on AWS's documented ECR event samples, payload in.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::sample_stack;

use autodeploy_shared::DeployError;
use autodeploy_shared::domain::{DeployTarget, DeploymentStatus, ImageDigest, TagRule};
use autodeploy_shared::memory::MemoryCloud;
use autodeploy_shared::ports::DeployTargets;
use autodeploy_shared::steps::{PushReport, handle};
use sample_stack::{SAMPLE_DIGEST, SAMPLE_PUSHED_AT, sample_cloud};
use serde_json::{Value, json};

const PUSH: &str = include_str!("../../tests/fixtures/aws-events/ecr-image-push.json");
const DELETE: &str = include_str!("../../tests/fixtures/aws-events/ecr-image-delete.json");

/// The payload through the step as Lambda hands it over.
async fn handler(d: &MemoryCloud, payload: Value) -> Result<PushReport, DeployError> {
    handle(&d.on_image_push(), payload).await
}

async fn deps() -> MemoryCloud {
    sample_cloud().await
}

fn sample(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[tokio::test]
async fn documented_push_starts_one_pinned_deployment() {
    let d = deps().await;
    let report = handler(&d, sample(PUSH)).await.unwrap();
    assert_eq!(report.started.len(), 1);
    let record = &d.store.all()[0];
    assert_eq!(record.status, DeploymentStatus::Pending);
    assert_eq!(
        record.image,
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234"
    );
    assert_eq!(record.tag.as_deref(), Some("latest"));
    assert_eq!(record.pushed_at.map(|t| t.to_rfc3339()), Some("2019-11-16T01:54:34+00:00".into()));
    let (name, input) = &d.executions.started()[0];
    assert!(name.starts_with("servicetest-d-") && name.len() <= 80, "{name}");
    assert_eq!(input["deploymentId"], json!(record.deployment_id.as_str()));

    // The same event delivered again starts nothing new.
    let again = handler(&d, sample(PUSH)).await.unwrap();
    assert!(again.started.is_empty());
    assert_eq!(again.duplicates, report.started);
    assert_eq!(d.executions.started().len(), 1);
}

#[tokio::test]
async fn delete_and_failed_pushes_are_ignored_without_error() {
    let d = deps().await;
    let report = handler(&d, sample(DELETE)).await.unwrap();
    assert_eq!(report.ignored.as_deref(), Some("DELETE SUCCESS of my-repository-name"));
    assert_eq!(report, PushReport { ignored: report.ignored.clone(), ..Default::default() });
    let mut failed = sample(PUSH);
    failed["detail"]["result"] = json!("FAILURE");
    failed["detail"].as_object_mut().unwrap().remove("image-digest");
    let report = handler(&d, failed).await.unwrap();
    assert!(report.ignored.is_some() && report.started.is_empty());
    assert!(d.store.all().is_empty());
    assert!(d.executions.started().is_empty());
}

#[tokio::test]
async fn non_matching_tag_starts_nothing() {
    let d = deps().await;
    let mut other = sample(PUSH);
    other["detail"]["image-tag"] = json!("v2");
    let report = handler(&d, other).await.unwrap();
    assert!(report.started.is_empty());
    assert_eq!(report.not_matching, ["prod"]);
    assert!(d.store.all().is_empty());
}

#[tokio::test]
async fn malformed_events_are_typed_errors_and_write_nothing() {
    let d = deps().await;
    let mut no_digest = sample(PUSH);
    no_digest["detail"].as_object_mut().unwrap().remove("image-digest");
    let mut bad_digest = sample(PUSH);
    bad_digest["detail"]["image-digest"] = json!("sha256:not-hex");
    let mut wrong_source = sample(PUSH);
    wrong_source["source"] = json!("aws.s3");
    let mut no_account = sample(PUSH);
    no_account.as_object_mut().unwrap().remove("account");
    let mut no_detail = sample(PUSH);
    no_detail.as_object_mut().unwrap().remove("detail");
    let mut bad_repository = sample(PUSH);
    bad_repository["detail"]["repository-name"] = json!("Team/Web");
    let mut long_tag = sample(PUSH);
    long_tag["detail"]["image-tag"] = json!("v".repeat(301));
    // serde reads a struct from an array field by field: the sample's values in
    // order were once taken for an event and deployed.
    let fields = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"];
    let as_array = Value::Array(fields.iter().map(|f| sample(PUSH)[*f].clone()).collect());
    for bad in [
        no_digest,
        bad_digest,
        wrong_source,
        no_account,
        no_detail,
        bad_repository,
        long_tag,
        as_array,
        json!("hello"),
        json!({}),
    ] {
        let err = handler(&d, bad.clone()).await.unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent", "{bad}");
    }
    assert!(d.store.all().is_empty());
    assert!(d.executions.started().is_empty());
    assert!(d.notifier.statuses().is_empty());
}

#[tokio::test]
async fn the_longest_tag_ecr_allows_is_accepted() {
    let d = deps().await;
    d.targets
        .put(&DeployTarget {
            repository: "my-repository-name".into(),
            target_id: "any".into(),
            cluster: "default".into(),
            service: "other".into(),
            tag_rule: TagRule::Glob { pattern: "*".into() },
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    let mut push = sample(PUSH);
    push["detail"]["image-tag"] = json!("v".repeat(300));
    let digest = ImageDigest::parse(SAMPLE_DIGEST).unwrap();
    d.images.push("my-repository-name", &"v".repeat(300), &digest, chrono::Utc::now());
    let report = handler(&d, push).await.unwrap();
    assert_eq!(report.started.len(), 1);
}

#[tokio::test]
async fn an_error_quotes_at_most_a_kilobyte_of_the_input() {
    let d = deps().await;
    let huge = "x".repeat(1 << 20);
    let mut push = sample(PUSH);
    push["detail"]["image-digest"] = json!(format!("sha256:{huge}"));
    let mut source = sample(PUSH);
    source["source"] = json!(huge);
    let mut repository = sample(PUSH);
    repository["detail"]["repository-name"] = json!(huge);
    let mut kind = sample(PUSH);
    kind["detail"]["result"] = json!({ "nested": huge });
    for bad in [push, source, repository, kind, json!([huge])] {
        let err = handler(&d, bad).await.unwrap_err();
        assert_eq!(err.error_type(), "MalformedEvent");
        let message = err.to_string();
        assert!(message.len() < 1200, "{} bytes: {}…", message.len(), &message[..200.min(message.len())]);
    }
}

#[tokio::test]
async fn a_push_to_another_registry_is_refused_unless_the_target_lists_it() {
    let d = deps().await;
    let mut foreign_account = sample(PUSH);
    foreign_account["account"] = json!("999999999999");
    let mut foreign_region = sample(PUSH);
    foreign_region["region"] = json!("eu-west-1");
    for push in [foreign_account.clone(), foreign_region] {
        let report = handler(&d, push).await.unwrap();
        assert!(report.started.is_empty() && report.duplicates.is_empty());
        assert_eq!(report.refused.len(), 1);
        assert_eq!(report.refused[0].target_id, "prod");
        assert!(report.refused[0].reason.contains("not this stack's registry"), "{}", report.refused[0].reason);
    }
    assert!(d.store.all().is_empty(), "nothing recorded, nothing runs");
    assert!(d.executions.started().is_empty());

    // Replication from another account is opt-in, per target.
    d.targets
        .put(&DeployTarget {
            repository: "my-repository-name".into(),
            target_id: "replica".into(),
            cluster: "default".into(),
            service: "replica".into(),
            tag_rule: TagRule::Exact { pattern: "latest".into() },
            containers: vec![],
            enabled: true,
            registries: vec!["999999999999.dkr.ecr.us-west-2.amazonaws.com".into()],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    // ECR of the other account holds the replicated image.
    let digest = ImageDigest::parse(SAMPLE_DIGEST).unwrap();
    let pushed_at = SAMPLE_PUSHED_AT.parse().unwrap();
    d.images.push_to("999999999999", "us-west-2", "my-repository-name", "latest", &digest, pushed_at);
    let report = handler(&d, foreign_account).await.unwrap();
    assert_eq!(report.started.len(), 1, "{report:?}");
    assert_eq!(report.refused.len(), 1, "prod still refuses it");
    assert!(d.store.all()[0].image.starts_with("999999999999.dkr.ecr.us-west-2.amazonaws.com/my-repository-name@"));
}

#[tokio::test]
async fn a_helm_chart_or_a_signature_is_not_deployed_an_image_index_is() {
    let d = deps().await;
    let push = |manifest: &str, artifact: Option<&str>| {
        let mut p = sample(PUSH);
        p["detail"]["manifest-media-type"] = json!(manifest);
        if let Some(a) = artifact {
            p["detail"]["artifact-media-type"] = json!(a);
        }
        p
    };
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let digest = ImageDigest::parse(SAMPLE_DIGEST).unwrap();
    for artifact in ["application/vnd.cncf.helm.config.v1+json", "application/vnd.cncf.notary.signature"] {
        // ECR describes the artifact as what it is.
        d.images.set_media_types("my-repository-name", &digest, Some(oci), Some(artifact));
        let report = handler(&d, push(oci, Some(artifact))).await.unwrap();
        assert!(report.ignored.as_deref().unwrap().contains("is not a container image's"), "{report:?}");
        assert!(report.started.is_empty());
    }
    assert!(d.store.all().is_empty());
    // ECR's media types decide over the event's: ECR says image, so it deploys.
    let index = "application/vnd.oci.image.index.v1+json";
    d.images.set_media_types("my-repository-name", &digest, Some(index), None);
    let report = handler(&d, push(index, None)).await.unwrap();
    assert_eq!(report.started.len(), 1, "a multi-platform image is an image");
}
