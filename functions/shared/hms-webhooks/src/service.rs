//! The webhook use cases: an administrator's subscriptions, the fan-out of each event to
//! them, each delivery's attempts by the schedule, and what operators see and replay.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hms_service::ports::{Clock, Page, Queue, QueueError, StoreError, Topic};
use hms_service::tenancy::OrganizationId;
use serde::{Deserialize, Serialize};

use crate::event::{EventSelector, EventType, SelectorError, WebhookEvent};
use crate::policy::{UrlPolicy, UrlRefusal};
use crate::ports::{
    DeliveryFilter, EndpointClient, MAX_SUBSCRIPTIONS, Post, PostError, WebhookStore,
};
use crate::records::{
    Attempt, DISABLE_AFTER, Delivery, DeliveryMessage, DeliveryStatus, EndpointStatus,
    MAX_ATTEMPTS_KEPT, MessageId, RetiringSecret, Subscription, SubscriptionId, SubscriptionView,
};
use crate::signing::{SigningError, SigningSecret, signature_header};

/// How long an endpoint has to answer.
pub const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a replaced secret still signs.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// The longest delay a queue message may have (SQS's 15 minutes): a later attempt is queued
/// again, due time and all, until it is due.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(15 * 60);

/// The longest description kept.
pub const MAX_DESCRIPTION: usize = 500;

/// The most deliveries one replay queues.
pub const MAX_REPLAY: usize = 10_000;

/// How long past its due time a pending delivery waits for its queue message before the
/// sweep queues it again: longer than SQS takes to bring back a message whose deliverer
/// failed (the function's timeout, a few receives), so a message only slow is rarely doubled
/// (and a doubled one is sent at most twice under one `webhook-id`, which receivers dedupe).
pub const OVERDUE_AFTER: Duration = Duration::from_secs(15 * 60);

/// What one sweep of the deliveries did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySweep {
    /// Overdue deliveries queued again.
    pub requeued: usize,
    /// Whether more were overdue than one sweep takes: the next sweep takes the rest.
    pub more: bool,
}

/// The webhook service over its ports.
#[derive(Debug)]
pub struct Webhooks<S, Q, E, C> {
    /// Subscriptions and deliveries.
    pub store: S,
    /// The deliveries queue.
    pub queue: Q,
    /// Posts to endpoints.
    pub endpoints: E,
    /// Now.
    pub clock: C,
    /// Where endpoints may be.
    pub policy: UrlPolicy,
    /// The waits between attempts ([`crate::records::RETRY_WAITS`]; the local stack
    /// shortens them).
    pub retry_waits: Vec<Duration>,
}

/// Why a webhook request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The request cannot be carried out as asked; the reason says why.
    #[error("{0}")]
    Invalid(String),
    /// No such subscription or message for the caller's organization.
    #[error("no {what} {id}")]
    NotFound {
        /// `webhook` or `message`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// Our store failed; the request may be retried.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// Our queue failed; the request may be retried.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// No secret could be made.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A stored record could not be used: a defect, reported.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<UrlRefusal> for WebhookError {
    fn from(e: UrlRefusal) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<SelectorError> for WebhookError {
    fn from(e: SelectorError) -> Self {
        Self::Invalid(e.to_string())
    }
}

/// A new endpoint, as an administrator asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSubscription {
    /// Where events go.
    pub url: String,
    /// Event type names, or `["*"]`.
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// A change to an endpoint: what is given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionChange {
    /// Where events go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Event type names, or `["*"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Enabled again (`true`) or disabled by hand (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// An endpoint with its signing secret: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub subscription: SubscriptionView,
    /// `whsec_…`.
    pub secret: String,
}

/// What a replay sends again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replay {
    /// Every delivery of events at or after this time (delivered or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// One message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Only those that failed (the dead letters: a redrive).
    #[serde(default)]
    pub failed_only: bool,
}

/// What an attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    /// 2xx.
    Delivered,
    /// Failed; the next attempt is queued for then.
    Retrying(DateTime<Utc>),
    /// Failed for the last time, or the endpoint is gone: a dead letter.
    Failed,
    /// Not due yet: queued again for its due time.
    NotYetDue(DateTime<Utc>),
    /// Nothing to do: a duplicate or stale message, a delivered or failed delivery, an
    /// endpoint deleted or disabled.
    Nothing(&'static str),
}

