//! What a person sees: each command's text for records built in memory (as
//! the pipeline writes them, at fixed times), at 80 and at 120 columns, as
//! insta snapshots under `cli/src/snapshots`; and no line wider than asked.

use autodeploy_shared::domain::{
    Approval, ApprovalOutcome, ApprovalPolicy, DecisionOutcome, DecisionSource, Deployment, DeploymentStatus,
    DeploymentStrategy, ImageDigest, LifecycleStage, NewDeployment, OperatorRequest, PausedAt, PushDecision,
    RecordPatch, RequestKind, RolloutProgress, ServiceDeploymentStatus, ServiceRef, TagRule, TargetGroupHealth,
    Transition,
};
use chrono::{DateTime, Utc};

use super::*;

/// Snapshots of one rendering at both widths, each line checked against its width.
fn snapshot(name: &str, render: impl Fn(&Style) -> String) {
    for width in [80, 120] {
        let text = render(&Style::plain(width));
        for line in text.lines() {
            assert!(columns(line) <= width, "{name} at {width}: {} columns: {line:?}", columns(line));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("{name}_{width}"), text));
    }
}

/// 2026-12-01 10:00:00 UTC plus `seconds`.
pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    let t0 = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").map(|t| t.with_timezone(&Utc));
    t0.unwrap_or_default() + chrono::Duration::seconds(seconds)
}

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

fn digest(byte: &str) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", byte.repeat(32))).unwrap()
}

fn task_definition(family: &str, revision: u32) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{revision}")
}

fn group(name: &str, healthy: i32, desired: i32) -> TargetGroupHealth {
    TargetGroupHealth {
        target_group_arn: format!(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{name}/6d0ecf831eec9f09"
        ),
        desired_count: desired,
        healthy_count: healthy,
        targets: Vec::new(),
    }
}

/// A push of `repository[:tag]` to `demo/service` at `seconds`, as the trigger records it.
fn pushed(service: &str, repository: &str, tag: Option<&str>, byte: &str, seconds: i64) -> Deployment {
    let service = ServiceRef::new("demo", service).unwrap();
    let rule = TagRule::Glob { pattern: "*".into() };
    Deployment::new(
        NewDeployment {
            service: &service,
            repository,
            registry: REGISTRY,
            digest: &digest(byte),
            tag,
            target_id: "demo-web",
            tag_rule: &rule,
            containers: &["app".to_owned()],
            alarms: &[],
            approval: None,
            found_by: DecisionSource::Event,
            pushed_at: None,
            image_pushed_at: None,
            note: None,
        },
        at(seconds),
    )
}

fn go(d: &mut Deployment, to: DeploymentStatus, seconds: i64, detail: &str, patch: RecordPatch) {
    d.apply(&Transition { to, at: at(seconds), detail: detail.to_owned(), patch });
}

fn started(d: &mut Deployment, seconds: i64, family: &str, from: u32) {
    let (old, new) = (task_definition(family, from), task_definition(family, from + 1));
    let ecs = "ecs-svc/8395934399520542203";
    go(d, DeploymentStatus::Registering, seconds, &format!("reading demo/{family}"), RecordPatch::default());
    go(
        d,
        DeploymentStatus::Updating,
        seconds + 1,
        &format!("registered {family}:{} from {family}:{from} (containers: app)", from + 1),
        RecordPatch { previous_task_definition: Some(old), new_task_definition: Some(new), ..Default::default() },
    );
    go(
        d,
        DeploymentStatus::Waiting,
        seconds + 2,
        &format!("service updated to {family}:{}; ECS deployment {ecs}", from + 1),
        RecordPatch {
            ecs_deployment_id: Some(ecs.into()),
            strategy: Some(DeploymentStrategy::Rolling),
            ..Default::default()
        },
    );
}

