//! The webhook ports in memory: a store that keeps every record (conditional as DynamoDB
//! is), and endpoints that answer as a test scripts them and keep what they were sent.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hms_service::ports::{Page, StoreError};
use hms_service::tenancy::OrganizationId;
use hms_service::testing::Crashing;

use crate::ports::{Answer, DeliveryFilter, EndpointClient, Post, PostError, WebhookStore};
use crate::records::{Delivery, MessageId, Subscription, SubscriptionId};

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict {
        what: what.to_string(),
    }
}

/// Subscriptions and deliveries in memory.
#[derive(Debug, Default)]
pub struct InMemoryWebhookStore {
    subscriptions: Mutex<BTreeMap<SubscriptionId, Subscription>>,
    deliveries: Mutex<BTreeMap<MessageId, Delivery>>,
}

impl InMemoryWebhookStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every delivery, in id order.
    pub fn all_deliveries(&self) -> Vec<Delivery> {
        locked(&self.deliveries).values().cloned().collect()
    }
}

impl WebhookStore for InMemoryWebhookStore {
    async fn create_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let mut all = locked(&self.subscriptions);
        if all.contains_key(&subscription.id) {
            return Err(conflict("the webhook exists"));
        }
        let mut stored = subscription.clone();
        stored.version = 1;
        all.insert(subscription.id.clone(), stored);
        Ok(())
    }

    async fn subscription(&self, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        Ok(locked(&self.subscriptions).get(id).cloned())
    }

    async fn update_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let mut all = locked(&self.subscriptions);
        match all.get_mut(&subscription.id) {
            Some(stored) if stored.version == subscription.version => {
                *stored = subscription.clone();
                stored.version += 1;
                Ok(())
            }
            Some(_) => Err(conflict("the webhook changed")),
            None => Err(conflict("the webhook is gone")),
        }
    }

    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        locked(&self.subscriptions).remove(id);
        Ok(())
    }

    async fn subscriptions(
        &self,
        organization: &OrganizationId,
    ) -> Result<Vec<Subscription>, StoreError> {
        Ok(locked(&self.subscriptions)
            .values()
            .filter(|s| &s.organization == organization)
            .cloned()
            .collect())
    }

    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        let mut all = locked(&self.deliveries);
        if all.contains_key(&delivery.id) {
            return Ok(false);
        }
        let mut stored = delivery.clone();
        stored.version = 1;
        all.insert(delivery.id.clone(), stored);
        Ok(true)
    }

    async fn delivery(&self, id: &MessageId) -> Result<Option<Delivery>, StoreError> {
        Ok(locked(&self.deliveries).get(id).cloned())
    }

    async fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let mut all = locked(&self.deliveries);
        match all.get_mut(&delivery.id) {
            Some(stored) if stored.version == delivery.version => {
                *stored = delivery.clone();
                stored.version += 1;
                Ok(())
            }
            Some(_) => Err(conflict("the delivery changed")),
            None => Err(conflict("the delivery is gone")),
        }
    }

    async fn overdue(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut due: Vec<Delivery> = locked(&self.deliveries)
            .values()
            .filter(|d| d.status == crate::records::DeliveryStatus::Pending)
            .filter(|d| d.next_attempt_at.is_some_and(|at| at <= before))
            .cloned()
            .collect();
        due.sort_by_key(|d| d.next_attempt_at);
        due.truncate(limit);
        Ok(due)
    }

    async fn deliveries(
        &self,
        subscription: &SubscriptionId,
        filter: &DeliveryFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        // Newest event first; the cursor is the last item's sort key.
        let key = |d: &Delivery| format!("{}#{}", d.event_at.timestamp_micros(), d.id);
        let mut chosen: Vec<Delivery> = locked(&self.deliveries)
            .values()
            .filter(|d| &d.subscription == subscription)
            .filter(|d| {
                filter
                    .event_type
                    .as_deref()
                    .is_none_or(|t| d.event_type.as_str() == t)
            })
            .filter(|d| filter.status.is_none_or(|s| d.status == s))
            .filter(|d| filter.since.is_none_or(|since| d.event_at >= since))
            .cloned()
            .collect();
        chosen.sort_by_key(|d| std::cmp::Reverse(key(d)));
        let start = after.map_or(0, |cursor| {
            chosen
                .iter()
                .position(|d| key(d).as_str() < cursor)
                .unwrap_or(chosen.len())
        });
        let items: Vec<Delivery> = chosen.iter().skip(start).take(limit).cloned().collect();
        let next = (start + items.len() < chosen.len())
            .then(|| items.last().map(key))
            .flatten();
        Ok(Page { items, next })
    }
}

/// Endpoints as a test scripts them: each URL answers from its script (then 200), and every
/// POST is kept.
#[derive(Debug, Default)]
pub struct ScriptedEndpoints {
    scripts: Mutex<BTreeMap<String, VecDeque<Result<u16, PostError>>>>,
    posts: Mutex<Vec<Post>>,
}

impl ScriptedEndpoints {
    /// Endpoints that answer 200.
    pub fn new() -> Self {
        Self::default()
    }

    /// What `url` answers next (after what it was told before).
    pub fn then(&self, url: &str, answer: Result<u16, PostError>) -> &Self {
        locked(&self.scripts)
            .entry(url.to_string())
            .or_default()
            .push_back(answer);
        self
    }

    /// Every POST so far, in order.
    pub fn posts(&self) -> Vec<Post> {
        locked(&self.posts).clone()
    }
}

impl EndpointClient for ScriptedEndpoints {
    async fn post(&self, post: Post) -> Result<Answer, PostError> {
        let answer = locked(&self.scripts)
            .get_mut(&post.url)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Ok(200));
        locked(&self.posts).push(post);
        answer.map(|status| Answer {
            status,
            latency: Duration::from_millis(3),
        })
    }
}

impl<T: WebhookStore> WebhookStore for Crashing<T> {
    async fn create_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.within(dead, self.inner.create_subscription(subscription))
            .await
    }
    async fn subscription(&self, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.within(dead, self.inner.subscription(id)).await
    }
    async fn update_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.within(dead, self.inner.update_subscription(subscription))
            .await
    }
    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        self.within(dead, self.inner.delete_subscription(id)).await
    }
    async fn subscriptions(
        &self,
        organization: &OrganizationId,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.within(dead, self.inner.subscriptions(organization))
            .await
    }
    async fn create_delivery(&self, delivery: &Delivery) -> Result<bool, StoreError> {
        self.within(dead, self.inner.create_delivery(delivery))
            .await
    }
    async fn delivery(&self, id: &MessageId) -> Result<Option<Delivery>, StoreError> {
        self.within(dead, self.inner.delivery(id)).await
    }
    async fn update_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.within(dead, self.inner.update_delivery(delivery))
            .await
    }
    async fn overdue(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.within(dead, self.inner.overdue(before, limit)).await
    }
    async fn deliveries(
        &self,
        subscription: &SubscriptionId,
        filter: &DeliveryFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        self.within(
            dead,
            self.inner.deliveries(subscription, filter, after, limit),
        )
        .await
    }
}

/// A POST the dead process never sent.
impl<T: EndpointClient> EndpointClient for Crashing<T> {
    async fn post(&self, post: Post) -> Result<Answer, PostError> {
        self.within(PostError::Unreachable, self.inner.post(post))
            .await
    }
}

/// A store call the dead process never made.
fn dead(message: String) -> StoreError {
    StoreError::Unavailable { message }
}
