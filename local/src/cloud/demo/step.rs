//! Runs one step of the script: push, follow the deployment until its
//! outcome, then check the outcome against what the step expects.

use std::time::{Duration, Instant};

use autodeploy_shared::domain::DeploymentStatus;

use super::follow::{Followed, STEP_LIMIT_SIM_SECONDS};
use super::labels::Labels;
use super::script::Step;
use super::stage::{self, Stage};
use crate::cloud::PushError;
use crate::sim::SimTime;

/// What one step came to.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: Step,
    pub image: String,
    /// Final status of the deployment record (None: no terminal record in time).
    pub actual: Option<DeploymentStatus>,
    pub failure_reason: Option<String>,
    pub wall: Duration,
    pub simulated_seconds: i64,
    /// Fewest healthy tasks of the service at any recorded instant of the step.
    pub min_healthy: Option<i64>,
    /// Fewest healthy tasks of `step.serving` during the step.
    pub min_serving: Option<i64>,
    pub bus_events: usize,
    pub sns_messages: usize,
    pub problems: Vec<String>,
}

impl StepReport {
    fn new(step: Step, image: String) -> Self {
        Self {
            step,
            image,
            actual: None,
            failure_reason: None,
            wall: Duration::ZERO,
            simulated_seconds: 0,
            min_healthy: None,
            min_serving: None,
            bus_events: 0,
            sns_messages: 0,
            problems: Vec::new(),
        }
    }

    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One step while it runs.
pub(super) struct StepRun<'a> {
    pub(super) stage: &'a Stage<'a>,
    pub(super) step: &'a Step,
    /// `repository:tag` of the step's push.
    pub(super) image: String,
    /// Real and simulated time of the start of the step.
    pub(super) t0: Instant,
    pub(super) sim0: SimTime,
}

impl Stage<'_> {
    /// Runs `step` and reports what came of it; `labels` learns its pushes.
    pub(super) async fn run_step(&self, step: Step, labels: &mut Labels) -> StepReport {
        let run = StepRun {
            stage: self,
            step: &step,
            image: format!("{}:{}", self.spec.repository, step.tag),
            t0: Instant::now(),
            sim0: self.cloud.sim.now(),
        };
        let mut report = StepReport::new(step.clone(), run.image.clone());
        if let Some((tag, behavior)) = &step.preceded_by {
            run.push_rival(tag, behavior, labels, &mut report).await;
        }
        if let Err(e) = run.push(&run.image, &step.behavior, labels).await {
            report.problems.push(format!("push failed: {e}"));
            return report;
        }
        let followed = run.follow(labels).await;
        run.take_outcome(&followed, &mut report);
        run.measure_healthy(labels, &mut report);
        run.check_outcome(&mut report);
        if let Some((tag, _)) = &step.preceded_by {
            run.check_rival(tag, &mut report).await;
        }
        run.check_notified(&followed, &mut report);
        run.print_result(&report);
        report
    }
}

