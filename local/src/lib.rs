//! Local cloud for ecs-autodeploy. [`sim`] is an ECS + ELBv2 simulator that speaks the
//! AWS wire protocols (so the real SDKs and CLI work against it) and rolls deployments
//! the way ECS does; [`cli`] holds the `autodeploy-local sim` subcommand.

pub mod cli;
pub mod cloud;
pub mod sim;

pub use sim::{Sim, SimConfig};
