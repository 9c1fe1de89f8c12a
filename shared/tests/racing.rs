//! Racing, repeated and out-of-order pushes against the in-memory ports: one
//! rollout per service at a time, newest wins, every push ends somewhere.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::domain::{DeployTarget, DeploymentId, DeploymentStatus, ImageDigest, TagRule};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{DeployTargets, DeploymentStore, ServiceLocks};
use autodeploy_shared::steps::*;
use chrono::Duration;

/// The in-memory cloud with the deployed defaults (60 s poll, 5 s coalescing).
struct World(MemoryCloud);

impl std::ops::Deref for World {
    type Target = MemoryCloud;
    fn deref(&self) -> &MemoryCloud {
        &self.0
    }
}

async fn world(services: &[&str]) -> World {
    let w = World(MemoryCloud::default());
    for svc in services {
        w.targets
            .put(&DeployTarget {
                repository: "web".into(),
                target_id: (*svc).into(),
                cluster: "demo".into(),
                service: (*svc).into(),
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
    }
    w
}

fn digest(n: u8) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
}

impl World {
    /// A push of `v{n}` now, returning one id per service.
    async fn push(&self, n: u8) -> Vec<DeploymentId> {
        self.push_at(n, Duration::zero()).await
    }

    /// A push whose ECR event time is `age` before now (a late delivery).
    async fn push_at(&self, n: u8, age: Duration) -> Vec<DeploymentId> {
        self.clock.advance(Duration::milliseconds(50));
        let push = ImagePush {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            repository: "web".into(),
            digest: digest(n),
            tag: Some(format!("v{n}")),
            claimed_at: Some(self.clock_now() - age),
            manifest_media_type: None,
            artifact_media_type: None,
        };
        self.images.push("web", &format!("v{n}"), &digest(n), self.clock_now() - age);
        self.on_image_push().run(EcrEvent::Push(push)).await.unwrap().started
    }

    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use autodeploy_shared::ports::Clock;
        self.clock.now()
    }

    async fn claim(&self, id: &DeploymentId) -> ClaimOutcome {
        self.claim_service().run(id.clone().into()).await.unwrap().outcome
    }

    async fn status(&self, id: &DeploymentId) -> DeploymentStatus {
        self.store.get(id).await.unwrap().unwrap().status
    }

    async fn record(&self, id: &DeploymentId) -> autodeploy_shared::domain::Deployment {
        self.store.get(id).await.unwrap().unwrap()
    }

    /// The holder's rollout ends (as `record-outcome` records it).
    async fn finish(&self, id: &DeploymentId, status: DeploymentStatus) {
        use autodeploy_shared::domain::{RecordPatch, Transition};
        for to in [DeploymentStatus::Registering, DeploymentStatus::Updating, DeploymentStatus::Waiting, status] {
            let t = Transition { to, at: self.clock_now(), detail: String::new(), patch: RecordPatch::default() };
            self.store.transition(id, &t).await.unwrap();
        }
        let d = self.record(id).await;
        ServiceQueue { store: &self.store, locks: &self.locks, callbacks: &self.callbacks }.release(&d).await.unwrap();
    }
}

#[tokio::test]
async fn a_burst_of_ten_pushes_deploys_only_the_newest() {
    let w = world(&["web"]).await;
    let mut ids = Vec::new();
    for n in 1..=10 {
        ids.extend(w.push(n).await);
    }
    // The runs claim in an arbitrary order once the burst has settled.
    let order = [3usize, 9, 0, 5, 7, 1, 8, 2, 6, 4];
    let mut granted = Vec::new();
    for i in order {
        if w.claim(&ids[i]).await == ClaimOutcome::Granted {
            granted.push(i);
        }
    }
    assert_eq!(granted, [9], "only the newest push takes the service");
    for id in &ids[..9] {
        let d = w.record(id).await;
        assert_eq!(d.status, DeploymentStatus::Superseded);
        assert_eq!(d.superseded_by.as_ref(), Some(&ids[9]), "points at the one that replaced it");
    }
    assert_eq!(w.locks.state("demo/web").await.unwrap().owner.as_ref(), Some(&ids[9]));
    // Each superseded push was announced, to people too.
    assert_eq!(w.notifier.statuses().iter().filter(|s| *s == "SUPERSEDED").count(), 9);
}

