//! The AWS adapters: the claim store on DynamoDB, the object store on S3, the queues on SQS.
//! Every DynamoDB write is conditional, so the store's promises (no claim created twice, no
//! write from a stale read, an idempotency key taken once) hold across concurrent Lambdas.
//!
//! One table holds everything, by partition key: `CLAIM#{id}` (the record as JSON; its
//! version, state, organization and, while it is open, due time as attributes),
//! `IDEM#{organization}:{key}` (the claim an idempotency key is bound to, expiring after a
//! day), `PCN#{organization}#{payer}#{digest}` (the claim holding a patient control number at
//! a payer), `SEQ#{name}` (a control-number counter). The index `state-due` (state, dueAt)
//! holds only open claims, the sweep's work list. The table's stream is the claim-event
//! outbox.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};
use hms_service::lifecycle::{ClaimId, ClaimRecord, ClaimState, IdempotencyBinding};
use hms_service::ports::{
    ClaimStore, ControlNumberHold, CreateError, ObjectStore, ObjectStoreError, Queue, QueueError,
    StoreError, Topic, check_key,
};

/// The index of open claims by state and due time.
pub const DUE_INDEX: &str = "state-due";

/// How long an idempotency key is remembered.
const KEY_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        message: e.to_string(),
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The claim store on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoClaimStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoClaimStore {
    /// The store on `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn claim_key(id: &ClaimId) -> AttributeValue {
        s(format!("CLAIM#{id}"))
    }

    fn record_item(
        record: &ClaimRecord,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut stored = record.clone();
        stored.version = version;
        let json = serde_json::to_string(&stored).map_err(unavailable)?;
        let mut item = HashMap::from([
            ("pk".to_string(), Self::claim_key(&record.id)),
            ("version".to_string(), n(version)),
            ("state".to_string(), s(record.state.to_string())),
            ("organization".to_string(), s(record.organization.as_str())),
            ("payerId".to_string(), s(record.payer_id.clone())),
            ("record".to_string(), s(json)),
        ]);
        // Only an open claim is due: only it is in the sweep's index.
        if let Some(due) = record.due_at.filter(|_| record.state.is_open()) {
            item.insert("dueAt".to_string(), s(instant(due)));
        }
        Ok(item)
    }

    async fn get_item(
        &self,
        key: AttributeValue,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        Ok(out.item)
    }
}

/// An instant as the index sorts it: RFC 3339 in UTC, always to the millisecond, so that text
/// order is time order.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| unavailable(format!("a stored item has no {name}")))
}

