//! ECS's own record of a rollout (a *service deployment*, since 2024) and the
//! rules that turn it into a verdict. Where ECS keeps one, its status decides;
//! `deployments[].rolloutState` ([`super::evaluate`]) is the fallback for an
//! API or region without service deployments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{Display, EnumString};

use super::rollout::{our_deployment, target_group_health, unhealthy_groups};
use super::{Outcome, Phase, ServiceSnapshot, TargetView, TaskView, Verdict, Watch};

/// `ServiceDeployment.status` ("View service history using Amazon ECS service
/// deployments": PENDING → IN_PROGRESS → SUCCESSFUL, STOP_REQUESTED → STOPPED,
/// ROLLBACK_REQUESTED → ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL / _FAILED).
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceDeploymentStatus {
    Pending,
    InProgress,
    Successful,
    StopRequested,
    Stopped,
    RollbackRequested,
    RollbackInProgress,
    RollbackSuccessful,
    RollbackFailed,
    #[strum(default)]
    Other(String),
}

impl ServiceDeploymentStatus {
    /// ECS is rolling the deployment back in place, or has.
    pub fn is_rollback(&self) -> bool {
        matches!(
            self,
            Self::RollbackRequested | Self::RollbackInProgress | Self::RollbackSuccessful | Self::RollbackFailed
        )
    }

    /// Not yet finished, stopping or rolling back: a StopServiceDeployment
    /// ROLLBACK starts a rollback only here (in STOP_REQUESTED and the
    /// ROLLBACK_ states ECS "continues" what it is doing).
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Pending | Self::InProgress)
    }
}

/// `ServiceDeployment.lifecycleStage`, reported by the blue/green, linear and
/// canary strategies, in the order ECS goes through them.
#[derive(Debug, Clone, PartialEq, Eq, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum LifecycleStage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
    #[strum(default)]
    Other(String),
}

/// `deploymentConfiguration.strategy` of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default, Display, EnumString, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStrategy {
    #[default]
    Rolling,
    BlueGreen,
    Linear,
    Canary,
    #[strum(default)]
    Other(String),
}

/// One service revision in a service deployment, with its traffic weights
/// (traffic-shifting strategies only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSummary {
    pub arn: String,
    pub requested_task_count: i32,
    pub running_task_count: i32,
    pub pending_task_count: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_traffic_weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_traffic_weight: Option<f64>,
}

/// A service deployment, as DescribeServiceDeployments reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeploymentView {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub status_reason: Option<String>,
    pub strategy: Option<DeploymentStrategy>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub bake_time_minutes: Option<i32>,
    pub target: Option<RevisionSummary>,
    pub sources: Vec<RevisionSummary>,
    /// `rollback.reason` once ECS rolls back.
    pub rollback_reason: Option<String>,
    /// `rollback.serviceRevisionArn`: the revision ECS goes back to.
    pub rollback_revision_arn: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// `lifecycleHookDetails`: the hooks of the current stage and where they stand.
    pub hooks: Vec<super::LifecycleHookDetail>,
}

impl ServiceDeploymentView {
    /// The PAUSE hook ECS holds this deployment at, waiting for a person.
    pub fn paused_at(&self) -> Option<super::PausedAt> {
        if !self.status.is_running() {
            return None;
        }
        super::paused_at(&self.hooks, self.lifecycle_stage.as_ref())
    }

    /// `…/service-deployment/cluster/service/NCWGC2ZR-taawPAYrIaU5` → `NCWGC2ZR-taawPAYrIaU5`.
    pub fn short_id(&self) -> &str {
        short_arn(&self.arn)
    }

    /// Whether this deployment rolls out ECS deployment `ecs-svc/<n>`: its
    /// target revision's id is `<n>` (a real CreateService answer shows
    /// `deployments[0].id = ecs-svc/3541978090126952138` beside
    /// `service-revision/…/3541978090126952138`; no other link exists).
    pub fn targets(&self, ecs_deployment_id: &str) -> bool {
        targets_revision(self.target.as_ref().map(|t| t.arn.as_str()), ecs_deployment_id)
    }

    /// Why ECS stopped or rolled back, in its words when it gave any.
    fn why(&self) -> String {
        self.rollback_reason.clone().or_else(|| self.status_reason.clone()).unwrap_or_else(|| "no reason given".into())
    }
}

