//! The script: which images are pushed, in which order, and what must come of
//! each push.

use autodeploy_shared::domain::DeploymentStatus;

use crate::cloud::seed::SeedStrategy;

/// One push of the demo and what must come of it.
#[derive(Debug, Clone)]
pub struct Step {
    pub tag: String,
    pub behavior: String,
    pub expected: DeploymentStatus,
    /// The version that must keep at least the minimum healthy while this runs.
    pub serving: Option<String>,
    /// A push made just before this one (within a second) that must end
    /// SUPERSEDED: the newest push wins.
    pub preceded_by: Option<(String, String)>,
}

impl Step {
    /// `web:v2` healthy → SUCCEEDED; `web:v3` bad → ROLLED_BACK with `v2`
    /// serving; `web:v4` healthy → SUCCEEDED; `web:v5` and `web:v6` within a
    /// second → `v5` SUPERSEDED, `v6` SUCCEEDED. A traffic-shifting strategy
    /// bakes each good build for minutes: its script is the first two steps.
    pub fn script(bad: &str, strategy: SeedStrategy) -> Vec<Step> {
        let step = |tag: &str, behavior: &str, expected, serving: Option<&str>| Step {
            tag: tag.into(),
            behavior: behavior.into(),
            expected,
            serving: serving.map(Into::into),
            preceded_by: None,
        };
        let mut script = vec![
            step("v2", "healthy", DeploymentStatus::Succeeded, None),
            step("v3", bad, DeploymentStatus::RolledBack, Some("v2")),
            step("v4", "healthy", DeploymentStatus::Succeeded, None),
            Step {
                preceded_by: Some(("v5".into(), "healthy".into())),
                ..step("v6", "healthy", DeploymentStatus::Succeeded, None)
            },
        ];
        if strategy.shifts_traffic() {
            script.truncate(2);
        }
        script
    }

    /// `── 2/4  push web:v3 (unhealthy) → expect ROLLED_BACK`: what step
    /// `number` of `total` pushes to `repository` and what it expects.
    pub fn heading(&self, number: usize, total: usize, repository: &str) -> String {
        let before = self
            .preceded_by
            .as_ref()
            .map(|(tag, behavior)| format!("{repository}:{tag} ({behavior}) and, within a second, "))
            .unwrap_or_default();
        let rival = self.preceded_by.as_ref().map(|(tag, _)| format!(", {tag} SUPERSEDED")).unwrap_or_default();
        format!(
            "── {number}/{total}  push {before}{repository}:{} ({}) → expect {}{rival}",
            self.tag,
            self.behavior,
            self.expected.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_name_the_push_and_the_rival() {
        let script = Step::script("crash", SeedStrategy::Rolling);
        assert_eq!(Step::script("crash", SeedStrategy::BlueGreen).len(), 2);
        assert_eq!(script[1].heading(2, 4, "web"), "── 2/4  push web:v3 (crash) → expect ROLLED_BACK");
        assert_eq!(
            script[3].heading(4, 4, "web"),
            "── 4/4  push web:v5 (healthy) and, within a second, web:v6 (healthy) → expect SUCCEEDED, v5 SUPERSEDED"
        );
    }
}
