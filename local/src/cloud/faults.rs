//! Faults on purpose: what AWS promises less than always, injected where the
//! local cloud stands in for AWS, so the pipeline's retries, idempotency and
//! fallbacks are exercised rather than assumed.
//!
//! - **AWS calls** through the router, by service (the SigV4 signing name:
//!   `ecs`, `elasticloadbalancing`, `dynamodb`, `states`, `events`, `lambda`,
//!   …) and operation: throttling and 5xx answers in the shape each protocol
//!   uses (so the SDK's own retry classifier runs), a connection dropped
//!   before any answer, added latency. Only the stack's own calls are hit —
//!   the hosted functions' and Step Functions' — never the harness's or the
//!   operator CLI's, which watch the outcome.
//! - **Event deliveries** to the template's rules, by source and rule: drop,
//!   deliver N times, delay, reorder (each copy held for a random time within
//!   a window, so later events overtake earlier ones).
//! - **Functions**, by binary: fail *after* the step did its work — the work
//!   stays done, the answer is an error — as `Retryable` (an answer lost on the
//!   way back), a crash (`Runtime.ExitError`) or a time-out (held until the
//!   function's template `Timeout`, then `Sandbox.Timedout`).
//!
//! A plan is seeded: the k-th call (event, invocation) a rule matches gets the
//! same decision for the same seed, so a failing run replays with its seed.
//! Which concurrent call is the k-th depends on arrival order.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

/// Everything to inject: set at start (`up --faults FILE`, [`super::CloudConfig`])
/// and replaced while running (`PUT /_local/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultPlan {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub calls: Vec<CallFault>,
    #[serde(default)]
    pub events: Vec<EventFault>,
    #[serde(default)]
    pub functions: Vec<FunctionFault>,
}

/// A fault on AWS calls through the router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallFault {
    /// The signing name (`ecs`, `dynamodb`, …); none: every service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The operation (`UpdateService`); none: every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The share of matching calls hit, 0 to 1.
    pub fraction: f64,
    pub fault: CallFaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallFaultKind {
    /// The service's throttling error (HTTP 400 `ThrottlingException`, ELBv2's
    /// `Throttling`, Lambda's 429 `TooManyRequestsException`).
    Throttle,
    /// An internal error with this 5xx status.
    ServerError(u16),
    /// The connection closed before any answer.
    DropConnection,
    /// The call answered this many milliseconds late.
    LatencyMillis(u64),
}

/// A fault on event deliveries to the template's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventFault {
    /// The event's `source` (`aws.ecs`, `aws.ecr`); none: every source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The rule, as the local cloud names it: `<function logical id>-<event
    /// name>` (`OnEcsEventFunction-EcsEvents`); none: every rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub fraction: f64,
    pub fault: EventFaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventFaultKind {
    /// Never delivered.
    Drop,
    /// Delivered this many times in all (at least 2).
    Duplicate(u32),
    /// Delivered this many milliseconds late.
    DelayMillis(u64),
    /// Held for a random time under this many milliseconds, so events overtake each other.
    ReorderWithinMillis(u64),
}

/// A fault on invocations of the stack's functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionFault {
    /// The binary the template names (`update-service`); none: every function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub fraction: f64,
    pub fault: FunctionFaultKind,
    /// Hit an input at most once: the retry of a failed invocation (the same
    /// input, as the state machine retries it) then goes through, so every
    /// step can fail once after its work without a deployment running out of
    /// retries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once_per_input: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FunctionFaultKind {
    /// The work done, the answer `Retryable` (lost on its way back).
    FailAfter,
    /// The work done, then the process died: `Runtime.ExitError`.
    CrashAfter,
    /// The work done, then held past the function's `Timeout`: `Sandbox.Timedout`.
    TimeOutAfter,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("fault plan: {0}")]
    Json(String),
    #[error("fault plan: {what} fraction {fraction} is not between 0 and 1")]
    Fraction { what: &'static str, fraction: f64 },
    #[error("fault plan: server error status {0} is not 500 to 599")]
    Status(u16),
    #[error("fault plan: duplicate({0}) delivers fewer than 2 copies")]
    Copies(u32),
}

