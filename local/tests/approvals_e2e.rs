//! End to end through the local cloud: approvals. A rolling service whose
//! deploy target requires approval is held before anything changes, then
//! approved (SUCCEEDED) or rejected (REJECTED, still on the old revision); a
//! blue/green service with an ECS PAUSE hook at POST_TEST_TRAFFIC_SHIFT waits
//! there until approved (SUCCEEDED), rejected (ROLLED_BACK) or left past the
//! hook's timeout (ROLLED_BACK, as the hook says). Decisions go through the
//! stack's function URL, signed as moto IAM users, whose ARNs the records keep.

// A failed unwrap here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use autodeploy_local::cloud::function_url::call_function_url;
use autodeploy_local::cloud::seed::{SeedStrategy, ServiceSpec, seed_service, wait_for};
use autodeploy_local::cloud::{Cloud, CloudConfig, Running, sdk_config};
use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::{ApprovalGate, ApprovalOutcome, Deployment, DeploymentStatus};
use autodeploy_shared::ports::DeploymentStore;
use aws_credential_types::Credentials;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHook, DeploymentLifecycleHookAction, DeploymentLifecycleHookStage,
    DeploymentLifecycleHookTargetType, DeploymentLifecycleHookTimeoutConfiguration,
};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn cloud() -> Running {
    let mut cfg = CloudConfig::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."));
    cfg.port = 0;
    cfg.speed = 5.0;
    cfg.parameters.insert("PollIntervalSeconds".into(), "10".into());
    cfg.parameters.insert("CoalesceSeconds".into(), "1".into());
    tokio::time::timeout(Duration::from_secs(60), Cloud::start(cfg)).await.expect("start in time").expect("starts")
}

struct Stack {
    running: Running,
    store: DynamoDeployments,
    url: String,
}

impl Stack {
    async fn new(spec: ServiceSpec) -> Self {
        let running = cloud().await;
        let cloud = running.cloud.clone();
        seed_service(&cloud, &spec).await.expect("seeding");
        let sdk = sdk_config(&cloud.endpoint, &cloud.stack.region).await;
        let store = DynamoDeployments::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            cloud.template.physical_name("DeploymentsTable").unwrap(),
        );
        let url = cloud.function_url("DecideApprovalFunction").expect("the stack serves the approval URL");
        Self { running, store, url }
    }

    fn cloud(&self) -> &Cloud {
        &self.running.cloud
    }

    /// The deployment of `tag` once `done` holds for it.
    async fn until(&self, tag: &str, what: &str, done: impl Fn(&Deployment) -> bool) -> Deployment {
        wait_for(self.cloud(), 3600, || async {
            let history = self.store.history("demo/web", 20).await.ok()?;
            history.into_iter().find(|d| d.tag.as_deref() == Some(tag) && done(d))
        })
        .await
        .unwrap_or_else(|| panic!("{tag} never {what}"))
    }

    async fn held(&self, tag: &str) -> Deployment {
        self.until(tag, "waited for approval", |d| d.status == DeploymentStatus::AwaitingApproval).await
    }

    async fn outcome(&self, tag: &str) -> Deployment {
        self.until(tag, "ended", |d| d.status.is_terminal()).await
    }

    async fn decide(&self, who: &Credentials, d: &Deployment, decision: &str) -> (StatusCode, serde_json::Value) {
        let body = json!({"deploymentId": d.deployment_id, "decision": decision, "reason": "checked by hand"});
        call_function_url(&self.url, Method::POST, &body, who, &self.cloud().stack.region).await.expect("a call")
    }

    /// The task definition the service runs, as ECS reports it.
    async fn task_definition(&self) -> Option<String> {
        let sdk = sdk_config(&self.cloud().endpoint, &self.cloud().stack.region).await;
        let out = aws_sdk_ecs::Client::new(&sdk).describe_services().cluster("demo").services("web").send().await;
        out.unwrap().services().first().and_then(|s| s.task_definition()).map(str::to_owned)
    }

    fn arn_of(&self, user: &str) -> String {
        format!("arn:aws:iam::{}:user/{user}", self.cloud().stack.account)
    }
}

