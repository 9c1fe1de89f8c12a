//! What `history`, `show`, `why` and `watch` print for people: records in, text
//! out, no AWS, so that the snapshot tests see exactly what a person sees. No
//! line is wider than [`Style::width`]: identifiers too long for it are cut
//! with `…`, sentences are wrapped under their column.

use autodeploy_shared::domain::{
    Deployment, DeploymentStatus, Freeze, PushDecision, RequestKind, RolloutProgress, TargetGroupHealth, TimelineEntry,
    short_revision,
};
use chrono::{DateTime, Utc};

use crate::commands::{took, trigger, what, when};
use crate::output::{Style, columns, truncate, wrap};

/// Columns of a deployment id (`d-` + 24 hex digits).
const ID: usize = 26;
/// Columns of the longest status, so that entries printed one at a time align.
const STATUS: usize = 17;
/// Below this many columns left beside its status and time, a status line shows only those.
const MIN_PARTS: usize = 8;
/// Below this many columns for the image, a history row puts it on a line of its own.
const MIN_IMAGE: usize = 10;

/// The image columns worth a more compact history layout (longer images are cut).
const COMFORTABLE_IMAGE: usize = 32;

/// `autodeploy history`: one row per deployment, newest first. The richest
/// layout that leaves the images room is chosen: at 80 columns times lose
/// their seconds (then their year) and durations are written short.
pub fn history(service_key: &str, deployments: &[Deployment], style: &Style) -> String {
    if deployments.is_empty() {
        return format!("no deployments of {service_key}\n");
    }
    let status_w = deployments.iter().map(|d| d.status.as_str().len()).chain(["STATUS".len()]).max().unwrap_or(0);
    let images: Vec<String> = deployments.iter().map(what).collect();
    // Who or what started it, when that was not its push: beside the image, or below it.
    let triggers: Vec<Option<String>> = deployments.iter().map(trigger).collect();
    let image_w = images.iter().map(|i| columns(i)).max().unwrap_or(0);
    type Took = fn(&DateTime<Utc>, &DateTime<Utc>) -> String;
    let layouts: [(&str, Took); 3] =
        [("%Y-%m-%d %H:%M:%S", took), ("%Y-%m-%d %H:%M", short_took), ("%m-%d %H:%M", short_took)];
    let cells = |(time, took): (&str, Took)| -> Vec<(String, String)> {
        deployments
            .iter()
            .map(|d| (d.created_at.format(time).to_string(), took(&d.created_at, &d.updated_at)))
            .collect()
    };
    let widths = |cells: &[(String, String)]| {
        let started = cells.iter().map(|c| columns(&c.0)).chain(["STARTED".len()]).max().unwrap_or(0);
        let took = cells.iter().map(|c| columns(&c.1)).chain(["TOOK".len()]).max().unwrap_or(0);
        (started, took)
    };
    let fixed = |(started, took): (usize, usize)| ID + 2 + status_w + 2 + started + 2 + took + 2;
    let wanted = image_w.min(COMFORTABLE_IMAGE);
    let chosen = layouts
        .into_iter()
        .map(cells)
        .find(|c| style.width.is_none_or(|w| fixed(widths(c)) + wanted <= w))
        .unwrap_or_else(|| cells(layouts[layouts.len() - 1]));
    let (started_w, took_w) = widths(&chosen);
    let room = style.room(fixed((started_w, took_w)));
    // Too little room beside the other columns: the image gets a line of its own.
    let below = room.is_some_and(|r| r < MIN_IMAGE.min(image_w));
    let mut text =
        format!("{:<ID$}  {:<status_w$}  {:<started_w$}  {:>took_w$}", "DEPLOYMENT", "STATUS", "STARTED", "TOOK");
    text.push_str(if below { "\n" } else { "  IMAGE\n" });
    for (((d, image), (started, took)), by) in deployments.iter().zip(&images).zip(&chosen).zip(&triggers) {
        let row = format!(
            "{:<ID$}  {}  {started:<started_w$}  {took:>took_w$}",
            d.deployment_id.as_str(),
            style.status_padded(d.status, status_w)
        );
        let both = by.as_ref().map(|t| format!("{image} ({t})"));
        let fits = |text: &String| room.is_none_or(|r| columns(text) <= r);
        match both.filter(|b| !below && fits(b)) {
            Some(both) => text.push_str(&format!("{row}  {both}\n")),
            None => {
                if below {
                    text.push_str(&format!("{}\n    {}\n", row.trim_end(), truncate(image, style.room(4))));
                } else {
                    text.push_str(&format!("{row}  {}\n", truncate(image, room)));
                }
                if let Some(t) = by {
                    text.push_str(&format!("    {}\n", truncate(&format!("↳ {t}"), style.room(4))));
                }
            }
        }
    }
    text
}

