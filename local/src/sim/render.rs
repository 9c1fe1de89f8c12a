//! Task rendering shared by the ECS API (epoch-second timestamps, attachment type
//! `ElasticNetworkInterface`) and Task State Change events (ISO timestamps, type `eni`).

use serde_json::{Map, Value, json};

use crate::sim::clock::{SimTime, epoch_seconds, iso_millis};
use crate::sim::model::{Container, Task, TaskStatus};

/// Which wire shape to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// DescribeTasks / StopTask (awsJson1_1).
    Api,
    /// `detail` of an ECS Task State Change event.
    Event,
}

impl Shape {
    fn time(self, t: SimTime) -> Value {
        match self {
            Self::Api => epoch_seconds(t),
            Self::Event => Value::String(iso_millis(t)),
        }
    }
}

/// A task as ECS returns it (`Task` shape) or as the event `detail`.
pub fn task(t: &Task, now: SimTime, shape: Shape, include_tags: bool) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    if let Some(eni) = &t.eni {
        let kind = if shape == Shape::Api { "ElasticNetworkInterface" } else { "eni" };
        put(
            "attachments",
            json!([{
                "id": eni.attachment_id, "type": kind, "status": eni.status,
                "details": [
                    {"name": "subnetId", "value": eni.subnet},
                    {"name": "networkInterfaceId", "value": eni.eni_id},
                    {"name": "macAddress", "value": eni.mac},
                    {"name": "privateDnsName", "value": format!("ip-{}.ec2.internal", eni.ip.replace('.', "-"))},
                    {"name": "privateIPv4Address", "value": eni.ip},
                ]
            }]),
        );
    } else {
        put("attachments", json!([]));
    }
    put("availabilityZone", json!(t.availability_zone));
    put("clusterArn", json!(t.cluster_arn));
    put("containers", Value::Array(t.containers.iter().map(|c| container(t, c, now, shape)).collect()));
    if let Some(cpu) = &t.cpu {
        put("cpu", json!(cpu));
    }
    if let Some(mem) = &t.memory {
        put("memory", json!(mem));
    }
    put("createdAt", shape.time(t.created_at));
    put("desiredStatus", json!(t.desired_status));
    put("group", json!(t.group));
    put("lastStatus", json!(t.last_status.as_str()));
    put("launchType", json!(t.launch_type));
    if let Some(pv) = &t.platform_version {
        put("platformVersion", json!(pv));
    }
    if shape == Shape::Api {
        put("healthStatus", json!(t.health_status(now)));
        put("enableExecuteCommand", json!(false));
    }
    put(
        "overrides",
        json!({"containerOverrides": t.containers.iter().map(|c| json!({"name": c.name})).collect::<Vec<_>>(), "inferenceAcceleratorOverrides": []}),
    );
    if let Some(at) = t.connectivity_at {
        put("connectivity", json!("CONNECTED"));
        put("connectivityAt", shape.time(at));
    }
    let times = [
        ("pullStartedAt", t.pull_started_at),
        ("pullStoppedAt", t.pull_stopped_at),
        ("startedAt", t.started_at),
        ("stoppingAt", t.stopping_at),
        ("executionStoppedAt", t.execution_stopped_at),
        ("stoppedAt", t.stopped_at),
    ];
    for (k, v) in times {
        if let Some(v) = v {
            put(k, shape.time(v));
        }
    }
    if let Some(by) = &t.started_by {
        put("startedBy", json!(by));
    }
    if let Some(code) = t.stop_code {
        put("stopCode", json!(code));
    }
    if let Some(r) = &t.stopped_reason {
        put("stoppedReason", json!(r));
    }
    put("taskArn", json!(t.arn));
    put("taskDefinitionArn", json!(t.task_def_arn));
    put("version", json!(t.version));
    if shape == Shape::Event {
        put("updatedAt", shape.time(t.updated_at));
    }
    if include_tags {
        put("tags", Value::Array(t.tags.clone()));
    }
    Value::Object(m)
}

fn container(t: &Task, c: &Container, now: SimTime, shape: Shape) -> Value {
    let mut m = Map::new();
    m.insert("containerArn".into(), json!(c.arn));
    m.insert("taskArn".into(), json!(t.arn));
    m.insert("name".into(), json!(c.name));
    m.insert("image".into(), json!(c.image));
    m.insert("lastStatus".into(), json!(c.last_status));
    m.insert("cpu".into(), json!(c.cpu));
    if let Some(d) = &c.image_digest {
        m.insert("imageDigest".into(), json!(d));
    }
    if t.last_status >= TaskStatus::Running || c.last_status == "STOPPED" {
        m.insert("runtimeId".into(), json!(c.runtime_id));
    }
    if let Some(mem) = &c.memory {
        m.insert("memory".into(), json!(mem));
    }
    if let Some(code) = c.exit_code {
        m.insert("exitCode".into(), json!(code));
    }
    if let Some(r) = &c.reason {
        m.insert("reason".into(), json!(r));
    }
    if let Some(eni) = &t.eni {
        m.insert(
            "networkInterfaces".into(),
            json!([{"attachmentId": eni.attachment_id, "privateIpv4Address": eni.ip}]),
        );
    }
    if shape == Shape::Api {
        m.insert("networkBindings".into(), json!([]));
        m.insert("healthStatus".into(), json!(t.container_health(c, now)));
    }
    Value::Object(m)
}
