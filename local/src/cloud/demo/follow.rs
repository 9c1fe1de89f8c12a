//! Follows a step's deployment until its outcome, showing each source on its
//! own kind of line: the record's timeline (`state`), the service's tasks
//! (`health`), and what the subscriber hears (`bus`, `sns`).

use std::time::{Duration, Instant};

use autodeploy_shared::domain::Deployment;

use super::labels::Labels;
use super::step::StepRun;
use super::subscriber::Notification;
use super::view::{self, VersionHealth};

/// Simulated seconds a step may take before the demo gives up on it
/// (longer than any rollout plus rollback of the demo service).
pub(super) const STEP_LIMIT_SIM_SECONDS: i64 = 1200;
/// Real seconds to wait after the terminal status for the service to settle
/// and the notifications to arrive.
const SETTLE_SECONDS: u64 = 20;

/// What the subscriber heard about the current step's deployment.
#[derive(Default)]
pub(super) struct Heard {
    pub(super) bus_events: usize,
    pub(super) bus_terminal: bool,
    pub(super) sns: usize,
}

/// What following a step has seen so far.
#[derive(Default)]
pub(super) struct Followed {
    /// The step's deployment record, as last read.
    pub(super) record: Option<Deployment>,
    pub(super) heard: Heard,
    /// Real and simulated seconds from the start of the step to the terminal
    /// status (or to giving up).
    pub(super) took: (Duration, i64),
    /// No terminal status within [`STEP_LIMIT_SIM_SECONDS`].
    pub(super) gave_up: bool,
    /// Timeline entries already shown.
    printed: usize,
    /// Health last shown.
    last_health: Option<Vec<VersionHealth>>,
    terminal_at: Option<Instant>,
}

impl StepRun<'_> {
    /// Polls the record, the service and the subscriber every 200 ms until
    /// the record is terminal and the service and the notifications have
    /// settled, or the step runs out of simulated time.
    pub(super) async fn follow(&self, labels: &Labels) -> Followed {
        let mut f = Followed::default();
        loop {
            self.read_record(&mut f).await;
            self.show_health(&mut f, labels);
            self.listen(&mut f).await;
            if let Some(at) = f.terminal_at {
                let heard_all = f.heard.bus_terminal && f.heard.sns > 0;
                if (self.service_settled(&f) && heard_all) || at.elapsed() > Duration::from_secs(SETTLE_SECONDS) {
                    return f;
                }
            } else if self.simulated_seconds() > STEP_LIMIT_SIM_SECONDS {
                f.took = (self.t0.elapsed(), self.simulated_seconds());
                f.gave_up = true;
                return f;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn simulated_seconds(&self) -> i64 {
        (self.stage.cloud.sim.now() - self.sim0) / 1000
    }

    /// Shows the record's new timeline entries; notes when it turns terminal.
    async fn read_record(&self, f: &mut Followed) {
        let Some(d) = self.stage.record_of(&self.step.tag).await else { return };
        let style = self.stage.out.style;
        for e in d.timeline.iter().skip(f.printed) {
            self.at("state", &format!("{} {}", style.status(e.state, 12), e.detail));
        }
        f.printed = f.printed.max(d.timeline.len());
        if d.status.is_terminal() && f.terminal_at.is_none() {
            f.terminal_at = Some(Instant::now());
            f.took = (self.t0.elapsed(), self.simulated_seconds());
        }
        f.record = Some(d);
    }

    /// Shows the service's tasks per version when they changed.
    fn show_health(&self, f: &mut Followed, labels: &Labels) {
        let Some(sample) = self.stage.latest_sample() else { return };
        let versions = labels.versions(&sample);
        if f.last_health.as_ref() != Some(&versions) {
            self.at("health", &view::health_line(&self.stage.out.style, &versions, self.stage.floor));
            f.last_health = Some(versions);
        }
    }

    /// One version, every task healthy, nothing starting or draining.
    fn service_settled(&self, f: &Followed) -> bool {
        let desired = i64::from(self.stage.spec.desired);
        f.last_health
            .as_ref()
            .is_some_and(|v| v.len() == 1 && v[0].healthy == desired && v[0].unhealthy == 0 && v[0].draining == 0)
    }

    async fn listen(&self, f: &mut Followed) {
        match self.stage.subscriber.receive().await {
            Ok(notes) => {
                let ours = f.record.as_ref().map(|d| d.deployment_id.to_string());
                self.show_notifications(notes, ours.as_deref(), &mut f.heard);
            }
            Err(e) => self.at("sqs", &self.stage.out.style.bad(&e.to_string())),
        }
    }

    /// Shows what the subscriber received: the bus events of one poll on one
    /// line per deployment, SNS messages with their text (up to the timeline,
    /// which the state lines already showed). Counts in `heard` what concerns
    /// the step's deployment `ours`.
    fn show_notifications(&self, notes: Vec<Notification>, ours: Option<&str>, heard: &mut Heard) {
        let style = self.stage.out.style;
        let mut bus: Vec<(String, Vec<_>)> = Vec::new();
        let mut sns: Vec<(String, String)> = Vec::new();
        for n in notes {
            match n {
                Notification::Bus { deployment_id, status, tag } => {
                    if Some(deployment_id.as_str()) == ours || tag.as_deref() == Some(self.step.tag.as_str()) {
                        heard.bus_events += 1;
                        heard.bus_terminal |= status.is_terminal();
                    }
                    match bus.iter_mut().find(|(id, _)| *id == deployment_id) {
                        Some((_, statuses)) => statuses.push(status),
                        None => bus.push((deployment_id, vec![status])),
                    }
                }
                Notification::Sns { subject, message } => {
                    if subject.contains(&self.image) {
                        heard.sns += 1;
                    }
                    sns.push((subject, message));
                }
            }
        }
        for (id, statuses) in bus {
            let statuses: Vec<String> = statuses.into_iter().map(|s| style.status(s, 0)).collect();
            self.at("bus", &format!("Deployment State Change {}  ({id})", statuses.join(", ")));
        }
        for (subject, message) in sns {
            self.at("sns", &format!("“{subject}”"));
            let body = message.lines().take_while(|l| !l.starts_with("Timeline")).filter(|l| !l.trim().is_empty());
            for l in body {
                self.stage.out.line(&format!("{:>17}{}", "", style.dim(l)));
            }
        }
    }
}
