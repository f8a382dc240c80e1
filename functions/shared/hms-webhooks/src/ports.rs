//! What the webhook use cases need from the world: a store of subscriptions and deliveries
//! (DynamoDB in production), a client that posts to endpoints under the URL policy (HTTPS to
//! public addresses only, checked as it connects), and the queue and clock of `hms-service`.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hms_service::ports::{Page, StoreError};
use hms_service::tenancy::OrganizationId;

use crate::records::{Delivery, DeliveryStatus, MessageId, Subscription, SubscriptionId};

/// The most endpoints an organization may have.
pub const MAX_SUBSCRIPTIONS: usize = 50;

/// Which deliveries a listing takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this event type's (its name).
    pub event_type: Option<String>,
    /// Only those standing so.
    pub status: Option<DeliveryStatus>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
}

/// Subscriptions and deliveries. Every write that could race is conditional: a delivery is
/// created once (by its message id), and a subscription or delivery is replaced only from
/// the version it was read as.
pub trait WebhookStore: Send + Sync {
    /// Stores a new subscription.
    fn create_subscription(
        &self,
        subscription: &Subscription,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The subscription `id`, of any organization (the use cases check).
    fn subscription(
        &self,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// Replaces the stored subscription when its version is `subscription.version`;
    /// `Conflict` otherwise.
    fn update_subscription(
        &self,
        subscription: &Subscription,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the subscription `id`.
    fn delete_subscription(
        &self,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The organization's subscriptions, oldest first (at most [`MAX_SUBSCRIPTIONS`]).
    fn subscriptions(
        &self,
        organization: &OrganizationId,
    ) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;

    /// Stores a new delivery; `false` when one with its id exists (the event was fanned out
    /// before).
    fn create_delivery(
        &self,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The delivery `id`.
    fn delivery(
        &self,
        id: &MessageId,
    ) -> impl Future<Output = Result<Option<Delivery>, StoreError>> + Send;

    /// Replaces the stored delivery when its version is `delivery.version`; `Conflict`
    /// otherwise.
    fn update_delivery(
        &self,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Pending deliveries whose next attempt was due at or before `before`, soonest first, at
    /// most `limit`: those whose queue message was lost (the sweep's work list).
    fn overdue(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// A subscription's deliveries, newest event first, from `after` (a cursor a page gave).
    fn deliveries(
        &self,
        subscription: &SubscriptionId,
        filter: &DeliveryFilter,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Page<Delivery>, StoreError>> + Send;
}

/// One POST to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// Where.
    pub url: String,
    /// The Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`) and the content type.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long the endpoint has to answer.
    pub timeout: Duration,
}

/// How an endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Its HTTP status.
    pub status: u16,
    /// How long it took.
    pub latency: Duration,
}

/// Why a POST got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The URL may not be sent to: not HTTPS, or its name resolves to a private, loopback,
    /// link-local or metadata address (checked as it connects, against DNS rebinding).
    #[error("the endpoint may not be sent to: {0}")]
    Refused(String),
    /// No answer within the timeout.
    #[error("the endpoint did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed.
    #[error("the endpoint could not be reached: {0}")]
    Unreachable(String),
}

/// Posts to endpoints. Redirects are never followed; the answer's body is read up to a small
/// cap and never kept.
pub trait EndpointClient: Send + Sync {
    /// Sends `post`.
    fn post(&self, post: Post) -> impl Future<Output = Result<Answer, PostError>> + Send;
}
