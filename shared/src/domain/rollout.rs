//! How a rollout went: the rules that turn what ECS and the load balancer say
//! into a verdict. Success needs *our* ECS deployment COMPLETED and, in every
//! target group of the service, `desiredCount` of *our* tasks `healthy`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    DeploymentStrategy, EcsDeploymentStatus, Phase, RolloutProgress, RolloutState, ServiceStatus, TargetHealthReason,
    TargetHealthState, TaskStatus, Watch,
};

/// One ECS deployment of the service, as DescribeServices reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EcsDeploymentView {
    pub id: String,
    pub status: EcsDeploymentStatus,
    pub task_definition: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub failed_tasks: i32,
    /// Absent for services without rollout tracking.
    pub rollout_state: Option<RolloutState>,
    pub rollout_state_reason: Option<String>,
    /// `updatedAt`: for a COMPLETED or FAILED rollout, when ECS ended it.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The service as DescribeServices reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceSnapshot {
    pub service_arn: String,
    pub status: ServiceStatus,
    pub task_definition: String,
    pub desired_count: i32,
    pub deployments: Vec<EcsDeploymentView>,
    /// Every target group of the service (deduplicated, in order).
    pub target_group_arns: Vec<String>,
    /// The alternate (green) target groups of a blue/green, linear or canary
    /// service (`advancedConfiguration.alternateTargetGroupArn`).
    pub alternate_target_group_arns: Vec<String>,
    /// `deploymentConfiguration.strategy`; absent from older APIs.
    pub strategy: Option<DeploymentStrategy>,
    /// `currentServiceDeployment`: the ARN of ECS's latest service deployment.
    pub current_service_deployment: Option<String>,
    /// The stages at which `deploymentConfiguration.lifecycleHooks` has a
    /// PAUSE hook: ECS itself holds every deployment there for a person.
    pub pause_hook_stages: Vec<super::LifecycleStage>,
}

impl ServiceSnapshot {
    pub fn deployment(&self, id: &str) -> Option<&EcsDeploymentView> {
        self.deployments.iter().find(|d| d.id == id)
    }

    pub fn primary(&self) -> Option<&EcsDeploymentView> {
        self.deployments.iter().find(|d| d.status == EcsDeploymentStatus::Primary)
    }

    /// Every target group the service's tasks may serve from: its own, then
    /// the alternates a traffic shift moves it to.
    pub fn all_target_groups(&self) -> Vec<String> {
        let mut all = self.target_group_arns.clone();
        for tg in &self.alternate_target_group_arns {
            if !all.contains(tg) {
                all.push(tg.clone());
            }
        }
        all
    }

    /// The PRIMARY deployment if it runs `task_definition`: what an
    /// UpdateService to that revision answers with.
    pub fn primary_of(&self, task_definition: &str) -> Option<&EcsDeploymentView> {
        self.primary().filter(|d| d.task_definition == task_definition)
    }
}

/// A task of the service, as DescribeTasks reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskView {
    pub task_arn: String,
    pub started_by: Option<String>,
    pub task_definition_arn: String,
    pub last_status: TaskStatus,
    pub private_ips: Vec<String>,
}

/// One registered target, as DescribeTargetHealth reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetView {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    pub state: TargetHealthState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TargetHealthReason>,
    /// The task behind the target, when it is one of the watched deployment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
}

/// The health of one target group, restricted to what matters for the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupHealth {
    pub target_group_arn: String,
    pub desired_count: i32,
    /// Healthy targets that are tasks of the watched deployment.
    pub healthy_count: i32,
    pub targets: Vec<TargetView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    InProgress,
    Succeeded,
    Failed,
}

/// The decision about one watched ECS deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub outcome: Outcome,
    pub phase: Phase,
    pub ecs_deployment_id: String,
    /// Why it failed, or what it is still waiting for.
    pub reason: String,
    #[serde(default)]
    pub target_health: Vec<TargetGroupHealth>,
    #[serde(with = "super::iso")]
    pub observed_at: DateTime<Utc>,
    /// Where ECS's service deployment stood, when it keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RolloutProgress>,
    /// For a final verdict, when ECS itself had ended the rollout (its
    /// `updatedAt`): how long the verdict took to see it is `observed_at`
    /// minus this.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub ecs_finished_at: Option<DateTime<Utc>>,
}

impl Verdict {
    pub fn is_final(&self) -> bool {
        self.outcome != Outcome::InProgress
    }

