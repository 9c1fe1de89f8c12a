//! The trigger believes ECR and its own configuration, never the event: what
//! a hostile or merely unlucky event used to do, and what happens now. Plus
//! the reconciler, which deploys pushes whose event never came.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::domain::{
    DecisionOutcome, DecisionSource, DeployTarget, DeploymentId, DeploymentStatus, ImageDigest, RecordPatch, TagRule,
    Transition,
};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{Clock, DeployTargets, DeploymentStore, PushDecisions};
use autodeploy_shared::steps::*;
use chrono::{DateTime, Duration, Utc};

fn digest(n: u8) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
}

fn target(id: &str, service: &str, rule: TagRule) -> DeployTarget {
    DeployTarget {
        repository: "web".into(),
        target_id: id.into(),
        cluster: "demo".into(),
        service: service.into(),
        tag_rule: rule,
        containers: vec![],
        enabled: true,
        registries: vec![],
        reconcile: true,
        alarms: vec![],
        approval: None,
    }
}

async fn cloud(rule: TagRule) -> MemoryCloud {
    let c = MemoryCloud::default();
    c.targets.put(&target("prod", "web", rule)).await.unwrap();
    c
}

/// The push event of `tag` → `d` as it arrives, claiming `time`.
fn event(tag: &str, d: &ImageDigest, time: Option<DateTime<Utc>>) -> EcrEvent {
    EcrEvent::Push(ImagePush {
        account: MEMORY_ACCOUNT.into(),
        region: MEMORY_REGION.into(),
        repository: "web".into(),
        digest: d.clone(),
        tag: Some(tag.into()),
        claimed_at: time,
        manifest_media_type: None,
        artifact_media_type: None,
    })
}

async fn started(c: &MemoryCloud, e: EcrEvent) -> DeploymentId {
    let report = c.on_image_push().run(e).await.unwrap();
    assert_eq!(report.started.len(), 1, "{report:?}");
    report.started[0].clone()
}

async fn claim(c: &MemoryCloud, id: &DeploymentId) -> ClaimOutcome {
    c.claim_service().run(id.clone().into()).await.unwrap().outcome
}

