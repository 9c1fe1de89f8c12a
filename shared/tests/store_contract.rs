//! One contract, two implementations: the DynamoDB adapter (against moto's
//! DynamoDB, which evaluates the real condition expressions) and the in-memory
//! twin must behave the same.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use autodeploy_shared::aws::{DynamoDecisions, DynamoDeployments, DynamoLocks, DynamoTargets};
use autodeploy_shared::domain::{
    DecisionOutcome, DecisionSource, DeployTarget, Deployment, DeploymentId, DeploymentStatus, Freeze, ImageDigest,
    NewDeployment, Outcome, Phase, PushDecision, RecordPatch, RolloutProgress, ServiceRef, TagRule, TargetGroupHealth,
    Transition, Verdict, Watch, aws_state,
};
use autodeploy_shared::memory::{MemoryDecisions, MemoryLocks, MemoryStore, MemoryTargets};
use autodeploy_shared::ports::{
    CheckLease, Claim, CreateOutcome, DeployTargets, DeploymentStore,
    FreezeRule::{Pass, Respect},
    PushDecisions, ServiceLocks, Serving, TransitionOutcome,
};
use chrono::{DateTime, Duration, Utc};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T12:00:00.000Z").unwrap().with_timezone(&Utc)
}

fn record(service: &str, n: u8, at: DateTime<Utc>) -> Deployment {
    let svc = ServiceRef::new("demo", service).unwrap();
    let digest = ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap();
    Deployment::new(
        NewDeployment {
            service: &svc,
            repository: "web",
            registry: "1.dkr.ecr.us-east-1.amazonaws.com",
            digest: &digest,
            tag: Some("v1"),
            target_id: "prod",
            tag_rule: &TagRule::Glob { pattern: "v*".into() },
            containers: &["app".to_owned()],
            alarms: &[],
            approval: None,
            found_by: Default::default(),
            pushed_at: Some(at),
            image_pushed_at: None,
            note: None,
        },
        at,
    )
}

fn step(to: DeploymentStatus, minutes: i64, patch: RecordPatch) -> Transition {
    Transition { to, at: t0() + Duration::minutes(minutes), detail: format!("to {to}"), patch }
}

const WEB: &str = "arn:aws:ecs:us-east-1:1:service/demo/web";

fn watch(ecs: &str) -> Watch {
    Watch {
        phase: Phase::Rollout,
        ecs_deployment_id: ecs.into(),
        service_arn: WEB.into(),
        target_group_arns: vec!["arn:tg".into()],
        deadline: t0() + Duration::minutes(30),
        started_at: None,
        task_token: None,
        verdict: None,
        service_deployment_arn: None,
        in_place_rollback: false,
        progress: None,
        progress_at: None,
        checking_until: None,
        recheck: false,
        delivered: false,
    }
}

fn progress(stage: &str, weight: f64) -> RolloutProgress {
    RolloutProgress {
        service_deployment_arn: "arn:aws:ecs:us-east-1:1:service-deployment/demo/web/sd2".into(),
        status: aws_state("IN_PROGRESS"),
        lifecycle_stage: Some(aws_state(stage)),
        production_traffic_weight: Some(weight),
        test_traffic_weight: None,
        bake_time_minutes: None,
        updated_at: None,
        paused: None,
        hooks: Vec::new(),
    }
}

fn verdict(ecs: &str, outcome: Outcome) -> Verdict {
    Verdict {
        outcome,
        phase: Phase::Rollout,
        ecs_deployment_id: ecs.into(),
        reason: format!("{outcome:?}"),
        target_health: vec![TargetGroupHealth {
            target_group_arn: "arn:tg".into(),
            desired_count: 2,
            healthy_count: 2,
            targets: vec![],
        }],
        observed_at: t0(),
        progress: None,
        ecs_finished_at: Some(t0() - Duration::milliseconds(400)),
    }
}