    pub fn failed(watch: &Watch, reason: String, now: DateTime<Utc>) -> Self {
        Self {
            outcome: Outcome::Failed,
            phase: watch.phase,
            ecs_deployment_id: watch.ecs_deployment_id.clone(),
            reason,
            target_health: Vec::new(),
            observed_at: now,
            progress: None,
            ecs_finished_at: None,
        }
    }
}

/// Decides how the watched deployment stands.
///
/// `tasks` are the service's tasks (any deployment); `health` is each target
/// group of the service with its registered targets.
pub fn evaluate(
    watch: &Watch,
    service: &ServiceSnapshot,
    tasks: &[TaskView],
    health: &[(String, Vec<TargetView>)],
    now: DateTime<Utc>,
) -> Verdict {
    let id = &watch.ecs_deployment_id;
    // When ECS ended our deployment's rollout, either way.
    let finished = service
        .deployment(id)
        .filter(|d| matches!(d.rollout_state, Some(RolloutState::Completed | RolloutState::Failed)))
        .and_then(|d| d.updated_at);
    let verdict = |outcome, reason: String, target_health| Verdict {
        outcome,
        phase: watch.phase,
        ecs_deployment_id: id.clone(),
        reason,
        target_health,
        observed_at: now,
        progress: None,
        ecs_finished_at: if outcome == Outcome::InProgress { None } else { finished },
    };
    let what = match watch.phase {
        Phase::Rollout => "deployment",
        Phase::Rollback => "rollback deployment",
    };

    if service.status != ServiceStatus::Active {
        return verdict(Outcome::Failed, format!("service is {}", service.status), Vec::new());
    }
    let primary = || {
        service.primary().map_or_else(|| "no deployment".to_owned(), |p| format!("{} ({})", p.id, p.task_definition))
    };
    let Some(ours) = service.deployment(id) else {
        let reason = format!("ECS {what} {id} is no longer on the service; PRIMARY is {}", primary());
        return verdict(Outcome::Failed, reason, Vec::new());
    };
    if ours.rollout_state == Some(RolloutState::Failed) {
        let why = ours.rollout_state_reason.clone().unwrap_or_else(|| "rollout failed".into());
        return verdict(Outcome::Failed, format!("ECS {what} {id} failed: {why}"), Vec::new());
    }
    if ours.status != EcsDeploymentStatus::Primary {
        let reason = format!("ECS {what} {id} is no longer PRIMARY: replaced by {}", primary());
        return verdict(Outcome::Failed, reason, Vec::new());
    }

    let target_health = target_group_health(ours, tasks, health);
    let ecs_done = match &ours.rollout_state {
        Some(state) => *state == RolloutState::Completed,
        // Without rollout tracking: done when ours is the only deployment and full.
        None => service.deployments.len() == 1 && ours.running_count >= ours.desired_count,
    };
    let unhealthy = unhealthy_groups(&target_health);

    if ecs_done && unhealthy.is_empty() {
        let reason =
            format!("ECS {what} {id} completed: {} tasks running, every target group healthy", ours.running_count);
        return verdict(Outcome::Succeeded, reason, target_health);
    }
    let progress = format!(
        "{}/{} tasks running, {} pending, {} failed{}",
        ours.running_count,
        ours.desired_count,
        ours.pending_count,
        ours.failed_tasks,
        if unhealthy.is_empty() { String::new() } else { format!("; {}", unhealthy.join(", ")) }
    );
    if now >= watch.deadline {
        return verdict(Outcome::Failed, format!("timed out waiting for ECS {what} {id}: {progress}"), target_health);
    }
    verdict(Outcome::InProgress, progress, target_health)
}

