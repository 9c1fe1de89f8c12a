//! The image catalogue: what a container does when the simulator "runs" an image.
//!
//! Images are keyed by `repo:tag` and by `repo@sha256:<hex>`; registering an image with
//! both lets a task definition pinned by digest resolve the same behaviour. An image the
//! catalogue does not know cannot be pulled (`CannotPullContainerError`), unless a
//! default behaviour is configured.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Longest `slow:<seconds>` start-up accepted (one day).
const MAX_SLOW_S: u64 = 86_400;

/// What a container running an image does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behavior {
    /// Starts and passes every health check.
    Healthy,
    /// The essential container exits with code 1 right after it starts.
    Crash,
    /// Runs, but every load balancer health check fails (HTTP 500).
    Unhealthy,
    /// Runs; health checks fail until this many seconds after the task is RUNNING.
    Slow(u64),
    /// Each health check fails independently with this probability (seeded RNG).
    Flaky(f64),
    /// Runs and its health check path answers 200, so the load balancer marks it healthy,
    /// but every other request answers HTTP 500: a bad build whose health check lies.
    Errors,
}

/// Why a behaviour or image reference was rejected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImageError {
    #[error("unknown behaviour '{0}' (expected healthy, crash, unhealthy, errors, slow:<seconds> or flaky:<p>)")]
    BadBehavior(String),
    #[error("invalid image reference '{0}'")]
    BadReference(String),
    #[error("invalid digest '{0}' (expected sha256:<hex>)")]
    BadDigest(String),
}

impl FromStr for Behavior {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ImageError::BadBehavior(s.to_string());
        match s.split_once(':') {
            None => match s {
                "healthy" => Ok(Self::Healthy),
                "crash" => Ok(Self::Crash),
                "unhealthy" => Ok(Self::Unhealthy),
                "errors" => Ok(Self::Errors),
                _ => Err(bad()),
            },
            Some(("slow", n)) => match n.parse::<u64>() {
                Ok(n) if n <= MAX_SLOW_S => Ok(Self::Slow(n)),
                _ => Err(bad()),
            },
            Some(("flaky", p)) => match p.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(Self::Flaky(p)),
                _ => Err(bad()),
            },
            Some(_) => Err(bad()),
        }
    }
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Crash => f.write_str("crash"),
            Self::Unhealthy => f.write_str("unhealthy"),
            Self::Slow(s) => write!(f, "slow:{s}"),
            Self::Flaky(p) => write!(f, "flaky:{p}"),
            Self::Errors => f.write_str("errors"),
        }
    }
}

/// A parsed image reference: `repo[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    pub repo: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a Docker image reference; a reference with neither tag nor digest means `:latest`.
    pub fn parse(s: &str) -> Result<Self, ImageError> {
        let bad = || ImageError::BadReference(s.to_string());
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(validate_digest(d)?)),
            None => (s, None),
        };
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match name[slash..].rfind(':') {
            Some(i) => (&name[..slash + i], Some(name[slash + i + 1..].to_string())),
            None => (name, None),
        };
        if repo.is_empty() || repo.ends_with('/') || tag.as_deref() == Some("") {
            return Err(bad());
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".into()) } else { tag };
        Ok(Self { repo: repo.to_string(), tag, digest })
    }

    fn tag_key(&self) -> Option<String> {
        self.tag.as_ref().map(|t| format!("{}:{t}", self.repo))
    }

    fn digest_key(&self) -> Option<String> {
        self.digest.as_ref().map(|d| format!("{}@{d}", self.repo))
    }
}

fn validate_digest(d: &str) -> Result<String, ImageError> {
    match d.strip_prefix("sha256:") {
        Some(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()) => Ok(d.to_string()),
        _ => Err(ImageError::BadDigest(d.to_string())),
    }
}

/// A catalogue entry: the behaviour, and the digest the image resolves to if known.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    pub behavior: Behavior,
    pub digest: Option<String>,
}

/// Images known to the simulator.
#[derive(Debug, Clone, Default)]
pub struct ImageCatalogue {
    entries: BTreeMap<String, ImageEntry>,
    /// Behaviour of images not in the catalogue; `None` means they cannot be pulled.
    pub default_behavior: Option<Behavior>,
}

impl ImageCatalogue {
    /// An empty catalogue; `default_behavior` applies to images it does not know.
    pub fn new(default_behavior: Option<Behavior>) -> Self {
        Self { entries: BTreeMap::new(), default_behavior }
    }

    /// Registers `image` (and `digest`, if given) with `behavior`; returns the keys stored.
    pub fn register(
        &mut self,
        image: &str,
        digest: Option<&str>,
        behavior: Behavior,
    ) -> Result<Vec<String>, ImageError> {
        let mut r = ImageRef::parse(image)?;
        if let Some(d) = digest {
            r.digest = Some(validate_digest(d)?);
        }
        let entry = ImageEntry { behavior, digest: r.digest.clone() };
        let keys: Vec<String> = [r.tag_key(), r.digest_key()].into_iter().flatten().collect();
        for k in &keys {
            self.entries.insert(k.clone(), entry.clone());
        }
        Ok(keys)
    }

    /// The entry for an image as a container definition names it; the digest wins over the tag.
    pub fn resolve(&self, image: &str) -> Option<ImageEntry> {
        let r = ImageRef::parse(image).ok()?;
        let found = r
            .digest_key()
            .and_then(|k| self.entries.get(&k))
            .or_else(|| r.tag_key().and_then(|k| self.entries.get(&k)))
            .cloned();
        found.or_else(|| self.default_behavior.map(|behavior| ImageEntry { behavior, digest: r.digest.clone() }))
    }

    /// All keys with their entries, for the state snapshot.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &ImageEntry)> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web";

    #[test]
    fn behaviours_parse_and_print() {
        for s in ["healthy", "crash", "unhealthy", "errors", "slow:30", "flaky:0.25"] {
            assert_eq!(s.parse::<Behavior>().map(|b| b.to_string()), Ok(s.to_string()));
        }
        for s in ["", "slow", "slow:x", "slow:99999999999999999", "flaky:2", "boom", "errors:1"] {
            assert!(s.parse::<Behavior>().is_err(), "{s}");
        }
    }

    #[test]
    fn tag_and_digest_resolve_to_the_same_behaviour() {
        let mut c = ImageCatalogue::default();
        let digest = "sha256:abcd1234";
        c.register(&format!("{REPO}:v2"), Some(digest), Behavior::Crash).unwrap();
        assert_eq!(c.resolve(&format!("{REPO}@{digest}")).unwrap().behavior, Behavior::Crash);
        assert_eq!(c.resolve(&format!("{REPO}:v2")).unwrap().digest.as_deref(), Some(digest));
        assert!(c.resolve(&format!("{REPO}:v3")).is_none());
        assert!(c.resolve(&format!("{REPO}@sha256:ffff")).is_none());
    }

    #[test]
    fn references_parse_like_docker() {
        let r = ImageRef::parse("localhost:5000/app").unwrap();
        assert_eq!((r.repo.as_str(), r.tag.as_deref()), ("localhost:5000/app", Some("latest")));
        let mut c = ImageCatalogue::default();
        c.register("nginx", None, Behavior::Healthy).unwrap();
        assert!(c.resolve("nginx:latest").is_some());
        assert!(ImageRef::parse("web@sha256:zz").is_err());
        assert!(ImageRef::parse("web:").is_err());
    }
}