impl StepRun<'_> {
    /// A line of this step, timed from its start.
    pub(super) fn at(&self, what: &str, text: &str) {
        self.stage.out.at(self.t0, what, text);
    }

    /// Pushes `image` with `behavior` and says so.
    async fn push(&self, image: &str, behavior: &str, labels: &mut Labels) -> Result<(), PushError> {
        let pushed = self.stage.cloud.push(image, behavior).await?;
        labels.remember(&pushed);
        self.at("push", &format!("{image} {} → ECR push event", short_digest(&pushed.digest)));
        Ok(())
    }

    /// The push that must lose the race, 0.3 s before the step's own.
    async fn push_rival(&self, tag: &str, behavior: &str, labels: &mut Labels, report: &mut StepReport) {
        let image = format!("{}:{tag}", self.stage.spec.repository);
        if let Err(e) = self.push(&image, behavior, labels).await {
            report.problems.push(format!("push of {image} failed: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// The step's timing and final status, from following it.
    fn take_outcome(&self, followed: &Followed, report: &mut StepReport) {
        (report.wall, report.simulated_seconds) = followed.took;
        if followed.gave_up {
            report.problems.push(format!(
                "no terminal deployment record after {STEP_LIMIT_SIM_SECONDS} simulated seconds (last status: {})",
                followed.record.as_ref().map_or("none", |d| d.status.as_str())
            ));
        }
        if let Some(d) = &followed.record {
            report.failure_reason = d.failure_reason.clone();
            if d.status.is_terminal() {
                report.actual = Some(d.status);
            }
        }
        report.bus_events = followed.heard.bus_events;
        report.sns_messages = followed.heard.sns;
    }

    /// The fewest healthy tasks, of the service and of the serving version,
    /// from everything the simulator recorded while the step ran (and the
    /// state it started from).
    fn measure_healthy(&self, labels: &Labels, report: &mut StepReport) {
        let samples = self.stage.samples();
        let window = stage::since(&samples, self.sim0 / 1000);
        report.min_healthy = window.iter().map(|s| s.healthy).min();
        if let Some(serving) = &self.step.serving {
            report.min_serving = window.iter().map(|s| labels.healthy_of(s, serving)).min();
        }
    }

    /// The expected status, and healthy tasks never below the floor.
    fn check_outcome(&self, report: &mut StepReport) {
        let (step, floor) = (self.step, self.stage.floor);
        match report.actual {
            Some(a) if a == step.expected => {}
            Some(a) => report.problems.push(format!("expected {}, got {}", step.expected.as_str(), a.as_str())),
            None if report.problems.is_empty() => report.problems.push("no terminal deployment record".into()),
            None => {}
        }
        if let Some(m) = report.min_healthy.filter(|m| *m < floor) {
            report.problems.push(format!("healthy tasks fell to {m}, below the minimum of {floor}"));
        }
        if let (Some(serving), Some(m)) = (&step.serving, report.min_serving)
            && m < floor
        {
            report.problems.push(format!("{serving} fell to {m} healthy tasks while {} was tried", step.tag));
        }
    }

    /// Shows the rival push's timeline and checks that it was SUPERSEDED.
    async fn check_rival(&self, tag: &str, report: &mut StepReport) {
        let style = self.stage.out.style;
        match self.stage.record_of(tag).await {
            Some(d) => {
                for e in &d.timeline {
                    self.at("state", &format!("{tag}: {} {}", style.status(e.state, 12), e.detail));
                }
                if d.status != DeploymentStatus::Superseded {
                    report.problems.push(format!("{tag} should have been SUPERSEDED, is {}", d.status.as_str()));
                }
            }
            None => report.problems.push(format!("no deployment record for {tag}")),
        }
    }

    /// An outcome must reach the subscriber through both the bus and SNS.
    fn check_notified(&self, followed: &Followed, report: &mut StepReport) {
        if report.actual.is_some() && !followed.heard.bus_terminal {
            report.problems.push("the subscriber got no terminal event from the bus".into());
        }
        if report.actual.is_some() && followed.heard.sns == 0 {
            report.problems.push("the subscriber got no SNS message".into());
        }
    }

    fn print_result(&self, report: &StepReport) {
        let style = self.stage.out.style;
        let verdict = match report.actual {
            Some(a) => style.status(a, 0),
            None => style.bad("no outcome"),
        };
        self.at(
            "result",
            &format!(
                "{} {verdict} in {:.1} s ({} simulated s), fewest healthy {} (floor {})",
                report.image,
                report.wall.as_secs_f64(),
                report.simulated_seconds,
                report.min_healthy.map_or("-".into(), |m| m.to_string()),
                self.stage.floor
            ),
        );
    }
}

/// `sha256:0123456789ab…`
fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}…", hex.get(..12).unwrap_or(hex))
}
