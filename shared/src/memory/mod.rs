//! In-memory twins of the ports, with the same contracts as the AWS adapters.
//! Used by the domain tests and by anyone who wants the pipeline without AWS.

mod alarms;
mod callbacks;
mod clock;
mod cloud;
mod decisions;
mod ecs;
mod executions;
mod http_probe;
mod locks;
mod notifier;
mod registry;
mod runs;
mod store;
mod target_health;
mod targets;

pub use alarms::MemoryAlarms;
pub use callbacks::RecordingCallbacks;
pub use clock::ManualClock;
pub use cloud::{MEMORY_ACCOUNT, MEMORY_APPROVAL_URL, MEMORY_REGION, MEMORY_REGISTRY, MemoryCloud};
pub use decisions::MemoryDecisions;
pub use ecs::FakeEcs;
pub use executions::RecordingExecutions;
pub use http_probe::MemoryHttp;
pub use locks::MemoryLocks;
pub use notifier::RecordingNotifier;
pub use registry::MemoryRegistry;
pub use runs::MemoryRuns;
pub use store::MemoryStore;
pub use target_health::MemoryTargetHealth;
pub use targets::MemoryTargets;

/// Locks a mutex, recovering from poisoning (a panicked test thread must not
/// cascade into every later assertion).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
