//! The stage the steps play on: the seeded service, a subscriber listening
//! the way a user would, and the deployment records the pipeline writes; and
//! how the service looks once the script is over.

use autodeploy_shared::aws::DynamoDeployments;
use autodeploy_shared::domain::Deployment;
use autodeploy_shared::ports::DeploymentStore;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use super::DemoError;
use super::labels::Labels;
use super::output::Output;
use super::subscriber::Subscriber;
use super::view::VersionHealth;
use crate::cloud::Cloud;
use crate::cloud::seed::{self, SeedStrategy, Seeded, ServiceSpec};
use crate::sim::series::Sample;

pub(super) struct Stage<'a> {
    pub(super) cloud: &'a Cloud,
    pub(super) out: &'a Output,
    pub(super) spec: ServiceSpec,
    seeded: Seeded,
    pub(super) subscriber: Subscriber,
    pub(super) store: DynamoDeployments,
    /// `cluster/service`, the key of the records' history.
    pub(super) service_key: String,
    /// ceil(minimumHealthyPercent × desired): healthy tasks must never fall below it.
    pub(super) floor: i64,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

/// The service when the script is over.
pub(super) struct Finale {
    /// Healthy targets in the target group (DescribeTargetHealth).
    pub(super) healthy_targets: usize,
    /// Tasks per version at the last recorded instant.
    pub(super) versions: Vec<VersionHealth>,
    /// Everything the simulator recorded of the service.
    pub(super) samples: Vec<Sample>,
}

impl<'a> Stage<'a> {
    /// Seeds the demo service and subscribes to the bus and the topic, saying
    /// so on `out`.
    pub(super) async fn set(cloud: &'a Cloud, out: &'a Output, strategy: SeedStrategy) -> Result<Stage<'a>, DemoError> {
        let spec = ServiceSpec { strategy, ..ServiceSpec::demo() };
        let sdk = crate::cloud::sdk_config(&cloud.endpoint, &cloud.stack.region).await;
        out.line(&format!("  endpoint {} (AWS_ENDPOINT_URL for the AWS CLI and SDKs)", cloud.endpoint));

        let seeded = seed::seed_service(cloud, &spec)
            .await
            .map_err(|source| DemoError::Seed { service: format!("{}/{}", spec.cluster, spec.service), source })?;
        let floor = ceil_percent(spec.min_healthy_percent, spec.desired);
        out.line(&format!(
            "  seeded {}/{}: {} tasks of web:v1 behind target group {}-{}, minimum healthy {} % ({floor} of {}), \
             maximum {} %, circuit breaker with rollback",
            spec.cluster,
            spec.service,
            spec.desired,
            spec.cluster,
            spec.service,
            spec.min_healthy_percent,
            spec.desired,
            spec.max_percent
        ));
        if let Some(traffic) = &seeded.traffic {
            out.line(&format!(
                "  strategy {strategy:?}: green target group {}-{}-green, production and test listener rules {} and {} \
                 (ECS moves their weights), 2-minute bakes",
                spec.cluster,
                spec.service,
                short_rule(&traffic.production_rule_arn),
                short_rule(&traffic.test_rule_arn),
            ));
        }
        out.line(&format!("  deploy target: pushes to `{}` with a tag matching {}", spec.repository, spec.tag_rule));

        let subscriber = Subscriber::subscribe(cloud, &sdk).await?;
        out.line(&format!(
            "  subscribed: SQS queue ← rule {{\"source\":[\"ecs-autodeploy\"]}} on bus {}; SQS queue ← SNS topic {}",
            subscriber.bus, subscriber.topic_arn
        ));
        out.line(&out.style.dim("  bars: █ healthy  ░ running or starting, not healthy  ▒ draining"));

        let store = DynamoDeployments::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            cloud.template.physical_name("DeploymentsTable")?,
        );
        let service_key = format!("{}/{}", spec.cluster, spec.service);
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
        Ok(Stage { cloud, out, spec, seeded, subscriber, store, service_key, floor, elb })
    }

    /// The newest deployment record of the service for `tag` (None also when
    /// the table cannot be read: the caller polls again).
    pub(super) async fn record_of(&self, tag: &str) -> Option<Deployment> {
        let history = self.store.history(&self.service_key, 20).await.ok()?;
        history.into_iter().find(|d| d.tag.as_deref() == Some(tag))
    }

    /// The service's latest recorded sample, if it has one.
    pub(super) fn latest_sample(&self) -> Option<Sample> {
        self.samples().pop()
    }

    /// Everything the simulator recorded of the service, oldest first.
    pub(super) fn samples(&self) -> Vec<Sample> {
        self.cloud.sim.series(Some(&self.spec.cluster), &self.spec.service).unwrap_or_default()
    }

    /// How the service ends: its healthy targets and its versions.
    pub(super) async fn finale(&self, labels: &Labels) -> Finale {
        // Blue/green moves the service between its two target groups: count both.
        let green = self.seeded.traffic.as_ref().map(|t| t.green_target_group_arn.as_str());
        let mut healthy_targets = 0;
        for tg in std::iter::once(self.seeded.target_group_arn.as_str()).chain(green) {
            match self.elb.describe_target_health().target_group_arn(tg).send().await {
                Ok(h) => {
                    healthy_targets += h
                        .target_health_descriptions()
                        .iter()
                        .filter(|d| d.target_health().and_then(|t| t.state()) == Some(&TargetHealthStateEnum::Healthy))
                        .count();
                }
                Err(e) => self.out.line(&format!("DescribeTargetHealth: {e}")),
            }
        }
        let samples = self.samples();
        let versions = samples.last().map(|s| labels.versions(s)).unwrap_or_default();
        Finale { healthy_targets, versions, samples }
    }
}

/// `arn:…:listener-rule/app/demo-web/…/…/3f2a…` → `listener-rule/…/3f2a…`.
fn short_rule(arn: &str) -> String {
    arn.rsplit('/').next().map_or_else(|| arn.to_owned(), |id| format!("listener-rule/…/{id}"))
}

/// The samples from instant `t` (simulated epoch seconds) on. Samples are
/// chronological: the state at `t` is the last one recorded at or before it.
pub(super) fn since(samples: &[Sample], t: i64) -> &[Sample] {
    let from = samples.iter().rposition(|s| s.t <= t).unwrap_or(0);
    samples.get(from..).unwrap_or_default()
}

fn ceil_percent(percent: i32, desired: i32) -> i64 {
    (i64::from(percent) * i64::from(desired) + 99) / 100
}