/// Whether `revision_arn` is the service revision of ECS deployment `ecs-svc/<n>`.
pub fn targets_revision(revision_arn: Option<&str>, ecs_deployment_id: &str) -> bool {
    let Some(n) = ecs_deployment_id.strip_prefix("ecs-svc/") else { return false };
    revision_arn.is_some_and(|arn| !n.is_empty() && arn.rsplit('/').next() == Some(n))
}

/// The last path segment of an ARN.
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Where a service deployment stands, as the timeline shows it: a new entry
/// each time its status, stage or traffic weights change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutProgress {
    pub service_deployment_arn: String,
    pub status: ServiceDeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Production traffic on the new revision, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_traffic_weight: Option<f64>,
    /// Test traffic on the new revision, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_traffic_weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time_minutes: Option<i32>,
    /// The service deployment's `updatedAt` when seen: an older sighting
    /// never overwrites a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::deployment::iso_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The PAUSE hook ECS holds the deployment at, waiting for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<super::PausedAt>,
    /// The hooks of the current stage, as ECS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<super::LifecycleHookDetail>,
}

impl RolloutProgress {
    pub fn of(sd: &ServiceDeploymentView) -> Self {
        let target = sd.target.as_ref();
        Self {
            service_deployment_arn: sd.arn.clone(),
            status: sd.status.clone(),
            lifecycle_stage: sd.lifecycle_stage.clone(),
            production_traffic_weight: target.and_then(|t| t.production_traffic_weight),
            test_traffic_weight: target.and_then(|t| t.test_traffic_weight),
            bake_time_minutes: sd.bake_time_minutes,
            updated_at: sd.updated_at,
            paused: sd.paused_at(),
            hooks: sd.hooks.clone(),
        }
    }

    /// How hook `hook_id` ended, when ECS reports it.
    pub fn hook_status(&self, hook_id: &str) -> Option<&super::HookRunStatus> {
        self.hooks.iter().find(|h| h.hook_id == hook_id).map(|h| &h.status)
    }

    /// Whether ECS reports stages or traffic weights (blue/green, linear,
    /// canary), which the timeline then shows as they change.
    pub fn shifts_traffic(&self) -> bool {
        self.lifecycle_stage.is_some() || self.production_traffic_weight.is_some() || self.test_traffic_weight.is_some()
    }

    /// What identifies this point of the rollout: equal keys, no new entry.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.status,
            self.lifecycle_stage.as_ref().map(ToString::to_string).unwrap_or_default(),
            self.production_traffic_weight.map(percent).unwrap_or_default(),
            self.test_traffic_weight.map(percent).unwrap_or_default(),
        )
    }

    /// One timeline line, e.g. "PRODUCTION_TRAFFIC_SHIFT: production traffic 10 % on the new revision".
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(w) = self.production_traffic_weight {
            parts.push(format!("production traffic {} % on the new revision", percent(w)));
        }
        if let Some(w) = self.test_traffic_weight.filter(|w| *w > 0.0) {
            parts.push(format!("test traffic {} %", percent(w)));
        }
        let head = match &self.lifecycle_stage {
            Some(LifecycleStage::BakeTime) => match self.bake_time_minutes {
                Some(m) => format!("BAKE_TIME {m} min, the previous revision kept"),
                None => "BAKE_TIME, the previous revision kept".to_owned(),
            },
            Some(stage) => stage.to_string(),
            None => format!("service deployment {}", self.status),
        };
        if parts.is_empty() { head } else { format!("{head}: {}", parts.join(", ")) }
    }
}

/// `10.0` → `10`, `2.5` → `2.5`.
fn percent(w: f64) -> String {
    let rounded = (w * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.1}") }
}

