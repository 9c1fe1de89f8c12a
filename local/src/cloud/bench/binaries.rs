//! The functions as Lambda runs them: each stripped release `bootstrap`'s
//! size (x86_64 from `cargo build --release`; arm64 where `cargo lambda
//! build` left one in `target/lambda/`), its cold init (process start to
//! its first `GET /2018-06-01/runtime/invocation/next` against a local fake
//! Runtime API, which never answers) and its peak RSS by then (`VmHWM`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use tokio::sync::mpsc;

use super::super::Cloud;
use super::BenchError;

/// The budget each `bootstrap` is held to (10^6 bytes).
pub const SIZE_BUDGET_BYTES: u64 = 6_000_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binary {
    pub function: String,
    pub x86_64_bytes: Option<u64>,
    pub arm64_bytes: Option<u64>,
    /// Median, min and max of the cold starts measured.
    pub init_ms_median: f64,
    pub init_ms_min: f64,
    pub init_ms_max: f64,
    pub starts: usize,
    pub peak_rss_kib: u64,
}

/// Builds the release binaries (`cargo build --release -p autodeploy-functions`).
pub async fn build(repo: &Path) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let status = tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--locked", "-p", "autodeploy-functions"])
        .current_dir(repo)
        .status()
        .await
        .map_err(|e| BenchError::Run(format!("cargo build --release: {e}")))?;
    if !status.success() {
        return Err(BenchError::Run(format!("cargo build --release: {status}")));
    }
    Ok(started.elapsed())
}

/// Where cargo puts a profile's binaries.
fn target_dir(repo: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from)
}

fn size_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Every function of the template: sizes, then `starts` cold starts each.
pub async fn measure(cloud: &Cloud, repo: &Path, starts: usize) -> Result<Vec<Binary>, BenchError> {
    let target = target_dir(repo);
    let mut out = Vec::new();
    let mut names = cloud.host.names();
    names.sort_by_key(|n| cloud.host.find(n).map(|f| f.binary.clone()));
    for name in names {
        let Some(f) = cloud.host.find(&name) else { continue };
        let x86 = target.join("release").join(&f.binary);
        let arm = target.join("lambda").join(&f.binary).join("bootstrap");
        if !x86.exists() {
            return Err(BenchError::Run(format!("{} not built (cargo build --release)", x86.display())));
        }
        let mut inits = Vec::new();
        let mut peak = 0;
        for _ in 0..starts {
            let (ms, rss) = cold_start(&x86, &f.environment, &cloud.stack.region).await?;
            inits.push(ms);
            peak = peak.max(rss);
        }
        inits.sort_by(f64::total_cmp);
        out.push(Binary {
            function: f.binary.clone(),
            x86_64_bytes: size_of(&x86),
            arm64_bytes: size_of(&arm),
            init_ms_median: super::median(&inits),
            init_ms_min: inits.first().copied().unwrap_or_default(),
            init_ms_max: inits.last().copied().unwrap_or_default(),
            starts: inits.len(),
            peak_rss_kib: peak,
        });
    }
    Ok(out)
}

/// The fake Runtime API's one route: tells who is waiting, answers never
/// (a function waits there for its first event, as it does on Lambda).
async fn next(State(tx): State<mpsc::UnboundedSender<Instant>>) -> &'static str {
    let _ = tx.send(Instant::now());
    std::future::pending::<()>().await;
    ""
}

/// One cold start of `binary`: milliseconds to its first poll for work, and its peak RSS (KiB) then.
async fn cold_start(
    binary: &Path,
    environment: &std::collections::HashMap<String, String>,
    region: &str,
) -> Result<(f64, u64), BenchError> {
    let fail = |e: std::io::Error| BenchError::Run(format!("{}: {e}", binary.display()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(fail)?;
    let api = listener.local_addr().map_err(fail)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let app = Router::new().route("/2018-06-01/runtime/invocation/next", get(next)).with_state(tx);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let function = binary.file_name().and_then(|n| n.to_str()).unwrap_or("function").to_owned();
    let started = Instant::now();
    // The variables Lambda sets (Runtime environment variables), and the template's.
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(environment)
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &function)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", region)
        .env("AWS_DEFAULT_REGION", region)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(fail)?;
    let polled = tokio::select! {
        at = rx.recv() => at,
        _ = tokio::time::sleep(Duration::from_secs(10)) => None,
        exited = child.wait() => {
            let status = exited.map_err(fail)?;
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = e.read_to_string(&mut err).await;
            }
            server.abort();
            return Err(BenchError::Run(format!("{function} exited ({status}) before asking for work: {err}")));
        }
    };
    let rss = child.id().map_or(0, peak_rss_kib);
    let _ = child.kill().await;
    server.abort();
    let at = polled.ok_or_else(|| BenchError::Run(format!("{function}: no request for work within 10 s")))?;
    Ok((at.duration_since(started).as_secs_f64() * 1000.0, rss))
}

/// `VmHWM` of a process (Linux): its peak resident set so far, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_peak_rss() {
        assert!(peak_rss_kib(std::process::id()) > 0);
        assert_eq!(peak_rss_kib(u32::MAX), 0);
    }
}
