//! The deployments table.
//!
//! Key: `deploymentId`. Indexes (all projecting every attribute):
//! - `ByService`: `serviceKey` + `createdAt` — a service's history, newest first;
//! - `Recent`: `recentKey` (always `DEPLOYMENT`) + `createdAt` — across services.
//!   One partition, written once per deployment: deploy rates are far below
//!   a partition's limits;
//! - `ActiveWatches`: `watchState` (`ACTIVE` only while a run waits) +
//!   `deploymentId` — sparse, so an alarm event reads only waiting records.
//!
//! And one projecting only the keys:
//! - `WatchesByService`: `watchService` (the watched service's ARN, only while
//!   a run waits) + `deploymentId` — sparse; an ECS event names one service and
//!   reads only its watches, however many others are in flight. Keys only: the
//!   handler's next write (the check lease) returns the record, read
//!   consistently, and the index is not rewritten at every write to a watched
//!   record.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_attribute_value, to_item};

use super::errors::classify;
use crate::DeployError;
use chrono::{DateTime, Utc};

use crate::domain::{
    Approval, Deployment, DeploymentId, DeploymentStatus, HookVerdict, Phase, RolloutProgress, TimelineEntry,
    Transition, Verdict, iso,
};
use crate::error::Result;
use crate::ports::{CheckLease, CreateOutcome, DeploymentStore, TransitionOutcome};

pub const BY_SERVICE_INDEX: &str = "ByService";
pub const RECENT_INDEX: &str = "Recent";
pub const ACTIVE_WATCHES_INDEX: &str = "ActiveWatches";
pub const WATCHES_BY_SERVICE_INDEX: &str = "WatchesByService";
const RECENT_KEY: &str = "DEPLOYMENT";
const ACTIVE: &str = "ACTIVE";

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoDeployments {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn av<T: Serialize>(v: &T) -> Result<AttributeValue> {
    to_attribute_value(v).map_err(|e| DeployError::InvalidInput(format!("cannot store value: {e}")))
}

fn parse(item: Item) -> Result<Deployment> {
    from_item(item).map_err(|e| DeployError::Aws(format!("deployment record does not parse: {e}")))
}

/// Which SDK errors are a refused condition (each operation has its own error type).
trait ConditionFailed {
    fn condition_failed(&self) -> bool;
}

impl<R> ConditionFailed for aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R> {
    fn condition_failed(&self) -> bool {
        self.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception())
    }
}

impl<R> ConditionFailed for aws_sdk_dynamodb::error::SdkError<UpdateItemError, R> {
    fn condition_failed(&self) -> bool {
        self.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception())
    }
}

fn is_condition_failure(e: &impl ConditionFailed) -> bool {
    e.condition_failed()
}