/// Decides how the watched rollout stands from ECS's service deployment.
///
/// In the rollout phase (and for a rollback that is a deployment of its own)
/// SUCCESSFUL is success once our tasks are healthy in `production` (each
/// target group that serves production traffic at the end, with its
/// targets); a rollback, a stop or a replacement is failure with ECS's
/// reason. When ECS rolls the watched deployment back in place
/// (`watch.in_place_rollback`), ROLLBACK_SUCCESSFUL is the rollback's success.
pub fn evaluate_service_deployment(
    watch: &Watch,
    sd: &ServiceDeploymentView,
    service: &ServiceSnapshot,
    tasks: &[TaskView],
    production: &[(String, Vec<TargetView>)],
    now: DateTime<Utc>,
) -> Verdict {
    let progress = RolloutProgress::of(sd);
    // ECS's service deployment ends in a final status; its updatedAt is then when.
    let finished = (!sd.status.is_running()).then_some(sd.updated_at).flatten();
    let verdict = |outcome, reason: String, target_health| Verdict {
        outcome,
        phase: watch.phase,
        ecs_deployment_id: watch.ecs_deployment_id.clone(),
        reason,
        target_health,
        observed_at: now,
        progress: Some(progress.clone()),
        ecs_finished_at: if outcome == Outcome::InProgress { None } else { finished },
    };
    let name = format!("ECS service deployment {}", sd.short_id());
    let ours = &watch.ecs_deployment_id;
    // Who serves now, when ECS has moved on from ours.
    let primary = service
        .primary()
        .filter(|p| &p.id != ours)
        .map_or_else(String::new, |p| format!("; PRIMARY is {} ({})", p.id, short_arn(&p.task_definition)));
    // While ECS holds the deployment at a PAUSE hook, a person (or the hook's
    // own timeout) decides: the rollout's deadline waits with it.
    let paused = progress.paused.clone();
    let waiting = |what: String| {
        if let Some(p) = &paused {
            let until = p.expires_at.map_or_else(String::new, |e| format!(" until {}", super::iso::format(&e)));
            return verdict(
                Outcome::InProgress,
                format!("{what}; waiting for approval at PAUSE hook {}{until}", p.hook_id),
                Vec::new(),
            );
        }
        if now >= watch.deadline {
            verdict(
                Outcome::Failed,
                format!("timed out waiting for {name} (ECS deployment {ours}): {what}"),
                Vec::new(),
            )
        } else {
            verdict(Outcome::InProgress, what, Vec::new())
        }
    };
    use ServiceDeploymentStatus as S;
    if watch.phase == Phase::Rollback && watch.in_place_rollback {
        return match &sd.status {
            S::RollbackSuccessful => {
                let to = sd.rollback_revision_arn.as_deref().map_or_else(
                    || "the previous revision".to_owned(),
                    |arn| format!("service revision {}", short_arn(arn)),
                );
                verdict(Outcome::Succeeded, format!("{name} ROLLBACK_SUCCESSFUL: back on {to}"), Vec::new())
            }
            S::RollbackFailed => {
                let why = sd.status_reason.clone().unwrap_or_else(|| sd.why());
                verdict(Outcome::Failed, format!("{name} rollback failed: {why}"), Vec::new())
            }
            S::Successful => verdict(
                Outcome::Failed,
                format!("{name} completed before the rollback could stop it: the new revision is serving"),
                Vec::new(),
            ),
            S::Stopped | S::StopRequested => {
                verdict(Outcome::Failed, format!("{name} was stopped instead of rolled back: {}", sd.why()), Vec::new())
            }
            _ => waiting(format!("{name} {}: {}", sd.status, progress.line())),
        };
    }
    match &sd.status {
        S::Successful => {
            let deployment = our_deployment(watch, service);
            let health = target_group_health(&deployment, tasks, production);
            let unhealthy = unhealthy_groups(&health);
            if unhealthy.is_empty() {
                let reason = format!(
                    "{name} SUCCESSFUL: {} tasks of ECS deployment {} running, healthy in every production target group",
                    deployment.running_count.max(sd.target.as_ref().map_or(0, |t| t.running_task_count)),
                    deployment.id
                );
                return verdict(Outcome::Succeeded, reason, health);
            }
            let mut v = waiting(format!("{name} SUCCESSFUL; waiting for healthy targets: {}", unhealthy.join(", ")));
            v.target_health = health;
            v
        }
        s if s.is_rollback() => {
            let how = match s {
                S::RollbackSuccessful => "ECS rolled it back",
                S::RollbackFailed => "ECS's rollback failed",
                _ => "ECS is rolling it back",
            };
            verdict(
                Outcome::Failed,
                format!("ECS deployment {ours} failed and {how} ({s}): {}{primary}", sd.why()),
                Vec::new(),
            )
        }
        S::Stopped | S::StopRequested => verdict(
            Outcome::Failed,
            format!("{name} (ECS deployment {ours}) was stopped ({}): {}{primary}", sd.status, sd.why()),
            Vec::new(),
        ),
        _ => {
            let counts = sd.target.as_ref().map_or_else(String::new, |t| {
                format!(
                    "; {}/{} tasks running, {} pending",
                    t.running_task_count, t.requested_task_count, t.pending_task_count
                )
            });
            waiting(format!("{}{counts}", progress.line()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EcsDeploymentView, RolloutState, ServiceStatus, TargetHealthState, TaskStatus, aws_state};

    const TG_BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/blue/abc";
    const TG_GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/green/def";
    const REV: &str = "arn:aws:ecs:us-east-1:1:service-revision/demo/web/2";

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn watch(phase: Phase, in_place: bool) -> Watch {
        Watch {
            phase,
            ecs_deployment_id: "ecs-svc/2".into(),
            service_arn: "arn:aws:ecs:us-east-1:1:service/demo/web".into(),
            target_group_arns: vec![TG_BLUE.into()],
            deadline: at(1800),
            started_at: None,
            task_token: None,
            verdict: None,
            service_deployment_arn: Some("arn:aws:ecs:us-east-1:1:service-deployment/demo/web/sd2".into()),
            in_place_rollback: in_place,
            progress: None,
            progress_at: None,
            checking_until: None,
            recheck: false,
            delivered: false,
        }
    }

    fn sd(status: &str, stage: Option<&str>, weight: Option<f64>) -> ServiceDeploymentView {
        ServiceDeploymentView {
            arn: "arn:aws:ecs:us-east-1:1:service-deployment/demo/web/sd2".into(),
            status: aws_state(status),
            status_reason: None,
            strategy: Some(DeploymentStrategy::BlueGreen),
            lifecycle_stage: stage.map(aws_state),
            bake_time_minutes: Some(5),
            target: Some(RevisionSummary {
                arn: REV.into(),
                requested_task_count: 2,
                running_task_count: 2,
                production_traffic_weight: weight,
                ..Default::default()
            }),
            sources: Vec::new(),
            rollback_reason: None,
            rollback_revision_arn: None,
            updated_at: None,
            hooks: Vec::new(),
        }
    }

    fn service() -> ServiceSnapshot {
        ServiceSnapshot {
            service_arn: "arn:aws:ecs:us-east-1:1:service/demo/web".into(),
            status: ServiceStatus::Active,
            task_definition: "web:2".into(),
            desired_count: 2,
            deployments: vec![EcsDeploymentView {
                id: "ecs-svc/2".into(),
                task_definition: "web:2".into(),
                desired_count: 2,
                running_count: 2,
                rollout_state: Some(RolloutState::Completed),
                ..Default::default()
            }],
            target_group_arns: vec![TG_BLUE.into()],
            ..Default::default()
        }
    }

    fn tasks() -> Vec<TaskView> {
        (3..5)
            .map(|n| TaskView {
                task_arn: format!("task/{n}"),
                started_by: Some("ecs-svc/2".into()),
                task_definition_arn: "web:2".into(),
                last_status: TaskStatus::Running,
                private_ips: vec![format!("10.0.0.{n}")],
            })
            .collect()
    }

    fn green(state: &str) -> Vec<(String, Vec<TargetView>)> {
        let target = |n: u8| TargetView {
            id: format!("10.0.0.{n}"),
            port: Some(80),
            state: aws_state::<TargetHealthState>(state),
            ..Default::default()
        };
        vec![(TG_GREEN.to_owned(), vec![target(3), target(4)])]
    }

    #[test]
    fn successful_needs_our_tasks_healthy_where_production_ends_up() {
        let w = watch(Phase::Rollout, false);
        let v = evaluate_service_deployment(
            &w,
            &sd("SUCCESSFUL", None, Some(100.0)),
            &service(),
            &tasks(),
            &green("healthy"),
            at(10),
        );
        assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
        assert_eq!(v.target_health[0].target_group_arn, TG_GREEN);
        let v = evaluate_service_deployment(
            &w,
            &sd("SUCCESSFUL", None, Some(100.0)),
            &service(),
            &tasks(),
            &green("initial"),
            at(10),
        );
        assert_eq!(v.outcome, Outcome::InProgress, "{}", v.reason);
        assert!(v.reason.contains("green/def 0/2"), "{}", v.reason);
    }

    #[test]
    fn in_progress_reports_stage_and_weights_until_the_deadline() {
        let w = watch(Phase::Rollout, false);
        let s = sd("IN_PROGRESS", Some("PRODUCTION_TRAFFIC_SHIFT"), Some(10.0));
        let v = evaluate_service_deployment(&w, &s, &service(), &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::InProgress);
        assert!(
            v.reason.starts_with("PRODUCTION_TRAFFIC_SHIFT: production traffic 10 % on the new revision"),
            "{}",
            v.reason
        );
        let p = v.progress.unwrap();
        assert_eq!(p.lifecycle_stage, Some(LifecycleStage::ProductionTrafficShift));
        let v = evaluate_service_deployment(&w, &s, &service(), &tasks(), &[], at(1800));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.starts_with("timed out"), "{}", v.reason);
    }

    #[test]
    fn ecs_rollback_and_stop_fail_the_rollout_with_ecs_reason() {
        let w = watch(Phase::Rollout, false);
        let mut s = sd("ROLLBACK_IN_PROGRESS", None, Some(0.0));
        s.rollback_reason = Some("circuit breaker detected a failure".into());
        let v = evaluate_service_deployment(&w, &s, &service(), &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.contains("ECS is rolling it back") && v.reason.contains("circuit breaker"), "{}", v.reason);
        let mut s = sd("STOPPED", None, None);
        s.status_reason = Some("a newer deployment replaced it".into());
        let v = evaluate_service_deployment(&w, &s, &service(), &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Failed);
        assert!(v.reason.contains("was stopped (STOPPED): a newer deployment"), "{}", v.reason);
    }

    #[test]
    fn an_in_place_rollback_succeeds_only_on_rollback_successful() {
        let w = watch(Phase::Rollback, true);
        let mut s = sd("ROLLBACK_SUCCESSFUL", None, Some(0.0));
        s.rollback_revision_arn = Some("arn:aws:ecs:us-east-1:1:service-revision/demo/web/1".into());
        let v = evaluate_service_deployment(&w, &s, &service(), &tasks(), &[], at(10));
        assert_eq!(v.outcome, Outcome::Succeeded, "{}", v.reason);
        assert!(v.reason.ends_with("ROLLBACK_SUCCESSFUL: back on service revision 1"), "{}", v.reason);
        for (status, outcome) in [
            ("ROLLBACK_IN_PROGRESS", Outcome::InProgress),
            ("ROLLBACK_REQUESTED", Outcome::InProgress),
            ("IN_PROGRESS", Outcome::InProgress),
            ("ROLLBACK_FAILED", Outcome::Failed),
            ("SUCCESSFUL", Outcome::Failed),
            ("STOPPED", Outcome::Failed),
        ] {
            let v = evaluate_service_deployment(&w, &sd(status, None, None), &service(), &tasks(), &[], at(10));
            assert_eq!(v.outcome, outcome, "{status}: {}", v.reason);
        }
    }

    #[test]
    fn the_revision_of_an_ecs_deployment_is_its_number() {
        assert!(targets_revision(Some(REV), "ecs-svc/2"));
        assert!(!targets_revision(Some(REV), "ecs-svc/22"));
        assert!(!targets_revision(Some(REV), "ecs-svc/"));
        assert!(!targets_revision(Some(REV), "2"));
        assert!(!targets_revision(None, "ecs-svc/2"));
    }

    #[test]
    fn progress_lines_and_keys() {
        let mut p = RolloutProgress::of(&sd("IN_PROGRESS", Some("BAKE_TIME"), Some(100.0)));
        assert_eq!(
            p.line(),
            "BAKE_TIME 5 min, the previous revision kept: production traffic 100 % on the new revision"
        );
        let key = p.key();
        p.production_traffic_weight = Some(2.5);
        assert_ne!(p.key(), key);
        assert!(p.line().contains("2.5 %"), "{}", p.line());
        p.lifecycle_stage = None;
        p.production_traffic_weight = None;
        assert_eq!(p.line(), "service deployment IN_PROGRESS");
    }

    #[test]
    fn states_round_trip_and_keep_new_values() {
        for s in [
            "PENDING",
            "IN_PROGRESS",
            "SUCCESSFUL",
            "STOP_REQUESTED",
            "STOPPED",
            "ROLLBACK_REQUESTED",
            "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_SUCCESSFUL",
            "ROLLBACK_FAILED",
            "PAUSED_2027",
        ] {
            assert_eq!(aws_state::<ServiceDeploymentStatus>(s).to_string(), s);
        }
        for s in [
            "RECONCILE_SERVICE",
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP",
        ] {
            assert!(!matches!(aws_state::<LifecycleStage>(s), LifecycleStage::Other(_)), "{s}");
        }
        for s in ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"] {
            assert!(!matches!(aws_state::<DeploymentStrategy>(s), DeploymentStrategy::Other(_)), "{s}");
        }
    }
}
