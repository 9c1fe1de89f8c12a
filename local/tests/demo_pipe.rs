//! `autodeploy-local demo | head`: when the reader of its output goes away,
//! the demo stops the way it stops on Ctrl-C — the local cloud and its moto
//! are shut down — and exits quietly, without a broken-pipe panic.
//!
//! Linux only: the processes the demo started are found through `/proc`.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every process below `pid`, by parent id from `/proc/<pid>/stat`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Some(parent) = stat(p).and_then(|(_, ppid)| ppid.parse().ok()) {
            children.entry(parent).or_default().push(p);
        }
    }
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for &c in children.get(&p).into_iter().flatten() {
            found.push(c);
            todo.push(c);
        }
    }
    found
}

/// State and parent id of a process, if it exists.
fn stat(pid: u32) -> Option<(String, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
    let mut rest = text.get(text.rfind(')')? + 1..)?.split_whitespace();
    Some((rest.next()?.to_owned(), rest.next()?.to_owned()))
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Gone, or a zombie waiting to be reaped: either way no longer running.
fn dead(pid: u32) -> bool {
    stat(pid).is_none_or(|(state, _)| state == "Z" || state == "X")
}

#[test]
fn closing_stdout_stops_the_demo_and_its_moto_quietly() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_autodeploy-local"))
        .arg("demo")
        .arg("--repo")
        .arg(&repo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("autodeploy-local starts");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    // Like `head`: read the first lines, up to the one printed once the local
    // cloud (moto included) is up, then close the pipe.
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        let cloud_up = line.contains("endpoint http://");
        seen.push(line);
        if cloud_up {
            break;
        }
    }
    let started = descendants(child.id());
    let moto: Vec<u32> = started.iter().copied().filter(|&p| cmdline(p).contains("moto")).collect();
    assert!(!moto.is_empty(), "moto runs under the demo; output so far: {seen:#?}, processes: {started:?}");
    drop(lines);

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the demo can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo still runs 60 s after its stdout was closed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = stderr.join().expect("stderr is read");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.success(), "a closed stdout is a quiet stop, not a failure: {status}, stderr: {stderr}");

    // SIGKILLed on drop; give the kernel a moment to finish it off.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !started.iter().all(|&p| dead(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let alive: Vec<(u32, String)> = started.iter().filter(|&&p| !dead(p)).map(|&p| (p, cmdline(p))).collect();
    assert!(alive.is_empty(), "still running after the demo stopped: {alive:?}");
}
