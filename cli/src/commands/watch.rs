use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{deployment_id, record, when};
use crate::error::CliError;
use crate::exit;
use crate::output::Output;
use crate::stack::Stack;

/// How often the record is read while watching.
const EVERY: Duration = Duration::from_secs(2);

/// `autodeploy watch DEPLOYMENT`: each timeline entry as it is written, until
/// the deployment ends; the exit status says how it ended.
pub async fn watch(stack: &Stack, out: &Output, id: &str, timeout: Duration) -> Result<ExitCode, CliError> {
    let id = deployment_id(id)?;
    let started = Instant::now();
    let mut shown = 0;
    loop {
        let d = record(stack, &id).await?;
        if !out.json() {
            for e in d.timeline.iter().skip(shown) {
                println!("{}  {:<17}  {}", when(&e.at), out.status(e.state), e.detail);
            }
        }
        shown = d.timeline.len();
        if d.status.is_terminal() {
            if out.json() {
                out.document(&d);
            }
            return Ok(exit::of(d.status));
        }
        if started.elapsed() >= timeout {
            if out.json() {
                out.document(&d);
            } else {
                eprintln!("autodeploy: gave up after {} s: {} is still {}", timeout.as_secs(), id, d.status);
            }
            return Ok(ExitCode::from(exit::GAVE_UP));
        }
        tokio::time::sleep(EVERY).await;
    }
}