async fn contract(store: &impl DeploymentStore) {
    use DeploymentStatus::*;
    let d = record("web", 1, t0());
    let id = d.deployment_id.clone();

    // create: at most once, the second call sees the first record.
    assert_eq!(store.create(&d).await.unwrap(), CreateOutcome::Created);
    match store.create(&record("web", 1, t0() + Duration::minutes(5))).await.unwrap() {
        CreateOutcome::Exists(existing) => assert_eq!(*existing, d),
        other => panic!("expected Exists, got {other:?}"),
    }
    assert_eq!(store.get(&id).await.unwrap().unwrap(), d);

    // transitions move forward only, with timeline and patch in one write.
    store.transition(&id, &step(Registering, 1, RecordPatch::default())).await.unwrap();
    let moved = store
        .transition(
            &id,
            &step(
                Updating,
                2,
                RecordPatch {
                    previous_task_definition: Some("td:1".into()),
                    new_task_definition: Some("td:2".into()),
                    ..Default::default()
                },
            ),
        )
        .await
        .unwrap();
    let TransitionOutcome::Moved(r) = moved else { panic!("expected Moved") };
    assert_eq!(
        (r.status, r.previous_task_definition.as_deref(), r.new_task_definition.as_deref()),
        (Updating, Some("td:1"), Some("td:2"))
    );
    assert_eq!(r.timeline.iter().map(|e| e.state).collect::<Vec<_>>(), [Pending, Registering, Updating]);
    assert_eq!(r.updated_at, t0() + Duration::minutes(2));

    let again = store.transition(&id, &step(Updating, 3, RecordPatch::default())).await.unwrap();
    assert!(matches!(again, TransitionOutcome::AlreadyThere(ref r) if r.timeline.len() == 3), "{again:?}");
    let err = store.transition(&id, &step(Registering, 3, RecordPatch::default())).await.unwrap_err();
    assert_eq!(err.error_type(), "StaleTransition");
    assert!(err.to_string().contains("is UPDATING"), "{err}");

    // a watch makes the record an active watch.
    assert!(store.active_watches().await.unwrap().is_empty());
    store
        .transition(
            &id,
            &step(
                Waiting,
                4,
                RecordPatch {
                    ecs_deployment_id: Some("ecs-svc/2".into()),
                    watch: Some(Some(watch("ecs-svc/2"))),
                    ..Default::default()
                },
            ),
        )
        .await
        .unwrap();
    let active = store.active_watches().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].watch.as_ref().unwrap().ecs_deployment_id, "ecs-svc/2");
    // ... and a watch of its service: only that service's.
    assert_eq!(store.watches_of_service(WEB).await.unwrap(), vec![id.clone()]);
    assert!(store.watches_of_service("arn:aws:ecs:us-east-1:1:service/demo/api").await.unwrap().is_empty());
    assert!(store.watches_of_service("").await.unwrap().is_empty());

    check_lease_contract(store, &id).await;

    // progress: one entry per change, in the record's status, only on the live watch.
    let at = t0() + Duration::minutes(4);
    let shift = progress("PRODUCTION_TRAFFIC_SHIFT", 10.0);
    let after = store.record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/2", &shift, at).await.unwrap().unwrap();
    assert_eq!(after.timeline.last().unwrap().detail, shift.line());
    assert_eq!(after.timeline.last().unwrap().state, Waiting);
    assert_eq!(after.progress.as_ref(), Some(&shift));
    let w = after.watch.as_ref().unwrap();
    assert_eq!(w.progress.as_deref(), Some(shift.key().as_str()));
    assert_eq!(w.service_deployment_arn.as_deref(), Some(shift.service_deployment_arn.as_str()));
    let entries = after.timeline.len();
    assert!(store.record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/2", &shift, at).await.unwrap().is_none());
    assert!(
        store
            .record_progress(&id, RollingBack, Phase::Rollout, "ecs-svc/2", &progress("BAKE_TIME", 100.0), at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/9", &progress("BAKE_TIME", 100.0), at)
            .await
            .unwrap()
            .is_none()
    );
    let bake = store
        .record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/2", &progress("BAKE_TIME", 100.0), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bake.timeline.len(), entries + 1);
    // Sightings carry ECS's updatedAt: a look that read ECS earlier but writes
    // later does not move the timeline back.
    let seen = |stage: &str, weight: f64, minute: i64| RolloutProgress {
        updated_at: Some(t0() + Duration::minutes(minute)),
        ..progress(stage, weight)
    };
    let newer = seen("CLEAN_UP", 100.0, 10);
    assert!(store.record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/2", &newer, at).await.unwrap().is_some());
    let older = seen("PRODUCTION_TRAFFIC_SHIFT", 50.0, 9);
    assert!(store.record_progress(&id, Waiting, Phase::Rollout, "ecs-svc/2", &older, at).await.unwrap().is_none());
    let d = store.get(&id).await.unwrap().unwrap();
    assert_eq!(d.progress.as_ref(), Some(&newer));
    assert_eq!(d.timeline.len(), entries + 2);

    // a note: one more timeline entry in the record's status, none once it moved on.
    let noted = store.note(&id, Waiting, at, "hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED").await.unwrap().unwrap();
    assert_eq!(noted.timeline.last().unwrap().detail, "hook at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED");
    assert_eq!(noted.timeline.last().unwrap().state, Waiting);
    assert!(store.note(&id, RollingBack, at, "late").await.unwrap().is_none());

    // token, then verdict: the verdict write returns the token.
    let err = store.store_task_token(&id, Phase::Rollout, "ecs-svc/9", "tok").await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    let err = store.store_task_token(&id, Phase::Rollback, "ecs-svc/2", "tok").await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    store.store_task_token(&id, Phase::Rollout, "ecs-svc/2", "tok-1").await.unwrap();
    let after = store.record_verdict(&id, &verdict("ecs-svc/2", Outcome::Succeeded)).await.unwrap().unwrap();
    let w = after.watch.unwrap();
    assert_eq!(w.task_token.as_deref(), Some("tok-1"));
    assert_eq!(w.verdict.as_ref().unwrap(), &verdict("ecs-svc/2", Outcome::Succeeded), "kept whole, ECS's end too");
    // the first verdict stands; a later token write learns it is ready.
    let later = store.record_verdict(&id, &verdict("ecs-svc/2", Outcome::Failed)).await.unwrap().unwrap();
    assert_eq!(later.watch.unwrap().verdict.unwrap().outcome, Outcome::Succeeded);
    let err = store.store_task_token(&id, Phase::Rollout, "ecs-svc/2", "tok-2").await.unwrap_err();
    assert_eq!(err.error_type(), "VerdictReady");
    // a verdict the run has not got yet is looked into; once delivered, never again.
    let now = t0() + Duration::minutes(5);
    let CheckLease::Taken(_) = store.begin_check(&id, now, now + lease()).await.unwrap() else {
        panic!("a verdict not delivered yet")
    };
    assert!(!store.end_check(&id, now + lease(), true).await.unwrap());
    assert!(store.get(&id).await.unwrap().unwrap().watch.unwrap().delivered);
    match store.begin_check(&id, now, now + lease()).await.unwrap() {
        CheckLease::Refused(Some(d)) => assert!(d.watch.unwrap().is_settled()),
        other => panic!("a settled watch is not looked into again: {other:?}"),
    }
    assert!(store.record_verdict(&id, &verdict("ecs-svc/7", Outcome::Failed)).await.unwrap().is_none());

    // terminal: the watch goes, the index forgets it, the health snapshot stays.
    let health = verdict("ecs-svc/2", Outcome::Succeeded).target_health;
    store
        .transition(
            &id,
            &step(
                Succeeded,
                5,
                RecordPatch { target_health: Some(health.clone()), watch: Some(None), ..Default::default() },
            ),
        )
        .await
        .unwrap();
    assert!(store.active_watches().await.unwrap().is_empty());
    assert!(store.watches_of_service(WEB).await.unwrap().is_empty());
    assert!(matches!(store.begin_check(&id, t0(), t0() + lease()).await.unwrap(), CheckLease::Refused(Some(_))));
    let done = store.get(&id).await.unwrap().unwrap();
    assert_eq!((done.status, done.watch.is_none(), done.target_health), (Succeeded, true, health));
    for to in DeploymentStatus::ALL.into_iter().filter(|s| *s != Succeeded && *s != Pending) {
        assert_eq!(
            store.transition(&id, &step(to, 6, RecordPatch::default())).await.unwrap_err().error_type(),
            "StaleTransition",
            "{to}"
        );
    }

    approvals_contract(store).await;

    // missing records
    let missing = record("nope", 9, t0()).deployment_id;
    assert!(store.get(&missing).await.unwrap().is_none());
    assert_eq!(store.begin_check(&missing, t0(), t0() + lease()).await.unwrap(), CheckLease::Refused(None));
    assert!(!store.ask_recheck(&missing, t0()).await.unwrap());
    assert!(!store.end_check(&missing, t0() + lease(), true).await.unwrap());
    assert!(store.get(&missing).await.unwrap().is_none(), "nothing is created");
    assert_eq!(
        store.transition(&missing, &step(Registering, 1, RecordPatch::default())).await.unwrap_err().error_type(),
        "DeploymentNotFound"
    );

    // history per service, newest first; recent across services.
    for (n, svc) in [(2u8, "web"), (3, "api"), (4, "web")] {
        store.create(&record(svc, n, t0() + Duration::minutes(i64::from(n)))).await.unwrap();
    }
    let web = store.history("demo/web", 10).await.unwrap();
    assert_eq!(web.len(), 3);
    assert!(web.windows(2).all(|p| p[0].created_at >= p[1].created_at), "newest first");
    assert_eq!(web[0].created_at, t0() + Duration::minutes(4));
    assert_eq!(store.history("demo/web", 2).await.unwrap().len(), 2);
    let recent = store.recent(2).await.unwrap();
    assert_eq!(recent.iter().map(|d| d.service.as_str()).collect::<Vec<_>>(), ["web", "api"]);
}

fn lease() -> Duration {
    Duration::seconds(10)
}

/// One look at a watch at a time: another asks it to look again; a lease that
/// ran out is taken over; only the look that took a lease ends it.
async fn check_lease_contract(store: &impl DeploymentStore, id: &DeploymentId) {
    let now = t0() + Duration::minutes(4);
    let later = now + Duration::seconds(1);
    let until = now + lease();
    let watch_of = |d: Deployment| d.watch.unwrap();
    let CheckLease::Taken(taken) = store.begin_check(id, now, until).await.unwrap() else { panic!("free") };
    assert_eq!(watch_of(taken.clone()).checking_until, Some(until));
    assert_eq!(taken.status, DeploymentStatus::Waiting);
    match store.begin_check(id, later, later + lease()).await.unwrap() {
        CheckLease::Refused(Some(d)) => assert_eq!(watch_of(d).checking_until, Some(until)),
        other => panic!("held: {other:?}"),
    }
    assert!(store.ask_recheck(id, later).await.unwrap());
    assert!(watch_of(store.get(id).await.unwrap().unwrap()).recheck);
    assert!(!store.end_check(id, later + lease(), false).await.unwrap(), "not that lease");
    assert!(watch_of(store.get(id).await.unwrap().unwrap()).is_being_checked(later));
    assert!(store.end_check(id, until, false).await.unwrap(), "a recheck was asked");
    let w = watch_of(store.get(id).await.unwrap().unwrap());
    assert_eq!((w.checking_until, w.recheck, w.delivered), (None, false, false));
    assert!(!store.end_check(id, until, false).await.unwrap(), "ended already");
    assert!(!store.ask_recheck(id, later).await.unwrap(), "no look to ask");
    assert!(!watch_of(store.get(id).await.unwrap().unwrap()).recheck);

    // A look that died: its lease runs out, the next look takes over and
    // answers the recheck asked of the dead one.
    let CheckLease::Taken(_) = store.begin_check(id, now, until).await.unwrap() else { panic!("free") };
    assert!(store.ask_recheck(id, until - Duration::milliseconds(1)).await.unwrap());
    assert!(!store.ask_recheck(id, until).await.unwrap(), "a lease runs until, not at, its end");
    let CheckLease::Taken(next) = store.begin_check(id, until, until + lease()).await.unwrap() else {
        panic!("ran out")
    };
    let w = watch_of(next);
    assert_eq!((w.checking_until, w.recheck), (Some(until + lease()), false));
    assert!(!store.end_check(id, until, true).await.unwrap(), "the dead look's lease is not the one held");
    assert!(!watch_of(store.get(id).await.unwrap().unwrap()).delivered);
    assert!(!store.end_check(id, until + lease(), false).await.unwrap(), "no recheck asked of this look");
    let w = watch_of(store.get(id).await.unwrap().unwrap());
    assert_eq!((w.checking_until, w.recheck, w.delivered), (None, false, false));
}

/// A held record's decision is written once; ECS's pause and its end move the
/// record WAITING → AWAITING_APPROVAL → WAITING, the deadline moved with a
/// watch that is there; hook answers are kept and logged.
async fn approvals_contract(store: &impl DeploymentStore) {
    use DeploymentStatus::*;
    use autodeploy_shared::domain::{
        Approval, ApprovalOutcome, ApprovalPolicy, HookStatus, HookVerdict, PausedAt, aws_state as state,
    };
    // The pipeline's gate: PENDING → AWAITING_APPROVAL; the decision once.
    let held = record("held", 20, t0());
    store.create(&held).await.unwrap();
    let id = held.deployment_id.clone();
    let request = Approval::pipeline(&ApprovalPolicy::default(), None, t0());
    let patch = RecordPatch { approval: Some(request.clone()), ..Default::default() };
    store.transition(&id, &step(AwaitingApproval, 1, patch)).await.unwrap();
    let alice = request.clone().decided(ApprovalOutcome::Approved, Some("arn:aws:iam::1:user/alice"), None, t0());
    let bob = request.clone().decided(ApprovalOutcome::Rejected, Some("arn:aws:iam::1:user/bob"), None, t0());
    assert!(store.record_approval(&id, Queued, &alice).await.unwrap().is_none(), "not in that status");
    let after = store.record_approval(&id, AwaitingApproval, &alice).await.unwrap().unwrap();
    assert_eq!(after.approval.as_ref(), Some(&alice));
    assert!(store.record_approval(&id, AwaitingApproval, &bob).await.unwrap().is_none(), "decided once");
    assert_eq!(store.get(&id).await.unwrap().unwrap().approval, Some(alice));
    // A deadline needs a watch: none here, so the move is refused.
    let no_watch = RecordPatch { watch_deadline: Some(t0()), ..Default::default() };
    assert_eq!(store.transition(&id, &step(Queued, 2, no_watch)).await.unwrap_err().error_type(), "StaleTransition");
    store.transition(&id, &step(Queued, 2, RecordPatch::default())).await.unwrap();

    // ECS's PAUSE hook mid-rollout: WAITING → AWAITING_APPROVAL → WAITING.
    let paused = record("paused", 21, t0());
    store.create(&paused).await.unwrap();
    let id = paused.deployment_id.clone();
    for to in [Registering, Updating] {
        store.transition(&id, &step(to, 1, RecordPatch::default())).await.unwrap();
    }
    let w = watch("ecs-svc/9");
    let deadline = w.deadline;
    store.transition(&id, &step(Waiting, 2, RecordPatch { watch: Some(Some(w)), ..Default::default() })).await.unwrap();
    let at = PausedAt { hook_id: "h".into(), lifecycle_stage: None, expires_at: None, timeout_action: None };
    let patch = RecordPatch { approval: Some(Approval::ecs_pause(&at, None, t0())), ..Default::default() };
    store.transition(&id, &step(AwaitingApproval, 3, patch)).await.unwrap();
    let later = deadline + Duration::hours(2);
    let patch = RecordPatch { watch_deadline: Some(later), ..Default::default() };
    let back = store.transition(&id, &step(Waiting, 4, patch)).await.unwrap().into_record();
    let kept = back.watch.unwrap();
    assert_eq!((kept.deadline, kept.ecs_deployment_id.as_str()), (later, "ecs-svc/9"), "only the deadline moved");

    // Hook answers: the latest on the record, each in the timeline.
    let verdict = HookVerdict {
        lifecycle_stage: state("POST_TEST_TRAFFIC_SHIFT"),
        hook_status: HookStatus::InProgress,
        reason: "soaking".into(),
        at: t0() + Duration::minutes(5),
    };
    assert!(store.record_hook_verdict(&id, RollingBack, &verdict).await.unwrap().is_none());
    let d = store.record_hook_verdict(&id, Waiting, &verdict).await.unwrap().unwrap();
    assert_eq!(d.hook_verdict.as_ref(), Some(&verdict));
    assert_eq!(d.timeline.last().unwrap().detail, "hook at POST_TEST_TRAFFIC_SHIFT: IN_PROGRESS (soaking)");
}

async fn locks_contract(locks: &impl ServiceLocks, store: &impl DeploymentStore) {
    let a = record("locked", 1, t0()).deployment_id;
    let b = record("locked", 2, t0()).deployment_id;
    let at = |s: i64| t0() + Duration::seconds(s);
    assert_eq!(
        locks.acquire("demo/locked", &a, at(0), at(30), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: None }
    );
    assert_eq!(
        locks.acquire("demo/locked", &a, at(1), at(31), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: None },
        "re-entrant"
    );
    assert_eq!(
        locks.acquire("demo/locked", &b, at(2), at(32), Respect).await.unwrap(),
        Claim::Busy { owner: a.clone(), lease_until: at(31) }
    );
    assert!(locks.renew("demo/locked", &a, at(60)).await.unwrap());
    assert!(!locks.renew("demo/locked", &b, at(60)).await.unwrap(), "only the holder renews");
    assert!(matches!(locks.acquire("demo/locked", &b, at(59), at(90), Respect).await.unwrap(), Claim::Busy { .. }));
    // An expired lease is taken over, and the taker learns whose it was.
    assert_eq!(
        locks.acquire("demo/locked", &b, at(61), at(90), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: Some(a.clone()) }
    );
    locks.release("demo/locked", &a, None).await.unwrap();
    assert_eq!(locks.state("demo/locked").await.unwrap().owner.as_ref(), Some(&b), "a non-holder's release is a no-op");
    locks.release("demo/locked", &b, Some(&Serving { deployment_id: b.clone() })).await.unwrap();
    let state = locks.state("demo/locked").await.unwrap();
    assert_eq!((state.owner, state.serving), (None, Some(Serving { deployment_id: b.clone() })));
    assert!(locks.state("demo/other").await.unwrap().owner.is_none());
    assert_eq!(
        locks.acquire("demo/other", &a, at(0), at(30), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: None },
        "per service"
    );

    // A freeze stops new claims, not the holder; a forced claim passes it.
    let f = Freeze::new("incident 7", "arn:aws:iam::123456789012:user/ops", at(100)).unwrap();
    assert_eq!(locks.freeze("demo/other", &f).await.unwrap(), f);
    let later = Freeze::new("another", "arn:aws:iam::123456789012:user/other", at(101)).unwrap();
    assert_eq!(locks.freeze("demo/other", &later).await.unwrap(), f, "a second freeze keeps the first");
    assert_eq!(locks.state("demo/other").await.unwrap().frozen.as_ref(), Some(&f));
    assert_eq!(
        locks.acquire("demo/other", &a, at(102), at(130), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: None },
        "the holder keeps the service it holds"
    );
    assert_eq!(locks.acquire("demo/other", &b, at(140), at(170), Respect).await.unwrap(), Claim::Frozen(f.clone()));
    assert_eq!(
        locks.acquire("demo/other", &b, at(140), at(170), Pass).await.unwrap(),
        Claim::Acquired { previous_owner: Some(a.clone()) },
        "a rollback or a forced deploy passes a freeze"
    );
    locks.release("demo/other", &b, None).await.unwrap();
    assert_eq!(locks.state("demo/other").await.unwrap().frozen.as_ref(), Some(&f), "a release keeps the freeze");
    assert_eq!(locks.acquire("demo/other", &a, at(200), at(230), Respect).await.unwrap(), Claim::Frozen(f.clone()));
    assert_eq!(locks.unfreeze("demo/other").await.unwrap(), Some(f.clone()));
    assert_eq!(locks.unfreeze("demo/other").await.unwrap(), None, "unfreezing twice changes nothing");
    assert_eq!(locks.unfreeze("demo/never").await.unwrap(), None);
    assert!(locks.state("demo/never").await.unwrap().frozen.is_none());
    assert_eq!(
        locks.acquire("demo/other", &a, at(201), at(230), Respect).await.unwrap(),
        Claim::Acquired { previous_owner: None }
    );

    // Queue tokens only while QUEUED.
    let q = record("queued", 3, t0());
    store.create(&q).await.unwrap();
    assert_eq!(
        store.store_queue_token(&q.deployment_id, "tok", DeploymentStatus::Queued).await.unwrap_err().error_type(),
        "VerdictReady"
    );
    store.transition(&q.deployment_id, &step(DeploymentStatus::Queued, 1, RecordPatch::default())).await.unwrap();
    assert_eq!(
        store
            .store_queue_token(&q.deployment_id, "tok", DeploymentStatus::Queued)
            .await
            .unwrap()
            .queue_token
            .as_deref(),
        Some("tok")
    );
    let held = store.store_queue_token(&q.deployment_id, "tok", DeploymentStatus::AwaitingApproval).await;
    assert_eq!(
        held.unwrap_err().error_type(),
        "VerdictReady",
        "a run waiting for approval never parks on a queued record"
    );
    let missing = record("nope", 9, t0()).deployment_id;
    assert_eq!(
        store.store_queue_token(&missing, "tok", DeploymentStatus::Queued).await.unwrap_err().error_type(),
        "DeploymentNotFound"
    );
}

async fn targets_contract(targets: &impl DeployTargets) {
    let t = DeployTarget {
        repository: "web".into(),
        target_id: "prod".into(),
        cluster: "demo".into(),
        service: "web".into(),
        tag_rule: TagRule::Semver { requirement: Some(">=1, <2".into()) },
        containers: vec!["app".into()],
        enabled: true,
        registries: vec![],
        reconcile: true,
        alarms: vec![],
        approval: None,
    };
    targets.put(&t).await.unwrap();
    targets.put(&DeployTarget { repository: "api".into(), ..t.clone() }).await.unwrap();
    assert_eq!(targets.for_repository("web").await.unwrap(), vec![t.clone()]);
    assert!(targets.for_repository("none").await.unwrap().is_empty());
    let bad = DeployTarget { tag_rule: TagRule::Semver { requirement: Some("nonsense".into()) }, ..t.clone() };
    assert_eq!(targets.put(&bad).await.unwrap_err().error_type(), "InvalidInput");

    // create: only where no target has the key; the existing one is kept.
    let canary =
        DeployTarget { target_id: "canary".into(), tag_rule: TagRule::Glob { pattern: "rc-*".into() }, ..t.clone() };
    assert!(targets.create(&canary).await.unwrap());
    let other = DeployTarget { service: "web-canary".into(), ..canary.clone() };
    assert!(!targets.create(&other).await.unwrap(), "a second create is refused");
    assert_eq!(
        targets.create(&DeployTarget { target_id: "x".into(), ..bad }).await.unwrap_err().error_type(),
        "InvalidInput"
    );
    let mut web = targets.for_repository("web").await.unwrap();
    web.sort_by(|a, b| a.target_id.cmp(&b.target_id));
    assert_eq!(web, vec![canary.clone(), t.clone()], "the existing target is kept, nothing else written");

    // set_enabled: that attribute only, on an existing target only.
    let off = targets.set_enabled("web", "canary", false).await.unwrap().expect("exists");
    assert_eq!(off, DeployTarget { enabled: false, ..canary.clone() });
    assert_eq!(targets.set_enabled("web", "canary", true).await.unwrap(), Some(canary.clone()));
    assert_eq!(targets.set_enabled("web", "nope", false).await.unwrap(), None);
    assert_eq!(targets.set_enabled("api", "canary", false).await.unwrap(), None, "keyed by repository too");
    assert_eq!(targets.for_repository("web").await.unwrap().len(), 2, "no row made by a refused update");

    // remove: true once, then false; other repositories' targets stay.
    assert!(targets.remove("web", "canary").await.unwrap());
    assert!(!targets.remove("web", "canary").await.unwrap());
    assert!(!targets.remove("web", "nope").await.unwrap());
    assert_eq!(targets.for_repository("web").await.unwrap(), vec![t.clone()]);
    assert_eq!(targets.for_repository("api").await.unwrap().len(), 1);
    assert!(targets.create(&canary).await.unwrap(), "a removed target can be created again");
}

async fn decisions_contract(decisions: &impl PushDecisions) {
    let d = |n: u8| ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap();
    let decide = |n: u8, tag: &str, target: &str, outcome, at: DateTime<Utc>| {
        PushDecision::new(
            ("web", &d(n), Some(tag)),
            Some(target),
            outcome,
            format!("{outcome} {tag}"),
            DecisionSource::Event,
            at,
        )
    };
    let refused = decide(1, "v1", "prod", DecisionOutcome::Refused, t0());
    decisions.record(&refused).await.unwrap();
    // The same decision again (a retried invocation) rewrites its item.
    decisions.record(&decide(1, "v1", "prod", DecisionOutcome::Refused, t0() + Duration::seconds(1))).await.unwrap();
    let started = decide(2, "v2", "prod", DecisionOutcome::Started, t0() + Duration::seconds(5));
    decisions.record(&started).await.unwrap();
    decisions
        .record(&decide(2, "v2", "canary", DecisionOutcome::Duplicate, t0() + Duration::seconds(6)))
        .await
        .unwrap();
    let other_repo = PushDecision { repository: "api".into(), ..started.clone() };
    decisions.record(&other_repo).await.unwrap();
    let quiet = |at| {
        PushDecision::new(
            ("web", &d(2), Some("v2")),
            Some("prod"),
            DecisionOutcome::NothingNew,
            "nothing new",
            DecisionSource::Reconciler,
            at,
        )
    };
    decisions.record(&quiet(t0() + Duration::minutes(5))).await.unwrap();
    decisions.record(&quiet(t0() + Duration::minutes(10))).await.unwrap();

    let v1 = decisions.find("web", Some("v1"), None, 10).await.unwrap();
    assert_eq!(v1.len(), 1);
    assert_eq!(v1[0].decided_at, t0() + Duration::seconds(1));
    let by_digest = decisions.find("web", None, Some(d(2).as_str()), 10).await.unwrap();
    let outcomes: Vec<_> = by_digest.iter().map(|x| x.outcome).collect();
    assert_eq!(
        outcomes,
        [DecisionOutcome::NothingNew, DecisionOutcome::Duplicate, DecisionOutcome::Started],
        "newest first, one reconciler item per target"
    );
    assert_eq!(by_digest[0].decided_at, t0() + Duration::minutes(10));
    assert_eq!(decisions.find("web", None, None, 2).await.unwrap().len(), 2, "at most `limit`");
    assert_eq!(decisions.find("web", Some("v2"), Some(d(1).as_str()), 10).await.unwrap(), vec![]);
    assert_eq!(decisions.find("nope", None, None, 10).await.unwrap(), vec![]);
}

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    contract(&MemoryStore::default()).await;
    targets_contract(&MemoryTargets::default()).await;
    decisions_contract(&MemoryDecisions::default()).await;
    locks_contract(&MemoryLocks::default(), &MemoryStore::default()).await;
}

#[tokio::test]
async fn dynamodb_adapter_keeps_the_contract() {
    let moto = support::moto();
    let client = support::dynamodb(&moto.endpoint);
    support::create_deployments_table(&client, "deployments").await;
    support::create_targets_table(&client, "targets").await;
    support::create_decisions_table(&client, "decisions").await;
    decisions_contract(&DynamoDecisions::new(client.clone(), "decisions")).await;
    contract(&DynamoDeployments::new(client.clone(), "deployments")).await;
    locks_contract(
        &DynamoLocks::new(client.clone(), "deployments"),
        &DynamoDeployments::new(client.clone(), "deployments"),
    )
    .await;
    targets_contract(&DynamoTargets::new(client, "targets")).await;
}