/// Whether a DynamoDB error is a failed condition.
fn conditional<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl ClaimStore for DynamoClaimStore {
    async fn create(
        &self,
        record: &ClaimRecord,
        hold: Option<&ControlNumberHold>,
    ) -> Result<(), CreateError> {
        let put = |item: HashMap<String, AttributeValue>, condition: &str| {
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition);
            if condition.contains(":yes") {
                put = put
                    .expression_attribute_names("#r", "released")
                    .expression_attribute_values(":yes", AttributeValue::Bool(true));
            }
            put.build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(unavailable)
        };
        let mut writes = vec![put(
            Self::record_item(record, record.version)?,
            "attribute_not_exists(pk)",
        )?];
        if let Some(binding) = &record.idempotency {
            let json = serde_json::to_string(binding).map_err(unavailable)?;
            let created = record.history.first().map_or_else(Utc::now, |h| h.at);
            let expires = (created + KEY_LIFETIME).timestamp();
            writes.push(put(
                HashMap::from([
                    ("pk".to_string(), s(format!("IDEM#{}", binding.key))),
                    ("binding".to_string(), s(json)),
                    ("expiresAt".to_string(), n(expires)),
                ]),
                "attribute_not_exists(pk)",
            )?);
        }
        if let Some(hold) = hold {
            writes.push(put(
                HashMap::from([
                    ("pk".to_string(), s(format!("PCN#{}", hold.key()))),
                    ("holder".to_string(), s(record.id.as_str())),
                    ("released".to_string(), AttributeValue::Bool(false)),
                ]),
                "attribute_not_exists(pk) OR #r = :yes",
            )?);
        }
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        let Err(e) = sent else { return Ok(()) };
        let reasons: Vec<Option<String>> = e
            .as_service_error()
            .and_then(|e| match e {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                    Some(c.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        let failed =
            |i: usize| reasons.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed");
        if reasons.is_empty() {
            return Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)).into());
        }
        let key_at = 1;
        let hold_at = 1 + usize::from(record.idempotency.is_some());
        if let Some(binding) = &record.idempotency
            && failed(key_at)
        {
            let bound = self
                .binding(&binding.key)
                .await?
                .ok_or_else(|| unavailable("an idempotency key vanished"))?;
            return Err(CreateError::KeyTaken(bound));
        }
        if let Some(hold) = hold
            && failed(hold_at)
        {
            let item = self
                .get_item(s(format!("PCN#{}", hold.key())))
                .await?
                .ok_or_else(|| unavailable("a control-number hold vanished"))?;
            let holder = ClaimId::parse(text(&item, "holder")?).map_err(unavailable)?;
            return Err(CreateError::ControlNumberTaken(holder));
        }
        if failed(0) {
            return Err(StoreError::Conflict {
                what: format!("claim {} exists", record.id),
            }
            .into());
        }
        Err(unavailable(format!("the claim was not created: {reasons:?}")).into())
    }

    async fn binding(&self, key: &str) -> Result<Option<IdempotencyBinding>, StoreError> {
        let Some(item) = self.get_item(s(format!("IDEM#{key}"))).await? else {
            return Ok(None);
        };
        serde_json::from_str(text(&item, "binding")?)
            .map(Some)
            .map_err(unavailable)
    }

    async fn get(&self, id: &ClaimId) -> Result<Option<ClaimRecord>, StoreError> {
        let Some(item) = self.get_item(Self::claim_key(id)).await? else {
            return Ok(None);
        };
        serde_json::from_str(text(&item, "record")?)
            .map(Some)
            .map_err(|e| unavailable(format!("claim {id} is stored unreadable: {e}")))
    }

    async fn update(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let item = Self::record_item(record, record.version + 1)?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", n(record.version))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(conditional) => Err(StoreError::Conflict {
                what: format!(
                    "claim {} changed since version {} was read",
                    record.id, record.version
                ),
            }),
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    async fn release(&self, hold: &ControlNumberHold, holder: &ClaimId) -> Result<(), StoreError> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("PCN#{}", hold.key())))
            .update_expression("SET #r = :yes")
            .condition_expression("#h = :holder")
            .expression_attribute_names("#r", "released")
            .expression_attribute_names("#h", "holder")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":holder", s(holder.as_str()))
            .send()
            .await
        {
            // Held by another claim, or by none: nothing of this claim's to let go.
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(conditional) => Ok(()),
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    async fn due(
        &self,
        state: ClaimState,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#s = :state AND dueAt <= :now")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":state", s(state.to_string()))
            .expression_attribute_values(":now", s(instant(now)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        out.items()
            .iter()
            .map(|item| {
                serde_json::from_str(text(item, "record")?)
                    .map_err(|e| unavailable(format!("a due claim is stored unreadable: {e}")))
            })
            .collect()
    }

    async fn next_control_number(&self, sequence: &str) -> Result<u32, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("SEQ#{sequence}")))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        let count: u64 = out
            .attributes
            .as_ref()
            .and_then(|a| a.get("n"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| unavailable("the counter did not come back"))?;
        // ISA13 runs 1 to 999,999,999, then starts again.
        Ok(((count.saturating_sub(1)) % 999_999_999 + 1) as u32)
    }
}

/// The object store on one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ObjectStore {
    /// The store on `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

impl ObjectStore for S3ObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        check_key(key)?;
        let failed = |message: String| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out
                .body
                .collect()
                .await
                .map(|b| Some(b.into_bytes().to_vec()))
                .map_err(|e| failed(e.to_string())),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(failed(
                aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            )),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })
    }
}

/// The queues on SQS, by topic.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    urls: HashMap<Topic, String>,
}

impl SqsQueue {
    /// Queues at `urls`.
    pub fn new(client: aws_sdk_sqs::Client, urls: HashMap<Topic, String>) -> Self {
        Self { client, urls }
    }
}

impl Queue for SqsQueue {
    async fn send(&self, topic: Topic, body: Vec<u8>, delay: Duration) -> Result<(), QueueError> {
        let failed = |message: String| QueueError { topic, message };
        let url = self
            .urls
            .get(&topic)
            .ok_or_else(|| failed("no queue URL is configured".into()))?;
        let body = String::from_utf8(body).map_err(|e| failed(e.to_string()))?;
        // SQS delays by at most 15 minutes.
        let delay = delay.as_secs().min(900) as i32;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))
    }
}
