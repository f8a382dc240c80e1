//! The AWS adapters: the claim store on DynamoDB, the object store on S3, the queues on SQS.
//! Every DynamoDB write is conditional, so the store's promises (no claim created twice, no
//! write from a stale read, an idempotency key taken once) hold across concurrent Lambdas.
//!
//! One table holds everything, by partition key: `CLAIM#{id}` (the record as JSON; its
//! version, state, organization and, while it is open, due time as attributes),
//! `IDEM#{organization}:{key}` (the claim an idempotency key is bound to, expiring after a
//! day), `PCN#{organization}#{payer}#{digest}` (the claim holding a patient control number at
//! a payer), `SEQ#{name}` (a control-number counter), `PAY#{id}` (a payment, with the index
//! `organization-payments` on its organization and receipt), `CPAY#{payment}#{index}` (one of
//! its claim payments), `EXC#{id}` (an exception, with the index `organization-exceptions`),
//! `PCCN#{organization}#{payer}#{digest}` (the claim a payer's claim number was posted to),
//! `ICN#{sequence}#{control}` (the claim an interchange was sent for; the one write that is
//! not conditional, since a control number that comes round again binds the newer claim),
//! `WHK#{id}` (a webhook subscription, with the index `organization-webhooks`) and
//! `WMSG#{id}` (a webhook delivery, with the index `webhook-deliveries`, kept 30 days).
//! The index `state-due` (state, dueAt) holds only open work, the sweeps' lists: open claims
//! and pending webhook deliveries (state `webhook-delivery-pending`). The
//! table's stream is the outbox of claim and remittance events.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};
use hms_service::lifecycle::{ClaimId, ClaimRecord, ClaimState, IdempotencyBinding};
use hms_service::ports::{
    ClaimStore, ControlNumberHold, CreateError, InterchangeKey, ObjectStore, ObjectStoreError,
    Page, PayerClaimKey, PaymentFilter, Queue, QueueError, RemittanceStore, StoreError, Topic,
    check_key,
};
use hms_service::remittance::records::{
    ClaimPaymentRecord, ExceptionId, PaymentId, PaymentRecord, PostingId, RemittanceException,
};
use hms_service::tenancy::OrganizationId;
use hms_webhooks::ports::{DeliveryFilter, WebhookStore};
use hms_webhooks::records::{Delivery, DeliveryStatus, MessageId, Subscription, SubscriptionId};

/// The index of open claims by state and due time.
pub const DUE_INDEX: &str = "state-due";

/// The index of payments by organization, newest first.
pub const PAYMENTS_INDEX: &str = "organization-payments";

/// The index of exceptions by organization, oldest first.
pub const EXCEPTIONS_INDEX: &str = "organization-exceptions";

/// The partition of the exceptions index that holds exceptions of no organization.
const NO_ORGANIZATION: &str = "-";

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

    async fn holder(&self, hold: &ControlNumberHold) -> Result<Option<ClaimId>, StoreError> {
        let Some(item) = self.get_item(s(format!("PCN#{}", hold.key()))).await? else {
            return Ok(None);
        };
        ClaimId::parse(text(&item, "holder")?)
            .map(Some)
            .map_err(unavailable)
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
        self.due_items(&state.to_string(), now, limit).await
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

    async fn bind_interchange(
        &self,
        key: &InterchangeKey,
        claim: &ClaimId,
    ) -> Result<(), StoreError> {
        // The number comes round again after 999,999,999 interchanges: the newer binding
        // replaces the older.
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("ICN#{}", key.key())))
            .item("claim", s(claim.as_str()))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn interchange(&self, key: &InterchangeKey) -> Result<Option<ClaimId>, StoreError> {
        let Some(item) = self.get_item(s(format!("ICN#{}", key.key()))).await? else {
            return Ok(None);
        };
        ClaimId::parse(text(&item, "claim")?)
            .map(Some)
            .map_err(unavailable)
    }
}

/// A query's filter: its expression, with the attribute names and values it uses.
type Filter = (
    String,
    HashMap<String, String>,
    HashMap<String, AttributeValue>,
);