/// `autodeploy show`: the record's fields, then its whole timeline.
pub fn show(d: &Deployment, style: &Style) -> String {
    let mut text = format!("{}  {}\n", truncate(d.deployment_id.as_str(), style.width), style.status(d.status));
    let mut rows = vec![
        ("service", format!("{}/{}", d.cluster, d.service)),
        (
            "image",
            d.tag.as_deref().map_or_else(|| format!("{} (no tag)", d.repository), |t| format!("{}:{t}", d.repository)),
        ),
        ("digest", d.digest.to_string()),
        ("found by", format!("{:?}", d.found_by).to_lowercase()),
    ];
    if let Some(r) = &d.request {
        let forced = if r.force { ", through a freeze" } else { "" };
        rows.push(("asked by", format!("{} ({}{forced})", r.by, r.kind)));
        if let Some(reason) = &r.reason {
            rows.push(("because", reason.clone()));
        }
        if let (Some(td), Some(of)) = (&r.task_definition, &r.rollback_to) {
            rows.push(("back to", format!("{}, the revision of {of}", short_revision(td))));
        }
    }
    if let Some(td) = &d.previous_task_definition {
        rows.push(("previous", short_revision(td).to_owned()));
    }
    if let Some(td) = &d.new_task_definition {
        rows.push(("new", short_revision(td).to_owned()));
    }
    if let Some(s) = &d.strategy {
        rows.push(("strategy", s.to_string()));
    }
    if let Some(a) = &d.approval {
        let state = match a.outcome {
            Some(o) => format!("{o} {}", a.decided_how()),
            None => format!(
                "waiting since {}{}",
                when(&a.requested_at),
                a.expires_at.map_or_else(String::new, |e| format!(", until {}", when(&e)))
            ),
        };
        rows.push(("approval", state));
    }
    if let Some(p) = &d.progress {
        rows.push(("progress", p.line()));
    }
    if let Some(r) = &d.failure_reason {
        rows.push(("reason", r.clone()));
    }
    if let Some(by) = &d.superseded_by {
        rows.push(("replaced", format!("by {by}")));
    }
    for g in &d.target_health {
        rows.push((
            "targets",
            format!("{} {}/{} healthy", group_name(&g.target_group_arn), g.healthy_count, g.desired_count),
        ));
    }
    for (key, value) in rows {
        text.push_str(&indented(&format!("{key:<10}"), 10, &value, style));
    }
    // One date for the whole timeline when it has one (most do).
    let day = |t: &DateTime<Utc>| t.date_naive();
    let one_day = d.timeline.first().is_some_and(|first| d.timeline.iter().all(|e| day(&e.at) == day(&first.at)));
    match d.timeline.first() {
        Some(first) if one_day => text.push_str(&format!("timeline  {} (UTC)\n", first.at.format("%Y-%m-%d"))),
        _ => text.push_str("timeline  (UTC)\n"),
    }
    let time = if one_day { "%H:%M:%S" } else { "%Y-%m-%d %H:%M:%S" };
    let status_w = d.timeline.iter().map(|e| e.state.as_str().len()).max().unwrap_or(0);
    for e in &d.timeline {
        let at = e.at.format(time).to_string();
        let head = format!("  {at}  {}  ", style.status_padded(e.state, status_w));
        text.push_str(&indented(&head, 2 + columns(&at) + 2 + status_w + 2, &e.detail, style));
    }
    text
}

/// `autodeploy why`: each decision about the push, with where its
/// deployment stands now.
pub fn why(image: &str, rows: &[(PushDecision, Option<DeploymentStatus>)], style: &Style) -> String {
    if rows.is_empty() {
        let line =
            format!("nothing was decided about {image}: no push of it reached the stack (or its records expired)");
        return wrap(&line, style.width).join("\n") + "\n";
    }
    let mut text = String::new();
    for (d, now) in rows {
        let what = d.tag.as_deref().map_or_else(|| d.digest.to_string(), |t| format!("{}:{t}", d.repository));
        let target = d.target_id.as_deref().unwrap_or("-");
        let line = format!("{what} → {target}: {} ({}) — {}", d.outcome, d.source, d.reason);
        let at = when(&d.decided_at);
        text.push_str(&indented(&format!("{at}  "), columns(&at) + 2, &line, style));
        if let (Some(id), Some(status)) = (&d.deployment_id, now) {
            text.push_str(&format!("{:21}deployment {id} is {}\n", "", style.status(*status)));
        }
    }
    text
}

