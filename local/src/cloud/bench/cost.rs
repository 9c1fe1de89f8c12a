//! What one deployment costs on AWS: Step Functions state transitions
//! (from the execution's history), Lambda requests and GB-seconds (from the
//! meter and the template's `MemorySize`), in dollars at published prices;
//! beside a polling design, a `Wait 15 s → check` loop, for the same rollout.

use std::collections::BTreeMap;

use autodeploy_shared::domain::DeploymentStatus;
use serde::Serialize;

use super::super::Cloud;
use super::BenchError;
use super::peers::Run;

/// Standard workflows: $0.025 per 1,000 state transitions.
pub const PER_TRANSITION: f64 = 0.025 / 1000.0;
/// Lambda on arm64: $0.0000133334 per GB-second.
pub const PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda: $0.20 per million requests.
pub const PER_REQUEST: f64 = 0.20 / 1_000_000.0;
/// The polling design's wait between checks.
pub const POLL_SECONDS: f64 = 15.0;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub good: bool,
    pub transitions: u64,
    pub invocations: u64,
    pub invocations_by_function: BTreeMap<String, u64>,
    /// The invocations EventBridge made, by the event that caused them.
    pub invocations_by_event: BTreeMap<String, u64>,
    /// Measured here, against the local cloud's moto (slower than AWS's
    /// services): an upper bound of what Lambda would bill.
    pub lambda_ms: f64,
    pub gb_seconds: f64,
    pub dollars: f64,
    /// UpdateService to ECS's COMPLETED, in the simulator's (ECS's) seconds.
    pub rollout_seconds: f64,
    /// The same rollout deployed by a polling design.
    pub polling: Polling,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Polling {
    pub transitions: u64,
    pub invocations: u64,
    pub dollars: f64,
}

/// The pipeline's functions that wait on ECS: what a polling design replaces with its loop.
const WAITING: [&str; 2] = ["await-rollout", "on-ecs-event"];

/// The cost of a pipeline run (`None` for a peer's).
pub async fn of(cloud: &Cloud, run: &Run, speed: f64) -> Result<Option<Cost>, BenchError> {
    let Some(d) = &run.deployment else { return Ok(None) };
    let arn = execution_arn(cloud, d)?;
    let transitions = transitions(cloud, &arn).await?;
    let memory = memory_by_binary(cloud);
    let mut by_function = BTreeMap::new();
    let mut by_event = BTreeMap::new();
    let mut gb_seconds = 0.0;
    let mut lambda_ms = 0.0;
    for (binary, i) in &run.metered.invocations {
        by_function.insert(binary.clone(), i.count);
        for (event, n) in &i.by_event {
            *by_event.entry(event.clone()).or_insert(0) += n;
        }
        let mb = f64::from(memory.get(binary).copied().unwrap_or(128));
        // Lambda bills each invocation's duration rounded up to the millisecond.
        gb_seconds += (i.total_ms.ceil() / 1000.0) * (mb / 1024.0);
        lambda_ms += i.total_ms;
    }
    let invocations = run.metered.invocation_count();
    let dollars = dollars(transitions, invocations, gb_seconds);
    // The record's UPDATING entry is written just before UpdateService.
    let updating_at = d.timeline.iter().find(|e| e.state == DeploymentStatus::Updating).map(|e| e.at);
    let rollout_seconds = match (updating_at, run.completed_at_ms) {
        (Some(u), Some(c)) => ((c - u.timestamp_micros() as f64 / 1000.0) / 1000.0 * speed).max(0.0),
        _ => 0.0,
    };
    let waiting_invocations: u64 = WAITING.iter().filter_map(|f| by_function.get(*f)).sum();
    let check_gb_s = per_check_gb_seconds(run, &memory);
    let polling = polling(transitions, invocations - waiting_invocations, gb_seconds, check_gb_s, rollout_seconds);
    Ok(Some(Cost {
        good: run.good,
        transitions,
        invocations,
        invocations_by_function: by_function,
        invocations_by_event: by_event,
        lambda_ms,
        gb_seconds,
        dollars,
        rollout_seconds,
        polling,
    }))
}