/// Approved by a person, rolled out, healthy.
fn succeeded() -> Deployment {
    let mut d = pushed("web", "web", Some("v2"), "b2", 0);
    let policy = ApprovalPolicy { timeout_minutes: 60, on_timeout: Default::default() };
    let mut approval = Approval::pipeline(&policy, None, at(1));
    go(
        &mut d,
        DeploymentStatus::AwaitingApproval,
        1,
        "waiting for approval until 2026-12-01T11:00:01.000Z (then REJECTED)",
        RecordPatch { approval: Some(approval.clone()), ..Default::default() },
    );
    approval.outcome = Some(ApprovalOutcome::Approved);
    approval.decided_by = Some(ALICE.into());
    approval.decided_at = Some(at(95));
    approval.reason = Some("looks good, the release notes are in the change ticket".into());
    d.approval = Some(approval);
    started(&mut d, 96, "web", 7);
    go(
        &mut d,
        DeploymentStatus::Succeeded,
        281,
        "ECS deployment ecs-svc/8395934399520542203 completed: 4 tasks running, every target group healthy",
        RecordPatch { target_health: Some(vec![group("web", 4, 4)]), ..Default::default() },
    );
    d
}

/// A linear rollout shifting production traffic, one target group still filling.
fn shifting(seconds: i64) -> Deployment {
    let mut d = pushed("payments", "platform/payments-gateway", Some("release-2026.12.01-build.4711"), "c3", 0);
    started(&mut d, 2, "payments", 41);
    d.strategy = Some(DeploymentStrategy::Linear);
    d.target_health = vec![group("payments-blue", 4, 4), group("payments-green", 1, 4)];
    d.progress = Some(RolloutProgress {
        service_deployment_arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/payments/Ab1Cd2Ef3".into(),
        status: ServiceDeploymentStatus::InProgress,
        lifecycle_stage: Some(LifecycleStage::ProductionTrafficShift),
        production_traffic_weight: Some(10.0),
        test_traffic_weight: None,
        bake_time_minutes: None,
        updated_at: Some(at(seconds)),
        paused: None,
        hooks: Vec::new(),
    });
    let line = d.progress.as_ref().map(RolloutProgress::line).unwrap_or_default();
    go(&mut d, DeploymentStatus::Waiting, seconds, &line, RecordPatch::default());
    d
}

/// Unhealthy, rolled back by ECS's circuit breaker.
fn rolled_back() -> Deployment {
    let mut d = pushed("web", "web", Some("v3"), "88", -3600);
    started(&mut d, -3599, "web", 6);
    let why = "ECS deployment ecs-svc/6662793485141252986 failed: ECS deployment circuit breaker: task failed ELB \
               health checks.";
    go(
        &mut d,
        DeploymentStatus::RollingBack,
        -3555,
        &format!("ECS is rolling back to web:6 (ECS deployment ecs-svc/4064611397588629617): {why}"),
        RecordPatch {
            failure_reason: Some(why.into()),
            target_health: Some(vec![group("web", 0, 4)]),
            ..Default::default()
        },
    );
    go(
        &mut d,
        DeploymentStatus::RolledBack,
        -3500,
        &format!(
            "rolled back ({why}); ECS rollback deployment ecs-svc/4064611397588629617 completed: 4 tasks running, \
             every target group healthy"
        ),
        RecordPatch { target_health: Some(vec![group("web", 4, 4)]), ..Default::default() },
    );
    d
}

/// A push without a tag, held for approval (the next day: the history spans two).
fn awaiting() -> Deployment {
    let mut d = pushed("web", "web", None, "9f", 86_400 + 600);
    let policy = ApprovalPolicy { timeout_minutes: 120, on_timeout: Default::default() };
    go(
        &mut d,
        DeploymentStatus::AwaitingApproval,
        86_400 + 601,
        "waiting for approval until 2026-12-02T12:10:01.000Z (then REJECTED)",
        RecordPatch { approval: Some(Approval::pipeline(&policy, None, at(86_400 + 601))), ..Default::default() },
    );
    d
}