impl FaultPlan {
    /// A plan from JSON, checked: fractions in [0, 1], 5xx statuses, at least two copies.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let plan: Self = serde_json::from_str(text).map_err(|e| PlanError::Json(e.to_string()))?;
        plan.check()?;
        Ok(plan)
    }

    pub fn check(&self) -> Result<(), PlanError> {
        let fractions = self.calls.iter().map(|c| ("call", c.fraction));
        let fractions = fractions.chain(self.events.iter().map(|e| ("event", e.fraction)));
        let fractions = fractions.chain(self.functions.iter().map(|f| ("function", f.fraction)));
        for (what, fraction) in fractions {
            if !(0.0..=1.0).contains(&fraction) {
                return Err(PlanError::Fraction { what, fraction });
            }
        }
        for c in &self.calls {
            if let CallFaultKind::ServerError(status) = c.fault
                && !(500..=599).contains(&status)
            {
                return Err(PlanError::Status(status));
            }
        }
        for e in &self.events {
            if let EventFaultKind::Duplicate(n) = e.fault
                && n < 2
            {
                return Err(PlanError::Copies(n));
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.events.is_empty() && self.functions.is_empty()
    }
}

/// One rule's tally: calls it matched, faults it injected.
#[derive(Debug, Default)]
struct Tally {
    matched: AtomicU64,
    injected: AtomicU64,
}

/// What a running plan injected, rule by rule (`GET /_local/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injected {
    pub calls: Vec<Count>,
    pub events: Vec<Count>,
    pub functions: Vec<Count>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub matched: u64,
    pub injected: u64,
}

impl Injected {
    /// Faults injected by every rule together.
    pub fn total(&self) -> u64 {
        self.calls.iter().chain(&self.events).chain(&self.functions).map(|c| c.injected).sum()
    }
}

/// A plan in force and its tallies.
struct Active {
    plan: FaultPlan,
    /// Copies held for reordering so far (each draws its own hold).
    reordered: AtomicU64,
    /// The inputs a `oncePerInput` rule has failed, by function.
    failed_inputs: Mutex<std::collections::HashSet<(usize, u64)>>,
    calls: Vec<Tally>,
    events: Vec<Tally>,
    functions: Vec<Tally>,
}

impl Active {
    fn new(plan: FaultPlan) -> Self {
        let tallies = |n: usize| (0..n).map(|_| Tally::default()).collect();
        Self {
            calls: tallies(plan.calls.len()),
            events: tallies(plan.events.len()),
            functions: tallies(plan.functions.len()),
            reordered: AtomicU64::new(0),
            failed_inputs: Mutex::default(),
            plan,
        }
    }
}

/// The stack's AWS calls, by `service:Operation`: answered, and hit by a fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCount {
    pub answered: u64,
    pub injected: u64,
}

/// The faults of a running local cloud: cheap to consult when the plan is empty.
#[derive(Clone)]
pub struct Faults(Arc<RwLock<Active>>, Arc<Mutex<BTreeMap<String, CallCount>>>);

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultPlan::default())
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Faults").field(&self.plan()).finish()
    }
}