#[tokio::test]
async fn a_push_while_busy_queues_and_the_newest_queued_runs_next() {
    let w = world(&["web"]).await;
    let a = w.push(1).await.remove(0);
    assert_eq!(w.claim(&a).await, ClaimOutcome::Granted);

    let b = w.push(2).await.remove(0);
    assert_eq!(w.claim(&b).await, ClaimOutcome::Queued);
    assert_eq!(w.status(&b).await, DeploymentStatus::Queued);
    w.await_service()
        .run(AwaitServiceInput {
            deployment_id: b.clone(),
            task_token: "token-b".into(),
            waiting_in: DeploymentStatus::Queued,
        })
        .await
        .unwrap();

    // A newer push supersedes the queued one and wakes its run so it can end.
    let c = w.push(3).await.remove(0);
    assert_eq!(w.claim(&c).await, ClaimOutcome::Queued);
    w.await_service()
        .run(AwaitServiceInput {
            deployment_id: c.clone(),
            task_token: "token-c".into(),
            waiting_in: DeploymentStatus::Queued,
        })
        .await
        .unwrap();
    assert_eq!(w.status(&b).await, DeploymentStatus::Superseded);
    assert_eq!(w.callbacks.sent()[0].0, "token-b");
    assert_eq!(w.claim(&b).await, ClaimOutcome::Closed, "its run ends");

    // The rollout in flight ends; the queued run is woken and takes the service.
    w.finish(&a, DeploymentStatus::Succeeded).await;
    assert_eq!(w.callbacks.sent().last().unwrap().0, "token-c");
    assert_eq!(w.claim(&c).await, ClaimOutcome::Granted);
    // A queued run that is woken late (its token spent) finds VerdictReady and claims again.
    // Once it moves on (registering), a late wait step is told to claim instead of waiting.
    w.finish(&c, DeploymentStatus::Succeeded).await;
    let err = w
        .await_service()
        .run(AwaitServiceInput {
            deployment_id: c.clone(),
            task_token: "late".into(),
            waiting_in: DeploymentStatus::Queued,
        })
        .await;
    assert_eq!(err.unwrap_err().error_type(), "VerdictReady");
}

#[tokio::test]
async fn a_late_older_push_never_rolls_the_service_back() {
    let w = world(&["web"]).await;
    let new = w.push(2).await.remove(0);
    assert_eq!(w.claim(&new).await, ClaimOutcome::Granted);
    w.finish(&new, DeploymentStatus::Succeeded).await;
    // An older push's event is delivered late, after the newer one succeeded.
    let old = w.push_at(1, Duration::minutes(5)).await.remove(0);
    assert_eq!(w.claim(&old).await, ClaimOutcome::Closed);
    let d = w.record(&old).await;
    assert_eq!(d.status, DeploymentStatus::Superseded);
    assert_eq!(d.superseded_by.as_ref(), Some(&new));
    assert!(d.timeline.last().unwrap().detail.contains("is serving"), "{:?}", d.timeline);
}

#[tokio::test]
async fn a_dead_runs_lease_expires_and_the_next_push_deploys() {
    let w = world(&["web"]).await;
    let a = w.push(1).await.remove(0);
    assert_eq!(w.claim(&a).await, ClaimOutcome::Granted);
    // A's run is stopped mid-wait: it never renews its lease.
    let b = w.push(2).await.remove(0);
    assert_eq!(w.claim(&b).await, ClaimOutcome::Queued);
    w.clock.advance(w.settings.lease() - Duration::seconds(1));
    assert_eq!(w.claim(&b).await, ClaimOutcome::Queued, "the lease still holds");
    w.clock.advance(Duration::seconds(2));
    assert_eq!(w.claim(&b).await, ClaimOutcome::Granted);
    let dead = w.record(&a).await;
    assert_eq!(dead.status, DeploymentStatus::Failed, "every push ends somewhere");
    assert!(dead.failure_reason.unwrap().contains("lease"));
}

