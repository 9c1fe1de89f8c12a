//! The benchmark's figures per tool, its targets, and the Markdown it
//! prints (and splices into the README between its markers).

use serde::Serialize;

use super::Results;
use super::binaries::SIZE_BUDGET_BYTES;
use super::peers::{Run, Tool};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSummary {
    pub tool: Tool,
    pub label: String,
    pub good_deploys: usize,
    pub detection_ms_min: f64,
    pub detection_ms_median: f64,
    pub detection_ms_max: f64,
    pub start_to_done_ms_median: f64,
    pub ecs_calls_median: f64,
    pub elb_calls_median: f64,
    /// This tool's median detection over the pipeline's.
    pub times_the_pipeline: f64,
    /// Good deploys running the build and reported a success.
    pub good_correct: usize,
    pub bad: Option<Run>,
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

pub fn summarize(runs: &[Run]) -> Vec<ToolSummary> {
    let mut out: Vec<ToolSummary> = Tool::ALL
        .iter()
        .map(|&tool| {
            let good: Vec<&Run> = runs.iter().filter(|r| r.tool == tool && r.good).collect();
            let detection = sorted(good.iter().filter_map(|r| r.detection_ms).collect());
            let of = |f: fn(&Run) -> f64| super::median(&sorted(good.iter().map(|r| f(r)).collect()));
            ToolSummary {
                tool,
                label: tool.label().to_owned(),
                good_deploys: good.len(),
                detection_ms_min: detection.first().copied().unwrap_or_default(),
                detection_ms_median: super::median(&detection),
                detection_ms_max: detection.last().copied().unwrap_or_default(),
                start_to_done_ms_median: of(|r| r.start_to_done_ms),
                ecs_calls_median: of(|r| r.ecs_calls as f64),
                elb_calls_median: of(|r| r.elb_calls as f64),
                times_the_pipeline: 0.0,
                good_correct: good.iter().filter(|r| r.correct).count(),
                bad: runs.iter().find(|r| r.tool == tool && !r.good).cloned(),
            }
        })
        .collect();
    let ours = out.iter().find(|s| s.tool == Tool::Pipeline).map_or(0.0, |s| s.detection_ms_median);
    for s in &mut out {
        s.times_the_pipeline = if ours > 0.0 { s.detection_ms_median / ours } else { 0.0 };
    }
    out
}

/// One target of the benchmark, and whether this run met it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub target: String,
    pub measured: String,
    /// `None`: this run did not measure it.
    pub met: Option<bool>,
}

fn target(target: &str, measured: String, met: Option<bool>) -> Target {
    Target { target: target.to_owned(), measured, met }
}

