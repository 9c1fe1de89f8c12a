//! Where the demo's lines go: every one through one writer. The first write
//! that fails (stdout closed, as by `demo | head`) closes the output: later
//! lines are dropped and [`Output::closed`] resolves, so the demo can stop
//! the way it stops on Ctrl-C instead of panicking as `println!` does.

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::watch;

use super::view::{self, Style};

/// The demo's lines, written in its [`Style`].
pub struct Output {
    pub(super) style: Style,
    /// A std `Mutex`: held only for one synchronous write, never across an await.
    sink: Mutex<Sink>,
    /// Becomes true at the first failed write.
    closed: watch::Sender<bool>,
}

struct Sink {
    writer: Box<dyn Write + Send>,
    /// The failed write's error; nothing is written after it.
    error: Option<io::Error>,
}

impl Output {
    /// Standard output, coloured if it is a terminal (see [`Style::detect`]).
    pub fn stdout() -> Self {
        Self::new(Style::detect(), io::stdout())
    }

    /// Any writer, e.g. a test's capture.
    pub fn new(style: Style, writer: impl Write + Send + 'static) -> Self {
        Self {
            style,
            sink: Mutex::new(Sink { writer: Box::new(writer), error: None }),
            closed: watch::Sender::new(false),
        }
    }

    pub(super) fn line(&self, s: &str) {
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        if sink.error.is_some() {
            return;
        }
        // One write per line, flushed, so a closed pipe shows at this line.
        let written = sink.writer.write_all(format!("{s}\n").as_bytes()).and_then(|()| sink.writer.flush());
        if let Err(e) = written {
            sink.error = Some(e);
            self.closed.send_replace(true);
        }
    }

    pub(super) fn title(&self, s: &str) {
        self.line(&self.style.bold(s));
    }

    /// `  +1.2s health  …`: a line of a step, `t0` being the step's start.
    pub(super) fn at(&self, t0: Instant, what: &str, text: &str) {
        self.line(&format!("{} {} {text}", view::offset(t0.elapsed()), self.style.dim(&format!("{what:<7}"))));
    }

    /// Resolves once a write has failed.
    pub async fn closed(&self) {
        let mut closed = self.closed.subscribe();
        // Fails only if the sender is dropped, and `self` owns it.
        let _ = closed.wait_for(|c| *c).await;
    }

    /// The error of the write that closed the output, if one did.
    pub fn take_error(&self) -> Option<io::Error> {
        self.sink.lock().unwrap_or_else(PoisonError::into_inner).error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails like a pipe whose reader has gone.
    struct Pipe {
        room: usize,
        got: std::sync::Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.room {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.room -= buf.len();
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_failed_write_closes_the_output() {
        let got = std::sync::Arc::new(Mutex::new(Vec::new()));
        let out = Output::new(Style::plain(), Pipe { room: 6, got: got.clone() });
        out.line("one");
        out.line("two");
        out.line("three");
        out.line("four");
        tokio::time::timeout(std::time::Duration::from_secs(1), out.closed()).await.expect("closed resolves");
        assert_eq!(String::from_utf8_lossy(&got.lock().unwrap()), "one\n");
        assert_eq!(out.take_error().map(|e| e.kind()), Some(io::ErrorKind::BrokenPipe));
    }
}
