//! Text for people (colour only on a terminal, never with NO_COLOR), JSON for programs.

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
    color: bool,
}

impl Output {
    pub fn new(format: Format) -> Self {
        let color = format == Format::Text
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self { format, color }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
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
}