pub fn targets(r: &Results) -> Vec<Target> {
    let mut t = Vec::new();
    let tool = |tool| r.tools.iter().find(|s| s.tool == tool);
    if let Some(p) = tool(Tool::Pipeline).filter(|p| p.good_deploys > 0) {
        let ms = p.detection_ms_median;
        t.push(target("detection ≤ 0.3 s median", format!("{:.2} s", ms / 1000.0), Some(ms <= 300.0)));
        for (peer, times) in [(Tool::AwsCli, 25.0), (Tool::Fabfuel, 2.0)] {
            if let Some(s) = tool(peer) {
                t.push(target(
                    &format!("≥ {times}× faster than {}", peer.label()),
                    format!("{:.1}×", s.times_the_pipeline),
                    Some(s.times_the_pipeline >= times),
                ));
            }
        }
    }
    let slow = r.slow.iter().find(|s| s.tool == Tool::Pipeline);
    t.push(target(
        &format!("≤ 15 ECS calls for a {} rollout", r.slow_behavior),
        slow.map_or("not run".into(), |s| format!("{} ECS calls", s.ecs_calls)),
        slow.map(|s| s.ecs_calls <= 15),
    ));
    for (good, transitions, invocations) in [(true, 9, 8), (false, 14, 12)] {
        let costs: Vec<&super::cost::Cost> = r.costs.iter().filter(|c| c.good == good).collect();
        let most = |f: fn(&super::cost::Cost) -> u64| costs.iter().map(|c| f(c)).max();
        let (tr, inv) = (most(|c| c.transitions), most(|c| c.invocations));
        t.push(target(
            &format!(
                "a {} deploy ≤ {transitions} transitions, ≤ {invocations} invocations",
                if good { "good" } else { "bad" }
            ),
            match (tr, inv) {
                (Some(a), Some(b)) => format!("{a} transitions, {b} invocations"),
                _ => "not run".into(),
            },
            tr.zip(inv).map(|(a, b)| a <= transitions && b <= invocations),
        ));
    }
    if !r.binaries.is_empty() {
        let arm: Vec<u64> = r.binaries.iter().filter_map(|b| b.arm64_bytes).collect();
        let x86 = r.binaries.iter().filter_map(|b| b.x86_64_bytes).max().unwrap_or(0);
        let over = arm.iter().filter(|b| **b > SIZE_BUDGET_BYTES).count();
        t.push(target(
            "each function ≤ 6.0 MB stripped (arm64)",
            if arm.len() == r.binaries.len() {
                format!("largest {:.2} MB, {over} over", mb(arm.iter().copied().max().unwrap_or(0)))
            } else {
                format!("arm64 not built here; x86_64 largest {:.2} MB", mb(x86))
            },
            (arm.len() == r.binaries.len()).then_some(over == 0),
        ));
        let worst = r.binaries.iter().map(|b| b.init_ms_median).fold(0.0, f64::max);
        t.push(target("cold init ≤ 25 ms median", format!("slowest {worst:.1} ms"), Some(worst <= 25.0)));
    }
    for (pushes, seconds) in [(200, 60.0), (500, 120.0)] {
        let burst = r.bursts.iter().filter(|b| b.moto_processes > 1).map(|b| &b.report).find(|b| b.pushes == pushes);
        t.push(target(
            &format!("{pushes} pushes terminal and correct within {seconds:.0} s"),
            burst.map_or("not run".into(), |b| {
                format!("{:.0} s, {}", b.settled_in_seconds, if b.passed() { "correct" } else { "NOT correct" })
            }),
            burst.map(|b| b.passed() && b.settled_in_seconds <= seconds),
        ));
    }
    if let (Some(first), Some(last)) = (r.event_costs.first(), r.event_costs.last())
        && last.in_flight > first.in_flight
    {
        // Flat: a handful more at most, where reading every deployment in
        // flight would add one item per deployment.
        let flat =
            last.dynamodb_items_read <= first.dynamodb_items_read + 2.0 && last.ecs_calls <= first.ecs_calls + 1.0;
        t.push(target(
            "work per ECS event flat in deployments in flight",
            format!(
                "{:.1} items read, {:.1} ECS calls at {}; {:.1} and {:.1} at {}",
                first.dynamodb_items_read,
                first.ecs_calls,
                first.in_flight,
                last.dynamodb_items_read,
                last.ecs_calls,
                last.in_flight
            ),
            Some(flat),
        ));
    }
    t
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn secs(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

/// The whole report as Markdown.
pub fn markdown(r: &Results) -> String {
    let mut o = String::new();
    let kind = if r.smoke { "smoke run" } else { "run" };
    o.push_str(&format!(
        "Bench {kind} of {} on {} cores, simulator at {}× (`autodeploy-local bench`).\n\n",
        r.date, r.cores, r.speed
    ));
    if r.runs.is_empty() {
        o.push_str("(the tools side by side were not run)\n");
    } else {
        tools_table(&mut o, r);
    }
    if !r.slow.is_empty() {
        o.push_str(&format!("\nOne `{}` rollout per tool, in real time:\n\n", r.slow_behavior));
        o.push_str("| Tool | Start → done | ECS calls | ELB calls |\n|---|---|---|---|\n");
        for s in &r.slow {
            o.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                s.tool.label(),
                secs(s.start_to_done_ms),
                s.ecs_calls,
                s.elb_calls
            ));
        }
    }
    if !r.costs.is_empty() {
        o.push_str("\nCost per deploy (Standard workflows $0.025 per 1,000 transitions; Lambda arm64 $0.0000133334 per GB-s, $0.20 per million requests; durations measured against moto):\n\n");
        o.push_str("| Build | Transitions | Lambda invocations | Lambda GB-s | $ per deploy | Rollout (ECS s) | Polling design (Wait 15 s → check): transitions, invocations, $ |\n");
        o.push_str("|---|---|---|---|---|---|---|\n");
        for good in [true, false] {
            let Some(c) = r.costs.iter().filter(|c| c.good == good).max_by_key(|c| c.transitions) else { continue };
            o.push_str(&format!(
                "| {} | {} | {} | {:.4} | {:.7} | {:.0} | {}, {}, {:.7} |\n",
                if good { "good (most of the runs)" } else { "bad" },
                c.transitions,
                c.invocations,
                c.gb_seconds,
                c.dollars,
                c.rollout_seconds,
                c.polling.transitions,
                c.polling.invocations,
                c.polling.dollars
            ));
        }
    }
    if !r.binaries.is_empty() {
        o.push_str(&format!(
            "\nFunctions (release build {}; cold init: process start to its first request for work, {} starts each):\n\n",
            r.release_build_seconds.map_or("reused".into(), |s| format!("{s:.0} s")),
            r.binaries.first().map_or(0, |b| b.starts)
        ));
        o.push_str("| Function | x86_64 stripped | arm64 stripped | Cold init median (min–max) | Peak RSS |\n|---|---|---|---|---|\n");
        for b in &r.binaries {
            let size = |v: Option<u64>| v.map_or("not built".into(), |b| format!("{:.2} MB", mb(b)));
            o.push_str(&format!(
                "| {} | {} | {} | {:.1} ms ({:.1}–{:.1}) | {:.1} MiB |\n",
                b.function,
                size(b.x86_64_bytes),
                size(b.arm64_bytes),
                b.init_ms_median,
                b.init_ms_min,
                b.init_ms_max,
                b.peak_rss_kib as f64 / 1024.0
            ));
        }
    }
    if !r.bursts.is_empty() {
        o.push_str("\nBursts (every build good):\n\n| Pushes | moto processes | Pushed in | All terminal after | Claim delay (median) | Outcomes | Checks |\n|---|---|---|---|---|---|---|\n");
        for run in &r.bursts {
            let b = &run.report;
            let outcomes: Vec<String> = b.outcomes.iter().map(|(s, n)| format!("{n} {s}")).collect();
            o.push_str(&format!(
                "| {} over {} services | {} | {:.1} s | {:.1} s | {:.1} s | {} | {} |\n",
                b.pushes,
                b.services,
                run.moto_processes,
                b.pushed_in_seconds,
                b.settled_in_seconds,
                b.claim_delay_median_seconds,
                outcomes.join(", "),
                if b.passed() { "pass".to_owned() } else { format!("**FAIL**: {}", b.problems.join("; ")) }
            ));
        }
    }
    if !r.event_costs.is_empty() {
        o.push_str("\nOne ECS event, by deployments in flight (means):\n\n| In flight | DynamoDB calls | Items read | ECS calls | ELB calls | ms |\n|---|---|---|---|---|---|\n");
        for c in &r.event_costs {
            o.push_str(&format!(
                "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |\n",
                c.in_flight, c.dynamodb_calls, c.dynamodb_items_read, c.ecs_calls, c.elb_calls, c.milliseconds
            ));
        }
    }
    o.push_str("\nTargets (reported, never asserted):\n\n| Target | Measured | Met |\n|---|---|---|\n");
    for t in &r.targets {
        let met = match t.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        o.push_str(&format!("| {} | {} | {met} |\n", t.target, t.measured));
    }
    o
}

