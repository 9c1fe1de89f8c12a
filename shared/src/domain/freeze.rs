//! A service frozen by a person: no rollout of it starts until it is
//! unfrozen. Pushes meanwhile are held (status HELD) with the freeze's reason;
//! the newest of them deploys when the service is unfrozen.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::DeployError;

/// The longest reason a freeze keeps (it is shown on every held push).
pub const MAX_FREEZE_REASON_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Freeze {
    pub reason: String,
    /// The IAM identity that froze the service (as Lambda verified it).
    pub by: String,
    #[serde(with = "super::iso")]
    pub at: DateTime<Utc>,
}

impl Freeze {
    /// A freeze by `by` at `at`; the reason must say something, on one line.
    pub fn new(reason: &str, by: &str, at: DateTime<Utc>) -> Result<Self, DeployError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DeployError::InvalidInput("a freeze needs a reason (it is shown on every held push)".into()));
        }
        if reason.chars().count() > MAX_FREEZE_REASON_CHARS || reason.contains(['\n', '\r']) {
            return Err(DeployError::InvalidInput(format!(
                "a freeze reason is one line of at most {MAX_FREEZE_REASON_CHARS} characters"
            )));
        }
        if by.is_empty() {
            return Err(DeployError::InvalidInput("a freeze needs the identity that asked for it".into()));
        }
        // Kept to the millisecond, as it is stored: a freeze read back is equal to the one written.
        Ok(Self { reason: reason.to_owned(), by: by.to_owned(), at: at.trunc_subsecs(3) })
    }

    /// The timeline line of a push held by this freeze.
    pub fn held_line(&self, service_key: &str) -> String {
        format!("held: {service_key} is frozen since {} by {}: {}", super::iso::format(&self.at), self.by, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freeze_says_why_on_one_line() {
        let at = Utc::now();
        assert!(Freeze::new("  ", "arn:aws:iam::1:user/a", at).is_err());
        assert!(Freeze::new("a\nb", "arn:aws:iam::1:user/a", at).is_err());
        assert!(Freeze::new(&"x".repeat(513), "arn:aws:iam::1:user/a", at).is_err());
        assert!(Freeze::new("incident 42", "", at).is_err());
        let f = Freeze::new(" incident 42 ", "arn:aws:iam::1:user/a", at).unwrap();
        assert_eq!(f.reason, "incident 42");
        assert!(f.held_line("demo/web").ends_with("by arn:aws:iam::1:user/a: incident 42"));
    }
}