/// `autodeploy watch CLUSTER/SERVICE` when nothing of the service is in
/// flight: its latest deployment, if it has any.
pub fn nothing_in_flight(service_key: &str, latest: Option<&Deployment>, style: &Style) -> String {
    let Some(d) = latest else {
        return format!("no deployments of {service_key}\n");
    };
    let line = format!(
        "nothing of {service_key} is in flight: its latest deployment, {} ({}), is {}",
        d.deployment_id,
        what(d),
        d.status
    );
    let mut text = wrap(&line, style.width).join("\n");
    if style.color {
        text = text.replace(d.status.as_str(), &style.status(d.status));
    }
    text + "\n"
}

/// One timeline entry as `watch` prints it when it appears: wrapped under its
/// detail column on a terminal, one line (cut to the width) in a log.
pub fn entry(e: &TimelineEntry, style: &Style, one_line: bool) -> String {
    let head = format!("{}  {}  ", e.at.format("%H:%M:%S"), style.status_padded(e.state, STATUS));
    let used = 8 + 2 + STATUS + 2;
    if one_line {
        format!("{head}{}\n", truncate(&e.detail, style.room(used)))
    } else {
        indented(&head, used, &e.detail, style)
    }
}

/// The line `watch` redraws in place on a terminal: how long the deployment
/// has taken (until `now` while it runs), its status, the rollout's stage and
/// production traffic, and the healthy tasks of each target group. Never
/// wider than the width (a line that wrapped could not be redrawn).
pub fn status_line(d: &Deployment, now: DateTime<Utc>, style: &Style) -> String {
    let ended = d.status.is_terminal();
    let elapsed = short_took(&d.created_at, if ended { &d.updated_at } else { &now });
    let mut parts: Vec<String> = Vec::new();
    // Where the rollout stood is history once the deployment has ended.
    if let Some(p) = d.progress.as_ref().filter(|_| !ended) {
        parts.extend(progress(p));
    }
    if !d.target_health.is_empty() {
        parts.push(health(&d.target_health));
    }
    let head = format!("{}  {elapsed}", style.status(d.status));
    let used = d.status.as_str().len() + 2 + columns(&elapsed);
    let plain = format!("{}  {elapsed}", d.status);
    if style.width.is_some_and(|w| columns(&plain) > w) {
        return truncate(&plain, style.width);
    }
    match style.room(used + 2) {
        Some(room) if room < MIN_PARTS => head,
        _ if parts.is_empty() => head,
        room => format!("{head}  {}", truncate(&parts.join("  "), room)),
    }
}

/// The stage, what ECS waits at, and the production traffic on the new revision.
fn progress(p: &RolloutProgress) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(stage) = &p.lifecycle_stage {
        parts.push(stage.to_string());
    }
    if let Some(paused) = &p.paused {
        parts.push(format!("paused at hook {}", paused.hook_id));
    }
    if let Some(w) = p.production_traffic_weight {
        parts.push(format!("traffic {} %", percent(w)));
    }
    parts
}

/// `web 2/3 healthy`, `web 3/3, web-green 1/3 healthy`.
fn health(groups: &[TargetGroupHealth]) -> String {
    let counts: Vec<String> = groups
        .iter()
        .map(|g| format!("{} {}/{}", group_name(&g.target_group_arn), g.healthy_count, g.desired_count))
        .collect();
    format!("{} healthy", counts.join(", "))
}

/// `arn:…:targetgroup/web/0123abcd` → `web`.
pub fn group_name(arn: &str) -> &str {
    arn.split_once("targetgroup/").map_or(arn, |(_, rest)| rest.split('/').next().unwrap_or(rest))
}

/// `10.0` → `10`, `2.5` → `2.5`.
fn percent(w: f64) -> String {
    let s = format!("{w:.1}");
    s.strip_suffix(".0").map_or_else(|| s.clone(), str::to_owned)
}

