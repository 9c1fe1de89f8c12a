//! ecs-autodeploy's library: the deployment domain, the ports it talks through,
//! in-memory twins of those ports for tests, and the AWS SDK adapters.
//!
//! `domain` and `steps` import no `aws_sdk_*` and no `lambda_runtime`; the
//! `aws` module is the only place that knows the SDK, and `lambda` the only one
//! that knows the Lambda runtime.

pub mod aws;
pub mod config;
pub mod domain;
pub mod emf;
pub mod error;
pub mod events;
pub mod lambda;
pub mod logs;
pub mod memory;
pub mod ports;
pub mod steps;

pub use error::DeployError;