/// The decision for the k-th match of rule `rule` (of family `family`):
/// splitmix64 of the seed and both, as a number in [0, 1).
fn draw(seed: u64, family: u64, rule: usize, k: u64) -> f64 {
    let mut z = seed ^ family.rotate_left(48) ^ (rule as u64).rotate_left(32) ^ k;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

const CALLS: u64 = 1;
const EVENTS: u64 = 2;
const FUNCTIONS: u64 = 3;
/// Draws for reorder delays, apart from the hit-or-miss draws.
const REORDER: u64 = 4;

fn matches(filter: Option<&String>, value: &str) -> bool {
    filter.is_none_or(|f| f == value)
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        Self(Arc::new(RwLock::new(Active::new(plan))), Arc::default())
    }

    /// Counts one of the stack's calls: answered by the service, or hit.
    pub fn count_call(&self, service: &str, operation: &str, injected: bool) {
        let mut calls = self.1.lock().unwrap_or_else(PoisonError::into_inner);
        let count = calls.entry(format!("{service}:{operation}")).or_default();
        if injected {
            count.injected += 1;
        } else {
            count.answered += 1;
        }
    }

    /// The stack's calls so far, by `service:Operation` (kept across plans).
    pub fn calls(&self) -> BTreeMap<String, CallCount> {
        self.1.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the plan; tallies start again.
    pub fn set(&self, plan: FaultPlan) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Active::new(plan);
    }

    pub fn plan(&self) -> FaultPlan {
        self.0.read().unwrap_or_else(PoisonError::into_inner).plan.clone()
    }

    pub fn injected(&self) -> Injected {
        let active = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let counts = |t: &[Tally]| {
            t.iter()
                .map(|t| Count {
                    matched: t.matched.load(Ordering::Relaxed),
                    injected: t.injected.load(Ordering::Relaxed),
                })
                .collect()
        };
        Injected { calls: counts(&active.calls), events: counts(&active.events), functions: counts(&active.functions) }
    }

    /// The first rule of a family that matches and hits; every matching rule
    /// counts the match.
    fn decide<R, K: Copy>(
        &self,
        family: u64,
        rules: impl Fn(&Active) -> (&[R], &[Tally]),
        hit: impl Fn(&R) -> Option<(f64, K)>,
    ) -> Option<K> {
        let active = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let seed = active.plan.seed;
        let (rules, tallies) = rules(&active);
        let mut chosen = None;
        for (i, (rule, tally)) in rules.iter().zip(tallies).enumerate() {
            let Some((fraction, kind)) = hit(rule) else { continue };
            let k = tally.matched.fetch_add(1, Ordering::Relaxed);
            if chosen.is_none() && draw(seed, family, i, k) < fraction {
                tally.injected.fetch_add(1, Ordering::Relaxed);
                chosen = Some(kind);
            }
        }
        chosen
    }

    /// The fault for one AWS call, if any.
    pub fn on_call(&self, service: &str, operation: &str) -> Option<CallFaultKind> {
        self.decide(
            CALLS,
            |a| (&a.plan.calls, &a.calls),
            |c| {
                (matches(c.service.as_ref(), service) && matches(c.operation.as_ref(), operation))
                    .then_some((c.fraction, c.fault))
            },
        )
    }

    /// The faults for one delivery of an event from `source` to `rule`: every
    /// matching rule that hits applies (copies multiply, delays add), so an
    /// event can be delivered three times and each copy reordered.
    pub fn on_event(&self, source: &str, rule: &str) -> Vec<EventFaultKind> {
        let active = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let seed = active.plan.seed;
        let mut hit = Vec::new();
        for (i, (e, tally)) in active.plan.events.iter().zip(&active.events).enumerate() {
            if !(matches(e.source.as_ref(), source) && matches(e.rule.as_ref(), rule)) {
                continue;
            }
            let k = tally.matched.fetch_add(1, Ordering::Relaxed);
            if draw(seed, EVENTS, i, k) < e.fraction {
                tally.injected.fetch_add(1, Ordering::Relaxed);
                hit.push(e.fault);
            }
        }
        hit
    }

    /// The fault for one invocation of the function running `binary` with an
    /// input whose hash is `input`, if any: the first rule that hits. A
    /// `oncePerInput` rule lets an input it has failed through.
    pub fn on_invoke(&self, binary: &str, input: u64) -> Option<FunctionFaultKind> {
        let active = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let seed = active.plan.seed;
        for (i, (f, tally)) in active.plan.functions.iter().zip(&active.functions).enumerate() {
            if !matches(f.function.as_ref(), binary) {
                continue;
            }
            let mut failed = active.failed_inputs.lock().unwrap_or_else(PoisonError::into_inner);
            if f.once_per_input && failed.contains(&(i, input)) {
                continue;
            }
            let k = tally.matched.fetch_add(1, Ordering::Relaxed);
            if draw(seed, FUNCTIONS, i, k) < f.fraction {
                tally.injected.fetch_add(1, Ordering::Relaxed);
                if f.once_per_input {
                    failed.insert((i, input));
                }
                return Some(f.fault);
            }
        }
        None
    }

    /// How long the next reordered copy is held, under `window` milliseconds
    /// (0 for no window).
    pub fn reorder_delay(&self, window: u64) -> u64 {
        if window == 0 {
            return 0;
        }
        let active = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let n = active.reordered.fetch_add(1, Ordering::Relaxed);
        (draw(active.plan.seed, REORDER, 0, n) * window as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> FaultPlan {
        FaultPlan::parse(text).unwrap()
    }

    #[test]
    fn a_plan_reads_as_documented() {
        let p = plan(
            r#"{"seed": 7,
                "calls": [{"service": "ecs", "operation": "UpdateService", "fraction": 0.2, "fault": "throttle"},
                          {"fraction": 0.1, "fault": {"serverError": 503}},
                          {"service": "dynamodb", "fraction": 1, "fault": "dropConnection"},
                          {"fraction": 1, "fault": {"latencyMillis": 250}}],
                "events": [{"source": "aws.ecs", "fraction": 1, "fault": "drop"},
                           {"rule": "EcsEventsRule", "fraction": 0.5, "fault": {"duplicate": 3}},
                           {"fraction": 1, "fault": {"delayMillis": 100}},
                           {"fraction": 1, "fault": {"reorderWithinMillis": 2000}}],
                "functions": [{"function": "update-service", "fraction": 1, "fault": "failAfter"},
                              {"fraction": 0.5, "fault": "crashAfter"},
                              {"fraction": 0.5, "fault": "timeOutAfter"}]}"#,
        );
        assert_eq!(p.seed, 7);
        assert_eq!(p.calls[1].fault, CallFaultKind::ServerError(503));
        assert_eq!(p.events[1].fault, EventFaultKind::Duplicate(3));
        assert_eq!(p.functions[2].fault, FunctionFaultKind::TimeOutAfter);
        let again: FaultPlan = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(again, p, "a plan round-trips through its JSON");
    }

    #[test]
    fn a_plan_with_a_mistake_is_refused_with_the_reason() {
        let refused = |text: &str| FaultPlan::parse(text).unwrap_err();
        assert!(matches!(refused(r#"{"calls": [{"fracton": 0.2, "fault": "throttle"}]}"#), PlanError::Json(_)));
        assert!(matches!(refused(r#"{"calls": [{"fraction": 0.2, "fault": "slow"}]}"#), PlanError::Json(_)));
        assert_eq!(
            refused(r#"{"events": [{"fraction": 1.5, "fault": "drop"}]}"#),
            PlanError::Fraction { what: "event", fraction: 1.5 }
        );
        assert_eq!(refused(r#"{"calls": [{"fraction": 1, "fault": {"serverError": 404}}]}"#), PlanError::Status(404));
        assert_eq!(refused(r#"{"events": [{"fraction": 1, "fault": {"duplicate": 1}}]}"#), PlanError::Copies(1));
    }

    #[test]
    fn rules_hit_only_what_they_name() {
        let f = Faults::new(plan(
            r#"{"calls": [{"service": "ecs", "operation": "UpdateService", "fraction": 1, "fault": "throttle"}],
                "events": [{"source": "aws.ecs", "fraction": 1, "fault": "drop"}],
                "functions": [{"function": "update-service", "fraction": 1, "fault": "failAfter"}]}"#,
        ));
        assert_eq!(f.on_call("ecs", "UpdateService"), Some(CallFaultKind::Throttle));
        assert_eq!(f.on_call("ecs", "DescribeServices"), None);
        assert_eq!(f.on_call("dynamodb", "UpdateService"), None);
        assert_eq!(f.on_event("aws.ecs", "AnyRule"), vec![EventFaultKind::Drop]);
        assert_eq!(f.on_event("aws.ecr", "AnyRule"), vec![]);
        assert_eq!(f.on_invoke("update-service", 1), Some(FunctionFaultKind::FailAfter));
        assert_eq!(f.on_invoke("roll-back", 1), None);
        let counts = f.injected();
        assert_eq!(counts.calls, vec![Count { matched: 1, injected: 1 }]);
        assert_eq!(counts.total(), 3);
    }

    #[test]
    fn a_fraction_hits_about_that_share_and_the_same_seed_the_same_calls() {
        let text = r#"{"seed": 42, "calls": [{"fraction": 0.2, "fault": {"serverError": 500}}]}"#;
        let run = || {
            let f = Faults::new(plan(text));
            (0..10_000).map(|_| f.on_call("ecs", "DescribeServices").is_some()).collect::<Vec<_>>()
        };
        let (first, second) = (run(), run());
        assert_eq!(first, second, "one seed, one sequence of decisions");
        let hits = first.iter().filter(|h| **h).count();
        assert!((1_800..=2_200).contains(&hits), "{hits} of 10000 hit at 0.2");
        let other = Faults::new(plan(&text.replace("42", "43")));
        let differs = (0..10_000).map(|_| other.on_call("ecs", "DescribeServices").is_some()).collect::<Vec<_>>();
        assert_ne!(first, differs, "another seed, other calls");
    }

    #[test]
    fn an_empty_plan_injects_nothing_and_a_new_plan_starts_its_tallies_again() {
        let f = Faults::default();
        assert!(f.plan().is_empty());
        assert_eq!(f.on_call("ecs", "UpdateService"), None);
        f.set(plan(r#"{"calls": [{"fraction": 1, "fault": "dropConnection"}]}"#));
        assert_eq!(f.on_call("ecs", "UpdateService"), Some(CallFaultKind::DropConnection));
        f.set(plan(r#"{"calls": [{"fraction": 0, "fault": "dropConnection"}]}"#));
        assert_eq!(f.on_call("ecs", "UpdateService"), None);
        assert_eq!(f.injected().calls, vec![Count { matched: 1, injected: 0 }]);
    }

    #[test]
    fn once_per_input_fails_each_input_once_and_lets_its_retry_through() {
        let f = Faults::new(plan(r#"{"functions": [{"fraction": 1, "fault": "failAfter", "oncePerInput": true}]}"#));
        assert_eq!(f.on_invoke("update-service", 1), Some(FunctionFaultKind::FailAfter));
        assert_eq!(f.on_invoke("update-service", 1), None, "the retry of the same input");
        assert_eq!(f.on_invoke("update-service", 2), Some(FunctionFaultKind::FailAfter), "another input");
        assert_eq!(f.injected().functions, vec![Count { matched: 2, injected: 2 }]);
    }

    #[test]
    fn event_faults_compose_and_calls_are_counted_by_operation() {
        let f = Faults::new(plan(
            r#"{"events": [{"fraction": 1, "fault": {"duplicate": 3}}, {"fraction": 1, "fault": {"reorderWithinMillis": 900}}]}"#,
        ));
        assert_eq!(
            f.on_event("aws.ecs", "R"),
            vec![EventFaultKind::Duplicate(3), EventFaultKind::ReorderWithinMillis(900)]
        );
        f.count_call("ecs", "UpdateService", false);
        f.count_call("ecs", "UpdateService", true);
        f.count_call("ecs", "UpdateService", false);
        assert_eq!(f.calls()["ecs:UpdateService"], CallCount { answered: 2, injected: 1 });
    }

    #[test]
    fn reorder_delays_stay_inside_their_window() {
        let f = Faults::default();
        let holds: Vec<u64> = (0..1_000).map(|_| f.reorder_delay(500)).collect();
        assert!(holds.iter().all(|h| *h < 500));
        assert!(holds.windows(2).any(|w| w[0] > w[1]), "later copies are held less than earlier ones");
        assert_eq!(f.reorder_delay(0), 0);
    }
}