/// A rolling rollout still under way, judged from `deployments[]` alone, or
/// `None` when only a full look can say.
///
/// While ECS's rolling update has our deployment PRIMARY and IN_PROGRESS,
/// nothing else it could report changes the verdict: a circuit breaker, an
/// alarm rollback or a failed Lambda hook turns `rolloutState` to FAILED (or
/// makes another deployment PRIMARY) before anything else, and success needs
/// COMPLETED first ("Deployment circuit breaker", "Lifecycle hooks" in the ECS
/// developer guide). So the look at ECS's service deployment, its tasks and
/// the target groups is saved: a long rollout costs one DescribeServices per
/// look. Not for a traffic shift (judged by its stages), a PAUSE hook (a
/// person holds the deadline), a rollback, or a look at the deadline.
pub fn rolling_in_progress(
    watch: &Watch,
    service: &ServiceSnapshot,
    shifts_traffic: bool,
    now: DateTime<Utc>,
) -> Option<Verdict> {
    if watch.phase != Phase::Rollout
        || shifts_traffic
        || !service.pause_hook_stages.is_empty()
        || service.status != ServiceStatus::Active
        || now >= watch.deadline
    {
        return None;
    }
    let ours = service.deployment(&watch.ecs_deployment_id)?;
    if ours.status != EcsDeploymentStatus::Primary || ours.rollout_state != Some(RolloutState::InProgress) {
        return None;
    }
    Some(Verdict {
        outcome: Outcome::InProgress,
        phase: watch.phase,
        ecs_deployment_id: ours.id.clone(),
        reason: format!(
            "{}/{} tasks running, {} pending, {} failed",
            ours.running_count, ours.desired_count, ours.pending_count, ours.failed_tasks
        ),
        target_health: Vec::new(),
        observed_at: now,
        progress: None,
        ecs_finished_at: None,
    })
}

/// "targetgroup/web/abc 1/2 healthy" for each group short of healthy tasks.
pub(super) fn unhealthy_groups(health: &[TargetGroupHealth]) -> Vec<String> {
    health
        .iter()
        .filter(|tg| tg.healthy_count < tg.desired_count)
        .map(|tg| format!("{} {}/{} healthy", short_tg(&tg.target_group_arn), tg.healthy_count, tg.desired_count))
        .collect()
}

/// The watched ECS deployment as `deployments[]` has it, or, once ECS no
/// longer lists it there, what is known of it: the service's revision and
/// desired count.
pub(super) fn our_deployment(watch: &Watch, service: &ServiceSnapshot) -> EcsDeploymentView {
    service.deployment(&watch.ecs_deployment_id).cloned().unwrap_or_else(|| EcsDeploymentView {
        id: watch.ecs_deployment_id.clone(),
        task_definition: service.task_definition.clone(),
        desired_count: service.desired_count,
        ..Default::default()
    })
}

/// Per target group: the targets, which of them are our running tasks, and how
/// many of those are healthy.
pub(super) fn target_group_health(
    ours: &EcsDeploymentView,
    tasks: &[TaskView],
    health: &[(String, Vec<TargetView>)],
) -> Vec<TargetGroupHealth> {
    let our_tasks: Vec<&TaskView> = tasks
        .iter()
        .filter(|t| match &t.started_by {
            Some(by) => by == &ours.id,
            None => t.task_definition_arn == ours.task_definition,
        })
        .filter(|t| t.last_status == TaskStatus::Running)
        .collect();
    health
        .iter()
        .map(|(arn, targets)| {
            let targets: Vec<TargetView> = targets
                .iter()
                .map(|t| {
                    let task = our_tasks.iter().find(|task| task.private_ips.iter().any(|ip| ip == &t.id));
                    TargetView { task_arn: task.map(|task| task.task_arn.clone()), ..t.clone() }
                })
                .collect();
            // One task may be registered on several ports; count tasks, not targets.
            let healthy: BTreeSet<&str> = targets
                .iter()
                .filter(|t| t.state == TargetHealthState::Healthy)
                .filter_map(|t| t.task_arn.as_deref())
                .collect();
            TargetGroupHealth {
                target_group_arn: arn.clone(),
                desired_count: ours.desired_count,
                healthy_count: i32::try_from(healthy.len()).unwrap_or(i32::MAX),
                targets,
            }
        })
        .collect()
}

