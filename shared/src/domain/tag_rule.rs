//! Which pushed tags a deploy target accepts.

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::DeployError;

/// A deploy target's tag rule, stored as `{"type": "...", "pattern": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TagRule {
    /// The tag equals `pattern`.
    Exact { pattern: String },
    /// Shell-style glob: `*` any run of characters, `?` one character.
    Glob { pattern: String },
    /// Tags that are semantic versions (an optional leading `v`), optionally
    /// within `requirement` (e.g. `>=1.2, <2`); the service only moves to a
    /// version higher than the one it runs.
    Semver {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requirement: Option<String>,
    },
}

impl TagRule {
    /// Checks the rule itself (a target with an unparsable requirement is refused
    /// when it is written, not discovered on the first push).
    pub fn validate(&self) -> Result<(), DeployError> {
        match self {
            Self::Exact { pattern } | Self::Glob { pattern } if pattern.is_empty() => {
                Err(DeployError::InvalidInput("tag rule pattern is empty".into()))
            }
            Self::Semver { requirement: Some(req) } => VersionReq::parse(req)
                .map(|_| ())
                .map_err(|e| DeployError::InvalidInput(format!("semver requirement {req:?}: {e}"))),
            _ => Ok(()),
        }
    }

    /// Whether a pushed tag is one this rule deploys.
    pub fn matches(&self, tag: &str) -> bool {
        match self {
            Self::Exact { pattern } => pattern == tag,
            Self::Glob { pattern } => glob_match(pattern.as_bytes(), tag.as_bytes()),
            Self::Semver { requirement } => match parse_semver(tag) {
                None => false,
                Some(v) => match requirement {
                    None => true,
                    Some(req) => VersionReq::parse(req).is_ok_and(|r| r.matches(&v)),
                },
            },
        }
    }

    /// For `semver` rules: whether `candidate` is strictly higher than `running`.
    /// A running tag that is not a version never blocks a deploy; other rule
    /// kinds have no ordering and always allow it.
    pub fn allows_over(&self, candidate: &str, running: Option<&str>) -> bool {
        match (self, running.and_then(parse_semver), parse_semver(candidate)) {
            (Self::Semver { .. }, Some(running), Some(candidate)) => candidate > running,
            _ => true,
        }
    }
}

/// `1.2.3`, `v1.2.3`, `1.2.3-rc.1`; not `latest`, not `1.2`.
pub fn parse_semver(tag: &str) -> Option<Version> {
    Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

/// Iterative glob with single-star backtracking: linear in practice, no regex.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> TagRule {
        TagRule::Glob { pattern: p.into() }
    }

    #[test]
    fn exact() {
        let r = TagRule::Exact { pattern: "latest".into() };
        assert!(r.matches("latest"));
        assert!(!r.matches("latest2"));
        assert!(!r.matches("Latest"));
    }

    #[test]
    fn globs() {
        assert!(glob("release-*").matches("release-2024.1"));
        assert!(glob("release-*").matches("release-"));
        assert!(!glob("release-*").matches("rc-release-1"));
        assert!(glob("*-prod").matches("web-prod"));
        assert!(glob("v?.*").matches("v1.20"));
        assert!(!glob("v?.*").matches("v10.2"));
        assert!(glob("*a*b*").matches("xxaxxbxx"));
        assert!(!glob("*a*b").matches("xxaxxbxxc"));
        assert!(glob("*").matches(""));
    }

    #[test]
    fn semver_matching_and_requirements() {
        let any = TagRule::Semver { requirement: None };
        assert!(any.matches("1.2.3"));
        assert!(any.matches("v1.2.3"));
        assert!(any.matches("2.0.0-rc.1"));
        assert!(!any.matches("latest"));
        assert!(!any.matches("1.2"));
        let v1 = TagRule::Semver { requirement: Some(">=1.0.0, <2.0.0".into()) };
        assert!(v1.matches("v1.9.0"));
        assert!(!v1.matches("2.0.0"));
    }

    #[test]
    fn semver_ordering_only_moves_forward() {
        let r = TagRule::Semver { requirement: None };
        assert!(r.allows_over("1.10.0", Some("1.9.0")), "numeric, not lexical ordering");
        assert!(!r.allows_over("1.9.0", Some("1.10.0")));
        assert!(!r.allows_over("1.2.3", Some("v1.2.3")), "same version is not higher");
        assert!(r.allows_over("1.0.0", Some("1.0.0-rc.1")), "release beats its pre-release");
        assert!(!r.allows_over("1.0.0-rc.1", Some("1.0.0")));
        assert!(r.allows_over("1.0.0", None));
        assert!(r.allows_over("1.0.0", Some("latest")));
        assert!(glob("*").allows_over("a", Some("b")));
    }

    #[test]
    fn validation() {
        assert!(TagRule::Semver { requirement: Some("not a req".into()) }.validate().is_err());
        assert!(TagRule::Exact { pattern: String::new() }.validate().is_err());
        assert!(glob("x*").validate().is_ok());
    }

    #[test]
    fn serde_shape() {
        let r: TagRule = serde_json::from_str(r#"{"type":"glob","pattern":"release-*"}"#).unwrap();
        assert_eq!(r, glob("release-*"));
        let s: TagRule = serde_json::from_str(r#"{"type":"semver"}"#).unwrap();
        assert_eq!(s, TagRule::Semver { requirement: None });
    }
}
