//! A function's log lines: what `lambda_runtime::tracing::init_default_subscriber`
//! writes (no target, no time, JSON under `AWS_LAMBDA_LOG_FORMAT=JSON`), with
//! the level read without a regular expression engine.
//!
//! Why not the runtime's own: its filter is `tracing-subscriber`'s
//! `EnvFilter`, which links `regex-automata` and `regex-syntax` (about 190 KB
//! of code and its unwind tables in every function) to parse one level. Here
//! `RUST_LOG` (the template's `LogLevel`) is a [`Targets`] list, `info` or
//! `warn,autodeploy_shared=debug`; without it, `AWS_LAMBDA_LOG_LEVEL`; else INFO.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::Vars;

/// The variables the filter and the format come from.
pub struct LogSettings {
    /// `RUST_LOG`.
    pub rust_log: Option<String>,
    /// `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls).
    pub lambda_level: Option<String>,
    /// `AWS_LAMBDA_LOG_FORMAT`: `JSON` or `Text`.
    pub lambda_format: Option<String>,
}

impl LogSettings {
    pub fn from_vars(vars: &impl Vars) -> Self {
        Self {
            rust_log: vars.var("RUST_LOG"),
            lambda_level: vars.var("AWS_LAMBDA_LOG_LEVEL"),
            lambda_format: vars.var("AWS_LAMBDA_LOG_FORMAT"),
        }
    }

    /// What is written: `RUST_LOG` when it parses, then Lambda's level, then INFO.
    pub fn filter(&self) -> Targets {
        if let Some(targets) =
            self.rust_log.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| Targets::from_str(s).ok())
        {
            return targets;
        }
        let level =
            self.lambda_level.as_deref().and_then(|l| LevelFilter::from_str(l).ok()).unwrap_or(LevelFilter::INFO);
        Targets::new().with_default(level)
    }

    pub fn json(&self) -> bool {
        self.lambda_format.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("json"))
    }
}

/// The subscriber writing a function's lines to `writer`: a JSON object per
/// event (with the current span and its parents, so the deployment id is on
/// every line of a step) when Lambda asks for JSON, else text.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_target(false).without_time().with_ansi(false).with_writer(writer);
    let registry = tracing_subscriber::registry().with(settings.filter());
    if settings.json() { Box::new(registry.with(fmt.json())) } else { Box::new(registry.with(fmt)) }
}

/// Installs [`subscriber`] for the process. Once per process; a second call
/// (or another subscriber already set, a test's) changes nothing.
pub fn init<W>(settings: &LogSettings, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let _ = subscriber(settings, writer).try_init();
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    fn settings(rust_log: Option<&str>, lambda_level: Option<&str>) -> LogSettings {
        LogSettings {
            rust_log: rust_log.map(Into::into),
            lambda_level: lambda_level.map(Into::into),
            lambda_format: None,
        }
    }

    fn allows(filter: &Targets, level: Level, target: &str) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn rust_log_wins_over_lambdas_level() {
        let f = settings(Some("debug"), Some("ERROR")).filter();
        assert!(allows(&f, Level::DEBUG, "autodeploy_shared::steps"));
        assert!(!allows(&f, Level::TRACE, "autodeploy_shared::steps"));
    }

    #[test]
    fn the_templates_upper_case_levels_parse() {
        let f = settings(Some("ERROR"), None).filter();
        assert!(allows(&f, Level::ERROR, "autodeploy_shared::steps"));
        assert!(!allows(&f, Level::WARN, "autodeploy_shared::steps"));
        assert!(allows(&settings(Some("TRACE"), None).filter(), Level::TRACE, "x"));
    }

    #[test]
    fn rust_log_may_name_targets() {
        let f = settings(Some("warn,autodeploy_shared=debug"), None).filter();
        assert!(allows(&f, Level::DEBUG, "autodeploy_shared::steps"));
        assert!(!allows(&f, Level::INFO, "aws_smithy_runtime"));
        assert!(allows(&f, Level::WARN, "aws_smithy_runtime"));
    }

    #[test]
    fn lambdas_level_then_info() {
        assert!(!allows(&settings(None, Some("WARN")).filter(), Level::INFO, "x"));
        assert!(allows(&settings(None, Some("WARN")).filter(), Level::WARN, "x"));
        // FATAL is Lambda's, not tracing's: the default.
        assert!(allows(&settings(None, Some("FATAL")).filter(), Level::INFO, "x"));
        assert!(!allows(&settings(None, None).filter(), Level::DEBUG, "x"));
        assert!(allows(&settings(Some(""), None).filter(), Level::INFO, "x"));
    }

    #[test]
    fn an_unparsable_rust_log_falls_back() {
        let f = settings(Some("=="), Some("debug")).filter();
        assert!(allows(&f, Level::DEBUG, "x"));
    }

    #[test]
    fn json_only_when_lambda_says_so() {
        let mut s = settings(None, None);
        assert!(!s.json());
        s.lambda_format = Some("JSON".into());
        assert!(s.json());
        s.lambda_format = Some("Text".into());
        assert!(!s.json());
    }

    /// What a step writes, as one buffer of lines.
    #[derive(Clone, Default)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Lines {
        type Writer = Lines;
        fn make_writer(&'w self) -> Lines {
            self.clone()
        }
    }

    #[test]
    fn a_json_line_carries_its_level_and_the_deployment_of_its_span() {
        let lines = Lines::default();
        let s = LogSettings { rust_log: Some("INFO".into()), lambda_level: None, lambda_format: Some("JSON".into()) };
        tracing::subscriber::with_default(subscriber(&s, lines.clone()), || {
            let span = tracing::info_span!("step", step = "update-service", deployment = "d-1");
            let _entered = span.enter();
            tracing::info!(revision = 7, "service updated");
            tracing::debug!("not written at INFO");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let written: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(written.len(), 1, "{text}");
        let line = &written[0];
        // Lambda's JSON filter reads `level`; an object without it counts as INFO.
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "service updated");
        assert_eq!(line["span"]["deployment"], "d-1");
        assert_eq!(line["spans"][0]["step"], "update-service");
        assert!(line.get("target").is_none() && line.get("timestamp").is_none(), "{line}");
    }
}
