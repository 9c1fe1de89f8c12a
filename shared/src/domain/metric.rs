//! What the stack counts, in CloudWatch's terms: each metric's name, unit and
//! dimensions, and the rules that say which metrics a change of a record
//! makes. Written out as embedded metric format lines by `crate::metrics`;
//! the dashboard and alarms in `template.yaml` read exactly these names.

use chrono::{DateTime, Utc};

use super::{Deployment, DeploymentStatus, Verdict};

/// The CloudWatch namespace of every metric; each also carries the dimension
/// `Stack` (the stack's name), so several stacks share the namespace.
pub const NAMESPACE: &str = "ECSAutodeploy";

/// The dimension every metric carries.
pub const STACK_DIMENSION: &str = "Stack";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::Display, strum::EnumIter, strum::IntoStaticStr,
)]
pub enum MetricName {
    /// A deployment reached a terminal status (`Outcome`).
    Deployments,
    /// The same, per service (`Service` = `cluster/service`, `Outcome`).
    ServiceDeployments,
    /// From the push the pipeline accepted to the terminal status, for the
    /// outcomes that changed the service (`Outcome`).
    DeployDuration,
    /// From ECS's own end of the rollout (its `updatedAt`) to the pipeline's verdict.
    DetectionDelay,
    /// A rollback began: the pipeline's, or ECS's own that the pipeline follows.
    Rollbacks,
    /// A push a deploy target matched but may not deploy (`Reason`).
    PushesRefused,
    /// A deployment the reconciler started for a push whose event never came.
    PushesReconciled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Count,
    Seconds,
}

impl MetricName {
    pub fn unit(self) -> MetricUnit {
        match self {
            Self::DeployDuration | Self::DetectionDelay => MetricUnit::Seconds,
            _ => MetricUnit::Count,
        }
    }

    /// The metric's dimensions besides `Stack`, in the order CloudWatch gets them.
    pub fn dimensions(self) -> &'static [&'static str] {
        match self {
            Self::Deployments | Self::DeployDuration => &["Outcome"],
            Self::ServiceDeployments => &["Service", "Outcome"],
            Self::PushesRefused => &["Reason"],
            Self::DetectionDelay | Self::Rollbacks | Self::PushesReconciled => &[],
        }
    }
}

/// Why on-image-push refused a push for a target: the `Reason` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::Display, strum::EnumIter)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RefusalReason {
    /// Pushed to a registry that is neither the stack's nor one the target lists.
    ForeignRegistry,
    /// ECR has no such image (the event describes nothing that exists).
    ImageNotInEcr,
    /// The tag names another image by now: its newer push deploys instead.
    TagMoved,
}

/// One value of one metric, with its dimensions' values in
/// [`MetricName::dimensions`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: MetricName,
    pub value: f64,
    pub dimensions: Vec<String>,
}

impl Metric {
    fn new(name: MetricName, value: f64, dimensions: Vec<String>) -> Self {
        debug_assert_eq!(dimensions.len(), name.dimensions().len(), "{name}");
        Self { name, value, dimensions }
    }

    /// The dimension pairs, `Stack` aside.
    pub fn labels(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.name.dimensions().iter().copied().zip(self.dimensions.iter().map(String::as_str))
    }

    pub fn push_refused(reason: RefusalReason) -> Self {
        Self::new(MetricName::PushesRefused, 1.0, vec![reason.to_string()])
    }

    pub fn pushes_reconciled(started: usize) -> Self {
        Self::new(MetricName::PushesReconciled, started as f64, Vec::new())
    }
}

/// What the record's move to `to` counts. Called once per move that
/// happened (a repeated step that finds the record there already counts
/// nothing), with the record as it is after the move and the verdict the
/// run ended on (the record's own, when it still has one).
pub fn transition_metrics(
    d: &Deployment,
    to: DeploymentStatus,
    verdict: Option<&Verdict>,
    now: DateTime<Utc>,
) -> Vec<Metric> {
    if to == DeploymentStatus::RollingBack {
        return vec![Metric::new(MetricName::Rollbacks, 1.0, Vec::new())];
    }
    if !to.is_terminal() {
        return Vec::new();
    }
    let outcome = to.to_string();
    let mut metrics = vec![
        Metric::new(MetricName::Deployments, 1.0, vec![outcome.clone()]),
        Metric::new(MetricName::ServiceDeployments, 1.0, vec![format!("{}/{}", d.cluster, d.service), outcome.clone()]),
    ];
    if matches!(to, DeploymentStatus::Succeeded | DeploymentStatus::RolledBack | DeploymentStatus::Failed) {
        let took = elapsed_seconds(d.created_at, now);
        metrics.push(Metric::new(MetricName::DeployDuration, took, vec![outcome]));
        // The verdict the run ended on, and when ECS itself had finished.
        let verdict = verdict.or_else(|| d.watch.as_ref().and_then(|w| w.verdict.as_ref()));
        if let Some(v) = verdict
            && let Some(finished) = v.ecs_finished_at
        {
            metrics.push(Metric::new(MetricName::DetectionDelay, elapsed_seconds(finished, v.observed_at), Vec::new()));
        }
    }
    metrics
}

