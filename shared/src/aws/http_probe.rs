//! [`HttpProbe`] over reqwest (rustls with *ring*, the platform's roots).

use std::time::Duration;

use crate::DeployError;
use crate::error::Result;
use crate::ports::{HttpProbe, ProbeOutcome};

/// One client per process: its connection pool outlives invocations.
#[derive(Debug, Clone)]
pub struct ReqwestProbe {
    client: reqwest::Client,
}

impl ReqwestProbe {
    pub fn new() -> Result<Self> {
        // reqwest is built without a cryptography provider of its own (it
        // would bring aws-lc-rs; the SDK's clients use *ring*).
        super::install_ring_tls();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ecs-autodeploy-verify-hook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeployError::Aws(format!("HTTP client: {e}")))?;
        Ok(Self { client })
    }
}

impl HttpProbe for ReqwestProbe {
    async fn get(&self, url: &str, timeout: Duration) -> Result<ProbeOutcome> {
        match self.client.get(url).timeout(timeout).send().await {
            Ok(r) => Ok(ProbeOutcome::Status(r.status().as_u16())),
            Err(e) if e.is_timeout() => Ok(ProbeOutcome::NoAnswer(format!("no answer within {} s", timeout.as_secs()))),
            Err(e) => Ok(ProbeOutcome::NoAnswer(one_line(&e))),
        }
    }
}

/// The error and its causes, in one line.
fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    crate::error::clip(&text)
}
