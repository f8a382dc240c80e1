//! What is stored: subscriptions (an organization's endpoints, with their signing secrets),
//! and deliveries (one event for one endpoint, with every attempt at it).

use std::time::Duration;

use chrono::{DateTime, Utc};
use hms_service::ports::sha256_hex;
use hms_service::tenancy::OrganizationId;
use serde::{Deserialize, Serialize};

use crate::event::{EventSelector, EventType};

/// A subscription's id: `whk_` and a UUIDv7.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubscriptionId(String);

/// A delivery's id, the message's `webhook-id`: `msg_` and a digest of the event and the
/// subscription, the same on every attempt and replay.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a {1} id")]
pub struct IdError(String, &'static str);

fn checked(text: &str, prefix: &str, what: &'static str) -> Result<String, IdError> {
    let fail = || IdError(text.chars().take(64).collect(), what);
    let rest = text.strip_prefix(prefix).ok_or_else(fail)?;
    if rest.len() != 32
        || !rest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(fail());
    }
    Ok(text.to_string())
}

impl SubscriptionId {
    /// A new id.
    pub fn generate() -> Self {
        Self(format!("whk_{}", uuid::Uuid::now_v7().simple()))
    }

    /// Checks an id a caller sent.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        checked(text, "whk_", "webhook").map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl MessageId {
    /// The message of event `event_id` for `subscription`.
    pub fn of(event_id: &str, subscription: &SubscriptionId) -> Self {
        let digest = sha256_hex(format!("{event_id}:{subscription}").as_bytes());
        Self(format!("msg_{}", digest.get(..32).unwrap_or(&digest)))
    }

    /// Checks an id a caller sent.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        checked(text, "msg_", "message").map(Self)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_id {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                Self::parse(&text)
            }
        }
        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }
    };
}
text_id!(SubscriptionId);
text_id!(MessageId);

/// Whether an endpoint is sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum EndpointStatus {
    /// Events are sent to it.
    Enabled,
    /// Nothing is sent to it until an administrator enables it again.
    Disabled {
        /// Why.
        reason: String,
        /// Since when.
        at: DateTime<Utc>,
    },
}

/// A secret that was replaced, and until when it still signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetiringSecret {
    /// Its text.
    pub secret: String,
    /// Until when messages carry its signature too.
    pub signs_until: DateTime<Utc>,
}

/// One of an organization's endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Its id.
    pub id: SubscriptionId,
    /// Whose it is.
    pub organization: OrganizationId,
    /// Where events go.
    pub url: String,
    /// Which events.
    pub events: EventSelector,
    /// What it is for, in the administrator's words.
    #[serde(default)]
    pub description: String,
    /// The signing secret (`whsec_…`): stored (encrypted at rest), shown once.
    pub secret: String,
    /// The secret it replaced, while that still signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring: Option<RetiringSecret>,
    /// Whether it is sent to.
    #[serde(flatten)]
    pub status: EndpointStatus,
    /// Since when every attempt at it failed (cleared by a success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The stored version this copy was read as.
    #[serde(default)]
    pub version: u64,
}

/// A subscription as an administrator sees it: everything but its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    /// Its id.
    pub id: SubscriptionId,
    /// Where events go.
    pub url: String,
    /// Which events.
    pub events: EventSelector,
    /// What it is for.
    pub description: String,
    /// Whether it is sent to.
    #[serde(flatten)]
    pub status: EndpointStatus,
    /// Since when it has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the replaced secret still signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_secret_signs_until: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    /// What an administrator sees of it.
    pub fn view(&self) -> SubscriptionView {
        SubscriptionView {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            status: self.status.clone(),
            failing_since: self.failing_since,
            retiring_secret_signs_until: self.retiring.as_ref().map(|r| r.signs_until),
            created_at: self.created_at,
        }
    }

    /// Whether events are sent to it.
    pub fn is_enabled(&self) -> bool {
        self.status == EndpointStatus::Enabled
    }

    /// The secrets that sign at `now`: the current, and the replaced one until it retires.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let Some(r) = self.retiring.as_ref().filter(|r| r.signs_until > now) {
            secrets.push(&r.secret);
        }
        secrets
    }
}

/// How often a delivery is tried: at once, then after each of these waits (5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 10 h), some 28 hours in all; then it has failed.
pub const RETRY_WAITS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// How long an endpoint may fail every attempt before it is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// The most attempts a delivery keeps (the schedule's, and replays'); older ones are counted.
pub const MAX_ATTEMPTS_KEPT: usize = 30;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The endpoint's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u64,
    /// Whether it counts as delivered (2xx).
    pub delivered: bool,
    /// Why it failed, in our words (never the endpoint's body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt got 2xx.
    Delivered,
    /// The schedule ran out, or the endpoint is gone: in the dead letters, until replayed.
    Failed,
}

/// One event for one endpoint, and every attempt at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The message id (`webhook-id`).
    pub id: MessageId,
    /// The endpoint.
    pub subscription: SubscriptionId,
    /// Whose it is.
    pub organization: OrganizationId,
    /// The event.
    pub event_id: String,
    /// Its type.
    pub event_type: EventType,
    /// When the event happened (the `webhook-timestamp` is each attempt's own time).
    pub event_at: DateTime<Utc>,
    /// The body, fixed when the delivery was made: every attempt sends the same bytes.
    pub body: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// The attempts, oldest first (the last [`MAX_ATTEMPTS_KEPT`]).
    pub attempts: Vec<Attempt>,
    /// How many attempts there were in all.
    pub attempt_count: u32,
    /// Attempts of the current round (the schedule's place; a replay starts a new round).
    pub round_attempts: u32,
    /// When the next attempt is due, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The stored version this copy was read as.
    #[serde(default)]
    pub version: u64,
}

/// The queue message that asks for a delivery's next attempt. Its `attempt` is the
/// delivery's attempt count when it was queued: a duplicate or stale message finds the count
/// moved on and does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMessage {
    /// The delivery.
    pub delivery: MessageId,
    /// Its attempt count when queued.
    pub attempt: u32,
}