impl DynamoDeployments {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn update(&self, id: &DeploymentId) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("deploymentId", s(id.as_str()))
            .return_values(ReturnValue::AllNew)
    }

    async fn query_index(
        &self,
        index: &str,
        key_name: &str,
        key: &str,
        newest_first: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Deployment>> {
        self.query_index_as(index, key_name, key, newest_first, limit, parse).await
    }

    /// Every item of `index` under `key`, each read by `read`, page after page
    /// (at most `limit`).
    async fn query_index_as<T>(
        &self,
        index: &str,
        key_name: &str,
        key: &str,
        newest_first: bool,
        limit: Option<usize>,
        read: impl Fn(HashMap<String, AttributeValue>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", key_name)
                .expression_attribute_values(":k", s(key))
                .scan_index_forward(!newest_first)
                .set_limit(limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify(&format!("Query {index}"), e))?;
            for item in page.items.unwrap_or_default() {
                out.push(read(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() || limit.is_some_and(|l| out.len() >= l) {
                if let Some(l) = limit {
                    out.truncate(l);
                }
                return Ok(out);
            }
        }
    }
}

impl DeploymentStore for DynamoDeployments {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome> {
        let mut item: Item = to_item(d).map_err(|e| DeployError::InvalidInput(e.to_string()))?;
        item.insert("recentKey".into(), s(RECENT_KEY));
        if let Some(w) = &d.watch {
            item.insert("watchState".into(), s(ACTIVE));
            if !w.service_arn.is_empty() {
                item.insert("watchService".into(), s(&w.service_arn));
            }
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(deploymentId)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) if is_condition_failure(&e) => match self.get(&d.deployment_id).await? {
                Some(existing) => Ok(CreateOutcome::Exists(Box::new(existing))),
                None => Err(DeployError::Retryable(format!("{} exists but could not be read", d.deployment_id))),
            },
            Err(e) => Err(classify("PutItem deployment", e)),
        }
    }

    async fn get(&self, id: &DeploymentId) -> Result<Option<Deployment>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("deploymentId", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem deployment", e))?;
        out.item.map(parse).transpose()
    }

    async fn transition(&self, id: &DeploymentId, t: &Transition) -> Result<TransitionOutcome> {
        let from = t.to.allowed_from();
        if from.is_empty() {
            return Err(DeployError::InvalidInput(format!("nothing moves to {}", t.to)));
        }
        let entry = TimelineEntry { state: t.to, at: t.at, detail: t.detail.clone() };
        let mut sets = vec![
            "#status = :to".to_owned(),
            "#updatedAt = :at".to_owned(),
            "#timeline = list_append(if_not_exists(#timeline, :empty), :entry)".to_owned(),
        ];
        let mut removes: Vec<&str> = Vec::new();
        let mut names: Vec<(&str, &str)> =
            vec![("#status", "status"), ("#updatedAt", "updatedAt"), ("#timeline", "timeline")];
        let mut values: Vec<(String, AttributeValue)> = vec![
            (":to".into(), s(t.to.as_str())),
            (":at".into(), s(iso::format(&t.at))),
            (":empty".into(), AttributeValue::L(vec![])),
            (":entry".into(), av(&vec![entry])?),
        ];
        let p = &t.patch;
        let fields: [(&str, Option<AttributeValue>); 10] = [
            ("previousTaskDefinition", p.previous_task_definition.as_ref().map(s)),
            ("newTaskDefinition", p.new_task_definition.as_ref().map(s)),
            ("ecsDeploymentId", p.ecs_deployment_id.as_ref().map(s)),
            ("rollbackEcsDeploymentId", p.rollback_ecs_deployment_id.as_ref().map(s)),
            ("failureReason", p.failure_reason.as_ref().map(s)),
            ("targetHealth", p.target_health.as_ref().map(av).transpose()?),
            ("supersededBy", p.superseded_by.as_ref().map(|id| s(id.as_str()))),
            ("serviceDeploymentArn", p.service_deployment_arn.as_ref().map(s)),
            ("strategy", p.strategy.as_ref().map(|v| s(v.to_string()))),
            ("approval", p.approval.as_ref().map(av).transpose()?),
        ];
        for (i, (name, value)) in fields.into_iter().enumerate() {
            if let Some(value) = value {
                sets.push(format!("#f{i} = :f{i}"));
                values.push((format!(":f{i}"), value));
                names.push((["#f0", "#f1", "#f2", "#f3", "#f4", "#f5", "#f6", "#f7", "#f8", "#f9"][i], name));
            }
        }
        // The index keys come and go with the watch. (An empty string cannot
        // key an index: a watch without a service ARN is found by alarms only.)
        match &p.watch {
            Some(Some(w)) => {
                sets.push("#watch = :watch, #watchState = :active".into());
                values.push((":watch".into(), av(w)?));
                values.push((":active".into(), s(ACTIVE)));
                names.extend([("#watch", "watch"), ("#watchState", "watchState"), ("#watchService", "watchService")]);
                if w.service_arn.is_empty() {
                    removes.push("#watchService");
                } else {
                    sets.push("#watchService = :watchService".into());
                    values.push((":watchService".into(), s(&w.service_arn)));
                }
            }
            Some(None) => {
                removes.push("#watch, #watchState, #watchService");
                names.extend([("#watch", "watch"), ("#watchState", "watchState"), ("#watchService", "watchService")]);
            }
            None => {}
        }
        // Only the deadline of the watch there is: never a watch of its own.
        let mut watch_exists = "";
        if let (Some(deadline), None) = (p.watch_deadline, &p.watch) {
            sets.push("#watch.#deadline = :deadline".into());
            values.push((":deadline".into(), s(iso::format(&deadline))));
            names.extend([("#watch", "watch"), ("#deadline", "deadline")]);
            watch_exists = " AND attribute_exists(#watch)";
        }
        let mut condition = Vec::new();
        for (i, st) in from.iter().enumerate() {
            condition.push(format!(":from{i}"));
            values.push((format!(":from{i}"), s(st.as_str())));
        }
        let mut expr = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let mut req = self
            .update(id)
            .update_expression(expr)
            .condition_expression(format!("#status IN ({}){watch_exists}", condition.join(", ")));
        for (k, v) in names {
            req = req.expression_attribute_names(k, v);
        }
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(out) => Ok(TransitionOutcome::Moved(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => {
                let current = self.get(id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
                if current.status == t.to {
                    Ok(TransitionOutcome::AlreadyThere(current))
                } else {
                    Err(DeployError::StaleTransition { id: id.clone(), current: current.status, wanted: t.to })
                }
            }
            Err(e) => Err(classify("UpdateItem deployment status", e)),
        }
    }

    async fn store_task_token(
        &self,
        id: &DeploymentId,
        phase: Phase,
        ecs_deployment_id: &str,
        token: &str,
    ) -> Result<Deployment> {
        let sent = self
            .update(id)
            .update_expression("SET #w.#token = :token")
            .condition_expression("#w.#phase = :phase AND #w.#ecs = :ecs AND attribute_not_exists(#w.#verdict)")
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#token", "taskToken")
            .expression_attribute_names("#phase", "phase")
            .expression_attribute_names("#ecs", "ecsDeploymentId")
            .expression_attribute_names("#verdict", "verdict")
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":phase", av(&phase)?)
            .expression_attribute_values(":ecs", s(ecs_deployment_id))
            .send()
            .await;
        match sent {
            Ok(out) => parse(out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => {
                let current = self.get(id).await?.ok_or_else(|| DeployError::DeploymentNotFound(id.clone()))?;
                match current.watch {
                    Some(w) if w.phase == phase && w.ecs_deployment_id == ecs_deployment_id && w.verdict.is_some() => {
                        Err(DeployError::VerdictReady(id.clone()))
                    }
                    _ => Err(DeployError::InvalidInput(format!("deployment {id} does not watch {ecs_deployment_id}"))),
                }
            }
            Err(e) => Err(classify("UpdateItem task token", e)),
        }
    }

    async fn record_verdict(&self, id: &DeploymentId, verdict: &Verdict) -> Result<Option<Deployment>> {
        let sent = self
            .update(id)
            .update_expression("SET #w.#verdict = :verdict")
            .condition_expression("#w.#phase = :phase AND #w.#ecs = :ecs AND attribute_not_exists(#w.#verdict)")
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#phase", "phase")
            .expression_attribute_names("#ecs", "ecsDeploymentId")
            .expression_attribute_names("#verdict", "verdict")
            .expression_attribute_values(":verdict", av(verdict)?)
            .expression_attribute_values(":phase", av(&verdict.phase)?)
            .expression_attribute_values(":ecs", s(&verdict.ecs_deployment_id))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => {
                // Either a verdict is there already (return the record: the caller
                // may still have to deliver it) or the watch moved on (None).
                let current = self.get(id).await?;
                Ok(current.filter(|d| {
                    d.watch
                        .as_ref()
                        .is_some_and(|w| w.phase == verdict.phase && w.ecs_deployment_id == verdict.ecs_deployment_id)
                }))
            }
            Err(e) => Err(classify("UpdateItem verdict", e)),
        }
    }

    async fn record_progress(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        phase: Phase,
        ecs_deployment_id: &str,
        progress: &RolloutProgress,
        at: DateTime<Utc>,
    ) -> Result<Option<Deployment>> {
        let entry = TimelineEntry { state: status, at, detail: progress.line() };
        let mut set = "SET #w.#progress = :key, #w.#sd = :sd, #progress = :progress, #updatedAt = :at, \
                       #timeline = list_append(if_not_exists(#timeline, :empty), :entry)"
            .to_owned();
        let mut condition = "#status = :status AND #w.#phase = :phase AND #w.#ecs = :ecs \
                             AND attribute_not_exists(#w.#verdict) \
                             AND (attribute_not_exists(#w.#progress) OR #w.#progress <> :key)"
            .to_owned();
        // An older sighting (another look that read ECS earlier) never lands
        // after a newer one. ISO timestamps compare as strings.
        if progress.updated_at.is_some() {
            set.push_str(", #w.#pat = :pat");
            condition.push_str(" AND (attribute_not_exists(#w.#pat) OR #w.#pat < :pat)");
        }
        let mut req = self.update(id).update_expression(set).condition_expression(condition);
        if let Some(seen) = &progress.updated_at {
            req = req
                .expression_attribute_names("#pat", "progressAt")
                .expression_attribute_values(":pat", s(iso::format(seen)));
        }
        let sent = req
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#progress", "progress")
            .expression_attribute_names("#sd", "serviceDeploymentArn")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#timeline", "timeline")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#phase", "phase")
            .expression_attribute_names("#ecs", "ecsDeploymentId")
            .expression_attribute_names("#verdict", "verdict")
            .expression_attribute_values(":key", s(progress.key()))
            .expression_attribute_values(":sd", s(&progress.service_deployment_arn))
            .expression_attribute_values(":progress", av(progress)?)
            .expression_attribute_values(":at", s(iso::format(&at)))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", av(&vec![entry])?)
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":phase", av(&phase)?)
            .expression_attribute_values(":ecs", s(ecs_deployment_id))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem progress", e)),
        }
    }

    async fn note(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        at: DateTime<Utc>,
        detail: &str,
    ) -> Result<Option<Deployment>> {
        let entry = TimelineEntry { state: status, at, detail: detail.to_owned() };
        let sent = self
            .update(id)
            .update_expression(
                "SET #updatedAt = :at, #timeline = list_append(if_not_exists(#timeline, :empty), :entry)",
            )
            .condition_expression("#status = :status")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#timeline", "timeline")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", s(iso::format(&at)))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", av(&vec![entry])?)
            .expression_attribute_values(":status", s(status.as_str()))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem note", e)),
        }
    }

    async fn record_hook_verdict(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        verdict: &HookVerdict,
    ) -> Result<Option<Deployment>> {
        let entry = TimelineEntry { state: status, at: verdict.at, detail: verdict.line() };
        let sent = self
            .update(id)
            .update_expression(
                "SET #updatedAt = :at, #hook = :hook, #timeline = list_append(if_not_exists(#timeline, :empty), :entry)",
            )
            .condition_expression("#status = :status")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#hook", "hookVerdict")
            .expression_attribute_names("#timeline", "timeline")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", s(iso::format(&verdict.at)))
            .expression_attribute_values(":hook", av(verdict)?)
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(":entry", av(&vec![entry])?)
            .expression_attribute_values(":status", s(status.as_str()))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem hook verdict", e)),
        }
    }

    async fn record_approval(
        &self,
        id: &DeploymentId,
        status: DeploymentStatus,
        approval: &Approval,
    ) -> Result<Option<Deployment>> {
        let sent = self
            .update(id)
            .update_expression("SET #approval = :approval")
            .condition_expression("#status = :status AND attribute_not_exists(#approval.#outcome)")
            .expression_attribute_names("#approval", "approval")
            .expression_attribute_names("#outcome", "outcome")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":approval", av(approval)?)
            .expression_attribute_values(":status", s(status.as_str()))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem approval", e)),
        }
    }

    async fn store_queue_token(
        &self,
        id: &DeploymentId,
        token: &str,
        waiting_in: DeploymentStatus,
    ) -> Result<Deployment> {
        let sent = self
            .update(id)
            .update_expression("SET #token = :token")
            .condition_expression("#status = :waiting")
            .expression_attribute_names("#token", "queueToken")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":waiting", s(waiting_in.as_str()))
            .send()
            .await;
        match sent {
            Ok(out) => parse(out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failure(&e) => match self.get(id).await? {
                Some(_) => Err(DeployError::VerdictReady(id.clone())),
                None => Err(DeployError::DeploymentNotFound(id.clone())),
            },
            Err(e) => Err(classify("UpdateItem queue token", e)),
        }
    }

    async fn active_watches(&self) -> Result<Vec<Deployment>> {
        self.query_index(ACTIVE_WATCHES_INDEX, "watchState", ACTIVE, false, None).await
    }

    async fn watches_of_service(&self, service_arn: &str) -> Result<Vec<DeploymentId>> {
        if service_arn.is_empty() {
            return Ok(Vec::new());
        }
        let id_of = |item: HashMap<String, AttributeValue>| {
            let id = item.get("deploymentId").and_then(|v| v.as_s().ok()).ok_or_else(|| {
                DeployError::Aws(format!("{WATCHES_BY_SERVICE_INDEX} answered an item without deploymentId"))
            })?;
            DeploymentId::parse(id)
        };
        self.query_index_as(WATCHES_BY_SERVICE_INDEX, "watchService", service_arn, false, None, id_of).await
    }

    async fn begin_check(&self, id: &DeploymentId, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<CheckLease> {
        // Not settled, as `Watch::is_settled` says: a verdict, and no token or one delivered.
        let sent = self
            .update(id)
            .update_expression("SET #w.#until = :until REMOVE #w.#recheck")
            .condition_expression(
                "attribute_exists(#w) AND (attribute_not_exists(#w.#until) OR #w.#until <= :now) \
                 AND NOT (attribute_exists(#w.#verdict) \
                          AND (attribute_not_exists(#w.#token) OR #w.#delivered = :yes))",
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#until", "checkingUntil")
            .expression_attribute_names("#recheck", "recheck")
            .expression_attribute_names("#verdict", "verdict")
            .expression_attribute_names("#token", "taskToken")
            .expression_attribute_names("#delivered", "delivered")
            .expression_attribute_values(":until", s(iso::format(&until)))
            .expression_attribute_values(":now", s(iso::format(&now)))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        match sent {
            Ok(out) => Ok(CheckLease::Taken(parse(out.attributes.unwrap_or_default())?)),
            Err(e) if is_condition_failure(&e) => {
                // The refusal names the item as it was; without it, read it.
                let item = match e.into_service_error() {
                    UpdateItemError::ConditionalCheckFailedException(refused) => refused.item,
                    _ => None,
                };
                let current = match item {
                    Some(item) => Some(parse(item)?),
                    None => self.get(id).await?,
                };
                Ok(CheckLease::Refused(current))
            }
            Err(e) => Err(classify("UpdateItem check lease", e)),
        }
    }

    async fn ask_recheck(&self, id: &DeploymentId, now: DateTime<Utc>) -> Result<bool> {
        let sent = self
            .update(id)
            .return_values(ReturnValue::None)
            .update_expression("SET #w.#recheck = :yes")
            .condition_expression("#w.#until > :now")
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#until", "checkingUntil")
            .expression_attribute_names("#recheck", "recheck")
            .expression_attribute_values(":now", s(iso::format(&now)))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("UpdateItem recheck", e)),
        }
    }

    async fn end_check(&self, id: &DeploymentId, until: DateTime<Utc>, delivered: bool) -> Result<bool> {
        let mut req = self
            .update(id)
            .return_values(ReturnValue::AllOld)
            .condition_expression("#w.#until = :until")
            .expression_attribute_names("#w", "watch")
            .expression_attribute_names("#until", "checkingUntil")
            .expression_attribute_names("#recheck", "recheck")
            .expression_attribute_values(":until", s(iso::format(&until)));
        req = if delivered {
            req.update_expression("SET #w.#delivered = :yes REMOVE #w.#until, #w.#recheck")
                .expression_attribute_names("#delivered", "delivered")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
        } else {
            req.update_expression("REMOVE #w.#until, #w.#recheck")
        };
        match req.send().await {
            Ok(out) => Ok(out
                .attributes
                .as_ref()
                .and_then(|old| old.get("watch")?.as_m().ok()?.get("recheck")?.as_bool().ok().copied())
                .unwrap_or(false)),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(classify("UpdateItem end of check", e)),
        }
    }

    async fn history(&self, service_key: &str, limit: usize) -> Result<Vec<Deployment>> {
        self.query_index(BY_SERVICE_INDEX, "serviceKey", service_key, true, Some(limit)).await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Deployment>> {
        self.query_index(RECENT_INDEX, "recentKey", RECENT_KEY, true, Some(limit)).await
    }
}
