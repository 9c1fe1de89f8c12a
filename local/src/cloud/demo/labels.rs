//! Names versions by tag: the pipeline pins images by digest, so the digests
//! of the demo's pushes are mapped back to their tags.

use std::collections::{BTreeMap, HashMap};

use super::view::VersionHealth;
use crate::cloud::Pushed;
use crate::sim::series::Sample;

/// Digest → tag of every image the demo pushed.
#[derive(Default)]
pub(super) struct Labels {
    digests: HashMap<String, String>,
}

impl Labels {
    pub(super) fn remember(&mut self, pushed: &Pushed) {
        self.digests.insert(pushed.digest.clone(), pushed.tag.clone());
    }

    /// The tag of a revision's first image: by digest if the demo pushed it,
    /// else from the reference; the task definition's name if it has no image.
    fn of(&self, images: &[String], task_definition: &str) -> String {
        let Some(image) = images.first() else {
            return task_definition.rsplit('/').next().unwrap_or(task_definition).to_owned();
        };
        if let Some((_, digest)) = image.split_once('@')
            && let Some(tag) = self.digests.get(digest)
        {
            return tag.clone();
        }
        let name = image.rsplit('/').next().unwrap_or(image);
        name.split_once(':').map_or(name, |(_, tag)| tag).to_owned()
    }

    /// The sample's task counts per version (revisions of the same image merged).
    pub(super) fn versions(&self, s: &Sample) -> Vec<VersionHealth> {
        let mut by_label: BTreeMap<String, VersionHealth> = BTreeMap::new();
        for v in &s.versions {
            let label = self.of(&v.images, &v.task_definition);
            let e = by_label.entry(label.clone()).or_insert(VersionHealth {
                label,
                healthy: 0,
                unhealthy: 0,
                draining: 0,
                production_traffic: None,
            });
            e.healthy += v.healthy;
            e.unhealthy += (v.running + v.pending - v.healthy).max(0);
            e.draining += v.draining;
            if let Some(w) = v.production_traffic {
                // Whole percents: the line changes when the weights move, not on rounding noise.
                let w = w.round() as i64;
                e.production_traffic = Some(e.production_traffic.unwrap_or(0) + w);
            }
        }
        by_label.into_values().collect()
    }

    /// Healthy tasks of the version `label` in the sample.
    pub(super) fn healthy_of(&self, s: &Sample, label: &str) -> i64 {
        self.versions(s).iter().filter(|v| v.label == label).map(|v| v.healthy).sum()
    }
}