/// Replaced while it waited for the service.
fn superseded() -> Deployment {
    let mut d = pushed("web", "web", Some("v5"), "1e", 7200);
    let by = pushed("web", "web", Some("v6"), "f1", 7250).deployment_id;
    go(&mut d, DeploymentStatus::Queued, 7201, "queued behind d-276f9e7bf052564573a75b76", RecordPatch::default());
    go(
        &mut d,
        DeploymentStatus::Superseded,
        7260,
        &format!("superseded by {by} (web:v6), which is waiting"),
        RecordPatch { superseded_by: Some(by), ..Default::default() },
    );
    d
}

/// A person's request for `demo/web`, as the operator entry point records it.
fn requested(kind: RequestKind, tag: &str, byte: &str, seconds: i64, revision: Option<u32>) -> Deployment {
    let service = ServiceRef::new("demo", "web").unwrap();
    let rule = TagRule::Glob { pattern: "*".into() };
    let request = OperatorRequest {
        kind,
        by: ALICE.into(),
        token: format!("render-test-token-{seconds}"),
        reason: Some("v3 answers slowly since 10:40; back to the last good one".into()),
        force: false,
        task_definition: revision.map(|r| task_definition("web", r)),
        rollback_to: revision.map(|_| pushed("web", "web", Some("v1"), "a1", 0).deployment_id),
    };
    let new = NewDeployment {
        service: &service,
        repository: "web",
        registry: REGISTRY,
        digest: &digest(byte),
        tag: Some(tag),
        target_id: "demo-web",
        tag_rule: &rule,
        containers: &["app".to_owned()],
        alarms: &[],
        approval: None,
        found_by: DecisionSource::Event,
        pushed_at: None,
        image_pushed_at: None,
        note: None,
    };
    Deployment::requested(new, request, at(seconds))
}

/// A rollback to web:2 that ran: nothing registered, the service pointed at it again.
fn rolled_back_by_hand() -> Deployment {
    let mut d = requested(RequestKind::Rollback, "v1", "a1", 9000, Some(2));
    go(&mut d, DeploymentStatus::Registering, 9001, "reading demo/web", RecordPatch::default());
    go(
        &mut d,
        DeploymentStatus::Updating,
        9002,
        "running web:2 again in place of web:4",
        RecordPatch {
            previous_task_definition: Some(task_definition("web", 4)),
            new_task_definition: Some(task_definition("web", 2)),
            ..Default::default()
        },
    );
    d
}

/// A push that waits while the service is frozen.
fn held() -> Deployment {
    let mut d = pushed("web", "web", Some("v7"), "c7", 9100);
    let line = "held: demo/web is frozen since 2026-12-01T12:30:00.000Z by arn:aws:iam::123456789012:user/alice: \
                incident 42: payments are down";
    go(&mut d, DeploymentStatus::Held, 9101, line, RecordPatch::default());
    d
}

#[test]
fn what_a_person_asked_for_says_who_and_why() {
    snapshot("show_rollback_by_hand", |style| super::show(&rolled_back_by_hand(), style));
    snapshot("show_held", |style| super::show(&held(), style));
    let rows = vec![held(), rolled_back_by_hand(), requested(RequestKind::Deploy, "v3-hotfix", "d3", 8000, None)];
    snapshot("history_by_hand", |style| super::history("demo/web", &rows, style));
    let text = super::history("demo/web", &rows, &Style::plain(120));
    assert!(text.contains("web:v1 (rollback by alice)") && text.contains("web:v3-hotfix (deploy by alice)"), "{text}");
}

/// A service's history, newest first.
pub(crate) fn records() -> Vec<Deployment> {
    vec![awaiting(), superseded(), succeeded(), rolled_back()]
}

/// The same deployment read three times while `watch` follows it, with
/// the time of each read.
pub(crate) fn record_waiting() -> Vec<(Deployment, DateTime<Utc>)> {
    let early = {
        let mut d = pushed("payments", "platform/payments-gateway", Some("release-2026.12.01-build.4711"), "c3", 0);
        started(&mut d, 2, "payments", 41);
        d
    };
    let mut done = shifting(130);
    go(
        &mut done,
        DeploymentStatus::Succeeded,
        400,
        "ECS service deployment Ab1Cd2Ef3 SUCCESSFUL: production traffic 100 % on the new revision",
        RecordPatch { target_health: Some(vec![group("payments-green", 4, 4)]), ..Default::default() },
    );
    vec![(early, at(9)), (shifting(130), at(131)), (done, at(402))]
}

