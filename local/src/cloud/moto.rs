//! moto server as child processes: DynamoDB, Step Functions (executing state
//! machines), EventBridge, SNS, SQS, ECR, IAM, CloudWatch.
//!
//! One moto is one Python process: under a burst of pushes it spends its one
//! core (the GIL) on everything at once. [`Motos`] runs three, DynamoDB apart,
//! Step Functions (which executes every run in threads of its own) apart and
//! the rest together, and the router sends each call to its service's. No
//! call crosses between them: the state machine's only service integration
//! is Lambda, which moto's engine calls back through the router.

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

/// moto's `main` with its request log off and the state machine's parse
/// kept across executions (why: the file's docstring).
const QUIET_MOTO: &str = include_str!("moto_main.py");

/// How to run `binary` (a `moto_server` script): through the Python beside
/// it with [`QUIET_MOTO`], or as it is where there is none.
fn moto_command(binary: &Path) -> Command {
    match binary.parent().map(|bin| bin.join("python")).filter(|p| p.exists()) {
        Some(python) => {
            let mut c = Command::new(python);
            c.args(["-c", QUIET_MOTO]);
            c
        }
        None => Command::new(binary),
    }
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
        let mut child = moto_command(binary)
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
        // Keep reading moto's stderr (its errors, or every request where it
        // runs unquieted) so it never blocks on a full pipe.
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

/// The services with a moto of their own; everything else shares the last.
const APART: [&str; 2] = ["dynamodb", "states"];

/// Where each service's moto listens.
#[derive(Debug, Clone)]
pub struct MotoEndpoints {
    apart: Vec<(&'static str, String)>,
    /// Every other service's, and requests no signature names.
    pub rest: String,
}

impl MotoEndpoints {
    /// One moto for everything at `endpoint`.
    pub fn single(endpoint: &str) -> Self {
        Self { apart: Vec::new(), rest: endpoint.to_owned() }
    }

    /// The moto of `service` (a SigV4 scope's service: `dynamodb`, `states`, …).
    pub fn of(&self, service: &str) -> &str {
        self.apart.iter().find(|(s, _)| *s == service).map_or(self.rest.as_str(), |(_, e)| e.as_str())
    }
}

/// The running motos (killed when dropped).
pub struct Motos {
    engines: Vec<Moto>,
    pub endpoints: MotoEndpoints,
}

impl Motos {
    /// Starts the motos at once (each takes a second or two to import); with
    /// `single`, one for everything.
    pub async fn start(binary: &Path, callback_port: u16, single: bool) -> Result<Self, MotoError> {
        if single {
            let one = Moto::start(binary, callback_port).await?;
            let endpoints = MotoEndpoints::single(&one.endpoint);
            return Ok(Self { engines: vec![one], endpoints });
        }
        let (a, b, rest) = tokio::join!(
            Moto::start(binary, callback_port),
            Moto::start(binary, callback_port),
            Moto::start(binary, callback_port)
        );
        let engines = vec![a?, b?, rest?];
        let apart = APART.iter().zip(&engines).map(|(s, m)| (*s, m.endpoint.clone())).collect();
        let endpoints = MotoEndpoints { apart, rest: engines[2].endpoint.clone() };
        Ok(Self { engines, endpoints })
    }

    pub async fn stop(self) {
        for m in self.engines {
            m.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_goes_to_its_moto() {
        let e = MotoEndpoints {
            apart: vec![("dynamodb", "http://d".into()), ("states", "http://s".into())],
            rest: "http://r".into(),
        };
        assert_eq!(e.of("dynamodb"), "http://d");
        assert_eq!(e.of("states"), "http://s");
        assert_eq!(e.of("ecr"), "http://r");
        assert_eq!(e.of(""), "http://r");
        assert_eq!(MotoEndpoints::single("http://one").of("dynamodb"), "http://one");
    }
}
