use std::future::Future;
use std::time::Duration;

use crate::error::Result;

/// What one request got: a status, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    Status(u16),
    /// No answer: refused, timed out, TLS or DNS failure, in one line.
    NoAnswer(String),
}

/// HTTP GETs of a URL a service owner names, to check a release the way its
/// users reach it. Redirects are not followed (a 3xx is the answer) and no
/// credentials are sent.
pub trait HttpProbe: Send + Sync {
    /// One GET; an endpoint that does not answer is an outcome, not an error.
    fn get(&self, url: &str, timeout: Duration) -> impl Future<Output = Result<ProbeOutcome>> + Send;
}
