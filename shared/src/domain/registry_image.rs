//! Images as ECR itself describes them, and what the stack believes about a
//! push once it has asked ECR.

use chrono::{DateTime, Timelike, Utc};

use super::tag_rule::parse_semver;
use super::{ImageDigest, TagRule, not_an_image};

/// One image of a repository, from ECR's `DescribeImages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryImage {
    pub digest: ImageDigest,
    pub tags: Vec<String>,
    /// ECR's `imagePushedAt`: when the image (not a later tag of it) was first pushed.
    pub pushed_at: Option<DateTime<Utc>>,
    pub manifest_media_type: Option<String>,
    pub artifact_media_type: Option<String>,
}

impl RegistryImage {
    /// Why this is not a container image (a Helm chart, a signature, an SBOM…),
    /// judged on ECR's media types rather than the event's.
    pub fn not_an_image(&self) -> Option<String> {
        not_an_image(self.manifest_media_type.as_deref(), self.artifact_media_type.as_deref())
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// When a push happened, as far as the stack can vouch for it: the time the
/// event claims, but never later than the moment the push reached the stack
/// and never earlier than ECR's own `imagePushedAt` of the image. A forged
/// `2099-…` becomes "received now"; a forged `1970-…` becomes "when ECR stored
/// it". Inside that window the event's time is kept, because it is the only
/// witness of when a *tag* was pushed (re-tagging an older image keeps the
/// image's `imagePushedAt`).
///
/// Event times have whole seconds and ECR's finer ones, so the lower bound is
/// ECR's time truncated to its second: an ordinary push is never "outside".
/// An event without a time counts as pushed when ECR stored the image.
pub fn believed_push_time(
    claimed: Option<DateTime<Utc>>,
    image_pushed_at: Option<DateTime<Utc>>,
    received: DateTime<Utc>,
) -> DateTime<Utc> {
    let latest = received;
    let earliest = image_pushed_at.map(|t| t.min(latest)).map_or(latest, |t| t.with_nanosecond(0).unwrap_or(t));
    claimed.or(image_pushed_at).unwrap_or(latest).clamp(earliest, latest)
}

/// The image a target should run now, with the tag that selects it: for
/// `semver` rules the highest version, for the others the most recently
/// pushed image (ties by digest, so every caller picks the same). Images that
/// are not container images are skipped.
pub fn newest_matching<'a>(images: &'a [RegistryImage], rule: &TagRule) -> Option<(&'a RegistryImage, &'a str)> {
    let candidates = images.iter().filter(|i| i.not_an_image().is_none()).filter_map(|i| {
        // One tag per image: the highest version, else the greatest name.
        let tag = match rule {
            TagRule::Semver { .. } => {
                i.tags.iter().filter(|t| rule.matches(t)).filter_map(|t| parse_semver(t).map(|v| (v, t))).max()?.1
            }
            _ => i.tags.iter().filter(|t| rule.matches(t)).max()?,
        };
        Some((i, tag.as_str()))
    });
    match rule {
        TagRule::Semver { .. } => {
            candidates.max_by(|(x, a), (y, b)| (parse_semver(a), &x.digest).cmp(&(parse_semver(b), &y.digest)))
        }
        _ => candidates.max_by(|(a, _), (b, _)| (a.pushed_at, &a.digest).cmp(&(b.pushed_at, &b.digest))),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn image(hex: char, tags: &[&str], pushed: i64) -> RegistryImage {
        RegistryImage {
            digest: ImageDigest::parse(&format!("sha256:{}", hex.to_string().repeat(64))).unwrap(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            pushed_at: Some(at(pushed)),
            manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            artifact_media_type: None,
        }
    }

    #[test]
    fn a_claimed_time_is_kept_only_inside_what_ecr_and_the_clock_allow() {
        let received = at(100);
        // Inside the window: the event's time (the only witness of a re-tag).
        assert_eq!(believed_push_time(Some(at(50)), Some(at(10)), received), at(50));
        // In the future: no later than it reached us.
        let far = Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(believed_push_time(Some(far), Some(at(10)), received), received);
        // Before ECR had the image: when ECR stored it.
        assert_eq!(believed_push_time(Some(at(-5000)), Some(at(10)), received), at(10));
        // No time in the event: when ECR stored it; an ECR time ahead of our clock: received.
        assert_eq!(believed_push_time(None, Some(at(10)), received), at(10));
        assert_eq!(believed_push_time(None, None, received), received);
        assert_eq!(believed_push_time(Some(at(50)), Some(at(500)), received), received);
        // The event's whole second of an image ECR stored 0.6 s into it is believed as is.
        let fine = at(10) + chrono::Duration::milliseconds(600);
        assert_eq!(believed_push_time(Some(at(10)), Some(fine), received), at(10));
    }

    #[test]
    fn newest_by_version_for_semver_rules_and_by_push_time_otherwise() {
        let images = [image('a', &["1.10.0"], 1), image('b', &["1.9.0", "latest"], 2), image('c', &["sbom"], 3)];
        let semver = TagRule::Semver { requirement: None };
        let (i, tag) = newest_matching(&images, &semver).unwrap();
        assert_eq!((i.digest.hex().chars().next(), tag), (Some('a'), "1.10.0"));

        let glob = TagRule::Glob { pattern: "*".into() };
        let (i, tag) = newest_matching(&images, &glob).unwrap();
        assert_eq!((i.digest.hex().chars().next(), tag), (Some('c'), "sbom"));

        let exact = TagRule::Exact { pattern: "latest".into() };
        assert_eq!(newest_matching(&images, &exact).unwrap().1, "latest");
        assert!(newest_matching(&images, &TagRule::Exact { pattern: "nope".into() }).is_none());
    }

    #[test]
    fn artifacts_are_never_the_newest_image() {
        let mut chart = image('d', &["9.9.9"], 9);
        chart.artifact_media_type = Some("application/vnd.cncf.helm.config.v1+json".into());
        let images = [image('a', &["1.0.0"], 1), chart];
        let (i, _) = newest_matching(&images, &TagRule::Semver { requirement: None }).unwrap();
        assert_eq!(i.digest.hex().chars().next(), Some('a'));
    }
}
