//! Where the demo's lines go.

use std::time::Instant;

use super::view::{self, Style};

/// Prints the demo's lines in its [`Style`].
pub(super) struct Output {
    pub(super) style: Style,
}

impl Output {
    pub(super) fn new(style: Style) -> Self {
        Self { style }
    }

    pub(super) fn line(&self, s: &str) {
        println!("{s}");
    }

    pub(super) fn title(&self, s: &str) {
        println!("{}", self.style.bold(s));
    }

    /// `  +1.2s health  …`: a line of a step, `t0` being the step's start.
    pub(super) fn at(&self, t0: Instant, what: &str, text: &str) {
        println!("{} {} {text}", view::offset(t0.elapsed()), self.style.dim(&format!("{what:<7}")));
    }
}
