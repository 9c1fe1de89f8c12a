//! The in-memory world the step tests share: one service `demo/web` on
//! revision `web:1` behind one healthy target group, its deploy target
//! `web`/`prod`, and function URL requests as Lambda delivers them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use autodeploy_shared::domain::{
    ApprovalPolicy, ContainerImage, DeployTarget, Deployment, DeploymentId, DeploymentStatus, ImageDigest, TagRule,
    TargetHealthState, TargetView, TaskDefinitionView,
};
use autodeploy_shared::events::EcrEvent;
use autodeploy_shared::memory::*;
use autodeploy_shared::ports::{Clock, DeployTargets, DeploymentStore};
use autodeploy_shared::steps::{AwaitServiceInput, ImagePush, Settings, Step, StepInput, UrlCall};
use serde_json::{Value, json};

pub const REG: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
pub const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/943f017f100becff";
pub const TD1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
pub const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
pub const BOB: &str = "arn:aws:sts::123456789012:assumed-role/oncall/bob";

pub struct World(pub MemoryCloud);

impl std::ops::Deref for World {
    type Target = MemoryCloud;
    fn deref(&self) -> &MemoryCloud {
        &self.0
    }
}

pub fn digest(n: u8) -> ImageDigest {
    ImageDigest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
}

pub async fn world(approval: Option<ApprovalPolicy>) -> World {
    let w =
        World(MemoryCloud { settings: Settings { coalesce_seconds: 0, ..Settings::default() }, ..Default::default() });
    let ips = w.ecs.add_service(
        "demo",
        "web",
        TaskDefinitionView {
            arn: TD1.into(),
            family: "web".into(),
            containers: vec![ContainerImage { name: "app".into(), image: format!("{REG}/web:1") }],
            tags: vec![],
        },
        2,
        &[TG],
    );
    w.elb.set(
        TG,
        ips.into_iter()
            .map(|id| TargetView { id, port: Some(80), state: TargetHealthState::Healthy, ..Default::default() })
            .collect(),
    );
    w.targets
        .put(&DeployTarget {
            repository: "web".into(),
            target_id: "prod".into(),
            cluster: "demo".into(),
            service: "web".into(),
            tag_rule: TagRule::Glob { pattern: "v*".into() },
            containers: vec![],
            enabled: true,
            registries: vec![],
            reconcile: true,
            alarms: vec![],
            approval,
        })
        .await
        .unwrap();
    w
}

/// A function URL request as Lambda delivers it, signed by `who` (`None`:
/// the URL is not AWS_IAM).
pub fn call(who: Option<&str>, method: &str, body: &Value) -> UrlCall {
    let authorizer = who.map(|arn| {
        json!({"iam": {"accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AIDAEXAMPLE",
                       "userArn": arn, "userId": "AIDAEXAMPLE", "cognitoIdentity": null, "principalOrgId": null}})
    });
    UrlCall::parse(json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc", "authorizer": authorizer,
            "domainName": "abc.lambda-url.us-east-1.on.aws", "domainPrefix": "abc",
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "curl"},
            "requestId": "r-1", "routeKey": "$default", "stage": "$default",
            "time": "01/Dec/2026:10:00:00 +0000", "timeEpoch": 1_796_119_200_000_i64},
        "body": body.to_string(), "isBase64Encoded": false
    }))
    .unwrap()
}

impl World {
    /// `web:tag` → `digest` pushed to the stack's registry now, through
    /// `on-image-push`: the deployment it started.
    pub async fn push(&self, tag: &str, d: &ImageDigest) -> DeploymentId {
        self.images.push("web", tag, d, self.clock.now());
        let event = EcrEvent::Push(ImagePush {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            repository: "web".into(),
            digest: d.clone(),
            tag: Some(tag.into()),
            claimed_at: None,
            manifest_media_type: None,
            artifact_media_type: None,
        });
        self.on_image_push().run(event).await.unwrap().started[0].clone()
    }

    pub async fn record(&self, id: &DeploymentId) -> Deployment {
        self.store.get(id).await.unwrap().unwrap()
    }

    /// ECS holds the rollout of `ecs_deployment_id` at PAUSE hook `ecs-pause-1`
    /// (post test traffic shift, a day to act, rollback on timeout).
    pub fn hold_at_pause_hook(&self, ecs_deployment_id: &str) {
        use autodeploy_shared::domain::{
            HookAction, HookRunStatus, HookTargetType, LifecycleHookDetail, LifecycleStage,
        };
        let expires = self.clock.now() + chrono::Duration::hours(24);
        self.ecs.update_service_deployment(ecs_deployment_id, |sd| {
            sd.lifecycle_stage = Some(LifecycleStage::PostTestTrafficShift);
            sd.hooks = vec![LifecycleHookDetail {
                hook_id: "ecs-pause-1".into(),
                target_type: HookTargetType::Pause,
                target_arn: None,
                status: HookRunStatus::AwaitingAction,
                expires_at: Some(expires),
                timeout_action: Some(HookAction::Rollback),
            }];
        });
    }

    /// Parks the run's task token, as "Wait for approval" and "Wait for the service" do.
    pub async fn park(&self, id: &DeploymentId, token: &str, waiting_in: DeploymentStatus) {
        let input = AwaitServiceInput { deployment_id: id.clone(), task_token: token.into(), waiting_in };
        self.await_service().run(input).await.unwrap();
    }
}
