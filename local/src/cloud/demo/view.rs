//! How the demo prints: plain text that reads the same in a terminal, a pipe
//! or a log file; colour only on a terminal (and never with `NO_COLOR`).

use std::io::IsTerminal;
use std::time::Duration;

use autodeploy_shared::domain::DeploymentStatus;

/// Colour switch, decided once.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

impl Style {
    pub fn detect() -> Self {
        Self { colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }

    pub fn plain() -> Self {
        Self { colour: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.colour { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    pub fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }

    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }

    pub fn bad(&self, s: &str) -> String {
        self.paint("31", s)
    }

    /// A deployment status, padded to `width` before colouring.
    pub fn status(&self, status: DeploymentStatus, width: usize) -> String {
        let padded = format!("{:<width$}", status.as_str());
        match status {
            DeploymentStatus::Succeeded | DeploymentStatus::Noop => self.good(&padded),
            DeploymentStatus::RollingBack | DeploymentStatus::RolledBack | DeploymentStatus::Superseded => {
                self.warn(&padded)
            }
            DeploymentStatus::Failed | DeploymentStatus::Rejected => self.bad(&padded),
            DeploymentStatus::Pending
            | DeploymentStatus::AwaitingApproval
            | DeploymentStatus::Queued
            | DeploymentStatus::Held
            | DeploymentStatus::Registering
            | DeploymentStatus::Updating
            | DeploymentStatus::Waiting => padded,
        }
    }
}

/// `+12.3s`, the offset from the start of a step.
pub fn offset(d: Duration) -> String {
    format!("{:>+7.1}s", d.as_secs_f64())
}

/// Tasks of one image version at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionHealth {
    pub label: String,
    pub healthy: i64,
    /// Running or starting but not (yet) healthy.
    pub unhealthy: i64,
    pub draining: i64,
    /// Percent of production traffic the load balancer sends it (traffic-shifting strategies).
    pub production_traffic: Option<i64>,
}

/// `v2 ████░░ 4 healthy, 2 not healthy` for one version.
pub fn version_bar(v: &VersionHealth) -> String {
    let count = |n: i64| usize::try_from(n).unwrap_or(0).min(16);
    let bar =
        format!("{}{}{}", "█".repeat(count(v.healthy)), "░".repeat(count(v.unhealthy)), "▒".repeat(count(v.draining)));
    let mut text = format!("{} {bar} {} healthy", v.label, v.healthy);
    if v.unhealthy > 0 {
        text.push_str(&format!(", {} not healthy", v.unhealthy));
    }
    if v.draining > 0 {
        text.push_str(&format!(", {} draining", v.draining));
    }
    if let Some(w) = v.production_traffic {
        text.push_str(&format!(", {w} % of production traffic"));
    }
    text
}

/// The whole service: every version's bar, then the total against the floor.
pub fn health_line(style: &Style, versions: &[VersionHealth], floor: i64) -> String {
    let healthy: i64 = versions.iter().map(|v| v.healthy).sum();
    let bars = versions.iter().map(version_bar).collect::<Vec<_>>().join(" | ");
    let total = format!("[{healthy} healthy, floor {floor}]");
    let total = if healthy < floor { style.bad(&total) } else { style.dim(&total) };
    format!("{bars}  {total}")
}

/// A fixed-width table: a header row, a rule, then the rows.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| (*h).to_owned()).collect())];
    out.push(widths.iter().map(|w| "─".repeat(*w)).collect::<Vec<_>>().join("  "));
    out.extend(rows.iter().map(|r| line(r.clone())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_healthy_unhealthy_and_draining() {
        let v = VersionHealth { label: "v3".into(), healthy: 1, unhealthy: 2, draining: 1, production_traffic: None };
        assert_eq!(version_bar(&v), "v3 █░░▒ 1 healthy, 2 not healthy, 1 draining");
        let line = health_line(
            &Style::plain(),
            &[VersionHealth { label: "v2".into(), healthy: 4, unhealthy: 0, draining: 0, production_traffic: None }, v],
            2,
        );
        assert_eq!(line, "v2 ████ 4 healthy | v3 █░░▒ 1 healthy, 2 not healthy, 1 draining  [5 healthy, floor 2]");
    }

    #[test]
    fn bars_show_the_production_traffic_of_a_traffic_shift() {
        let v =
            VersionHealth { label: "v2".into(), healthy: 4, unhealthy: 0, draining: 0, production_traffic: Some(10) };
        assert_eq!(version_bar(&v), "v2 ████ 4 healthy, 10 % of production traffic");
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(&["a", "bb"], &[vec!["ccc".into(), "d".into()]]);
        assert_eq!(t, vec!["a    bb", "───  ──", "ccc  d"]);
    }
}
