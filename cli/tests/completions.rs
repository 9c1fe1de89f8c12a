//! `autodeploy completions SHELL`: no stack and no AWS needed.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn completions_for_every_shell_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out =
            Command::new(env!("CARGO_BIN_EXE_autodeploy")).args(["completions", shell]).env_clear().output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        for command in ["history", "watch", "approve", "why"] {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_autodeploy")).args(["completions", "cmd.exe"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "a usage error");
}
