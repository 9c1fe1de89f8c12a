//! The simulator driven by the real aws-sdk-ecs and aws-sdk-elasticloadbalancingv2
//! clients over HTTP, with a manual clock so every run is deterministic.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod breaker;
mod draining;
mod errors;
mod eventbridge;
mod hooks;
mod listeners;
mod no_lb;
mod rollout;
mod service_deployments;
mod shapes;
mod strategies;
mod taskdef;
mod traffic;