/// A slow step (or retries with backoff) outlives the lease while its run is
/// alive: the next push asks Step Functions, extends the holder's lease and
/// waits, instead of recording a live run FAILED. Once the run has really
/// stopped, the lease is taken as before.
#[tokio::test]
async fn a_lease_that_ran_out_under_a_live_run_is_extended_not_taken() {
    const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:execution:deploy";
    let w = world(&["web"]).await;
    let a = w.push(1).await.remove(0);
    let claim_as = |id: &DeploymentId| ClaimInput {
        deployment_id: id.clone(),
        execution_arn: Some(format!("{MACHINE}:web-{id}")),
        state: Default::default(),
    };
    assert_eq!(w.claim_service().run(claim_as(&a)).await.unwrap().outcome, ClaimOutcome::Granted);
    let web = autodeploy_shared::domain::ServiceRef::new("demo", "web").unwrap();
    w.runs.set_running(&format!("{MACHINE}:{}", a.execution_name(&web)), true);
    let b = w.push(2).await.remove(0);
    w.clock.advance(w.settings.lease() + Duration::seconds(5));
    assert_eq!(w.claim_service().run(claim_as(&b)).await.unwrap().outcome, ClaimOutcome::Queued);
    assert_eq!(w.status(&a).await, DeploymentStatus::Pending, "the live run is not recorded FAILED");
    let lock = w.locks.state("demo/web").await.unwrap();
    assert_eq!(lock.owner.as_ref(), Some(&a));
    assert!(lock.lease_until.unwrap() > w.clock_now(), "its lease was extended");

    // Its run stops for good: the next look takes over and says so.
    w.runs.set_running(&format!("{MACHINE}:{}", a.execution_name(&web)), false);
    w.clock.advance(w.settings.lease() + Duration::seconds(5));
    assert_eq!(w.claim_service().run(claim_as(&b)).await.unwrap().outcome, ClaimOutcome::Granted);
    assert_eq!(w.status(&a).await, DeploymentStatus::Failed);
}

#[tokio::test]
async fn renewing_keeps_the_service() {
    let w = world(&["web"]).await;
    let a = w.push(1).await.remove(0);
    assert_eq!(w.claim(&a).await, ClaimOutcome::Granted);
    let b = w.push(2).await.remove(0);
    for _ in 0..5 {
        w.clock.advance(w.settings.poll_interval);
        assert!(w.locks.renew("demo/web", &a, w.clock_now() + w.settings.lease()).await.unwrap());
        assert_eq!(w.claim(&b).await, ClaimOutcome::Queued);
    }
}

#[tokio::test]
async fn different_services_proceed_in_parallel() {
    let w = world(&["web", "api"]).await;
    let ids = w.push(1).await;
    assert_eq!(ids.len(), 2);
    for id in &ids {
        assert_eq!(w.claim(id).await, ClaimOutcome::Granted, "no global lock");
    }
}

#[tokio::test]
async fn semver_rules_order_by_version_not_by_arrival() {
    let w = world(&[]).await;
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "web".into(),
            cluster: "demo".into(),
            service: "web".into(),
            tag_rule: TagRule::Semver { requirement: None },
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval: None,
        })
        .await
        .unwrap();
    let push = |tag: &str, n: u8| ImagePush {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        repository: "web".into(),
        digest: digest(n),
        tag: Some(tag.into()),
        claimed_at: None,
        manifest_media_type: None,
        artifact_media_type: None,
    };
    w.images.push("web", "1.10.0", &digest(1), w.clock_now());
    w.images.push("web", "1.9.0", &digest(2), w.clock_now() + Duration::seconds(1));
    let newer = w.on_image_push().run(EcrEvent::Push(push("1.10.0", 1))).await.unwrap();
    w.clock.advance(Duration::seconds(1));
    let older = w.on_image_push().run(EcrEvent::Push(push("1.9.0", 2))).await.unwrap();
    let (newer, older) = (newer.started[0].clone(), older.started[0].clone());
    assert_eq!(w.claim(&older).await, ClaimOutcome::Closed, "1.9.0 arrived later but is older");
    assert_eq!(w.claim(&newer).await, ClaimOutcome::Granted);
}
