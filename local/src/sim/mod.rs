//! The ECS + ELB simulator: state, clock, scheduler, and the [`Sim`] handle shared by
//! the HTTP API and in-process users (tests, the local cloud).

pub mod api;
pub mod clock;
pub mod config;
pub mod eventbridge;
pub mod events;
pub mod images;
pub mod model;
pub mod render;
pub mod requests;
pub mod rng;
pub mod routing;
pub mod series;
pub mod state;
pub mod world;

mod breaker;
mod deployments;
mod health;
mod hooks;
mod lifecycle;
mod scheduler;
mod service_deployments;
mod traffic_shift;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

pub use clock::{ClockMode, SimTime};
pub use config::SimConfig;
pub use events::EventSink;
pub use images::{Behavior, ImageError};
pub use lifecycle::StopCause;
pub use requests::{ElbFault, LbRequest, LbResponse, Routed};
pub use series::Sample;
pub use world::World;

/// At most this many steps per driver wake-up in real-time mode, so a huge speed cannot
/// hold the lock for long.
const MAX_STEPS_PER_WAKE: u64 = 600;
/// How often the real-time driver wakes.
const DRIVER_PERIOD: Duration = Duration::from_millis(50);

/// What a Lambda hook's function answered: its JSON result, or why it could not be invoked.
pub type HookFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// Invokes the Lambda function `hookTargetArn` (first argument) with a lifecycle hook's
/// event (second) and answers its result; an `Err` is an invocation failure (ECS rolls
/// back). Called with the simulator unlocked; it may call back into the [`Sim`].
pub type HookInvoker = Arc<dyn Fn(String, Value) -> HookFuture + Send + Sync>;

