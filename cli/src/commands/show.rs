use std::process::ExitCode;

use super::{deployment_id, record, what, when};
use crate::error::CliError;
use crate::output::Output;
use crate::stack::Stack;

/// `autodeploy show DEPLOYMENT`: the record; as JSON, exactly as stored.
pub async fn show(stack: &Stack, out: &Output, id: &str) -> Result<ExitCode, CliError> {
    let d = record(stack, &deployment_id(id)?).await?;
    if out.json() {
        out.document(&d);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}  {}", d.deployment_id, out.status(d.status));
    let short = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    let mut rows = vec![
        ("service", format!("{}/{}", d.cluster, d.service)),
        ("image", format!("{} ({})", what(&d), d.digest)),
        ("found by", format!("{:?}", d.found_by).to_lowercase()),
    ];
    if let Some(td) = &d.previous_task_definition {
        rows.push(("previous", short(td)));
    }
    if let Some(td) = &d.new_task_definition {
        rows.push(("new", short(td)));
    }
    if let Some(s) = &d.strategy {
        rows.push(("strategy", s.to_string()));
    }
    if let Some(a) = &d.approval {
        let state = match a.outcome {
            Some(o) => format!("{o} {}", a.decided_how()),
            None => format!(
                "waiting since {}{}",
                when(&a.requested_at),
                a.expires_at.map_or_else(String::new, |e| format!(", until {}", when(&e)))
            ),
        };
        rows.push(("approval", state));
    }
    if let Some(r) = &d.failure_reason {
        rows.push(("reason", r.clone()));
    }
    for (k, v) in rows {
        println!("{k:<10}{v}");
    }
    for g in &d.target_health {
        println!("{:<10}{} {}/{} healthy", "targets", short(&g.target_group_arn), g.healthy_count, g.desired_count);
    }
    println!("timeline");
    for e in &d.timeline {
        println!("  {}  {:<17}  {}", when(&e.at), out.status(e.state), e.detail);
    }
    Ok(ExitCode::SUCCESS)
}