fn tools_table(o: &mut String, r: &Results) {
    o.push_str("| Tool | Good deploys (correct) | Detection min / median / max | × ecs-autodeploy | Start → done (median) | ECS + ELB calls per deploy (median) | Bad build: reports | Bad build: service afterwards |\n");
    o.push_str("|---|---|---|---|---|---|---|---|\n");
    for s in &r.tools {
        let (bad_says, bad_after) = s.bad.as_ref().map_or(("not run".to_owned(), String::new()), |b| {
            let revision = b.final_revision.rsplit('/').next().unwrap_or("");
            (
                format!("{}: {}", b.outcome, b.words.chars().take(70).collect::<String>()),
                format!("{revision} {}{}", b.final_revision_status, if b.correct { "" } else { " (wrong)" }),
            )
        });
        o.push_str(&format!(
            "| {} | {} ({}) | {} / {} / {} | {:.1}× | {} | {} + {} | {} | {} |\n",
            s.label,
            s.good_deploys,
            s.good_correct,
            secs(s.detection_ms_min),
            secs(s.detection_ms_median),
            secs(s.detection_ms_max),
            s.times_the_pipeline,
            secs(s.start_to_done_ms_median),
            s.ecs_calls_median,
            s.elb_calls_median,
            bad_says.replace('|', "/"),
            bad_after,
        ));
    }
}

pub const START: &str = "<!-- bench:start -->";
pub const END: &str = "<!-- bench:end -->";

/// Replaces what is between the markers in `path` with `text`.
pub fn splice_readme(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path)?;
    let (Some(a), Some(b)) = (old.find(START), old.find(END)) else {
        return Err(std::io::Error::other(format!("no {START} … {END} markers")));
    };
    if b < a {
        return Err(std::io::Error::other("the markers are out of order"));
    }
    let new = format!("{}{START}\n{text}\n{}", &old[..a], &old[b..]);
    std::fs::write(path, new)
}