fn lines(d: &Deployment) -> Vec<&str> {
    d.timeline.iter().map(|e| e.detail.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_service_is_held_until_a_person_approves_and_a_rejected_build_is_not_deployed() {
    let spec = ServiceSpec { approval: Some(json!({"timeoutMinutes": 60})), ..ServiceSpec::demo() };
    let stack = Stack::new(spec).await;
    let alice = stack.cloud().iam_user("alice").await.unwrap();
    let before = stack.task_definition().await;

    stack.cloud().push("web:v2", "healthy").await.unwrap();
    let held = stack.held("v2").await;
    let approval = held.approval.clone().unwrap();
    assert_eq!(approval.gate, ApprovalGate::Pipeline);
    assert_eq!(approval.endpoint.as_ref().map(|e| e.url.as_str()), Some(stack.url.as_str()));
    assert_eq!(held.new_task_definition, None, "nothing registered, nothing changed");
    assert_eq!(stack.task_definition().await, before);

    // Unsigned: refused by the URL itself.
    let anonymous = reqwest::Client::new()
        .post(&stack.url)
        .json(&json!({"deploymentId": held.deployment_id, "decision": "APPROVE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);

    let (status, body) = stack.decide(&alice, &held, "APPROVE").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = stack.outcome("v2").await;
    assert_eq!(done.status, DeploymentStatus::Succeeded, "{:#?}", lines(&done));
    let approval = done.approval.unwrap();
    assert_eq!(approval.outcome, Some(ApprovalOutcome::Approved));
    assert_eq!(approval.decided_by, Some(stack.arn_of("alice")), "who decided is the signer, as IAM knows them");

    let bob = stack.cloud().iam_user("bob").await.unwrap();
    stack.cloud().push("web:v3", "healthy").await.unwrap();
    let held = stack.held("v3").await;
    let (status, body) = stack.decide(&bob, &held, "REJECT").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rejected = stack.outcome("v3").await;
    assert_eq!(rejected.status, DeploymentStatus::Rejected, "{:#?}", lines(&rejected));
    let why = rejected.failure_reason.clone().unwrap();
    assert!(why.contains(&stack.arn_of("bob")) && why.contains("checked by hand"), "{why}");
    assert_eq!(rejected.new_task_definition, None, "a rejected build never reaches the service");
    assert_eq!(stack.task_definition().await, done.new_task_definition, "the service still runs the approved build");
    stack.running.stop().await;
}

fn pause_at_post_test_traffic_shift(timeout_minutes: Option<i32>) -> DeploymentLifecycleHook {
    let mut hook = DeploymentLifecycleHook::builder()
        .target_type(DeploymentLifecycleHookTargetType::Pause)
        .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift);
    if let Some(minutes) = timeout_minutes {
        hook = hook.timeout_configuration(
            DeploymentLifecycleHookTimeoutConfiguration::builder()
                .timeout_in_minutes(minutes)
                .action(DeploymentLifecycleHookAction::Rollback)
                .build(),
        );
    }
    hook.build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ecs_pause_hook_waits_for_the_person_then_continues_or_rolls_back() {
    let spec = ServiceSpec {
        strategy: SeedStrategy::BlueGreen,
        lifecycle_hooks: vec![pause_at_post_test_traffic_shift(None)],
        ..ServiceSpec::demo()
    };
    let stack = Stack::new(spec).await;
    let alice = stack.cloud().iam_user("alice").await.unwrap();

    stack.cloud().push("web:v2", "healthy").await.unwrap();
    let held = stack.held("v2").await;
    let approval = held.approval.clone().unwrap();
    assert_eq!(approval.gate, ApprovalGate::EcsPauseHook);
    assert_eq!(approval.lifecycle_stage.map(|s| s.to_string()).as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
    assert!(held.new_task_definition.is_some(), "ECS holds it mid-rollout");
    let (status, body) = stack.decide(&alice, &held, "APPROVE").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = stack.outcome("v2").await;
    assert_eq!(done.status, DeploymentStatus::Succeeded, "{:#?}", lines(&done));
    assert_eq!(done.approval.unwrap().decided_by, Some(stack.arn_of("alice")));

    stack.cloud().push("web:v3", "healthy").await.unwrap();
    let held = stack.held("v3").await;
    let (status, body) = stack.decide(&alice, &held, "REJECT").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rolled_back = stack.outcome("v3").await;
    assert_eq!(rolled_back.status, DeploymentStatus::RolledBack, "{:#?}", lines(&rolled_back));
    assert!(lines(&rolled_back).iter().any(|l| l.contains("ECS rolls the deployment back")));
    stack.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ecs_pause_hook_left_alone_ends_as_its_timeout_says() {
    let spec = ServiceSpec {
        strategy: SeedStrategy::BlueGreen,
        lifecycle_hooks: vec![pause_at_post_test_traffic_shift(Some(1))],
        ..ServiceSpec::demo()
    };
    let stack = Stack::new(spec).await;
    stack.cloud().push("web:v2", "healthy").await.unwrap();
    let held = stack.held("v2").await;
    assert!(held.approval.unwrap().expires_at.is_some());
    let done = stack.outcome("v2").await;
    assert_eq!(done.status, DeploymentStatus::RolledBack, "{:#?}", lines(&done));
    assert!(
        lines(&done).iter().any(|l| l.contains("before it timed out; ECS rolls the deployment back")),
        "{:#?}",
        lines(&done)
    );
    assert_eq!(done.approval.unwrap().decided_by, None);
    stack.running.stop().await;
}
