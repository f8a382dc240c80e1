//! The AWS adapters: the claim store on DynamoDB, the object store on S3, the queues on SQS.
//! Every DynamoDB write is conditional, so the store's promises (no claim created twice, no
//! write from a stale read, an idempotency key taken once) hold across concurrent Lambdas.
//!
//! One table holds everything, by partition key: `CLAIM#{id}` (the record as JSON, its
//! version and state as attributes), `IDEM#{key}` (an idempotency entry, expiring after a
//! day), `SEQ#{name}` (a control-number counter).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hms_service::lifecycle::{ClaimId, ClaimRecord, IdempotencyEntry, StoredAnswer};
use hms_service::ports::{
    ClaimStore, ObjectStore, ObjectStoreError, Queue, QueueError, StoreError, Topic, check_key,
};

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
        Ok(HashMap::from([
            ("pk".to_string(), Self::claim_key(&record.id)),
            ("version".to_string(), n(version)),
            ("state".to_string(), s(record.state.to_string())),
            ("payerId".to_string(), s(record.payer_id.clone())),
            ("record".to_string(), s(json)),
        ]))
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
    async fn create(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let item = Self::record_item(record, record.version)?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(conditional) => Err(StoreError::Conflict {
                what: format!("claim {} exists", record.id),
            }),
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
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

    async fn remember(
        &self,
        entry: &IdempotencyEntry,
    ) -> Result<Option<IdempotencyEntry>, StoreError> {
        let key = s(format!("IDEM#{}", entry.key));
        let json = serde_json::to_string(entry).map_err(unavailable)?;
        let expires = (entry.at + KEY_LIFETIME).timestamp();
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", key.clone())
            .item("entry", s(json))
            .item("expiresAt", n(expires))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(e) if e.as_service_error().is_some_and(conditional) => {
                let item = self
                    .get_item(key)
                    .await?
                    .ok_or_else(|| unavailable("an idempotency entry vanished"))?;
                serde_json::from_str(text(&item, "entry")?)
                    .map(Some)
                    .map_err(unavailable)
            }
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    async fn answer(&self, key: &str, answer: &StoredAnswer) -> Result<(), StoreError> {
        let pk = s(format!("IDEM#{key}"));
        let item = self
            .get_item(pk.clone())
            .await?
            .ok_or_else(|| StoreError::Conflict {
                what: "no request holds this idempotency key".into(),
            })?;
        let mut entry: IdempotencyEntry =
            serde_json::from_str(text(&item, "entry")?).map_err(unavailable)?;
        entry.answer = Some(answer.clone());
        let json = serde_json::to_string(&entry).map_err(unavailable)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", pk)
            .update_expression("SET #e = :e")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#e", "entry")
            .expression_attribute_values(":e", s(json))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
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
