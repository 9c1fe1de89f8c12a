//! The exit status: 0 only when the deployment is on the service (or already
//! was), so a CI job can gate on `autodeploy watch`.

use std::process::ExitCode;

use autodeploy_shared::domain::DeploymentStatus;

/// Any error; 2 is clap's usage error.
pub const ERROR: u8 = 1;
/// `watch` gave up before the deployment ended.
pub const GAVE_UP: u8 = 7;

pub const HELP: &str = "\
EXIT STATUS
  0   done: SUCCEEDED, or NOOP (the service already ran it); approve, reject, freeze,
      unfreeze, and deploy/rollback without --wait: asked and accepted
  1   an error (no stack, access denied, unknown deployment or service, a request the
      pipeline refused, ...)
  2   a usage error
  3   ROLLED_BACK       4   FAILED       5   SUPERSEDED       6   REJECTED (not deployed)
  7   watch or --wait gave up (--timeout-seconds) before the deployment ended";

/// The exit status of a deployment that ended in `status`.
pub fn of(status: DeploymentStatus) -> ExitCode {
    match status {
        DeploymentStatus::Succeeded | DeploymentStatus::Noop => ExitCode::SUCCESS,
        DeploymentStatus::RolledBack => ExitCode::from(3),
        DeploymentStatus::Failed => ExitCode::from(4),
        DeploymentStatus::Superseded => ExitCode::from(5),
        DeploymentStatus::Rejected => ExitCode::from(6),
        _ => ExitCode::from(GAVE_UP),
    }
}