async fn record(c: &MemoryCloud, id: &DeploymentId) -> autodeploy_shared::domain::Deployment {
    c.store.get(id).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_event_from_the_future_cannot_block_the_service() {
    let c = cloud(TagRule::Glob { pattern: "v*".into() }).await;
    c.images.push("web", "v51", &digest(51), c.clock.now());
    let far = "2099-01-01T00:00:00Z".parse().unwrap();
    let v51 = started(&c, event("v51", &digest(51), Some(far))).await;
    let r51 = record(&c, &v51).await;
    assert_eq!(r51.pushed_at, Some(c.clock.now()), "ordered as received, not as claimed");
    assert!(r51.timeline[0].detail.contains("2099-01-01"), "{}", r51.timeline[0].detail);

    c.clock.advance(Duration::seconds(2));
    c.images.push("web", "v52", &digest(52), c.clock.now());
    let v52 = started(&c, event("v52", &digest(52), Some(c.clock.now()))).await;
    assert_eq!(claim(&c, &v52).await, ClaimOutcome::Granted, "the later push is the newer one");
    assert_eq!(claim(&c, &v51).await, ClaimOutcome::Closed);
    assert_eq!(record(&c, &v51).await.superseded_by, Some(v52));
}

#[tokio::test]
async fn a_known_good_build_pushed_under_a_new_tag_rolls_forward() {
    let c = cloud(TagRule::Glob { pattern: "v*".into() }).await;
    let (x, y) = (digest(1), digest(2));
    c.images.push("web", "v27", &x, c.clock.now());
    let first = started(&c, event("v27", &x, Some(c.clock.now()))).await;
    c.clock.advance(Duration::minutes(5));
    c.images.push("web", "v28", &y, c.clock.now());
    let second = started(&c, event("v28", &y, Some(c.clock.now()))).await;
    // X again, as v29: ECR keeps X's first imagePushedAt; the tag push is newer.
    c.clock.advance(Duration::minutes(5));
    c.images.push("web", "v29", &x, c.clock.now());
    let forward = started(&c, event("v29", &x, Some(c.clock.now()))).await;
    assert_ne!(forward, first, "a new deployment of the same digest");
    let (r28, r29) = (record(&c, &second).await, record(&c, &forward).await);
    assert!(r29.is_newer_than(&r28), "{:?} vs {:?}", r29.pushed_at, r28.pushed_at);
    // And the very same event again still starts nothing.
    let again = c.on_image_push().run(event("v29", &x, Some(c.clock.now()))).await.unwrap();
    assert_eq!(again.duplicates, [forward]);
}

#[tokio::test]
async fn pushes_in_one_second_are_ordered_by_ecr_even_when_the_newer_arrives_first() {
    let c = cloud(TagRule::Glob { pattern: "v*".into() }).await;
    let second = c.clock.now(); // a whole second
    c.images.push("web", "v9", &digest(9), second + Duration::milliseconds(100));
    c.images.push("web", "v10", &digest(10), second + Duration::milliseconds(600));
    c.clock.advance(Duration::seconds(1));
    // Both events claim the same whole second; v10's arrives first.
    let v10 = started(&c, event("v10", &digest(10), Some(second))).await;
    c.clock.advance(Duration::milliseconds(300));
    let v9 = started(&c, event("v9", &digest(9), Some(second))).await;
    assert_eq!(claim(&c, &v9).await, ClaimOutcome::Closed, "v9 is older by ECR's clock");
    assert_eq!(record(&c, &v9).await.superseded_by, Some(v10.clone()));
    assert_eq!(claim(&c, &v10).await, ClaimOutcome::Granted);
}

#[tokio::test]
async fn ecr_decides_whether_a_push_exists_is_current_and_is_an_image() {
    let c = cloud(TagRule::Glob { pattern: "*".into() }).await;
    let now = c.clock.now();

    // An event for an image ECR does not have.
    let forged = c.on_image_push().run(event("v1", &digest(1), Some(now))).await.unwrap();
    assert!(forged.refused[0].reason.contains("ECR has no image"), "{forged:?}");

    // A late event for a tag that has since moved to another image.
    c.images.push("web", "latest", &digest(2), now);
    c.images.push("web", "latest", &digest(3), now + Duration::seconds(1));
    let stale = c.on_image_push().run(event("latest", &digest(2), Some(now))).await.unwrap();
    assert!(stale.refused[0].reason.contains("no longer names"), "{stale:?}");

    // A Helm chart, as ECR describes it (the event said nothing about it).
    c.images.push("web", "chart-1", &digest(4), now);
    c.images.set_media_types(
        "web",
        &digest(4),
        Some("application/vnd.oci.image.manifest.v1+json"),
        Some("application/vnd.cncf.helm.config.v1+json"),
    );
    let chart = c.on_image_push().run(event("chart-1", &digest(4), Some(now))).await.unwrap();
    assert!(chart.ignored.as_deref().unwrap_or_default().contains("helm"), "{chart:?}");

    assert!(c.store.all().is_empty(), "nothing deploys");
    assert!(c.executions.started().is_empty());

    // Each decision can be found by tag or by digest, with its reason.
    let by_tag = c.decisions.find("web", Some("latest"), None, 10).await.unwrap();
    assert_eq!(by_tag.len(), 1);
    assert_eq!((by_tag[0].outcome, by_tag[0].target_id.as_deref()), (DecisionOutcome::Refused, Some("prod")));
    let by_digest = c.decisions.find("web", None, Some(digest(4).as_str()), 10).await.unwrap();
    assert_eq!(by_digest[0].outcome, DecisionOutcome::Ignored);
    assert!(by_digest[0].reason.contains("helm"), "{}", by_digest[0].reason);
    let unknown = c.decisions.find("web", None, Some(digest(1).as_str()), 10).await.unwrap();
    assert!(unknown[0].reason.contains("ECR has no image"));
}

#[tokio::test]
async fn started_and_duplicate_pushes_are_decisions_too() {
    let c = cloud(TagRule::Glob { pattern: "*".into() }).await;
    c.images.push("web", "v1", &digest(1), c.clock.now());
    let id = started(&c, event("v1", &digest(1), None)).await;
    c.on_image_push().run(event("v1", &digest(1), None)).await.unwrap();
    c.on_image_push().run(event("v1", &digest(1), None)).await.unwrap();
    let found = c.decisions.find("web", Some("v1"), None, 10).await.unwrap();
    let outcomes: Vec<_> = found.iter().map(|d| d.outcome).collect();
    assert_eq!(found.len(), 2, "a repeated decision rewrites its item: {outcomes:?}");
    assert!(outcomes.contains(&DecisionOutcome::Started) && outcomes.contains(&DecisionOutcome::Duplicate));
    assert!(found.iter().all(|d| d.deployment_id.as_ref() == Some(&id) && d.source == DecisionSource::Event));
}

#[tokio::test]
async fn a_lost_push_is_deployed_by_the_reconciler_and_its_late_event_starts_nothing() {
    let c = cloud(TagRule::Glob { pattern: "v*".into() }).await;
    // Pushed; the event never came.
    c.images.push("web", "v3", &digest(3), c.clock.now());
    let pass = c.reconcile().run(ReconcileInput).await.unwrap();
    assert_eq!(pass.started.len(), 1, "{pass:?}");
    let id = pass.started[0].clone();
    let r = record(&c, &id).await;
    assert_eq!(r.status, DeploymentStatus::Pending);
    assert!(r.timeline[0].detail.contains("reconciler"), "{}", r.timeline[0].detail);
    assert_eq!(c.executions.started().len(), 1);

    // The event arrives after all: the same deployment, nothing new.
    let late = c.on_image_push().run(event("v3", &digest(3), Some(c.clock.now()))).await.unwrap();
    assert_eq!(late.duplicates, std::slice::from_ref(&id));
    assert_eq!(c.executions.started().len(), 1);

    // Its run goes on (here: it is turned away); later passes find nothing
    // new, and keep one "nothing new" per target.
    let t = Transition {
        to: DeploymentStatus::Superseded,
        at: c.clock.now(),
        detail: "settled".into(),
        patch: RecordPatch::default(),
    };
    c.store.transition(&id, &t).await.unwrap();
    for _ in 0..2 {
        c.clock.advance(Duration::minutes(5));
        let pass = c.reconcile().run(ReconcileInput).await.unwrap();
        assert_eq!(pass.up_to_date, ["prod"], "{pass:?}");
    }
    let quiet: Vec<_> = c.decisions.all().into_iter().filter(|d| d.outcome == DecisionOutcome::NothingNew).collect();
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0].deployment_id, Some(id));
    assert_eq!(quiet[0].source, DecisionSource::Reconciler);
}