#[test]
fn history() {
    snapshot("history", |style| super::history("demo/web", &records(), style));
    snapshot("history_empty", |style| super::history("demo/web", &[], style));
}

#[test]
fn history_puts_images_below_when_the_other_columns_leave_them_no_room() {
    let text = super::history("demo/web", &records(), &Style::plain(70));
    assert!(text.lines().all(|l| columns(l) <= 70), "{text}");
    assert!(text.lines().any(|l| l == "    web:v5"), "{text}");
}

#[test]
fn history_keeps_its_image_column_unlimited_for_logs() {
    let text = super::history("demo/web", &records(), &Style { width: None, color: false });
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("DEPLOYMENT") && lines[0].ends_with("IMAGE"), "{text}");
    assert!(lines[1].ends_with(&digest("9f").to_string()), "whole: {text}");
    assert!(lines[3].contains("2026-12-01 10:00:00") && lines[3].contains("4 min 41 s"), "{text}");
}

#[test]
fn history_colours_statuses_without_moving_columns() {
    let coloured = super::history("demo/web", &records(), &Style { width: Some(80), color: true });
    let plain = super::history("demo/web", &records(), &Style::plain(80));
    let stripped = coloured.replace("\u{1b}[0m", "").replace("\u{1b}[35m", "").replace("\u{1b}[32m", "");
    let stripped = stripped.replace("\u{1b}[33m", "");
    assert_eq!(stripped, plain);
}

#[test]
fn show() {
    snapshot("show_succeeded", |style| super::show(&succeeded(), style));
    snapshot("show_rolled_back", |style| super::show(&rolled_back(), style));
    snapshot("show_shifting", |style| super::show(&shifting(130), style));
    snapshot("show_awaiting", |style| super::show(&awaiting(), style));
    snapshot("show_superseded", |style| super::show(&superseded(), style));
}

#[test]
fn show_keeps_what_scripts_grep_for() {
    let text = super::show(&awaiting(), &Style { width: None, color: false });
    assert!(text.starts_with(&format!("{}  AWAITING_APPROVAL", awaiting().deployment_id)), "{text}");
    assert!(text.contains("approval  waiting since"), "{text}");
}

fn decisions() -> Vec<(PushDecision, Option<DeploymentStatus>)> {
    let v3 = rolled_back();
    let push = ("web", &v3.digest, Some("v3"));
    let mut started = PushDecision::new(
        push,
        Some("demo-web"),
        DecisionOutcome::Started,
        "the tag matches {\"type\":\"glob\",\"pattern\":\"v*\"}",
        DecisionSource::Event,
        at(-3600),
    );
    started.deployment_id = Some(v3.deployment_id.clone());
    let duplicate = PushDecision::new(
        push,
        Some("demo-web"),
        DecisionOutcome::Duplicate,
        format!("deployment {} exists already (found by the event): nothing new started", v3.deployment_id),
        DecisionSource::Reconciler,
        at(-3300),
    );
    let refused = PushDecision::new(
        push,
        Some("demo-api"),
        DecisionOutcome::Refused,
        "the tag v3 does not match the target's rule {\"type\":\"semver\",\"requirement\":\">=4\"}",
        DecisionSource::Event,
        at(-3600),
    );
    vec![(duplicate, None), (started, Some(v3.status)), (refused, None)]
}

#[test]
fn why() {
    snapshot("why", |style| super::why("web:v3", &decisions(), style));
    snapshot("why_nothing", |style| super::why("web:never-pushed", &[], style));
}

#[test]
fn why_keeps_what_scripts_grep_for() {
    let text = super::why("web:v3", &decisions(), &Style { width: None, color: false });
    let id = rolled_back().deployment_id;
    assert!(text.contains("web:v3 → demo-web: STARTED (event)"), "{text}");
    assert!(text.contains(&format!("deployment {id} is ROLLED_BACK")), "{text}");
}