/// `arn:...:targetgroup/web/943f…` → `targetgroup/web/943f…` (the CloudWatch dimension form).
pub fn short_tg(arn: &str) -> &str {
    arn.find("targetgroup/").map_or(arn, |i| &arn[i..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aws_state;

    const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/abc";
    const TG2: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-admin/def";

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn watch(phase: Phase) -> Watch {
        Watch {
            phase,
            ecs_deployment_id: "ecs-svc/2".into(),
            service_arn: "arn:aws:ecs:us-east-1:1:service/demo/web".into(),
            target_group_arns: vec![TG.into()],
            deadline: at(1800),
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

    fn dep(id: &str, status: &str, td: &str, rollout: Option<&str>, running: i32) -> EcsDeploymentView {
        EcsDeploymentView {
            id: id.into(),
            status: aws_state(status),
            task_definition: td.into(),
            desired_count: 2,
            running_count: running,
            rollout_state: rollout.map(aws_state),
            ..Default::default()
        }
    }

    fn service(deployments: Vec<EcsDeploymentView>) -> ServiceSnapshot {
        ServiceSnapshot {
            service_arn: "arn:aws:ecs:us-east-1:1:service/demo/web".into(),
            status: ServiceStatus::Active,
            task_definition: "web:2".into(),
            desired_count: 2,
            deployments,
            target_group_arns: vec![TG.into()],
            ..Default::default()
        }
    }

    fn task(n: u8, by: &str) -> TaskView {
        TaskView {
            task_arn: format!("task/{n}"),
            started_by: Some(by.into()),
            task_definition_arn: "web:2".into(),
            last_status: TaskStatus::Running,
            private_ips: vec![format!("10.0.0.{n}")],
        }
    }

    fn target(n: u8, state: &str) -> TargetView {
        TargetView { id: format!("10.0.0.{n}"), port: Some(80), state: aws_state(state), ..Default::default() }
    }

    fn tasks() -> Vec<TaskView> {
        vec![task(1, "ecs-svc/1"), task(2, "ecs-svc/1"), task(3, "ecs-svc/2"), task(4, "ecs-svc/2")]
    }

    #[test]
    fn succeeds_only_when_completed_and_our_tasks_healthy() {
        let svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("COMPLETED"), 2)]);
        let health = vec![(TG.to_owned(), vec![target(3, "healthy"), target(4, "healthy")])];
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(10));
        assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
        assert_eq!(v.target_health[0].healthy_count, 2);
        assert_eq!(v.target_health[0].targets[0].task_arn.as_deref(), Some("task/3"));
    }

    #[test]
    fn old_tasks_healthy_do_not_count() {
        let svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("COMPLETED"), 2)]);
        let health = vec![(
            TG.to_owned(),
            vec![target(1, "healthy"), target(2, "healthy"), target(3, "healthy"), target(4, "initial")],
        )];
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(10));
        assert_eq!(v.outcome, Outcome::InProgress);
        assert!(v.reason.contains("1/2 healthy"), "{}", v.reason);
    }

    #[test]
    fn every_target_group_must_be_healthy() {
        let mut svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("COMPLETED"), 2)]);
        svc.target_group_arns.push(TG2.into());
        let health = vec![
            (TG.to_owned(), vec![target(3, "healthy"), target(4, "healthy")]),
            (TG2.to_owned(), vec![target(3, "healthy"), target(4, "unhealthy")]),
        ];
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(10));
        assert_eq!(v.outcome, Outcome::InProgress);
        assert!(v.reason.contains("targetgroup/web-admin/def 1/2"), "{}", v.reason);
    }

    #[test]
    fn healthy_targets_before_ecs_completes_is_still_in_progress() {
        let svc = service(vec![
            dep("ecs-svc/2", "PRIMARY", "web:2", Some("IN_PROGRESS"), 2),
            dep("ecs-svc/1", "ACTIVE", "web:1", Some("COMPLETED"), 2),
        ]);
        let health = vec![(TG.to_owned(), vec![target(3, "healthy"), target(4, "healthy")])];
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(10));
        assert_eq!(v.outcome, Outcome::InProgress);
    }

    #[test]
    fn circuit_breaker_failure_fails() {
        let mut d = dep("ecs-svc/2", "PRIMARY", "web:2", Some("FAILED"), 0);
        d.rollout_state_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let v = evaluate(&watch(Phase::Rollout), &service(vec![d]), &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.contains("circuit breaker"), "{}", v.reason);
    }

    #[test]
    fn ecs_rollback_is_failure_not_success() {
        // ECS rolled back on its own: a new PRIMARY on the old revision completes,
        // our deployment is ACTIVE/draining. Stable again, but not our success.
        let svc = service(vec![
            dep("ecs-svc/3", "PRIMARY", "web:1", Some("COMPLETED"), 2),
            dep("ecs-svc/2", "ACTIVE", "web:2", Some("IN_PROGRESS"), 0),
        ]);
        let health = vec![(TG.to_owned(), vec![target(1, "healthy"), target(2, "healthy")])];
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(10));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.contains("no longer PRIMARY") && v.reason.contains("ecs-svc/3"), "{}", v.reason);
    }

    #[test]
    fn vanished_deployment_fails() {
        let svc = service(vec![dep("ecs-svc/9", "PRIMARY", "web:1", Some("COMPLETED"), 2)]);
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Failed);
    }

    #[test]
    fn deadline_turns_waiting_into_failure() {
        let svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("IN_PROGRESS"), 1)]);
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &[], at(1800));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.starts_with("timed out"), "{}", v.reason);
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &[], at(1799));
        assert_eq!(v.outcome, Outcome::InProgress);
    }

    #[test]
    fn service_without_target_groups_succeeds_on_completion() {
        let mut svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("COMPLETED"), 2)]);
        svc.target_group_arns.clear();
        let v = evaluate(&watch(Phase::Rollout), &svc, &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Succeeded);
    }

    #[test]
    fn without_rollout_state_single_full_deployment_is_done() {
        let svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", None, 2)]);
        let health = vec![(TG.to_owned(), vec![target(3, "healthy"), target(4, "healthy")])];
        assert_eq!(evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(1)).outcome, Outcome::Succeeded);
        let svc =
            service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", None, 2), dep("ecs-svc/1", "ACTIVE", "web:1", None, 1)]);
        assert_eq!(evaluate(&watch(Phase::Rollout), &svc, &tasks(), &health, at(1)).outcome, Outcome::InProgress);
    }

    #[test]
    fn inactive_service_fails() {
        let mut svc = service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("IN_PROGRESS"), 0)]);
        svc.status = ServiceStatus::Draining;
        assert_eq!(evaluate(&watch(Phase::Rollback), &svc, &tasks(), &[], at(1)).outcome, Outcome::Failed);
    }

    #[test]
    fn rolling_in_progress_needs_no_further_look_and_agrees_with_the_full_one() {
        let rolling = service(vec![
            dep("ecs-svc/2", "PRIMARY", "web:2", Some("IN_PROGRESS"), 1),
            dep("ecs-svc/1", "ACTIVE", "web:1", Some("COMPLETED"), 2),
        ]);
        let v =
            rolling_in_progress(&watch(Phase::Rollout), &rolling, false, at(10)).expect("judged from deployments[]");
        assert_eq!(v.outcome, Outcome::InProgress);
        assert_eq!(v.reason, "1/2 tasks running, 0 pending, 0 failed");
        let full = evaluate(&watch(Phase::Rollout), &rolling, &tasks(), &[], at(10));
        assert_eq!((full.outcome, full.reason.as_str()), (v.outcome, v.reason.as_str()));
    }

    #[test]
    fn rolling_in_progress_leaves_every_other_case_to_the_full_look() {
        let rolling = || service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("IN_PROGRESS"), 1)]);
        let cases: Vec<(&str, Watch, ServiceSnapshot, bool, DateTime<Utc>)> = vec![
            ("rollback phase", watch(Phase::Rollback), rolling(), false, at(10)),
            ("traffic shift", watch(Phase::Rollout), rolling(), true, at(10)),
            ("at the deadline", watch(Phase::Rollout), rolling(), false, at(1800)),
            (
                "PAUSE hook",
                watch(Phase::Rollout),
                ServiceSnapshot { pause_hook_stages: vec![aws_state("POST_SCALE_UP")], ..rolling() },
                false,
                at(10),
            ),
            (
                "service draining",
                watch(Phase::Rollout),
                ServiceSnapshot { status: ServiceStatus::Draining, ..rolling() },
                false,
                at(10),
            ),
            (
                "completed",
                watch(Phase::Rollout),
                service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("COMPLETED"), 2)]),
                false,
                at(10),
            ),
            (
                "circuit breaker",
                watch(Phase::Rollout),
                service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", Some("FAILED"), 0)]),
                false,
                at(10),
            ),
            (
                "replaced",
                watch(Phase::Rollout),
                service(vec![
                    dep("ecs-svc/3", "PRIMARY", "web:1", Some("IN_PROGRESS"), 0),
                    dep("ecs-svc/2", "ACTIVE", "web:2", Some("IN_PROGRESS"), 1),
                ]),
                false,
                at(10),
            ),
            (
                "no rollout tracking",
                watch(Phase::Rollout),
                service(vec![dep("ecs-svc/2", "PRIMARY", "web:2", None, 1)]),
                false,
                at(10),
            ),
            ("gone", watch(Phase::Rollout), service(Vec::new()), false, at(10)),
        ];
        for (case, w, svc, shifts, now) in cases {
            assert_eq!(rolling_in_progress(&w, &svc, shifts, now), None, "{case}");
        }
    }

    #[test]
    fn short_target_group_name() {
        assert_eq!(short_tg(TG), "targetgroup/web/abc");
        assert_eq!(short_tg("x"), "x");
    }
}
