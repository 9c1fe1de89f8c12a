//! Test support: a moto server for adapter tests against a real DynamoDB API.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};

/// A moto server on a free port, killed on drop (also when the test panics).
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `.venv/bin/moto_server` of the repo (`make tools` installs it). A missing
/// moto is an error, not a skip: these tests are part of `make test`.
pub fn moto() -> Moto {
    let bin = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server"));
    assert!(bin.exists(), "{} not found: run `make tools` (or set MOTO_SERVER)", bin.display());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    moto
}

pub fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .http_client(autodeploy_shared::aws::https_client())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap()
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
}

fn gsi(name: &str, hash: &str, range: &str) -> GlobalSecondaryIndex {
    projected(name, hash, range, ProjectionType::All)
}

fn projected(name: &str, hash: &str, range: &str, projection: ProjectionType) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(range, KeyType::Range))
        .projection(Projection::builder().projection_type(projection).build())
        .build()
        .unwrap()
}

/// The deployments table as `template.yaml` declares it.
pub async fn create_deployments_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("deploymentId", KeyType::Hash))
        .attribute_definitions(attr("deploymentId"))
        .attribute_definitions(attr("serviceKey"))
        .attribute_definitions(attr("createdAt"))
        .attribute_definitions(attr("recentKey"))
        .attribute_definitions(attr("watchState"))
        .attribute_definitions(attr("watchService"))
        .global_secondary_indexes(gsi("ByService", "serviceKey", "createdAt"))
        .global_secondary_indexes(gsi("Recent", "recentKey", "createdAt"))
        .global_secondary_indexes(gsi("ActiveWatches", "watchState", "deploymentId"))
        .global_secondary_indexes(projected(
            "WatchesByService",
            "watchService",
            "deploymentId",
            ProjectionType::KeysOnly,
        ))
        .send()
        .await
        .unwrap();
}

/// The deploy-targets table as `template.yaml` declares it.
pub async fn create_targets_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("repository", KeyType::Hash))
        .key_schema(key("targetId", KeyType::Range))
        .attribute_definitions(attr("repository"))
        .attribute_definitions(attr("targetId"))
        .send()
        .await
        .unwrap();
}

/// The push-decisions table as `template.yaml` declares it.
pub async fn create_decisions_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("repository", KeyType::Hash))
        .key_schema(key("decisionKey", KeyType::Range))
        .attribute_definitions(attr("repository"))
        .attribute_definitions(attr("decisionKey"))
        .send()
        .await
        .unwrap();
}