/// Seconds from `from` to `to`, never negative (ECS's clock and ours may
/// disagree by a little).
fn elapsed_seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / 1000.0).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ImageDigest, NewDeployment, Outcome, Phase, ServiceRef, ServiceSnapshot, TagRule, Watch};
    use strum::IntoEnumIterator;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn record(verdict: Option<Verdict>) -> Deployment {
        let web = ServiceRef::new("demo", "web").unwrap();
        let digest = ImageDigest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        let rule = TagRule::Exact { pattern: "v1".into() };
        let req = NewDeployment::pushed(&web, &digest, &rule, "v1", at(0));
        let mut d = Deployment::new(req, at(0));
        let service =
            ServiceSnapshot { service_arn: "arn:aws:ecs:us-east-1:1:service/demo/web".into(), ..Default::default() };
        let mut watch = Watch::new(Phase::Rollout, "ecs-svc/1", &service, at(10), at(3600));
        watch.verdict = verdict;
        d.watch = Some(watch);
        d
    }

    fn verdict(finished: Option<i64>, observed: i64) -> Verdict {
        Verdict {
            outcome: Outcome::Succeeded,
            phase: Phase::Rollout,
            ecs_deployment_id: "ecs-svc/1".into(),
            reason: "done".into(),
            target_health: Vec::new(),
            observed_at: at(observed),
            progress: None,
            ecs_finished_at: finished.map(at),
        }
    }

    fn names(m: &[Metric]) -> Vec<MetricName> {
        m.iter().map(|m| m.name).collect()
    }

    #[test]
    fn a_success_counts_the_outcome_per_stack_and_service_its_duration_and_detection_delay() {
        let m = transition_metrics(&record(Some(verdict(Some(100), 101))), DeploymentStatus::Succeeded, None, at(130));
        use MetricName::*;
        assert_eq!(names(&m), [Deployments, ServiceDeployments, DeployDuration, DetectionDelay]);
        assert_eq!(m[0].labels().collect::<Vec<_>>(), [("Outcome", "SUCCEEDED")]);
        assert_eq!(m[1].labels().collect::<Vec<_>>(), [("Service", "demo/web"), ("Outcome", "SUCCEEDED")]);
        assert_eq!((m[2].value, m[3].value), (130.0, 1.0));
        // The move that ends the run clears its watch: the run's own verdict says.
        let ended = verdict(Some(100), 103);
        let m = transition_metrics(&record(None), DeploymentStatus::Succeeded, Some(&ended), at(130));
        assert_eq!(m.last().map(|m| (m.name, m.value)), Some((DetectionDelay, 3.0)));
    }

    #[test]
    fn a_superseded_push_counts_no_duration_and_a_rollback_counts_when_it_begins() {
        let m = transition_metrics(&record(None), DeploymentStatus::Superseded, None, at(5));
        assert_eq!(names(&m), [MetricName::Deployments, MetricName::ServiceDeployments]);
        assert_eq!(m[0].dimensions, ["SUPERSEDED"]);
        assert_eq!(
            names(&transition_metrics(&record(None), DeploymentStatus::RollingBack, None, at(5))),
            [MetricName::Rollbacks]
        );
        assert!(transition_metrics(&record(None), DeploymentStatus::Waiting, None, at(5)).is_empty());
    }

    #[test]
    fn without_ecs_s_end_no_detection_delay_and_never_a_negative_one() {
        let m = transition_metrics(&record(Some(verdict(None, 101))), DeploymentStatus::RolledBack, None, at(130));
        assert!(!names(&m).contains(&MetricName::DetectionDelay));
        let m = transition_metrics(&record(Some(verdict(Some(102), 101))), DeploymentStatus::Failed, None, at(130));
        assert_eq!(m.last().map(|m| (m.name, m.value)), Some((MetricName::DetectionDelay, 0.0)));
    }

    #[test]
    fn every_metric_has_a_unit_and_at_most_a_few_dimensions() {
        for name in MetricName::iter() {
            // CloudWatch allows 30 dimensions; ours stay few so each is a useful query.
            assert!(name.dimensions().len() < 3, "{name}");
            let _ = name.unit();
        }
        assert_eq!(Metric::push_refused(RefusalReason::TagMoved).dimensions, ["TAG_MOVED"]);
        assert_eq!(Metric::pushes_reconciled(3).value, 3.0);
    }
}
