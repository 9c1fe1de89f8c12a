//! Every error response parses into the SDKs' typed errors; malformed requests get a
//! clear protocol error instead of a crash.

use autodeploy_local::sim::Behavior;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{AwsVpcConfiguration, NetworkConfiguration};
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetDescription, TargetGroupAttribute, TargetTypeEnum};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{self, CLUSTER, SERVICE, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_errors_are_typed() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);

    let e = env.ecs.describe_services().cluster("nope").services("web").send().await.unwrap_err().into_service_error();
    assert!(e.is_cluster_not_found_exception(), "{e:?}");
    assert_eq!(e.message(), Some("Cluster not found."));

    let tg = env.service(&v1, Setup { desired: 1, ..Setup::default() }).await;
    let e = env
        .ecs
        .update_service()
        .cluster(CLUSTER)
        .service("ghost")
        .desired_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_service_not_found_exception(), "{e:?}");

    let missing = env.ecs.describe_services().cluster(CLUSTER).services("ghost").send().await.unwrap();
    assert_eq!(missing.failures()[0].reason(), Some("MISSING"));
    assert_eq!(missing.failures()[0].arn(), Some("arn:aws:ecs:us-east-1:123456789012:service/apps/ghost"));

    let e = env
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name("x")
        .task_definition("nope:7")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_client_exception(), "{e:?}");

    let e = env
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name("x")
        .task_definition("web")
        .desired_count(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "awsvpc without networkConfiguration: {e:?}");

    let e = env
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .task_definition("web")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "duplicate service: {e:?}");

    let e = env
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name("y")
        .task_definition("web")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(AwsVpcConfiguration::builder().subnets("s").build().unwrap())
                .build(),
        )
        .load_balancers(
            aws_sdk_ecs::types::LoadBalancer::builder()
                .target_group_arn(&tg)
                .container_name("web")
                .container_port(9999)
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception() && e.message().unwrap().contains("9999"), "{e:?}");

    let e = env.ecs.describe_task_definition().task_definition("nope").send().await.unwrap_err().into_service_error();
    assert!(e.is_client_exception(), "{e:?}");

    let e = env.ecs.delete_service().cluster(CLUSTER).service(SERVICE).send().await.unwrap_err().into_service_error();
    assert!(e.is_invalid_parameter_exception(), "scaled above 0: {e:?}");
    env.ecs.delete_service().cluster(CLUSTER).service(SERVICE).force(true).send().await.unwrap();
    let e = env
        .ecs
        .update_service()
        .cluster(CLUSTER)
        .service(SERVICE)
        .desired_count(2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_service_not_active_exception(), "{e:?}");
    env.sim.advance(120);
    let svc = env.describe().await;
    assert_eq!(svc.status(), Some("INACTIVE"));

    let e = env
        .ecs
        .list_tasks()
        .cluster(CLUSTER)
        .service_name(SERVICE)
        .started_by("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_parameter_exception(), "startedBy must be the only filter: {e:?}");
    let e = env.ecs.stop_task().cluster(CLUSTER).task("0123").send().await.unwrap_err().into_service_error();
    assert!(e.is_invalid_parameter_exception(), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elb_errors_are_typed() {
    let env = common::start().await;
    let v1 = common::image(&env.sim, "v1", Behavior::Healthy);
    let tg = env.service(&v1, Setup { desired: 0, ..Setup::default() }).await;
    let unknown = tg.replace("web-tg", "other");

    let e = env.elb.describe_target_health().target_group_arn(&unknown).send().await.unwrap_err().into_service_error();
    assert!(e.is_target_group_not_found_exception(), "{e:?}");
    let e = env.elb.describe_target_groups().target_group_arns(&unknown).send().await.unwrap_err().into_service_error();
    assert!(e.is_target_group_not_found_exception(), "{e:?}");

    let e = env
        .elb
        .create_target_group()
        .name("web-tg")
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id("vpc-0abc")
        .target_type(TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_duplicate_target_group_name_exception(), "{e:?}");

    let e = env
        .elb
        .create_target_group()
        .name("-bad-")
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id("v")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");

    let e = env
        .elb
        .register_targets()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id("i-0123").build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_target_exception(), "{e:?}");

    let e = env
        .elb
        .deregister_targets()
        .target_group_arn(&tg)
        .targets(TargetDescription::builder().id("10.1.1.1").port(8080).build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_target_exception(), "{e:?}");

    let e = env
        .elb
        .modify_target_group_attributes()
        .target_group_arn(&tg)
        .attributes(TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value("5000").build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_invalid_configuration_request_exception(), "{e:?}");

    let attrs = env.elb.describe_target_group_attributes().target_group_arn(&tg).send().await.unwrap();
    let delay = attrs.attributes().iter().find(|a| a.key() == Some("deregistration_delay.timeout_seconds")).unwrap();
    assert_eq!(delay.value(), Some("10"));
    let groups = env.elb.describe_target_groups().names("web-tg").send().await.unwrap();
    let g = &groups.target_groups()[0];
    assert_eq!(
        (g.health_check_interval_seconds(), g.healthy_threshold_count(), g.health_check_path()),
        (Some(5), Some(2), Some("/health"))
    );
}

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
async fn raw(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_protocol_errors() {
    let env = common::start().await;
    let json = ("Content-Type", "application/x-amz-json-1.1");
    let (status, body) =
        raw(&env.url, &[json, ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListTasks")], "{not json").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"__type\":\"SerializationException\""), "{body}");
    let (status, body) =
        raw(&env.url, &[json, ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices")], "{\"cluster\": 7}")
            .await;
    assert_eq!(status, 400);
    assert!(body.contains("SerializationException"), "{body}");
    let (status, body) =
        raw(&env.url, &[json, ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.Frobnicate")], "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let (status, body) = raw(&env.url, &[form], "Action=Frobnicate&Version=2015-12-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>") && body.contains("<ErrorResponse"), "{body}");
    let (status, body) = raw(&env.url, &[form], "Action=DescribeTargetHealth&Version=2015-12-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>ValidationError</Code>"), "{body}");
    let (status, body) = raw(&env.url, &[form], "Action=CreateTargetGroup&Version=2015-12-01&Name=a&Port=x").await;
    assert_eq!(status, 400);
    assert!(body.contains("ValidationError"), "{body}");
}
