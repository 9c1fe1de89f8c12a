//! The ports: one small trait per external thing the pipeline talks to. Each
//! has an AWS adapter in [`crate::aws`] and an in-memory twin in [`crate::memory`].
//! Futures are `Send` so steps can run on any executor (the Lambda runtime,
//! the local cloud's function host).

mod alarms;
mod callbacks;
mod clock;
mod decisions;
mod ecs;
mod executions;
mod forward;
mod http_probe;
mod locks;
mod notifier;
mod registry;
mod runs;
mod store;
mod target_health;
mod targets;

pub use alarms::Alarms;
pub use callbacks::{Delivery, TaskCallbacks};
pub use clock::{Clock, SystemClock};
pub use decisions::PushDecisions;
pub use ecs::{Ecs, StopOutcome};
pub use executions::{Executions, StartOutcome};
pub use http_probe::{HttpProbe, ProbeOutcome};
pub use locks::{Claim, FreezeRule, ServiceLockState, ServiceLocks, Serving};
pub use notifier::Notifier;
pub use registry::ImageRegistry;
pub use runs::Runs;
pub use store::{CheckLease, CreateOutcome, DeploymentStore, TransitionOutcome};
pub use target_health::TargetHealth;
pub use targets::DeployTargets;