#[tokio::test]
async fn the_reconciler_leaves_images_the_services_history_settles() {
    let c = cloud(TagRule::Glob { pattern: "*".into() }).await;
    // `release` deployed from its event; the same build is tagged `stable` too, and
    // that tag's event was lost: the service has it already.
    c.images.push("web", "release", &digest(1), c.clock.now());
    let v1 = started(&c, event("release", &digest(1), None)).await;
    c.clock.advance(Duration::seconds(1));
    c.images.push("web", "stable", &digest(1), c.clock.now());
    let pass = c.reconcile().run(ReconcileInput).await.unwrap();
    assert!(pass.started.is_empty(), "{pass:?}");
    let quiet = c.decisions.find("web", None, Some(digest(1).as_str()), 10).await.unwrap();
    let nothing_new = quiet.iter().find(|d| d.outcome == DecisionOutcome::NothingNew).unwrap();
    assert!(nothing_new.reason.contains("was deployed as release"), "{}", nothing_new.reason);
    assert_eq!(nothing_new.deployment_id, Some(v1.clone()));

    // An image pushed before the service's latest deployment is not a lost push
    // (its record may have expired, or an older stack named it differently).
    let c = cloud(TagRule::Glob { pattern: "*".into() }).await;
    c.images.push("web", "old", &digest(7), c.clock.now() - Duration::days(1));
    c.images.push("web", "v2", &digest(2), c.clock.now() - Duration::days(2));
    started(&c, event("v2", &digest(2), None)).await;
    let pass = c.reconcile().run(ReconcileInput).await.unwrap();
    assert!(pass.started.is_empty() && pass.up_to_date == ["prod"], "{pass:?}");
}

#[tokio::test]
async fn the_reconciler_picks_the_newest_by_rule_and_respects_opt_outs() {
    let c = cloud(TagRule::Semver { requirement: None }).await;
    let mut off = target("off", "api", TagRule::Glob { pattern: "*".into() });
    off.reconcile = false;
    c.targets.put(&off).await.unwrap();
    let mut disabled = target("disabled", "worker", TagRule::Glob { pattern: "*".into() });
    disabled.enabled = false;
    c.targets.put(&disabled).await.unwrap();
    let mut elsewhere = target("empty", "batch", TagRule::Exact { pattern: "stable".into() });
    elsewhere.repository = "batch".into();
    c.targets.put(&elsewhere).await.unwrap();

    // A repository with history when its target is added: the highest version deploys.
    let t = c.clock.now();
    c.images.push("web", "1.10.0", &digest(10), t);
    c.images.push("web", "1.9.0", &digest(9), t + Duration::minutes(1));
    c.images.push("web", "nightly", &digest(11), t + Duration::minutes(2));
    let pass = c.reconcile().run(ReconcileInput).await.unwrap();
    assert_eq!(pass.started.len(), 1, "{pass:?}");
    assert_eq!(record(&c, &pass.started[0]).await.tag.as_deref(), Some("1.10.0"));
    let mut skipped = pass.skipped.clone();
    skipped.sort();
    assert_eq!(skipped, ["disabled", "off"]);
    assert_eq!(pass.no_image, ["empty"]);
}

#[tokio::test]
async fn a_scheduled_event_must_be_an_object_and_nothing_in_it_is_used() {
    let c = cloud(TagRule::Glob { pattern: "*".into() }).await;
    let err = handle(&c.reconcile(), serde_json::json!([1, 2])).await.unwrap_err();
    assert_eq!(err.error_type(), "MalformedEvent");
    let scheduled = serde_json::json!({
        "version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "999999999999", "time": "2099-01-01T00:00:00Z", "region": "eu-west-1",
        "resources": [], "detail": {}
    });
    let report = handle(&c.reconcile(), scheduled).await.unwrap();
    assert_eq!(report.no_image, ["prod"]);
}
