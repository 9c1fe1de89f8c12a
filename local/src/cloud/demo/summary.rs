//! The end of the demo: the verdict on the whole run and the summary table.

use autodeploy_shared::domain::DeploymentStatus;

use super::output::Output;
use super::stage::{self, Finale};
use super::step::StepReport;
use super::view::{self, Style, VersionHealth};

/// The whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub steps: Vec<StepReport>,
    /// ceil(minimumHealthyPercent × desired).
    pub floor: i64,
    pub desired: i64,
    /// Fewest healthy tasks at any recorded instant from the first push on.
    pub min_healthy: Option<i64>,
    /// Healthy targets in the target group at the end, and the version they run.
    pub final_healthy_targets: usize,
    pub final_versions: Vec<VersionHealth>,
    pub problems: Vec<String>,
}

impl Report {
    /// Judges the run: healthy tasks never below `floor` from `run_start`
    /// (simulated epoch seconds) on, and at the end every one of `desired`
    /// targets healthy on the version the last step leaves serving.
    pub(super) fn judge(steps: Vec<StepReport>, floor: i64, desired: i64, end: Finale, run_start: i64) -> Self {
        let mut problems = Vec::new();
        let min_healthy = stage::since(&end.samples, run_start).iter().map(|s| s.healthy).min();
        if let Some(m) = min_healthy.filter(|m| *m < floor) {
            problems.push(format!("healthy tasks fell to {m} during the demo, below the minimum of {floor}"));
        }
        // What the last step leaves serving: its build, or the one a rollback keeps.
        let last_tag = steps
            .last()
            .map(|s| match (&s.step.expected, &s.step.serving) {
                (DeploymentStatus::RolledBack, Some(serving)) => serving.clone(),
                _ => s.step.tag.clone(),
            })
            .unwrap_or_default();
        let on_last = end.versions.iter().all(|v| v.label == last_tag) && !end.versions.is_empty();
        if end.healthy_targets != usize::try_from(desired).unwrap_or(0) || !on_last {
            problems.push(format!(
                "at the end {} of {desired} targets are healthy, versions: {}",
                end.healthy_targets,
                view::health_line(&Style::plain(), &end.versions, floor)
            ));
        }
        Report {
            steps,
            floor,
            desired,
            min_healthy,
            final_healthy_targets: end.healthy_targets,
            final_versions: end.versions,
            problems,
        }
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.steps.iter().all(StepReport::ok)
    }

    /// Every problem of the run, those of a step prefixed with its image.
    pub fn all_problems(&self) -> Vec<String> {
        let mut problems = self.problems.clone();
        for s in &self.steps {
            problems.extend(s.problems.iter().map(|p| format!("web:{}: {p}", s.step.tag)));
        }
        problems
    }
}

/// Prints the table of the steps and the verdict.
pub(super) fn print(out: &Output, r: &Report) {
    let style = out.style;
    out.line("");
    out.title("Summary");
    let rows: Vec<Vec<String>> = r.steps.iter().map(|s| row(s, r.floor)).collect();
    for l in view::table(&["push", "build", "expected", "actual", "took", "min healthy / floor", "notified", ""], &rows)
    {
        out.line(&l);
    }
    out.line("");
    out.line(&format!(
        "now serving: {}; {} of {} targets healthy (DescribeTargetHealth)",
        view::health_line(&Style::plain(), &r.final_versions, r.floor),
        r.final_healthy_targets,
        r.desired
    ));
    if r.ok() {
        out.line(&style.good(&format!(
            "every outcome as expected; healthy tasks never below {} of {} (fewest: {})",
            r.floor,
            r.desired,
            r.min_healthy.map_or("-".into(), |m| m.to_string())
        )));
    } else {
        out.line(&style.bad("the demo did not go as expected (see above)"));
    }
}

/// One step's row of the table.
fn row(s: &StepReport, floor: i64) -> Vec<String> {
    let min = match s.min_healthy {
        Some(m) => {
            let mut text = format!("{m} {} {floor}", if m >= floor { "≥" } else { "<" });
            if let (Some(v), Some(sv)) = (&s.step.serving, s.min_serving) {
                text.push_str(&if sv == m { format!(", all {v}") } else { format!(", {v}: {sv}") });
            }
            text
        }
        None => "-".into(),
    };
    vec![
        s.image.clone(),
        s.step.behavior.clone(),
        s.step.expected.as_str().to_owned(),
        s.actual.map_or("-".into(), |a| a.as_str().to_owned()),
        format!("{:.1} s ({} sim s)", s.wall.as_secs_f64(), s.simulated_seconds),
        min,
        format!("{} bus, {} sns", s.bus_events, s.sns_messages),
        if s.ok() { "ok".into() } else { "FAIL".into() },
    ]
}