/// What `watch` writes over a follow, as the screen ends up showing it (a
/// terminal's redrawn status line erased before each redraw).
fn watched(style: &Style, tty: bool) -> String {
    let mut screen = Screen::new(*style, tty);
    let mut text = String::new();
    for (d, now) in record_waiting() {
        text.push_str(&screen.update(&d, now));
    }
    text.push_str(&screen.finish());
    // What stays on the screen: every erase removes the status line before it.
    let mut shown = String::new();
    for part in text.split("\r\u{1b}[2K") {
        if let Some(end) = shown.rfind('\n') {
            shown.truncate(end + 1);
        } else {
            shown.clear();
        }
        shown.push_str(part);
    }
    if tty { shown } else { text }
}

#[test]
fn watch() {
    snapshot("watch_log", |style| watched(style, false));
    snapshot("watch_terminal", |style| watched(style, true));
    snapshot("watch_status_lines", |style| {
        record_waiting().iter().map(|(d, now)| status_line(d, *now, style) + "\n").collect()
    });
}

#[test]
fn a_service_with_nothing_in_flight_says_where_its_latest_stands() {
    snapshot("nothing_in_flight", |style| {
        nothing_in_flight("demo/web", Some(&succeeded()), style) + &nothing_in_flight("demo/api", None, style)
    });
}

#[test]
fn status_lines_fit_even_narrow_terminals() {
    for width in [20, 40, 60] {
        let (d, now) = &record_waiting()[1];
        let line = status_line(d, *now, &Style::plain(width));
        assert!(columns(&line) <= width, "{width}: {line}");
    }
    let paused = {
        let mut d = shifting(130);
        if let Some(p) = d.progress.as_mut() {
            p.paused = Some(PausedAt {
                hook_id: "approve-prod".into(),
                lifecycle_stage: Some(LifecycleStage::PostTestTrafficShift),
                expires_at: None,
                timeout_action: None,
            });
        }
        d
    };
    let line = status_line(&paused, at(200), &Style { width: None, color: false });
    assert_eq!(
        line,
        "WAITING  3m20s  PRODUCTION_TRAFFIC_SHIFT  paused at hook approve-prod  traffic 10 %  payments-blue 4/4, \
         payments-green 1/4 healthy"
    );
}

#[test]
fn a_log_gets_each_entry_once_and_no_escape_codes() {
    let steps = record_waiting();
    let mut screen = Screen::new(Style { width: None, color: false }, false);
    let text: String = steps.iter().map(|(d, now)| screen.update(d, *now)).collect();
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    assert_eq!(text.lines().count(), steps.last().unwrap().0.timeline.len(), "{text}");
    assert_eq!(screen.finish(), "");
}

#[test]
fn a_terminal_gets_its_status_line_redrawn_then_kept() {
    let steps = record_waiting();
    let mut screen = Screen::new(Style::plain(80), true);
    let first = screen.update(&steps[0].0, steps[0].1);
    assert!(!first.starts_with(ERASE) && !first.ends_with('\n'), "{first:?}");
    let again = screen.update(&steps[0].0, at(400));
    assert!(again.starts_with(ERASE) && !again.contains('\n'), "only the status line is redrawn: {again:?}");
    assert_eq!(screen.finish(), "\n");
    assert_eq!(screen.finish(), "", "once");
}

#[test]
fn what_the_operator_commands_answer() {
    let freeze =
        Freeze::new("incident 42: checkout errors since the 10:40 release, see #inc-42", ALICE, at(9000)).unwrap();
    snapshot("frozen", |style| frozen("demo/web", &freeze, false, style));
    snapshot("unfrozen", |style| unfrozen("demo/web", Some(&freeze), Some("d-9fcb672c956e9a47403d2f0a"), style));
    snapshot("requested_rollback", |style| super::requested(&rolled_back_by_hand(), true, style));
    let text = unfrozen("demo/web", None, None, &Style::plain(80));
    assert_eq!(text, "demo/web was not frozen\n");
}
