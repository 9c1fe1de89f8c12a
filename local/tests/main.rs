//! The local cloud's end-to-end tests in one binary: the whole stack from
//! `template.yaml` on moto, the simulator and the function host.
//!
//! One binary links the workspace once; one file per subject, each a module.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod approvals_e2e;
mod bench_smoke;
mod chaos_e2e;
mod cloud_e2e;
mod demo_cli;
mod demo_pipe;
mod faults_e2e;
mod function_urls;
mod hooks_e2e;
mod racing_e2e;
mod stack_outputs;
mod strategies_e2e;
mod trust_e2e;