/// `42s`, `3m05s`, `2h04m`: a duration in at most 6 columns.
fn short_took(from: &DateTime<Utc>, to: &DateTime<Utc>) -> String {
    let s = (*to - *from).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// `head` (`used` columns wide), then `text` wrapped to the width with its
/// further lines indented by `used`.
fn indented(head: &str, used: usize, text: &str, style: &Style) -> String {
    let mut out = String::new();
    for (i, line) in wrap(text, style.room(used)).iter().enumerate() {
        let lead = if i == 0 { head.to_owned() } else { " ".repeat(used) };
        out.push_str(format!("{lead}{line}").trim_end());
        out.push('\n');
    }
    out
}

/// `autodeploy freeze`: the freeze in force (`already`: it was frozen before).
pub fn frozen(service: &str, freeze: &Freeze, already: bool, style: &Style) -> String {
    let how = if already { "was frozen already" } else { "frozen" };
    let mut text = format!("{service} {how} since {} UTC\n", freeze.at.format("%Y-%m-%d %H:%M:%S"));
    text.push_str(&indented("  by   ", 7, &freeze.by, style));
    text.push_str(&indented("  why  ", 7, &freeze.reason, style));
    text.push_str(&indented(
        "",
        0,
        "No rollout of it starts now: pushes wait HELD; the newest deploys on unfreeze.",
        style,
    ));
    text
}

/// `autodeploy unfreeze`: the freeze it ended, and the held push it released.
pub fn unfrozen(service: &str, ended: Option<&Freeze>, released: Option<&str>, style: &Style) -> String {
    let mut text = match ended {
        None => format!("{service} was not frozen\n"),
        Some(f) => {
            let mut t = format!("{service} unfrozen (frozen since {} UTC)\n", f.at.format("%Y-%m-%d %H:%M:%S"));
            t.push_str(&indented("  by   ", 7, &f.by, style));
            t.push_str(&indented("  why  ", 7, &f.reason, style));
            t
        }
    };
    if let Some(id) = released {
        text.push_str(&format!("the newest held push deploys now: {id}\n  autodeploy watch {id}\n"));
    }
    text
}

/// `autodeploy deploy|rollback` without `--wait`: what was asked for.
pub fn requested(d: &Deployment, fresh: bool, style: &Style) -> String {
    let kind = match d.request.as_ref().map(|r| r.kind) {
        Some(RequestKind::Rollback) => "rollback",
        _ => "deploy",
    };
    let again = if fresh { "" } else { " (asked before: the same deployment)" };
    let mut text = format!("{kind} of {} to {}: {}{again}\n", what(d), d.service_key, d.deployment_id);
    if let Some(td) = d.request.as_ref().and_then(|r| r.task_definition.as_deref()) {
        text.push_str(&indented("  revision ", 11, short_revision(td), style));
    }
    text.push_str(&indented("  status   ", 11, d.status.as_str(), style));
    text.push_str(&format!("  autodeploy watch {}\n", d.deployment_id));
    text
}

/// Erases the line the cursor is on (the status line) and returns to its start.
const ERASE: &str = "\r\u{1b}[2K";

/// What a follow has printed, and what it prints next for a record.
pub struct Screen {
    style: Style,
    tty: bool,
    /// Timeline entries printed so far.
    shown: usize,
    /// Whether a status line is on the screen (without its newline).
    drawn: bool,
}

impl Screen {
    pub fn new(style: Style, tty: bool) -> Self {
        Self { style, tty, shown: 0, drawn: false }
    }

    /// The text to write for record `d`, read at `now`: the entries not yet
    /// printed; on a terminal the status line, erased and drawn again under
    /// them, kept (with its newline) once the deployment has ended.
    pub fn update(&mut self, d: &Deployment, now: DateTime<Utc>) -> String {
        let mut text = String::new();
        if self.drawn {
            text.push_str(ERASE);
            self.drawn = false;
        }
        for e in d.timeline.iter().skip(self.shown) {
            text.push_str(&entry(e, &self.style, !self.tty));
        }
        self.shown = self.shown.max(d.timeline.len());
        if self.tty {
            text.push_str(&status_line(d, now, &self.style));
            if d.status.is_terminal() {
                text.push('\n');
            } else {
                self.drawn = true;
            }
        }
        text
    }

    /// Ends the status line on the screen, if one is, so that what follows
    /// starts on a line of its own.
    pub fn finish(&mut self) -> String {
        if std::mem::take(&mut self.drawn) { "\n".to_owned() } else { String::new() }
    }
}

#[cfg(test)]
pub(crate) mod tests;
