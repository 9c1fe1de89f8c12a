//! The shared crate's integration tests in one binary: the steps against in-memory
//! ports, the AWS adapters against aws-smithy-mocks and moto, their contracts.
//!
//! One binary links the workspace once; one file per subject, each a module.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod sample_stack;
mod support;

mod adapters;
mod approvals;
mod crash_safety;
mod ecr_and_alarm_adapters;
mod ecs_clone;
mod http_probe_adapter;
mod on_ecs_event;
mod on_image_push;
mod operator;
mod pipeline;
mod properties;
mod racing;
mod service_deployment_adapter;
mod store_contract;
mod trust;
mod verify_hook;
