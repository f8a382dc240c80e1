//! What subscribers are told: the event types they choose from, and each event as the
//! fan-out makes it from the claim-events outbox (ids, states, amounts and links; never
//! names, member ids, birth dates, diagnoses or free text a payer wrote).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use hms_service::lifecycle::{ClaimEvent, ClaimState};
use hms_service::outbox::RemittanceEvent;
use hms_service::ports::sha256_hex;
use hms_service::tenancy::OrganizationId;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An event type a subscription may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// The payer accepted the claim into adjudication (its 277CA).
    #[serde(rename = "claim.accepted")]
    ClaimAccepted,
    /// The claim was rejected: by the payer (TA1, 999, 277CA), by our scrubber, or held by
    /// the payer's rules.
    #[serde(rename = "claim.rejected")]
    ClaimRejected,
    /// An 835 paid the claim.
    #[serde(rename = "claim.paid")]
    ClaimPaid,
    /// An 835 denied the claim.
    #[serde(rename = "claim.denied")]
    ClaimDenied,
    /// An 835 took the claim's payment back.
    #[serde(rename = "claim.payment-reversed")]
    ClaimPaymentReversed,
    /// Every attempt to reach the payer failed; an operator's turn.
    #[serde(rename = "claim.dead-lettered")]
    ClaimDeadLettered,
    /// A payment was posted.
    #[serde(rename = "remittance.received")]
    RemittanceReceived,
    /// A claim payment could not be settled alone; finance's turn.
    #[serde(rename = "remittance.exception")]
    RemittanceException,
    /// One of the organization's endpoints was disabled (gone, or failing for days).
    #[serde(rename = "webhook.endpoint-disabled")]
    EndpointDisabled,
    /// A test an administrator asked for (`POST /ach/webhooks/{id}/test`), sent to that
    /// endpoint alone whatever it subscribes to.
    #[serde(rename = "webhook.test")]
    Test,
}

impl EventType {
    /// Every type a subscription may name.
    pub const ALL: [EventType; 9] = [
        EventType::ClaimAccepted,
        EventType::ClaimRejected,
        EventType::ClaimPaid,
        EventType::ClaimDenied,
        EventType::ClaimPaymentReversed,
        EventType::ClaimDeadLettered,
        EventType::RemittanceReceived,
        EventType::RemittanceException,
        EventType::EndpointDisabled,
    ];

    /// Its name, as the body's `type` and a subscription's list have it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClaimAccepted => "claim.accepted",
            Self::ClaimRejected => "claim.rejected",
            Self::ClaimPaid => "claim.paid",
            Self::ClaimDenied => "claim.denied",
            Self::ClaimPaymentReversed => "claim.payment-reversed",
            Self::ClaimDeadLettered => "claim.dead-lettered",
            Self::RemittanceReceived => "remittance.received",
            Self::RemittanceException => "remittance.exception",
            Self::EndpointDisabled => "webhook.endpoint-disabled",
            Self::Test => "webhook.test",
        }
    }

    /// The type a name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Test])
            .find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a subscription receives: every type (`*`), or those it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSelector {
    /// `["*"]`.
    All,
    /// The types named.
    Only(BTreeSet<EventType>),
}

/// Why a list of event types was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The list is empty.
    #[error("name at least one event type, or \"*\" for all")]
    Empty,
    /// A name no type has.
    #[error("{0:?} is not an event type; the types are \"*\", {list}", list = known_types())]
    Unknown(String),
}

fn known_types() -> String {
    EventType::ALL
        .iter()
        .map(|t| format!("{:?}", t.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl EventSelector {
    /// The selector a list of names says.
    pub fn parse(names: &[String]) -> Result<Self, SelectorError> {
        if names.is_empty() {
            return Err(SelectorError::Empty);
        }
        if names.iter().any(|n| n == "*") {
            return Ok(Self::All);
        }
        names
            .iter()
            .map(|n| {
                EventType::parse(n)
                    .filter(|t| *t != EventType::Test)
                    .ok_or_else(|| SelectorError::Unknown(n.chars().take(64).collect()))
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self::Only)
    }

    /// Whether it takes `event_type`.
    pub fn takes(&self, event_type: EventType) -> bool {
        match self {
            Self::All => event_type != EventType::Test,
            Self::Only(types) => types.contains(&event_type),
        }
    }

    /// Its names.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::All => vec!["*".into()],
            Self::Only(types) => types.iter().map(|t| t.as_str().to_string()).collect(),
        }
    }
}

impl Serialize for EventSelector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for EventSelector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Self::parse(&names).map_err(serde::de::Error::custom)
    }
}

