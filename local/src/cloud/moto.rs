//! moto server as a child process: DynamoDB, Step Functions (executing state
//! machines), EventBridge, SNS, SQS.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("moto_server not found at {0}: run `make tools` (or set MOTO_SERVER)")]
    NotInstalled(PathBuf),
    #[error("cannot start moto: {0}")]
    Spawn(std::io::Error),
    #[error("moto did not answer on port {0} within 30 s")]
    NotReady(u16),
    #[error("moto did not say which port it listens on within 30 s")]
    NoPort,
    #[error("moto: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running moto; killed when dropped (`kill_on_drop`), so no orphan survives
/// a failed test or Ctrl-C.
pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

/// `MOTO_SERVER`, else `.venv/bin/moto_server` above `repo`.
pub fn moto_binary(repo: &Path) -> PathBuf {
    std::env::var_os("MOTO_SERVER").map(PathBuf::from).unwrap_or_else(|| repo.join(".venv/bin/moto_server"))
}

impl Moto {
    /// Starts moto on a port the system picks. `callback_port` is where
    /// moto's state machine engine sends its service calls (it uses
    /// `http://localhost:$MOTO_PORT`): the router's port, so Lambda invokes
    /// reach the function host.
    ///
    /// moto binds port 0 itself and says which port it got: picking a free
    /// port first and handing it over would let two local clouds starting at
    /// once pick the same one, the second then talking to the first's moto.
    pub async fn start(binary: &Path, callback_port: u16) -> Result<Self, MotoError> {
        if !binary.exists() {
            return Err(MotoError::NotInstalled(binary.to_owned()));
        }
        let mut child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_PORT", callback_port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(MotoError::Spawn)?;
        let stderr = child.stderr.take().ok_or(MotoError::NoPort)?;
        let mut lines = BufReader::new(stderr).lines();
        // werkzeug: " * Running on http://127.0.0.1:43379"
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return digits.parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or(MotoError::NoPort)?;
        // moto logs every request to stderr: keep reading so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let moto = Self { child, port, endpoint: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http.get(format!("{}/moto-api/", moto.endpoint)).send().await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(MotoError::NotReady(port));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Must happen before any state machine is created.
        http.post(format!("{}/moto-api/config", moto.endpoint))
            .json(&serde_json::json!({"stepfunctions": {"execute_state_machine": true}}))
            .send()
            .await?
            .error_for_status()?;
        Ok(moto)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