fn after(at: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn until(now: DateTime<Utc>, due: DateTime<Utc>) -> Duration {
    (due - now).to_std().unwrap_or(Duration::ZERO)
}

impl<S: WebhookStore, Q: Queue, E: EndpointClient, C: Clock> Webhooks<S, Q, E, C> {
    /// The organization's subscription `id` (another's is not found either).
    async fn owned(
        &self,
        organization: &OrganizationId,
        id: &str,
    ) -> Result<Subscription, WebhookError> {
        let not_found = || WebhookError::NotFound {
            what: "webhook",
            id: id.chars().take(64).collect(),
        };
        let id = SubscriptionId::parse(id).map_err(|_| not_found())?;
        match self.store.subscription(&id).await? {
            Some(s) if &s.organization == organization => Ok(s),
            _ => Err(not_found()),
        }
    }

    /// Adds an endpoint; its secret is in the answer and never again.
    pub async fn subscribe(
        &self,
        organization: &OrganizationId,
        request: NewSubscription,
    ) -> Result<WithSecret, WebhookError> {
        let url = self.policy.check(&request.url)?;
        let events = EventSelector::parse(&request.events)?;
        let description = description(&request.description)?;
        if self.store.subscriptions(organization).await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(WebhookError::Invalid(format!(
                "an organization has at most {MAX_SUBSCRIPTIONS} webhooks; delete one first"
            )));
        }
        let secret = SigningSecret::generate()?.to_text();
        let subscription = Subscription {
            id: SubscriptionId::generate(),
            organization: organization.clone(),
            url: url.to_string(),
            events,
            description,
            secret: secret.clone(),
            retiring: None,
            status: EndpointStatus::Enabled,
            failing_since: None,
            created_at: self.clock.now(),
            version: 0,
        };
        self.store.create_subscription(&subscription).await?;
        tracing::info!(organization = %organization, webhook_id = %subscription.id, "webhook added");
        Ok(WithSecret {
            subscription: subscription.view(),
            secret,
        })
    }

    /// The organization's endpoints.
    pub async fn subscriptions(
        &self,
        organization: &OrganizationId,
    ) -> Result<Vec<SubscriptionView>, WebhookError> {
        Ok(self
            .store
            .subscriptions(organization)
            .await?
            .iter()
            .map(Subscription::view)
            .collect())
    }

    /// One endpoint.
    pub async fn subscription(
        &self,
        organization: &OrganizationId,
        id: &str,
    ) -> Result<SubscriptionView, WebhookError> {
        Ok(self.owned(organization, id).await?.view())
    }

    /// Changes an endpoint.
    pub async fn change(
        &self,
        organization: &OrganizationId,
        id: &str,
        change: SubscriptionChange,
    ) -> Result<SubscriptionView, WebhookError> {
        let url = change
            .url
            .as_deref()
            .map(|u| self.policy.check(u))
            .transpose()?;
        let events = change
            .events
            .as_deref()
            .map(EventSelector::parse)
            .transpose()?;
        let description = change.description.as_deref().map(description).transpose()?;
        self.update(organization, id, |s, now| {
            if let Some(url) = &url {
                s.url = url.to_string();
            }
            if let Some(events) = &events {
                s.events = events.clone();
            }
            if let Some(d) = &description {
                s.description = d.clone();
            }
            match change.enabled {
                Some(true) => {
                    s.status = EndpointStatus::Enabled;
                    s.failing_since = None;
                }
                Some(false) => {
                    s.status = EndpointStatus::Disabled {
                        reason: "disabled by an administrator".into(),
                        at: now,
                    };
                }
                None => {}
            }
            Ok(())
        })
        .await
        .map(|s| s.view())
    }

    /// Removes an endpoint: nothing more is sent to it.
    pub async fn unsubscribe(
        &self,
        organization: &OrganizationId,
        id: &str,
    ) -> Result<(), WebhookError> {
        let subscription = self.owned(organization, id).await?;
        self.store.delete_subscription(&subscription.id).await?;
        tracing::info!(organization = %organization, webhook_id = %subscription.id, "webhook deleted");
        Ok(())
    }

    /// A new signing secret; the one it replaces still signs for [`ROTATION_OVERLAP`] (each
    /// message then carries both signatures).
    pub async fn rotate_secret(
        &self,
        organization: &OrganizationId,
        id: &str,
    ) -> Result<WithSecret, WebhookError> {
        let secret = SigningSecret::generate()?.to_text();
        let fresh = secret.clone();
        let subscription = self
            .update(organization, id, move |s, now| {
                let old = std::mem::replace(&mut s.secret, fresh.clone());
                s.retiring = Some(RetiringSecret {
                    secret: old,
                    signs_until: after(now, ROTATION_OVERLAP),
                });
                Ok(())
            })
            .await?;
        Ok(WithSecret {
            subscription: subscription.view(),
            secret,
        })
    }

    /// Reads, changes and stores a subscription, again from a fresh read when another
    /// process changed it first.
    async fn update(
        &self,
        organization: &OrganizationId,
        id: &str,
        change: impl Fn(&mut Subscription, DateTime<Utc>) -> Result<(), WebhookError>,
    ) -> Result<Subscription, WebhookError> {
        for _ in 0..8 {
            let mut subscription = self.owned(organization, id).await?;
            change(&mut subscription, self.clock.now())?;
            match self.store.update_subscription(&subscription).await {
                Ok(()) => {
                    subscription.version += 1;
                    return Ok(subscription);
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(WebhookError::Internal(format!(
            "webhook {id} kept changing"
        )))
    }

    /// Sends a `webhook.test` event to one endpoint, whatever it subscribes to; its message
    /// id.
    pub async fn send_test(
        &self,
        organization: &OrganizationId,
        id: &str,
    ) -> Result<MessageId, WebhookError> {
        let subscription = self.owned(organization, id).await?;
        let now = self.clock.now();
        let event = WebhookEvent {
            id: format!("evt_test{}", uuid::Uuid::now_v7().simple()),
            event_type: EventType::Test,
            organization: organization.clone(),
            timestamp: now,
            data: serde_json::json!({
                "webhookId": subscription.id,
                "message": "a test event an administrator asked for",
            }),
        };
        Ok(self.make_delivery(&event, &subscription).await?.0)
    }

    /// Fans an event out: one delivery for each of its organization's enabled endpoints that
    /// takes its type, made once (a second announcement of the event finds them made) and
    /// queued. How many were made now.
    pub async fn fan_out(&self, event: &WebhookEvent) -> Result<usize, WebhookError> {
        let mut made = 0;
        for subscription in self.store.subscriptions(&event.organization).await? {
            if !subscription.is_enabled() || !subscription.events.takes(event.event_type) {
                continue;
            }
            if self.make_delivery(event, &subscription).await?.1 {
                made += 1;
            }
        }
        Ok(made)
    }

    /// Makes the delivery of `event` to `subscription` (when it was not made before) and
    /// queues its first attempt. A run that dies between the two leaves a pending delivery
    /// whose message the announcement's redelivery queues.
    async fn make_delivery(
        &self,
        event: &WebhookEvent,
        subscription: &Subscription,
    ) -> Result<(MessageId, bool), WebhookError> {
        let now = self.clock.now();
        let delivery = Delivery {
            id: MessageId::of(&event.id, &subscription.id),
            subscription: subscription.id.clone(),
            organization: subscription.organization.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type,
            event_at: event.timestamp,
            body: String::from_utf8(event.body())
                .map_err(|e| WebhookError::Internal(format!("an event body: {e}")))?,
            status: DeliveryStatus::Pending,
            attempts: vec![],
            attempt_count: 0,
            round_attempts: 0,
            next_attempt_at: Some(now),
            version: 0,
        };
        let created = self.store.create_delivery(&delivery).await?;
        let stored = if created {
            delivery
        } else {
            // Made before: queued again only while it waits for its first attempt (the run
            // that made it may have died before queueing it; a duplicate message is a stale
            // one to the deliverer once the first is taken).
            match self.store.delivery(&delivery.id).await? {
                Some(d) if d.status == DeliveryStatus::Pending && d.attempt_count == 0 => d,
                _ => return Ok((delivery.id, false)),
            }
        };
        self.enqueue(&stored, Duration::ZERO).await?;
        Ok((stored.id, created))
    }

    async fn enqueue(&self, delivery: &Delivery, delay: Duration) -> Result<(), WebhookError> {
        let message = DeliveryMessage {
            delivery: delivery.id.clone(),
            attempt: delivery.attempt_count,
        };
        let body = serde_json::to_vec(&message)
            .map_err(|e| WebhookError::Internal(format!("a delivery message: {e}")))?;
        self.queue
            .send(Topic::WebhookDeliveries, body, delay.min(MAX_QUEUE_DELAY))
            .await?;
        Ok(())
    }

    /// The deliveries queue's consumer: one attempt at a delivery when it is due, recorded,
    /// and the next queued by the schedule.
    pub async fn attempt(&self, message: &DeliveryMessage) -> Result<Attempted, WebhookError> {
        let Some(mut delivery) = self.store.delivery(&message.delivery).await? else {
            return Ok(Attempted::Nothing("no such delivery"));
        };
        if delivery.status != DeliveryStatus::Pending {
            return Ok(Attempted::Nothing("the delivery is not pending"));
        }
        if delivery.attempt_count != message.attempt {
            return Ok(Attempted::Nothing("a duplicate or stale message"));
        }
        let now = self.clock.now();
        if let Some(due) = delivery.next_attempt_at.filter(|due| *due > now) {
            self.enqueue(&delivery, until(now, due)).await?;
            return Ok(Attempted::NotYetDue(due));
        }
        let Some(subscription) = self.store.subscription(&delivery.subscription).await? else {
            return self
                .give_up(delivery, now, "the webhook was deleted")
                .await
                .map(|_| Attempted::Nothing("the webhook was deleted"));
        };
        if !subscription.is_enabled() {
            return self
                .give_up(delivery, now, "the webhook is disabled")
                .await
                .map(|_| Attempted::Nothing("the webhook is disabled"));
        }
        let timestamp = now.timestamp();
        let secrets: Vec<SigningSecret> = subscription
            .signing_secrets(now)
            .into_iter()
            .filter_map(|s| SigningSecret::parse(s).ok())
            .collect();
        let signing: Vec<&SigningSecret> = secrets.iter().collect();
        let signature = signature_header(
            &signing,
            delivery.id.as_str(),
            timestamp,
            delivery.body.as_bytes(),
        );
        let post = Post {
            url: subscription.url.clone(),
            headers: vec![
                ("content-type", "application/json".into()),
                ("webhook-id", delivery.id.to_string()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
            ],
            body: delivery.body.clone().into_bytes(),
            timeout: ENDPOINT_TIMEOUT,
        };
        let sent = self.endpoints.post(post).await;
        let done = self.clock.now();
        let attempt = match &sent {
            Ok(answer) => Attempt {
                at: now,
                status: Some(answer.status),
                latency_ms: answer.latency.as_millis().try_into().unwrap_or(u64::MAX),
                delivered: (200..300).contains(&answer.status),
                error: None,
            },
            Err(e) => Attempt {
                at: now,
                status: None,
                latency_ms: until(now, done).as_millis().try_into().unwrap_or(u64::MAX),
                delivered: false,
                error: Some(e.to_string()),
            },
        };
        let gone =
            matches!(sent, Ok(a) if a.status == 410) || matches!(sent, Err(PostError::Refused(_)));
        record_attempt(&mut delivery, attempt.clone());
        let outcome = if attempt.delivered {
            delivery.status = DeliveryStatus::Delivered;
            delivery.next_attempt_at = None;
            Attempted::Delivered
        } else if gone {
            delivery.status = DeliveryStatus::Failed;
            delivery.next_attempt_at = None;
            Attempted::Failed
        } else if let Some(wait) = self
            .retry_waits
            .get((delivery.round_attempts as usize).saturating_sub(1))
        {
            let due = after(now, *wait);
            delivery.next_attempt_at = Some(due);
            Attempted::Retrying(due)
        } else {
            delivery.status = DeliveryStatus::Failed;
            delivery.next_attempt_at = None;
            Attempted::Failed
        };
        // The next attempt is queued before this one is stored: should the store fail, this
        // message comes again and the one queued finds the count not moved and does nothing;
        // should the process die after storing, the next attempt is queued already.
        if let Attempted::Retrying(due) = outcome {
            self.enqueue(&delivery, until(now, due)).await?;
        }
        // Stored from the version read: a duplicate message racing this one cannot record a
        // second attempt for the same turn.
        match self.store.update_delivery(&delivery).await {
            Ok(()) => delivery.version += 1,
            Err(StoreError::Conflict { .. }) => {
                return Ok(Attempted::Nothing("another attempt was recorded first"));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(
            organization = %delivery.organization,
            webhook_id = %delivery.subscription,
            message_id = %delivery.id,
            event_type = %delivery.event_type,
            status = attempt.status,
            latency_ms = attempt.latency_ms,
            attempt = delivery.attempt_count,
            outcome = ?outcome,
            "webhook attempt"
        );
        self.note_endpoint(&subscription, attempt.delivered, gone, now)
            .await?;
        Ok(outcome)
    }

    /// Marks a delivery failed without an attempt (its endpoint deleted or disabled).
    async fn give_up(
        &self,
        mut delivery: Delivery,
        now: DateTime<Utc>,
        why: &str,
    ) -> Result<(), WebhookError> {
        delivery.status = DeliveryStatus::Failed;
        delivery.next_attempt_at = None;
        record_attempt(
            &mut delivery,
            Attempt {
                at: now,
                status: None,
                latency_ms: 0,
                delivered: false,
                error: Some(why.into()),
            },
        );
        match self.store.update_delivery(&delivery).await {
            Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps an endpoint's health: a success clears its failing time; a failure starts it;
    /// an endpoint gone (410, or refused by the URL policy) or failing for
    /// [`DISABLE_AFTER`] is disabled, and its organization's administrators are told.
    async fn note_endpoint(
        &self,
        subscription: &Subscription,
        delivered: bool,
        gone: bool,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let failing_too_long = subscription.failing_since.is_some_and(|since| {
            now - since >= TimeDelta::from_std(DISABLE_AFTER).unwrap_or(TimeDelta::MAX)
        });
        let change: Option<(Option<DateTime<Utc>>, Option<String>)> = if delivered {
            subscription.failing_since.is_some().then_some((None, None))
        } else if gone {
            Some((
                subscription.failing_since,
                Some("the endpoint answered 410 Gone, or may not be sent to".to_string()),
            ))
        } else if failing_too_long {
            Some((
                subscription.failing_since,
                Some(format!(
                    "every attempt failed for {} days",
                    DISABLE_AFTER.as_secs() / 86_400
                )),
            ))
        } else if subscription.failing_since.is_none() {
            Some((Some(now), None))
        } else {
            None
        };
        let Some((failing_since, disable)) = change else {
            return Ok(());
        };
        let disabled = disable.clone();
        let updated = self
            .update(
                &subscription.organization,
                subscription.id.as_str(),
                move |s, at| {
                    s.failing_since = failing_since;
                    if let Some(reason) = &disable {
                        s.status = EndpointStatus::Disabled {
                            reason: reason.clone(),
                            at,
                        };
                    }
                    Ok(())
                },
            )
            .await;
        let updated = match updated {
            Ok(s) => s,
            // Deleted meanwhile: nothing to keep.
            Err(WebhookError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(reason) = disabled {
            tracing::warn!(organization = %updated.organization, webhook_id = %updated.id, reason, "webhook disabled");
            let event = WebhookEvent {
                id: crate::event::event_id(&format!("disabled:{}:{}", updated.id, now.timestamp())),
                event_type: EventType::EndpointDisabled,
                organization: updated.organization.clone(),
                timestamp: now,
                data: serde_json::json!({
                    "webhookId": updated.id,
                    "url": updated.url,
                    "reason": reason,
                    "links": { "webhook": format!("/ach/webhooks/{}", updated.id) },
                }),
            };
            self.fan_out(&event).await?;
        }
        Ok(())
    }

    /// An endpoint's deliveries, newest event first.
    pub async fn deliveries(
        &self,
        organization: &OrganizationId,
        id: &str,
        filter: &DeliveryFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Delivery>, WebhookError> {
        if !(1..=100).contains(&limit) {
            return Err(WebhookError::Invalid(format!(
                "limit is 1 to 100, not {limit}"
            )));
        }
        let subscription = self.owned(organization, id).await?;
        Ok(self
            .store
            .deliveries(&subscription.id, filter, cursor, limit)
            .await?)
    }

    /// Sends deliveries again: one message, or every delivery of events since a time (only
    /// the failed ones: a redrive of the dead letters). Each starts a new round of the
    /// schedule under its same message id. How many were queued.
    pub async fn replay(
        &self,
        organization: &OrganizationId,
        id: &str,
        replay: &Replay,
    ) -> Result<usize, WebhookError> {
        let subscription = self.owned(organization, id).await?;
        if !subscription.is_enabled() {
            return Err(WebhookError::Invalid(
                "the webhook is disabled; enable it first (PATCH enabled: true)".into(),
            ));
        }
        let mut chosen = vec![];
        match (&replay.message_id, replay.since) {
            (Some(message), None) => {
                let not_found = || WebhookError::NotFound {
                    what: "message",
                    id: message.chars().take(64).collect(),
                };
                let id = MessageId::parse(message).map_err(|_| not_found())?;
                match self.store.delivery(&id).await? {
                    Some(d) if d.subscription == subscription.id => chosen.push(d),
                    _ => return Err(not_found()),
                }
            }
            (None, Some(since)) => {
                let filter = DeliveryFilter {
                    since: Some(since),
                    status: replay.failed_only.then_some(DeliveryStatus::Failed),
                    ..Default::default()
                };
                let mut cursor = None;
                loop {
                    let page = self
                        .store
                        .deliveries(&subscription.id, &filter, cursor.as_deref(), 100)
                        .await?;
                    chosen.extend(page.items);
                    if chosen.len() >= MAX_REPLAY {
                        return Err(WebhookError::Invalid(format!(
                            "more than {MAX_REPLAY} deliveries since then; replay a later time"
                        )));
                    }
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
            _ => {
                return Err(WebhookError::Invalid(
                    "name either messageId or since".into(),
                ));
            }
        }
        let mut queued = 0;
        for delivery in chosen {
            if self.restart(delivery).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues again every pending delivery more than `overdue_after` past its due time: its
    /// message was lost (a deliverer that kept failing sent it to the dead-letter queue, or a
    /// run died between storing and queueing). Each is marked due now before it is queued,
    /// so the next sweep leaves it alone for another `overdue_after`; one another process
    /// changed meanwhile is left to that process.
    pub async fn sweep(
        &self,
        overdue_after: Duration,
        limit: usize,
    ) -> Result<DeliverySweep, WebhookError> {
        let now = self.clock.now();
        let before = now
            .checked_sub_signed(TimeDelta::from_std(overdue_after).unwrap_or(TimeDelta::MAX))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let overdue = self.store.overdue(before, limit).await?;
        let mut report = DeliverySweep {
            requeued: 0,
            more: overdue.len() >= limit,
        };
        for mut delivery in overdue {
            delivery.next_attempt_at = Some(now);
            match self.store.update_delivery(&delivery).await {
                Ok(()) => delivery.version += 1,
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            self.enqueue(&delivery, Duration::ZERO).await?;
            tracing::warn!(
                organization = %delivery.organization,
                webhook_id = %delivery.subscription,
                message_id = %delivery.id,
                attempt = delivery.attempt_count,
                "an overdue webhook delivery queued again"
            );
            report.requeued += 1;
        }
        Ok(report)
    }

    /// Starts a new round for a delivery that is not pending; whether it was queued.
    async fn restart(&self, mut delivery: Delivery) -> Result<bool, WebhookError> {
        if delivery.status == DeliveryStatus::Pending {
            return Ok(false);
        }
        delivery.status = DeliveryStatus::Pending;
        delivery.round_attempts = 0;
        delivery.next_attempt_at = Some(self.clock.now());
        match self.store.update_delivery(&delivery).await {
            Ok(()) => delivery.version += 1,
            Err(StoreError::Conflict { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        self.enqueue(&delivery, Duration::ZERO).await?;
        Ok(true)
    }
}

/// Adds an attempt to a delivery, keeping the last [`MAX_ATTEMPTS_KEPT`].
fn record_attempt(delivery: &mut Delivery, attempt: Attempt) {
    delivery.attempts.push(attempt);
    if delivery.attempts.len() > MAX_ATTEMPTS_KEPT {
        let extra = delivery.attempts.len() - MAX_ATTEMPTS_KEPT;
        delivery.attempts.drain(..extra);
    }
    delivery.attempt_count += 1;
    delivery.round_attempts += 1;
}

/// A description as kept: trimmed, at most [`MAX_DESCRIPTION`] characters.
fn description(text: &str) -> Result<String, WebhookError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(WebhookError::Invalid(format!(
            "a description has at most {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(text.to_string())
}