/// One event for an organization's subscribers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// Its stable identity (`evt_…`): the same event announced twice has the same id, and
    /// makes the same deliveries.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Whose it is: only this organization's subscriptions receive it.
    pub organization: OrganizationId,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// Ids, states, amounts and links.
    pub data: serde_json::Value,
}

/// Why a message of the claim-events queue could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the claim-events message is not an event this fan-out knows")]
pub struct UnreadableEvent(#[source] pub serde_json::Error);

/// A stable event id from what identifies it.
pub(crate) fn event_id(identity: &str) -> String {
    let digest = sha256_hex(identity.as_bytes());
    format!("evt_{}", digest.get(..32).unwrap_or(&digest))
}

impl WebhookEvent {
    /// The event a message of the claim-events queue announces, if subscribers are told of
    /// it: a claim accepted, rejected, paid, denied, reversed or dead-lettered, a payment
    /// posted, an exception raised. Other moves (received, sending, ...) and files no
    /// organization owns (`remittance.rejected`, for operators) are not. A remittance event
    /// carries no time of its own: it happened `now`, when it is first fanned out.
    pub fn from_announcement(
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, UnreadableEvent> {
        #[derive(Deserialize)]
        struct Typed {
            #[serde(rename = "type")]
            event_type: String,
        }
        let typed: Typed = serde_json::from_slice(body).map_err(UnreadableEvent)?;
        if typed.event_type.starts_with("claim.") {
            let event: ClaimEvent = serde_json::from_slice(body).map_err(UnreadableEvent)?;
            return Ok(Self::of_claim(&event));
        }
        if matches!(
            typed.event_type.as_str(),
            "remittance.received" | "remittance.exception"
        ) {
            let event: RemittanceEvent = serde_json::from_slice(body).map_err(UnreadableEvent)?;
            return Ok(Some(Self::of_remittance(&event, now)));
        }
        Ok(None)
    }

    /// The event a claim's move is, if subscribers are told of it.
    pub fn of_claim(event: &ClaimEvent) -> Option<Self> {
        let event_type = match (event.event_type.as_str(), event.state) {
            ("claim.paid", _) => EventType::ClaimPaid,
            ("claim.denied", _) => EventType::ClaimDenied,
            ("claim.payment-reversed", _) => EventType::ClaimPaymentReversed,
            (_, ClaimState::AcceptedByPayer) => EventType::ClaimAccepted,
            (
                _,
                ClaimState::RejectedByPayer
                | ClaimState::RejectedByScrubber
                | ClaimState::HeldByRules,
            ) => EventType::ClaimRejected,
            (_, ClaimState::DeadLettered) => EventType::ClaimDeadLettered,
            _ => return None,
        };
        let mut data = json!({
            "claimId": event.claim_id,
            "payerId": event.payer_id,
            "from": event.from,
            "state": event.state,
            "sequence": event.sequence,
            "at": event.at,
            "links": { "claim": format!("/ach/claims/{}", event.claim_id) },
        });
        if let (Some(payment), Some(fields)) = (&event.payment, data.as_object_mut()) {
            fields.insert(
                "payment".into(),
                json!({
                    "paymentId": payment.posting.payment,
                    "claimPayment": payment.posting.index,
                    "paid": payment.paid,
                    "patientResponsibility": payment.patient_responsibility,
                }),
            );
        }
        Some(Self {
            id: event_id(&format!("claim:{}:{}", event.claim_id, event.sequence)),
            event_type,
            organization: event.organization.clone(),
            timestamp: event.at,
            data,
        })
    }

    /// The event a payment posted or an exception raised is, at `now`.
    pub fn of_remittance(event: &RemittanceEvent, now: DateTime<Utc>) -> Self {
        let mut data = serde_json::to_value(event).unwrap_or_default();
        let (event_type, organization, identity, link) = match event {
            RemittanceEvent::Received {
                payment_id,
                organization,
                ..
            } => (
                EventType::RemittanceReceived,
                organization,
                format!("payment:{payment_id}"),
                json!({ "remittance": "/ach/fetchRemittance", "paymentId": payment_id }),
            ),
            RemittanceEvent::Exception {
                exception_id,
                organization,
                ..
            } => (
                EventType::RemittanceException,
                organization,
                format!("exception:{exception_id}"),
                json!({ "exceptions": "/ach/remittances/exceptions", "exceptionId": exception_id }),
            ),
        };
        if let Some(fields) = data.as_object_mut() {
            fields.remove("type");
            fields.remove("organization");
            fields.insert("links".into(), link);
        }
        Self {
            id: event_id(&identity),
            event_type,
            organization: organization.clone(),
            timestamp: now,
            data,
        }
    }

    /// The body a receiver gets: `{type, timestamp, data}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": self.event_type,
            "timestamp": self.timestamp,
            "data": self.data,
        }))
        .unwrap_or_default()
    }
}