/// A running simulator; cheap to clone, all clones share state.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    world: Mutex<World>,
    sinks: Mutex<Vec<Arc<dyn EventSink>>>,
    invoker: Mutex<Option<HookInvoker>>,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Self {
        let inner =
            Inner { world: Mutex::new(World::new(&cfg)), sinks: Mutex::new(Vec::new()), invoker: Mutex::new(None) };
        Self { inner: Arc::new(inner) }
    }

    /// Runs `f` on the world, then records series samples and delivers emitted events;
    /// once the world is unlocked, hands the Lambda hook invocations it asked for to the
    /// invoker.
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let (r, calls) = {
            let mut w = self.lock();
            let r = f(&mut w);
            w.record_series();
            let out = std::mem::take(&mut w.outbox);
            if !out.is_empty() {
                let sinks = self.inner.sinks.lock().unwrap_or_else(|e| e.into_inner());
                for ev in &out {
                    for s in sinks.iter() {
                        s.emit(ev);
                    }
                }
            }
            (r, std::mem::take(&mut w.hook_calls))
        };
        self.invoke_hooks(calls);
        r
    }

    /// Gives the simulator the way to invoke Lambda hooks; without one they fail (and the
    /// deployment rolls back). Invocations are made when the call into the world that
    /// asked for them returns: after all the steps of an [`Sim::advance`], so a test
    /// wanting an answer in the next second steps one second at a time.
    pub fn set_hook_invoker(&self, invoker: HookInvoker) {
        *self.inner.invoker.lock().unwrap_or_else(|e| e.into_inner()) = Some(invoker);
        self.with(|w| w.hook_invoker = true);
    }

    /// Calls the invoker for each queued invocation. An answer ready at once (an
    /// in-process invoker) is fed back straight away, so a manual clock stays
    /// deterministic; otherwise a Tokio task waits for it. The world is never locked
    /// while the invoker runs.
    fn invoke_hooks(&self, calls: Vec<model::HookCall>) {
        if calls.is_empty() {
            return;
        }
        let invoker = self.inner.invoker.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for call in calls {
            let answer = |sim: &Sim, result: Result<Value, String>| {
                if !call.ignore_answer {
                    sim.with(|w| w.hook_answer(&call.deployment_arn, &call.hook_id, result));
                }
            };
            let Some(invoker) = invoker.clone() else {
                answer(self, Err("no Lambda hook invoker is configured".to_owned()));
                continue;
            };
            let mut fut = invoker(call.function_arn.clone(), call.payload.clone());
            match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(result) => answer(self, result),
                Poll::Pending => match tokio::runtime::Handle::try_current() {
                    Ok(rt) => {
                        let sim = self.clone();
                        rt.spawn(async move {
                            let result = fut.await;
                            if !call.ignore_answer {
                                sim.with(|w| w.hook_answer(&call.deployment_arn, &call.hook_id, result));
                            }
                        });
                    }
                    Err(_) => answer(self, Err("no Tokio runtime to wait for the function's answer".to_owned())),
                },
            }
        }
    }

    /// Read-only access without recording or delivering anything.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // Handlers do not panic while holding the lock; recover the state if one ever did.
        self.inner.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Advances simulated time by `seconds` whole steps; returns the new time.
    pub fn advance(&self, seconds: u64) -> SimTime {
        self.with(|w| {
            for _ in 0..seconds {
                w.step();
            }
            w.now()
        })
    }

    /// Steps one second at a time until `pred` holds or `max_seconds` pass; returns
    /// whether it held. For tests driving a manual clock.
    pub fn advance_until(&self, max_seconds: u64, mut pred: impl FnMut(&World) -> bool) -> bool {
        for _ in 0..max_seconds {
            if self.read(&mut pred) {
                return true;
            }
            self.advance(1);
        }
        self.read(pred)
    }

    pub fn now(&self) -> SimTime {
        self.read(|w| w.now())
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.read(|w| w.clock.mode)
    }

    pub fn set_clock_mode(&self, mode: ClockMode) {
        self.with(|w| w.clock.mode = mode)
    }

    /// Adds `image` (and its `digest`) to the catalogue; returns the keys stored.
    pub fn register_image(
        &self,
        image: &str,
        digest: Option<&str>,
        behavior: Behavior,
    ) -> Result<Vec<String>, ImageError> {
        self.with(|w| w.images.register(image, digest, behavior))
    }

    /// Serves one HTTP request to the listener on `port` of a load balancer (name or ARN)
    /// the way ELBv2 routes it (see [`requests`]). The clock does not move; nothing is
    /// recorded or emitted.
    pub fn lb_request(&self, load_balancer: &str, port: i64, req: &LbRequest) -> LbResponse {
        self.lock().lb_request(load_balancer, port, req)
    }

    /// `/elb/<name>/<port>`, the path of a listener on the simulator's endpoint (see
    /// [`World::load_balancer_path`]).
    pub fn load_balancer_path(&self, load_balancer: &str, port: i64) -> Option<String> {
        self.read(|w| w.load_balancer_path(load_balancer, port))
    }

    /// Adds an event sink; it receives every event emitted from now on.
    pub fn add_sink(&self, sink: Arc<dyn EventSink>) {
        self.inner.sinks.lock().unwrap_or_else(|e| e.into_inner()).push(sink);
    }

    /// A channel receiving every event emitted from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Value> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.add_sink(Arc::new(events::ChannelSink(tx)));
        rx
    }

    /// Every event emitted so far (the most recent 20 000).
    pub fn events(&self) -> Vec<Value> {
        self.read(|w| w.event_log.iter().cloned().collect())
    }

    /// Recorded samples of a service, by cluster and service name or ARN.
    pub fn series(&self, cluster: Option<&str>, service: &str) -> Option<Vec<Sample>> {
        self.read(|w| {
            let c = w.cluster(cluster)?.name.clone();
            let i = w.service_index(&c, service)?;
            w.series.by_service.get(&w.services[i].arn).cloned()
        })
    }

    /// A JSON snapshot of the whole simulator (`GET /_sim/state`).
    pub fn state(&self) -> Value {
        self.read(state::snapshot)
    }

    /// Drives the clock from wall time in real-time mode (no-op while manual). Call once,
    /// inside a Tokio runtime; the task ends when every `Sim` clone is dropped.
    pub fn start_clock(&self) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut last = Instant::now();
            let mut debt_ms = 0.0_f64;
            loop {
                tokio::time::sleep(DRIVER_PERIOD).await;
                let Some(inner) = weak.upgrade() else { return };
                let sim = Sim { inner };
                let elapsed = last.elapsed();
                last = Instant::now();
                let mode = sim.clock_mode();
                if mode.manual {
                    debt_ms = 0.0;
                    continue;
                }
                debt_ms += elapsed.as_secs_f64() * 1000.0 * mode.speed.max(0.0);
                let steps = ((debt_ms / clock::STEP_MS as f64) as u64).min(MAX_STEPS_PER_WAKE);
                if steps > 0 {
                    debt_ms = (debt_ms - (steps as i64 * clock::STEP_MS) as f64).min(clock::STEP_MS as f64 * 10.0);
                    sim.advance(steps);
                }
            }
        })
    }
}