/// The run of deployment `d` (the launcher names it `<service>-<deployment id>`).
pub fn execution_arn(cloud: &Cloud, d: &autodeploy_shared::domain::Deployment) -> Result<String, BenchError> {
    let machine = cloud.template.physical_name("DeployStateMachine").map_err(|e| BenchError::Run(e.to_string()))?;
    let service = d.service_ref().map_err(|e| BenchError::Run(e.to_string()))?;
    let name = d.deployment_id.execution_name(&service);
    Ok(format!("arn:aws:states:{}:{}:execution:{machine}:{name}", cloud.stack.region, cloud.stack.account))
}

pub fn dollars(transitions: u64, invocations: u64, gb_seconds: f64) -> f64 {
    transitions as f64 * PER_TRANSITION + invocations as f64 * PER_REQUEST + gb_seconds * PER_GB_SECOND
}

/// A polling design of the same pipeline: the same steps up to the wait,
/// which becomes `Wait 15 s → Check → Choice` (three transitions and one
/// invocation) once per 15 s of rollout, in place of our wait for the
/// task token (the task and its Choice: two transitions) and the events' checks.
pub fn polling(ours: u64, other_invocations: u64, ours_gb_s: f64, check_gb_s: f64, rollout_seconds: f64) -> Polling {
    let checks = (rollout_seconds / POLL_SECONDS).ceil().max(1.0) as u64;
    let transitions = ours.saturating_sub(2) + 3 * checks;
    let invocations = other_invocations + checks;
    let gb_seconds = ours_gb_s + checks as f64 * check_gb_s;
    Polling { transitions, invocations, dollars: dollars(transitions, invocations, gb_seconds) }
}

/// GB-seconds of one check: a mean `on-ecs-event` invocation (it observes as a polling check would).
fn per_check_gb_seconds(run: &Run, memory: &BTreeMap<String, u32>) -> f64 {
    run.metered.invocations.get("on-ecs-event").filter(|i| i.count > 0).map_or(0.0, |i| {
        let mb = f64::from(memory.get("on-ecs-event").copied().unwrap_or(128));
        (i.total_ms / i.count as f64).ceil() / 1000.0 * (mb / 1024.0)
    })
}

fn memory_by_binary(cloud: &Cloud) -> BTreeMap<String, u32> {
    cloud
        .template
        .of_type("AWS::Serverless::Function")
        .filter_map(|(id, _)| {
            let binary = cloud.template.function_binary(id).ok()?;
            Some((binary, cloud.template.function_memory_mb(id).ok()?))
        })
        .collect()
}

/// State transitions AWS bills for an execution: each state entered.
async fn transitions(cloud: &Cloud, execution_arn: &str) -> Result<u64, BenchError> {
    let sdk = super::super::sdk_config(&cloud.endpoint, &cloud.stack.region).await;
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let mut entered = 0;
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| BenchError::Run(format!("GetExecutionHistory {execution_arn}: {e}")))?;
        entered += page.events().iter().filter(|e| e.r#type().as_str().ends_with("StateEntered")).count() as u64;
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(entered);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_a_deployment_at_published_rates() {
        // 9 transitions, 8 requests, 1 GB-s.
        let d = dollars(9, 8, 1.0);
        assert!((d - (9.0 * 0.000_025 + 8.0 * 0.000_000_2 + 0.000_013_333_4)).abs() < 1e-12);
    }

    #[test]
    fn a_polling_design_grows_with_the_rollout() {
        let short = polling(9, 6, 0.1, 0.01, 10.0);
        assert_eq!((short.transitions, short.invocations), (7 + 3, 7));
        let five_minutes = polling(9, 6, 0.1, 0.01, 300.0);
        assert_eq!((five_minutes.transitions, five_minutes.invocations), (7 + 60, 6 + 20));
        assert!(five_minutes.dollars > short.dollars);
    }
}