/// A query's filter built condition by condition (`attribute op value`, joined by AND), each
/// under placeholders of its own; a condition without a value is left out.
#[derive(Debug, Default)]
struct Conditions {
    clauses: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Conditions {
    fn add(mut self, attribute: &str, op: &str, value: Option<AttributeValue>) -> Self {
        if let Some(value) = value {
            let k = self.clauses.len();
            self.clauses.push(format!("#f{k} {op} :f{k}"));
            self.names.insert(format!("#f{k}"), attribute.to_string());
            self.values.insert(format!(":f{k}"), value);
        }
        self
    }

    fn filter(self) -> Option<Filter> {
        (!self.clauses.is_empty()).then(|| (self.clauses.join(" AND "), self.names, self.values))
    }
}

impl DynamoClaimStore {
    fn payment_item(
        record: &PaymentRecord,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut stored = record.clone();
        stored.version = version;
        let json = serde_json::to_string(&stored).map_err(unavailable)?;
        let mut item = HashMap::from([
            ("pk".to_string(), s(format!("PAY#{}", record.id))),
            ("version".to_string(), n(version)),
            ("record".to_string(), s(json)),
            ("payerId".to_string(), s(record.key.payer_id.clone())),
            (
                "traceNumber".to_string(),
                s(record.key.trace_number.clone()),
            ),
            ("status".to_string(), s(format!("{:?}", record.status))),
        ]);
        if let Some(org) = &record.organization {
            item.insert("paymentsOf".to_string(), s(org.as_str()));
            item.insert("paymentOrder".to_string(), s(record.cursor()));
        }
        if let Some(paid_on) = record.paid_on {
            item.insert("paidOn".to_string(), s(paid_on.to_string()));
        }
        Ok(item)
    }

    fn exception_item(
        exception: &RemittanceException,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut stored = exception.clone();
        stored.version = version;
        let json = serde_json::to_string(&stored).map_err(unavailable)?;
        let mut item = HashMap::from([
            ("pk".to_string(), s(format!("EXC#{}", exception.id))),
            ("version".to_string(), n(version)),
            ("record".to_string(), s(json)),
            (
                "exceptionsOf".to_string(),
                s(exception
                    .organization
                    .as_ref()
                    .map_or(NO_ORGANIZATION, |o| o.as_str())),
            ),
            ("exceptionOrder".to_string(), s(exception.cursor())),
            ("reason".to_string(), s(exception.reason.code())),
        ]);
        if exception.is_open() {
            item.insert("open".to_string(), AttributeValue::Bool(true));
        }
        Ok(item)
    }

    fn claim_payment_key(payment: &PaymentId, index: usize) -> AttributeValue {
        s(format!("CPAY#{payment}#{index:07}"))
    }

    /// Puts `item` when no item has its key (`Ok(true)`), or says one does (`Ok(false)`).
    async fn put_new(&self, item: HashMap<String, AttributeValue>) -> Result<bool, StoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(conditional) => Ok(false),
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    /// Puts `item` over the stored one when its version is `expected`.
    async fn put_versioned(
        &self,
        item: HashMap<String, AttributeValue>,
        expected: u64,
        what: String,
    ) -> Result<(), StoreError> {
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", n(expected))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(conditional) => {
                Err(StoreError::Conflict { what })
            }
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    fn record_of<T: serde::de::DeserializeOwned>(
        item: &HashMap<String, AttributeValue>,
    ) -> Result<T, StoreError> {
        serde_json::from_str(text(item, "record")?)
            .map_err(|e| unavailable(format!("a stored item is unreadable: {e}")))
    }

    /// Up to `limit` records of open work in `state` due at or before `at`, soonest first,
    /// from the index `state-due`: the sweeps' lists (claims by their state, pending webhook
    /// deliveries).
    async fn due_items<T: serde::de::DeserializeOwned>(
        &self,
        state: &str,
        at: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#s = :state AND dueAt <= :at")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":at", s(instant(at)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        out.items().iter().map(Self::record_of).collect()
    }

    /// Up to `limit` items of `index` in partition `name` = `value`, sorted after `after`
    /// by `order`, that pass `filter` (with its names and values): read page by page until
    /// enough pass.
    #[allow(clippy::too_many_arguments)]
    async fn query_index(
        &self,
        index: &str,
        (name, value): (&str, &str),
        order: &str,
        after: Option<&str>,
        ascending: bool,
        filter: Option<Filter>,
        limit: usize,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, bool), StoreError> {
        let mut found = vec![];
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let condition = if after.is_some() {
                "#p = :p AND #o > :after"
            } else {
                "#p = :p"
            };
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(condition)
                .expression_attribute_names("#p", name)
                .expression_attribute_values(":p", s(value))
                .scan_index_forward(ascending)
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some(after) = after {
                query = query
                    .expression_attribute_names("#o", order)
                    .expression_attribute_values(":after", s(after));
            }
            if let Some((expression, names, values)) = &filter {
                query = query.filter_expression(expression);
                for (k, v) in names {
                    query = query.expression_attribute_names(k, v);
                }
                for (k, v) in values {
                    query = query.expression_attribute_values(k, v.clone());
                }
            }
            let out = query
                .send()
                .await
                .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            found.extend(out.items().iter().cloned());
            if found.len() > limit {
                found.truncate(limit);
                return Ok((found, true));
            }
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok((found, false)),
            }
        }
    }
}

