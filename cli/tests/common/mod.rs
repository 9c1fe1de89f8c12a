//! What the end-to-end tests of the command line share: a local cloud at 5×
//! (10 s polls, 1 s burst window), and the real `autodeploy` binary run as
//! an IAM user of it with nothing but AWS_ENDPOINT_URL, a region and keys.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use autodeploy_local::cloud::{Cloud, CloudConfig, Running};
use aws_credential_types::Credentials;
use serde_json::Value;

pub async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 5.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.expect("start in time").expect("starts")
}

/// `program args…` with an environment holding only PATH, the cloud's
/// endpoint and region, `who`'s keys and `env`.
pub fn command(program: &str, args: &[&str], cloud: &Cloud, who: &Credentials, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &cloud.endpoint)
        .env("AWS_REGION", &cloud.stack.region)
        .env("AWS_ACCESS_KEY_ID", who.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", who.secret_access_key())
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs it off the async workers: the cloud keeps running meanwhile.
pub async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.unwrap()
}

/// Runs `autodeploy args…` as `who` against the local cloud.
pub async fn autodeploy(cloud: &Cloud, who: &Credentials, env: &[(&str, String)], args: &[&str]) -> Output {
    run(command(env!("CARGO_BIN_EXE_autodeploy"), args, cloud, who, env)).await
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}
