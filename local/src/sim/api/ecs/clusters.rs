//! CreateCluster, DescribeClusters, ListClusters, DeleteCluster.

use serde_json::{Value, json};

use super::render;
use super::req::{Req, page};
use crate::sim::api::error::EcsError;
use crate::sim::model::{Cluster, ServiceStatus, TaskStatus};
use crate::sim::world::World;

/// Idempotent: creating an existing ACTIVE cluster returns it.
pub fn create(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let name = r.str("clusterName")?.unwrap_or("default");
    if name.is_empty() || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(EcsError::invalid("Cluster name must be 1-255 letters, numbers, hyphens and underscores."));
    }
    let tags = r.tags()?;
    if w.cluster(Some(name)).is_none() {
        let c = Cluster {
            name: name.to_string(),
            arn: w.arn("ecs", &format!("cluster/{name}")),
            status: "ACTIVE".into(),
            tags,
            settings: r.value("settings").cloned(),
            configuration: r.value("configuration").cloned(),
            created_at: w.now(),
        };
        w.clusters.insert(name.to_string(), c);
    }
    let c = w.cluster(Some(name)).ok_or_else(|| EcsError::new("ServerException", "cluster vanished"))?;
    Ok(json!({"cluster": render::cluster(w, c, &["TAGS"])}))
}

/// Unknown clusters are reported in `failures` with reason MISSING.
pub fn describe(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let include = r.strings("include")?.unwrap_or_default();
    let idents = r.strings("clusters")?.unwrap_or_else(|| vec!["default"]);
    let (mut clusters, mut failures) = (Vec::new(), Vec::new());
    for ident in idents {
        match w.cluster(Some(ident)) {
            Some(c) => clusters.push(render::cluster(w, c, &include)),
            None => {
                let arn = if ident.starts_with("arn:") {
                    ident.to_string()
                } else {
                    w.arn("ecs", &format!("cluster/{ident}"))
                };
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({"clusters": clusters, "failures": failures}))
}

pub fn list(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let arns = w.clusters.values().filter(|c| c.status == "ACTIVE").map(|c| c.arn.clone()).collect();
    page(r, "clusterArns", arns, 100)
}

/// Refuses while the cluster has services or tasks, as ECS does.
pub fn delete(w: &mut World, r: &Req) -> Result<Value, EcsError> {
    let name = w.cluster(Some(r.req_str("cluster")?)).ok_or_else(EcsError::cluster_not_found)?.name.clone();
    if w.services.iter().any(|s| s.cluster == name && s.status != ServiceStatus::Inactive) {
        return Err(EcsError::new(
            "ClusterContainsServicesException",
            "The Cluster cannot be deleted while Services are active.",
        ));
    }
    if w.tasks.values().any(|t| t.cluster == name && t.last_status != TaskStatus::Stopped) {
        return Err(EcsError::new(
            "ClusterContainsTasksException",
            "The Cluster cannot be deleted while Tasks are active.",
        ));
    }
    let c = w.clusters.get_mut(&name).ok_or_else(EcsError::cluster_not_found)?;
    c.status = "INACTIVE".into();
    let c = c.clone();
    let mut v = render::cluster(w, &c, &[]);
    if let Some(m) = v.as_object_mut() {
        m.insert("status".into(), json!("INACTIVE"));
    }
    Ok(json!({"cluster": v}))
}