impl RemittanceStore for DynamoClaimStore {
    async fn begin_payment(
        &self,
        record: &PaymentRecord,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        if self
            .put_new(Self::payment_item(record, record.version)?)
            .await?
        {
            return Ok(None);
        }
        self.payment(&record.id)
            .await?
            .ok_or_else(|| unavailable("a payment vanished"))
            .map(Some)
    }

    async fn payment(&self, id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        self.get_item(s(format!("PAY#{id}")))
            .await?
            .map(|item| Self::record_of(&item))
            .transpose()
    }

    async fn update_payment(&self, record: &PaymentRecord) -> Result<(), StoreError> {
        self.put_versioned(
            Self::payment_item(record, record.version + 1)?,
            record.version,
            format!(
                "payment {} changed since version {}",
                record.id, record.version
            ),
        )
        .await
    }

    async fn payments(
        &self,
        organization: &OrganizationId,
        filter: &PaymentFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<PaymentRecord>, StoreError> {
        let filter = Conditions::default()
            .add("payerId", "=", filter.payer_id.clone().map(s))
            .add("traceNumber", "=", filter.trace_number.clone().map(s))
            .add("paidOn", ">=", filter.paid_from.map(|d| s(d.to_string())))
            .add("paidOn", "<=", filter.paid_to.map(|d| s(d.to_string())))
            .filter();
        let (items, more) = self
            .query_index(
                PAYMENTS_INDEX,
                ("paymentsOf", organization.as_str()),
                "paymentOrder",
                after,
                true,
                filter,
                limit,
            )
            .await?;
        let items: Vec<PaymentRecord> = items
            .iter()
            .map(Self::record_of)
            .collect::<Result<_, _>>()?;
        let next = if more {
            items.last().map(PaymentRecord::cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn put_claim_payment(&self, record: &ClaimPaymentRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).map_err(unavailable)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(HashMap::from([
                (
                    "pk".to_string(),
                    Self::claim_payment_key(&record.posting.payment, record.posting.index),
                ),
                ("record".to_string(), s(json)),
            ])))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
    }

    async fn claim_payment(
        &self,
        posting: &PostingId,
    ) -> Result<Option<ClaimPaymentRecord>, StoreError> {
        self.get_item(Self::claim_payment_key(&posting.payment, posting.index))
            .await?
            .map(|item| Self::record_of(&item))
            .transpose()
    }

    async fn claim_payments(
        &self,
        payment: &PaymentId,
        from: usize,
        limit: usize,
    ) -> Result<Vec<ClaimPaymentRecord>, StoreError> {
        let Some(record) = self.payment(payment).await? else {
            return Ok(vec![]);
        };
        let end = record.claim_payments.max(record.posted_through);
        let mut found = vec![];
        let mut index = from;
        while index < end && found.len() < limit {
            let chunk: Vec<usize> = (index..end).take(100.min(limit - found.len())).collect();
            index += chunk.len();
            let mut keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder();
            for i in &chunk {
                keys = keys.keys(HashMap::from([(
                    "pk".to_string(),
                    Self::claim_payment_key(payment, *i),
                )]));
            }
            let mut pending = Some(HashMap::from([(
                self.table.clone(),
                keys.consistent_read(true).build().map_err(unavailable)?,
            )]));
            let mut items = vec![];
            while let Some(request) = pending.take().filter(|r| !r.is_empty()) {
                let out = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request))
                    .send()
                    .await
                    .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
                if let Some(got) = out.responses().and_then(|r| r.get(&self.table)) {
                    items.extend(got.iter().cloned());
                }
                pending = out.unprocessed_keys().cloned();
            }
            let mut records: Vec<ClaimPaymentRecord> = items
                .iter()
                .map(Self::record_of)
                .collect::<Result<_, _>>()?;
            records.sort_by_key(|r| r.posting.index);
            found.extend(records);
        }
        Ok(found)
    }

    async fn raise(&self, exception: &RemittanceException) -> Result<bool, StoreError> {
        self.put_new(Self::exception_item(exception, exception.version)?)
            .await
    }

