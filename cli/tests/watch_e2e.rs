//! `autodeploy watch` live against the local cloud, as CI and a person see
//! it: a held deployment followed by its service's name in a log (entries
//! only, no escape codes) and on a terminal (a status line redrawn in place),
//! approved meanwhile; then the service with nothing in flight; every line at
//! most 80 columns with `COLUMNS=80`.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;
use std::time::Duration;

use autodeploy_local::cloud::Cloud;
use autodeploy_local::cloud::seed::{ServiceSpec, seed_service, wait_for};
use aws_credential_types::Credentials;
use common::*;
use serde_json::{Value, json};

/// `autodeploy args…` as `who`, at 80 columns, the stack found by its name;
/// on a terminal (a pseudo-terminal of `script`) when `tty`.
fn command(cloud: &Cloud, who: &Credentials, tty: bool, args: &[&str]) -> Command {
    let bin = env!("CARGO_BIN_EXE_autodeploy");
    let env = [("COLUMNS", "80".to_owned()), ("AUTODEPLOY_STACK", cloud.stack.name.clone())];
    if tty {
        let line = format!("{bin} {}", args.join(" "));
        common::command("script", &["-qec", &line, "/dev/null"], cloud, who, &env)
    } else {
        common::command(bin, args, cloud, who, &env)
    }
}

/// `text` without its colour codes (`ESC [ digits m`), which take no columns.
fn uncoloured(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        if after[digits..].starts_with('m') {
            rest = &after[digits + 1..];
        } else {
            // Not a colour (the erase, `ESC [ 2 K`): kept.
            out.push_str(&rest[i..i + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn fits(text: &str, width: usize) {
    for line in text.lines() {
        assert!(line.chars().count() <= width, "{} columns: {line:?}\n{text}", line.chars().count());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_service_live_in_a_log_and_on_a_terminal() {
    let running = cloud().await;
    let cloud = running.cloud.clone();
    let spec = ServiceSpec { approval: Some(json!({"timeoutMinutes": 60})), ..ServiceSpec::demo() };
    seed_service(&cloud, &spec).await.expect("seeding");
    let alice = cloud.iam_user("alice").await.unwrap();
    let terminal = Command::new("script").arg("--version").output().is_ok_and(|o| o.status.success());

    cloud.push("web:v2", "healthy").await.unwrap();
    let v2 = wait_for(&cloud, 600, || async {
        let o = run(command(&cloud, &alice, false, &["history", "demo/web", "--output", "json"])).await;
        let rows: Value = serde_json::from_slice(&o.stdout).ok()?;
        rows.as_array()?
            .iter()
            .find(|r| r["tag"] == "v2" && r["status"] == "AWAITING_APPROVAL")
            .map(|r| r["deploymentId"].as_str().unwrap().to_owned())
    })
    .await
    .expect("v2 waits for approval");

    // Both follow the service's deployment in flight while it waits; then it is approved.
    let log = tokio::spawn(run(command(&cloud, &alice, false, &["watch", "demo/web", "--timeout-seconds", "600"])));
    let tty = terminal.then(|| tokio::spawn(run(command(&cloud, &alice, true, &["watch", &v2]))));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let approved = run(command(&cloud, &alice, false, &["approve", &v2])).await;
    assert!(approved.status.success(), "{}", String::from_utf8_lossy(&approved.stderr));

    let log = log.await.unwrap();
    let text = stdout(&log);
    assert_eq!(log.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&log.stderr));
    assert!(String::from_utf8_lossy(&log.stderr).contains(&format!("following {v2} (web:v2, AWAITING_APPROVAL)")));
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "a log gets no escape codes: {text:?}");
    let states: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(states.first(), Some(&"PENDING"), "{text}");
    assert_eq!(states.last(), Some(&"SUCCEEDED"), "{text}");
    assert!(states.contains(&"WAITING"), "{text}");
    fits(&text, 80);

    if let Some(tty) = tty {
        let tty = tty.await.unwrap();
        let screen = uncoloured(&stdout(&tty));
        assert_eq!(tty.status.code(), Some(0), "{screen}");
        assert!(screen.contains("\r\u{1b}[2K"), "the status line is redrawn: {screen:?}");
        let last = screen.trim_end().rsplit(['\n', '\r']).next().unwrap_or_default();
        assert!(last.starts_with("SUCCEEDED"), "the final status line stays: {screen:?}");
        for drawn in screen.split("\r\u{1b}[2K") {
            fits(&drawn.replace("\r\n", "\n"), 80);
        }
    } else {
        eprintln!("no `script` here: the terminal's status line is not checked");
    }

    // Nothing in flight: the latest deployment's outcome is the answer.
    let idle = run(command(&cloud, &alice, false, &["watch", "demo/web"])).await;
    assert_eq!(idle.status.code(), Some(0));
    assert!(stdout(&idle).starts_with("nothing of demo/web is in flight"), "{}", stdout(&idle));
    let json = run(command(&cloud, &alice, false, &["watch", "demo/web", "--output", "json"])).await;
    let record: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((record["deploymentId"].as_str(), record["status"].as_str()), (Some(v2.as_str()), Some("SUCCEEDED")));

    for args in [&["history", "demo/web"][..], &["show", &v2], &["why", "web:v2"]] {
        let o = run(command(&cloud, &alice, false, args)).await;
        assert!(o.status.success(), "{args:?}");
        fits(&stdout(&o), 80);
    }
    running.stop().await;
}
