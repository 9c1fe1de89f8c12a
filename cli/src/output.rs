//! Text for people (colour only on a terminal, never with NO_COLOR), JSON for
//! programs; and the width text for people must fit.

use std::io::IsTerminal;

use autodeploy_shared::domain::DeploymentStatus;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct Output {
    pub format: Format,
    /// Whether stdout is a terminal (a person watching, not a CI log).
    tty: bool,
    style: Style,
}

impl Output {
    pub fn new(format: Format) -> Self {
        let tty = std::io::stdout().is_terminal();
        let color = format == Format::Text && tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self { format, tty, style: Style { width: width(tty), color } }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// Whether stdout is a terminal: lines may be redrawn in place.
    pub fn tty(&self) -> bool {
        self.tty
    }

    /// How text for people is laid out on this stdout.
    pub fn style(&self) -> Style {
        self.style
    }

    /// One JSON document on stdout.
    pub fn document(&self, value: &impl Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("autodeploy: cannot print JSON: {e}"),
        }
    }

    /// A status, coloured by what it means when colour is on.
    pub fn status(&self, status: DeploymentStatus) -> String {
        self.style.status(status)
    }
}

/// How text for people is laid out: the width no line may exceed (`None`:
/// lines are as long as they are) and whether statuses are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub width: Option<usize>,
    pub color: bool,
}

impl Style {
    /// No colour, lines at most `width` wide: what the snapshot tests render.
    #[cfg(test)]
    pub fn plain(width: usize) -> Self {
        Self { width: Some(width), color: false }
    }

    /// A status, coloured by what it means when colour is on.
    pub fn status(&self, status: DeploymentStatus) -> String {
        let text = status.as_str();
        if !self.color {
            return text.to_owned();
        }
        let code = match status {
            DeploymentStatus::Succeeded | DeploymentStatus::Noop => "32",
            DeploymentStatus::Failed | DeploymentStatus::Rejected => "31",
            DeploymentStatus::RolledBack | DeploymentStatus::Superseded | DeploymentStatus::RollingBack => "33",
            DeploymentStatus::AwaitingApproval | DeploymentStatus::Held => "35",
            _ => "36",
        };
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    }

    /// A status padded to `width` columns (the padding counts the plain text,
    /// not the colour codes).
    pub fn status_padded(&self, status: DeploymentStatus, width: usize) -> String {
        let pad = " ".repeat(width.saturating_sub(status.as_str().len()));
        format!("{}{pad}", self.status(status))
    }

    /// The columns left for text that starts at column `used`: `None` when
    /// lines are not limited.
    pub fn room(&self, used: usize) -> Option<usize> {
        self.width.map(|w| w.saturating_sub(used))
    }
}

/// The width of stdout's lines: the terminal's, else `COLUMNS` (so a CI job
/// or a test can ask for 80), else unlimited for a log (`None`); a terminal
/// whose size cannot be read counts as 80.
pub fn width(tty: bool) -> Option<usize> {
    let terminal = if tty { terminal_size::terminal_size_of(std::io::stdout()) } else { None };
    if let Some((terminal_size::Width(w), _)) = terminal
        && w > 0
    {
        return Some(w.into());
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|w| *w > 0);
    columns.or(tty.then_some(80))
}

/// The columns `text` takes (every character one column: the records are
/// ASCII but for a few symbols such as `→` and `…`).
pub fn columns(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to at most `room` columns, its end replaced by `…` when cut.
pub fn truncate(text: &str, room: Option<usize>) -> String {
    match room {
        Some(room) if columns(text) > room => {
            let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
            if room > 0 {
                cut.push('…');
            }
            cut
        }
        _ => text.to_owned(),
    }
}

/// The fewest columns a word too long for any line is cut to at the end of a
/// line (rather than on a line of its own).
const MIN_CUT: usize = 16;

/// `text` in lines of at most `room` columns, broken between words; a word
/// longer than a whole line (a digest, an ARN) is cut with `…`. One line
/// when `room` is `None`.
pub fn wrap(text: &str, room: Option<usize>) -> Vec<String> {
    let Some(room) = room else {
        return vec![text.to_owned()];
    };
    // Too narrow to wrap sensibly: cut instead.
    if room < 12 {
        return vec![truncate(text, Some(room))];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let left = room.saturating_sub(columns(&line) + 1);
        if line.is_empty() {
            line = truncate(word, Some(room));
        } else if columns(word) <= left {
            line.push(' ');
            line.push_str(word);
        } else if columns(word) > room && left >= MIN_CUT {
            // Cut on this line rather than on a line of its own.
            line.push(' ');
            line.push_str(&truncate(word, Some(left)));
        } else {
            lines.push(std::mem::replace(&mut line, truncate(word, Some(room))));
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_or_wrapped_to_the_room() {
        assert_eq!(truncate("web:v2", Some(6)), "web:v2");
        assert_eq!(truncate("web:v20", Some(6)), "web:v…");
        assert_eq!(truncate("web:v20", None), "web:v20");
        assert_eq!(truncate("web", Some(0)), "");
        let digest = format!("sha256:{}", "ab".repeat(32));
        let lines = wrap(&format!("web:v2 pushed ({digest}) from ci"), Some(30));
        assert_eq!(lines, ["web:v2 pushed (sha256:abababa…", "from ci"]);
        let lines = wrap(&format!("web:v2 was pushed as ({digest})"), Some(30));
        assert_eq!(lines, ["web:v2 was pushed as", "(sha256:ababababababababababa…"]);
        assert!(lines.iter().all(|l| columns(l) <= 30));
        assert_eq!(wrap("a  b", None), ["a  b"]);
        assert_eq!(wrap("", Some(20)), [""]);
    }

    #[test]
    fn padding_ignores_colour_codes() {
        let color = Style { width: None, color: true };
        let padded = color.status_padded(DeploymentStatus::Failed, 10);
        assert!(padded.starts_with("\u{1b}[31mFAILED\u{1b}[0m") && padded.ends_with("    "), "{padded:?}");
        assert_eq!(Style::plain(80).status_padded(DeploymentStatus::Failed, 8), "FAILED  ");
        assert_eq!(Style::plain(80).room(30), Some(50));
    }
}