    async fn exception(&self, id: &ExceptionId) -> Result<Option<RemittanceException>, StoreError> {
        self.get_item(s(format!("EXC#{id}")))
            .await?
            .map(|item| Self::record_of(&item))
            .transpose()
    }

    async fn update_exception(&self, exception: &RemittanceException) -> Result<(), StoreError> {
        self.put_versioned(
            Self::exception_item(exception, exception.version + 1)?,
            exception.version,
            format!(
                "exception {} changed since version {}",
                exception.id, exception.version
            ),
        )
        .await
    }

    async fn exceptions(
        &self,
        organization: Option<&OrganizationId>,
        open_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RemittanceException>, StoreError> {
        let filter = open_only.then(|| {
            (
                "attribute_exists(#open)".to_string(),
                HashMap::from([("#open".to_string(), "open".to_string())]),
                HashMap::new(),
            )
        });
        let partition = organization.map_or(NO_ORGANIZATION, |o| o.as_str());
        let (items, more) = self
            .query_index(
                EXCEPTIONS_INDEX,
                ("exceptionsOf", partition),
                "exceptionOrder",
                after,
                true,
                filter,
                limit,
            )
            .await?;
        let items: Vec<RemittanceException> = items
            .iter()
            .map(Self::record_of)
            .collect::<Result<_, _>>()?;
        let next = if more {
            items.last().map(RemittanceException::cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn bind_payer_claim(
        &self,
        key: &PayerClaimKey,
        claim: &ClaimId,
    ) -> Result<ClaimId, StoreError> {
        let pk = format!("PCCN#{}", key.key());
        let item = HashMap::from([
            ("pk".to_string(), s(pk)),
            ("holder".to_string(), s(claim.as_str())),
        ]);
        if self.put_new(item).await? {
            return Ok(claim.clone());
        }
        self.payer_claim(key)
            .await?
            .ok_or_else(|| unavailable("a payer claim number vanished"))
    }

    async fn payer_claim(&self, key: &PayerClaimKey) -> Result<Option<ClaimId>, StoreError> {
        let Some(item) = self.get_item(s(format!("PCCN#{}", key.key()))).await? else {
            return Ok(None);
        };
        ClaimId::parse(text(&item, "holder")?)
            .map(Some)
            .map_err(unavailable)
    }
}

/// `key` as CopyObject's source names it: URL-encoded, `/` kept.
fn url_encoded(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

    async fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        check_key(key)?;
        if range.is_empty() {
            // S3 has no empty range; there is nothing to read.
            return Ok(Some(vec![]));
        }
        let failed = |message: String| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes={}-{}", range.start, range.end - 1))
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
            // A range past the object's end: nothing of it is there.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                Ok(Some(vec![]))
            }
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

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })
    }

