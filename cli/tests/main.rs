//! The command line end to end: the real `autodeploy` binary against a local cloud.
//!
//! One binary links the workspace once; one file per subject, each a module.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod cli_e2e;
mod completions;
mod operate_e2e;
mod status_e2e;
mod targets_e2e;
mod watch_e2e;
