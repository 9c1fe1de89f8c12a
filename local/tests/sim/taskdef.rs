//! Task definitions round-trip every field (the product clones them field for field).

use autodeploy_local::sim::api::ecs::{dispatch, req::Req};
#[allow(deprecated)]
use aws_sdk_ecs::types::InferenceAccelerator;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, EphemeralStorage, HealthCheck, HostVolumeProperties, IpcMode,
    KeyValuePair, LogConfiguration, LogDriver, MountPoint, NetworkMode, OsFamily, PidMode, PortMapping,
    ProxyConfiguration, ProxyConfigurationType, RuntimePlatform, Secret, Tag, TaskDefinitionField,
    TaskDefinitionPlacementConstraint, TaskDefinitionPlacementConstraintType, TransportProtocol, Volume,
};
use serde_json::{Value, json};

use crate::common;

// inferenceAccelerators is deprecated in the SDK but still a member the product clones.
#[allow(deprecated)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_describe_round_trip_every_field() {
    let env = common::start().await;
    let container = ContainerDefinition::builder()
        .name("web")
        .image(format!("{}@sha256:{:0>64}", common::REPO, "ab"))
        .essential(true)
        .cpu(128)
        .memory(256)
        .memory_reservation(128)
        .port_mappings(
            PortMapping::builder().container_port(8080).protocol(TransportProtocol::Tcp).name("http").build(),
        )
        .environment(KeyValuePair::builder().name("MODE").value("prod").build())
        .secrets(
            Secret::builder()
                .name("TOKEN")
                .value_from("arn:aws:ssm:us-east-1:123456789012:parameter/token")
                .build()
                .unwrap(),
        )
        .mount_points(MountPoint::builder().source_volume("data").container_path("/data").read_only(true).build())
        .command("serve")
        .command("--port=8080")
        .health_check(
            HealthCheck::builder()
                .command("CMD-SHELL")
                .command("curl -f localhost:8080/health")
                .interval(10)
                .retries(3)
                .build()
                .unwrap(),
        )
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/web")
                .options("awslogs-region", "us-east-1")
                .build()
                .unwrap(),
        )
        .docker_labels("team", "platform")
        .stop_timeout(30)
        .build();
    let sidecar = ContainerDefinition::builder().name("envoy").image("envoyproxy/envoy:v1.31").essential(false).build();
    let tags =
        vec![Tag::builder().key("app").value("web").build(), Tag::builder().key("owner").value("platform").build()];
    let volume =
        Volume::builder().name("data").host(HostVolumeProperties::builder().source_path("/srv/data").build()).build();
    let runtime = RuntimePlatform::builder()
        .cpu_architecture(CpuArchitecture::Arm64)
        .operating_system_family(OsFamily::Linux)
        .build();
    let storage = EphemeralStorage::builder().size_in_gib(30).build();
    let placement = TaskDefinitionPlacementConstraint::builder()
        .r#type(TaskDefinitionPlacementConstraintType::MemberOf)
        .expression("attribute:ecs.os-type == linux")
        .build();
    let proxy = ProxyConfiguration::builder()
        .r#type(ProxyConfigurationType::Appmesh)
        .container_name("envoy")
        .properties(KeyValuePair::builder().name("AppPorts").value("8080").build())
        .build()
        .unwrap();
    let accel = InferenceAccelerator::builder().device_name("device1").device_type("eia2.medium").build().unwrap();
    let out = env
        .ecs
        .register_task_definition()
        .family("web")
        .task_role_arn("arn:aws:iam::123456789012:role/web-task")
        .execution_role_arn("arn:aws:iam::123456789012:role/web-exec")
        .network_mode(NetworkMode::Awsvpc)
        .container_definitions(container.clone())
        .container_definitions(sidecar.clone())
        .volumes(volume.clone())
        .placement_constraints(placement.clone())
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .set_tags(Some(tags.clone()))
        .pid_mode(PidMode::Task)
        .ipc_mode(IpcMode::None)
        .proxy_configuration(proxy.clone())
        .inference_accelerators(accel.clone())
        .ephemeral_storage(storage.clone())
        .runtime_platform(runtime.clone())
        .enable_fault_injection(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.tags(), tags.as_slice());
    let registered = out.task_definition().unwrap().clone();
    assert_eq!(registered.revision(), 1);
    assert_eq!(registered.task_definition_arn(), Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"));

    let described = env
        .ecs
        .describe_task_definition()
        .task_definition("web:1")
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    assert_eq!(described.tags(), tags.as_slice());
    let td = described.task_definition().unwrap();
    assert_eq!(td, &registered);
    // What was registered, plus the members ECS fills in when they are left out.
    assert_eq!(td.container_definitions(), [with_ecs_defaults(container), with_ecs_defaults(sidecar)].as_slice());
    assert_eq!(td.volumes(), [volume].as_slice());
    assert_eq!(td.placement_constraints(), [placement].as_slice());
    assert_eq!(td.proxy_configuration(), Some(&proxy));
    assert_eq!(td.inference_accelerators(), [accel].as_slice());
    assert_eq!(td.runtime_platform(), Some(&runtime));
    assert_eq!(td.ephemeral_storage(), Some(&storage));
    assert_eq!((td.cpu(), td.memory()), (Some("512"), Some("1024")));
    assert_eq!(td.network_mode(), Some(&NetworkMode::Awsvpc));
    assert_eq!(td.task_role_arn(), Some("arn:aws:iam::123456789012:role/web-task"));
    assert_eq!(td.execution_role_arn(), Some("arn:aws:iam::123456789012:role/web-exec"));
    assert_eq!(td.requires_compatibilities(), [Compatibility::Fargate].as_slice());
    assert!(td.compatibilities().contains(&Compatibility::Fargate));
    assert_eq!((td.pid_mode(), td.ipc_mode()), (Some(&PidMode::Task), Some(&IpcMode::None)));
    assert_eq!(td.enable_fault_injection(), Some(true));
    assert_eq!(td.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert!(td.registered_at().is_some() && td.registered_by().is_some() && !td.requires_attributes().is_empty());

    // Without include: TAGS no tags; by family = latest ACTIVE; deregistering makes it INACTIVE.
    let plain = env.ecs.describe_task_definition().task_definition("web").send().await.unwrap();
    assert!(plain.tags().is_empty());
    let gone = env.ecs.deregister_task_definition().task_definition("web:1").send().await.unwrap();
    assert_eq!(gone.task_definition().unwrap().status().map(|s| s.as_str()), Some("INACTIVE"));
    let listed = env.ecs.list_task_definitions().family_prefix("web").send().await.unwrap();
    assert!(listed.task_definition_arns().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_members_are_stored_verbatim() {
    let env = common::start().await;
    let request = json!({
        "family": "svc",
        "containerDefinitions": [{"name": "app", "image": "app:1", "futureContainerField": {"x": [1, 2]}}],
        "networkMode": "awsvpc",
        "someFutureField": {"nested": true},
        "trustedExecutionConfiguration": {"mode": "ON"},
        "tags": [{"key": "k", "value": "v"}]
    });
    let Value::Object(req) = request.clone() else { unreachable!() };
    let registered = env.sim.with(|w| dispatch(w, "RegisterTaskDefinition", &Req(&req))).unwrap();
    let Value::Object(ask) = json!({"taskDefinition": "svc:1", "include": ["TAGS"]}) else { unreachable!() };
    let described = env.sim.with(|w| dispatch(w, "DescribeTaskDefinition", &Req(&ask))).unwrap();
    assert_eq!(registered["taskDefinition"], described["taskDefinition"]);
    let td = &described["taskDefinition"];
    for k in ["family", "networkMode", "someFutureField", "trustedExecutionConfiguration"] {
        assert_eq!(td[k], request[k], "{k}");
    }
    // Every member of the container as registered, and ECS's defaults beside them.
    let app = td["containerDefinitions"][0].as_object().unwrap();
    for (k, v) in request["containerDefinitions"][0].as_object().unwrap() {
        assert_eq!(&app[k], v, "{k}");
    }
    for k in ["portMappings", "environment", "mountPoints", "volumesFrom"] {
        assert_eq!(app[k], json!([]), "{k}");
    }
    assert_eq!(
        (&app["essential"], &td["volumes"], &td["placementConstraints"]),
        (&json!(true), &json!([]), &json!([]))
    );
    assert!(td.get("tags").is_none(), "tags are returned beside the task definition");
    assert_eq!(described["tags"], request["tags"]);
    assert_eq!(td["revision"], 1);
    assert_eq!(td["status"], "ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_ecs_would_refuse_are_refused() {
    let env = common::start().await;
    let register = |tags: Value| {
        let Value::Object(req) = json!({
            "family": "svc",
            "containerDefinitions": [{"name": "app", "image": "app:1"}],
            "tags": tags,
        }) else {
            unreachable!()
        };
        env.sim.with(|w| dispatch(w, "RegisterTaskDefinition", &Req(&req)))
    };
    let ok = json!([{"key": "ecs-autodeploy:image-tag", "value": format!("v1.2 +=._:/@-{}", "é".repeat(200))}]);
    assert!(register(ok).is_ok(), "256 characters of the allowed classes");
    let too_many: Vec<Value> = (0..51).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    for bad in [
        json!([{"key": "k", "value": "v".repeat(257)}]),
        json!([{"key": "k".repeat(129), "value": "v"}]),
        json!([{"key": "", "value": "v"}]),
        json!([{"key": "k", "value": "semi;colon"}]),
        json!([{"key": "k\u{0007}", "value": "v"}]),
        json!([{"key": "AWS:owner", "value": "v"}]),
        Value::Array(too_many),
    ] {
        let err = register(bad.clone()).unwrap_err();
        assert_eq!(err.code, "InvalidParameterException", "{bad}");
    }
}

/// A container definition as DescribeTaskDefinition returns it: ECS fills in
/// the lists left out as `[]` and `essential` as true (botocore's examples).
fn with_ecs_defaults(mut c: ContainerDefinition) -> ContainerDefinition {
    c.port_mappings.get_or_insert_with(Vec::new);
    c.environment.get_or_insert_with(Vec::new);
    c.mount_points.get_or_insert_with(Vec::new);
    c.volumes_from.get_or_insert_with(Vec::new);
    c.essential.get_or_insert(true);
    c
}