    async fn download(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<u64>, ObjectStoreError> {
        use std::io::Write as _;
        check_key(key)?;
        let failed = |message: String| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => {
                return Err(failed(
                    aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
                ));
            }
        };
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| failed(e.to_string()))?,
        );
        let mut body = out.body;
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| failed(e.to_string()))?;
            size += chunk.len() as u64;
            file.write_all(&chunk).map_err(|e| failed(e.to_string()))?;
        }
        file.flush().map_err(|e| failed(e.to_string()))?;
        Ok(Some(size))
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), ObjectStoreError> {
        check_key(from)?;
        check_key(to)?;
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, url_encoded(from)))
            .key(to)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ObjectStoreError::Unavailable {
                key: from.to_string(),
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

/// The index of webhook subscriptions by organization, oldest first.
pub const WEBHOOKS_INDEX: &str = "organization-webhooks";

/// The index of webhook deliveries by subscription, newest event first.
pub const DELIVERIES_INDEX: &str = "webhook-deliveries";

/// The `state` a pending delivery has in the index `state-due` (no claim state is spelled
/// so).
const PENDING_DELIVERY: &str = "webhook-delivery-pending";

/// How long a delivery is kept after its event (DynamoDB's TTL removes it then).
const DELIVERY_DAYS: i64 = 30;

impl DynamoClaimStore {
    fn subscription_item(
        subscription: &Subscription,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut stored = subscription.clone();
        stored.version = version;
        let json = serde_json::to_string(&stored).map_err(unavailable)?;
        Ok(HashMap::from([
            ("pk".to_string(), s(format!("WHK#{}", subscription.id))),
            ("version".to_string(), n(version)),
            ("record".to_string(), s(json)),
            (
                "webhooksOf".to_string(),
                s(subscription.organization.as_str()),
            ),
            (
                "webhookOrder".to_string(),
                s(format!(
                    "{}#{}",
                    instant(subscription.created_at),
                    subscription.id
                )),
            ),
        ]))
    }

    /// Where a delivery sorts among its subscription's: newest event first, then by id.
    fn delivery_order(delivery: &Delivery) -> String {
        let micros = delivery.event_at.timestamp_micros().max(0);
        format!("{:019}#{}", i64::MAX - micros, delivery.id)
    }

    fn delivery_item(
        delivery: &Delivery,
        version: u64,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut stored = delivery.clone();
        stored.version = version;
        let json = serde_json::to_string(&stored).map_err(unavailable)?;
        let expires = delivery.event_at + chrono::TimeDelta::days(DELIVERY_DAYS);
        let mut item = HashMap::from([
            ("pk".to_string(), s(format!("WMSG#{}", delivery.id))),
            ("version".to_string(), n(version)),
            ("record".to_string(), s(json)),
            (
                "deliveriesOf".to_string(),
                s(delivery.subscription.as_str()),
            ),
            (
                "deliveryOrder".to_string(),
                s(Self::delivery_order(delivery)),
            ),
            ("eventType".to_string(), s(delivery.event_type.as_str())),
            (
                "deliveryStatus".to_string(),
                s(format!("{:?}", delivery.status)),
            ),
            ("eventAt".to_string(), s(instant(delivery.event_at))),
            ("expiresAt".to_string(), n(expires.timestamp())),
        ]);
        // A pending delivery is open work: in the index `state-due` by its due time, where
        // the sweep finds it should its queue message be lost.
        if let (DeliveryStatus::Pending, Some(due)) = (delivery.status, delivery.next_attempt_at) {
            item.insert("state".to_string(), s(PENDING_DELIVERY));
            item.insert("dueAt".to_string(), s(instant(due)));
        }
        Ok(item)
    }
}

impl WebhookStore for DynamoClaimStore {
    async fn create_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        if self
            .put_new(Self::subscription_item(subscription, 1)?)
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                what: format!("webhook {} exists", subscription.id),
            })
        }
    }

    async fn subscription(&self, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.get_item(s(format!("WHK#{id}")))
            .await?
            .as_ref()
            .map(Self::record_of)
            .transpose()
    }

    async fn update_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.put_versioned(
            Self::subscription_item(subscription, subscription.version + 1)?,
            subscription.version,
            format!("webhook {} changed", subscription.id),
        )
        .await
    }

    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("WHK#{id}")))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
    }

    async fn subscriptions(
        &self,
        organization: &OrganizationId,
    ) -> Result<Vec<Subscription>, StoreError> {
        let (items, _) = self
            .query_index(
                WEBHOOKS_INDEX,
                ("webhooksOf", organization.as_str()),
                "webhookOrder",
                None,
                true,
                None,
                hms_webhooks::ports::MAX_SUBSCRIPTIONS,
            )
            .await?;
        items.iter().map(Self::record_of).collect()
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        self.put_new(Self::delivery_item(delivery, 1)?).await
    }

    async fn delivery(&self, id: &MessageId) -> Result<Option<Delivery>, StoreError> {
        self.get_item(s(format!("WMSG#{id}")))
            .await?
            .as_ref()
            .map(Self::record_of)
            .transpose()
    }

    async fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.put_versioned(
            Self::delivery_item(delivery, delivery.version + 1)?,
            delivery.version,
            format!("delivery {} changed", delivery.id),
        )
        .await
    }

    async fn overdue(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.due_items(PENDING_DELIVERY, before, limit).await
    }

    async fn deliveries(
        &self,
        subscription: &SubscriptionId,
        filter: &DeliveryFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        let filter = Conditions::default()
            .add("eventType", "=", filter.event_type.clone().map(s))
            .add(
                "deliveryStatus",
                "=",
                filter.status.map(|st| s(format!("{st:?}"))),
            )
            .add("eventAt", ">=", filter.since.map(|at| s(instant(at))))
            .filter();
        let (items, more) = self
            .query_index(
                DELIVERIES_INDEX,
                ("deliveriesOf", subscription.as_str()),
                "deliveryOrder",
                after,
                true,
                filter,
                limit,
            )
            .await?;
        let items: Vec<Delivery> = items
            .iter()
            .map(Self::record_of)
            .collect::<Result<_, _>>()?;
        let next = if more {
            items.last().map(Self::delivery_order)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}
