//! A claim's life inside HMS-ACH: the states it passes through from the moment we receive it
//! to the payer's last word, which moves are allowed, and the record the store keeps of every
//! move. The record is what `GET /ach/claims/{id}` shows and what webhooks announce; a claim is
//! never deleted, and a move that the state machine does not allow is an error, not a silent
//! overwrite.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use hms_domain::outcome::OperationOutcome;
use hms_domain::request::Format;
use rust_decimal::Decimal;

use crate::remittance::records::{ClaimBalance, PostedPayment, PostingId};

pub use crate::tenancy::OrganizationId;

/// Our id for a claim (`clm_` and a UUIDv7: unique, and sorted by the time it was made, which
/// keeps a store's writes spread and its listings in order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClaimId(String);

/// Why a claim id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a claim id (clm_ and a UUID)")]
pub struct ClaimIdError(String);

impl ClaimId {
    /// A new id.
    pub fn generate() -> Self {
        Self(format!("clm_{}", uuid::Uuid::now_v7().simple()))
    }

    /// Checks an id a caller sent (in a URL, say).
    pub fn parse(text: &str) -> Result<Self, ClaimIdError> {
        let fail = || ClaimIdError(text.chars().take(64).collect());
        let rest = text.strip_prefix("clm_").ok_or_else(fail)?;
        uuid::Uuid::try_parse(rest).map_err(|_| fail())?;
        if rest.len() != 32 || rest.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(fail());
        }
        Ok(Self(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClaimId {
    type Error = ClaimIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ClaimId> for String {
    fn from(id: ClaimId) -> Self {
        id.0
    }
}

pub use hms_domain::claims::ClaimKind;

/// Where a claim is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimState {
    /// Stored; the scrubber and the payer's rules have not finished with it. The submit
    /// function moves it on at once; the sweep resumes it should that function die.
    Received,
    /// The scrubber found errors; the claim goes no further until it is sent again, fixed.
    RejectedByScrubber,
    /// The payer's rule set found errors or failed; held with the reason.
    HeldByRules,
    /// Its 837 is written and its submission identity stored; it waits in the submissions
    /// queue for a worker (the first time, or again after the payer could not be reached).
    WaitingForPayer,
    /// A worker holds it and is handing the 837 to the payer, until the lease in `due_at`
    /// ends. The move into this state is the lock: a conditional write on the version, so a
    /// duplicate delivery or a second worker cannot send.
    Sending,
    /// Every attempt failed; the claim waits for an operator (`hms claims redrive`).
    DeadLettered,
    /// The payer has the 837; its acknowledgments are polled until they say.
    Submitted,
    /// No 999 or 277CA came within the acknowledgment schedule: an operator asks the payer.
    /// A late acknowledgment still moves it.
    NoAcknowledgment,
    /// The payer's 999 and 277CA accepted it for adjudication.
    AcceptedByPayer,
    /// The payer's TA1, 999 or 277CA rejected it.
    RejectedByPayer,
    /// An 835 paid it (in part or in full).
    Paid,
    /// An 835 denied it.
    Denied,
    /// An 835 took its payment back (CLP02 22); the payer's correction is expected to follow
    /// and move it again.
    PaymentReversed,
}

impl ClaimState {
    /// Every state, in the order a claim may pass through them.
    pub const ALL: [ClaimState; 13] = [
        ClaimState::Received,
        ClaimState::RejectedByScrubber,
        ClaimState::HeldByRules,
        ClaimState::WaitingForPayer,
        ClaimState::Sending,
        ClaimState::DeadLettered,
        ClaimState::Submitted,
        ClaimState::NoAcknowledgment,
        ClaimState::AcceptedByPayer,
        ClaimState::RejectedByPayer,
        ClaimState::Paid,
        ClaimState::Denied,
        ClaimState::PaymentReversed,
    ];

    /// The states a claim must leave by its due time: the sweep finds claims in these.
    pub const OPEN: [ClaimState; 4] = [
        ClaimState::Received,
        ClaimState::WaitingForPayer,
        ClaimState::Sending,
        ClaimState::Submitted,
    ];

    /// Whether the state machine allows `self` → `next`. A worker whose lease ended may be
    /// replaced (sending → sending), an operator may redrive a dead letter, a late
    /// acknowledgment still counts, a payment counts even when the payer's 277CA never came
    /// (its adjudication says it was accepted), a reversal takes a payment or denial back and
    /// the correction moves the claim again, and finance staff may post a payment the payer
    /// made on top of an earlier one by hand (paid → paid, denied → paid).
    pub fn may_become(self, next: ClaimState) -> bool {
        use ClaimState::*;
        matches!(
            (self, next),
            (Received, RejectedByScrubber | HeldByRules | WaitingForPayer)
                | (WaitingForPayer, Sending | DeadLettered)
                | (
                    Sending,
                    Sending | Submitted | WaitingForPayer | DeadLettered
                )
                | (DeadLettered, WaitingForPayer)
                | (
                    Submitted,
                    AcceptedByPayer | RejectedByPayer | NoAcknowledgment | Paid | Denied
                )
                | (
                    NoAcknowledgment,
                    AcceptedByPayer | RejectedByPayer | Paid | Denied
                )
                | (AcceptedByPayer, Paid | Denied)
                | (Paid, Paid | PaymentReversed)
                | (Denied, Paid | PaymentReversed)
                | (PaymentReversed, Paid | Denied)
        )
    }

    /// Whether the sweep must find the claim by its due time should the step that moves it
    /// die.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// Whether the payer never took the claim into adjudication, so that its patient control
    /// number is free for a corrected original.
    pub fn frees_patient_control_number(self) -> bool {
        matches!(
            self,
            ClaimState::RejectedByScrubber | ClaimState::HeldByRules | ClaimState::RejectedByPayer
        )
    }
}

impl fmt::Display for ClaimState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The serde name, so logs and JSON agree.
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&name)
    }
}

/// One move of a claim, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    /// The state moved to.
    pub state: ClaimState,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, in words for a person (never PHI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The interchange control number (ISA13) of the 837 this move concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange_control_number: Option<u32>,
    /// The claim payment that made this move, when a remittance made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentMove>,
}

/// The money of a move a remittance made: what announces `claim.paid`, `claim.denied` and
/// `claim.payment-reversed` carry (ids and amounts, no PHI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMove {
    /// The claim payment.
    pub posting: PostingId,
    /// CLP04 (negative for a reversal).
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// Σ PR adjustments: the patient's share.
    #[serde(with = "rust_decimal::serde::str")]
    pub patient_responsibility: Decimal,
}

/// A move the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claim {claim}: {from} cannot become {to}")]
pub struct TransitionError {
    /// The claim.
    pub claim: ClaimId,
    /// Its state.
    pub from: ClaimState,
    /// The state asked for.
    pub to: ClaimState,
}

/// Who a claim's 837 is to the payer, fixed before it is first sent and the same on every
/// resend: the same bytes (ISA13, GS06), the same CORE `PayloadID`, so that the payer (and
/// our simulator) can tell a resend from a second claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionIdentity {
    /// ISA13 (and GS06, which equals it).
    pub interchange_control_number: u32,
    /// The CORE envelope's `PayloadID`, by which the acknowledgments are retrieved.
    pub payload_id: String,
    /// Object-store key of the 837.
    pub x12_key: String,
}

/// The `Idempotency-Key` a claim was created under, kept with the claim it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyBinding {
    /// The key, scoped by the organization (`{organization}:{key}`).
    pub key: String,
    /// The sha256 of the request as read, lower-case hex: another body under the same key is
    /// a conflict.
    pub body_sha256: String,
    /// The claim the key made.
    pub claim_id: ClaimId,
}

/// Everything the store keeps of a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRecord {
    /// Our id.
    pub id: ClaimId,
    /// The organization it belongs to: only its callers see or touch it.
    pub organization: OrganizationId,
    /// 837P or 837I.
    pub kind: ClaimKind,
    /// The payer it goes to (its id on the claim).
    pub payer_id: String,
    /// Where it is.
    pub state: ClaimState,
    /// The stored version this copy was read as (1 when created); the store bumps it on every
    /// write and refuses a write made from a stale read.
    pub version: u64,
    /// When the sweep must look at it again, while it is in an open state: the end of a
    /// worker's lease, of a queued message's pickup, of intake, or the next acknowledgment
    /// poll. `None` at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Every move, oldest first (the first is `received`).
    pub history: Vec<StateChange>,
    /// The claim in our JSON, as it will be (or was) written: after the payer's rules. Shared,
    /// not copied, as its record is read and written again (a claim's JSON is most of it).
    pub claim: std::sync::Arc<serde_json::Value>,
    /// The language it came in, so that findings point into what the caller sent (JSON
    /// pointers or FHIRPath) when its intake is resumed.
    #[serde(default = "sent_as_json")]
    pub format: Format,
    /// The findings of the scrubber, the payer's rules and the payer's acknowledgments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OperationOutcome>,
    /// The 837's identity to the payer, once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<SubmissionIdentity>,
    /// Times a worker has taken it to hand it to the payer.
    #[serde(default)]
    pub submit_attempts: u32,
    /// Times its acknowledgments were asked for.
    #[serde(default)]
    pub acknowledgment_polls: u32,
    /// The `Idempotency-Key` it was created under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<IdempotencyBinding>,
    /// Its total charge (CLM02), which a payer's CLP03 is checked against.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub billed: Option<Decimal>,
    /// The payer's payments, denials and reversals of it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<PostedPayment>,
}

impl ClaimRecord {
    /// A claim just received for `organization`, due to have left `received` by `due_at`.
    pub fn received(
        id: ClaimId,
        organization: OrganizationId,
        claim: &hms_domain::claims::Claim,
        format: Format,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            organization,
            kind: claim.kind(),
            payer_id: claim.payer_id().to_string(),
            state: ClaimState::Received,
            version: 1,
            due_at: Some(due_at),
            history: vec![StateChange {
                state: ClaimState::Received,
                at,
                reason: None,
                interchange_control_number: None,
                payment: None,
            }],
            claim: std::sync::Arc::new(claim.to_json()),
            format,
            outcome: None,
            submission: None,
            submit_attempts: 0,
            acknowledgment_polls: 0,
            idempotency: None,
            billed: Some(claim.total_charge()),
            payments: vec![],
        }
    }

    /// ISA13 of its 837, once written.
    pub fn interchange_control_number(&self) -> Option<u32> {
        self.submission
            .as_ref()
            .map(|s| s.interchange_control_number)
    }

    /// When it last moved.
    pub fn moved_at(&self) -> Option<DateTime<Utc>> {
        self.history.last().map(|h| h.at)
    }

    /// Moves the claim to `to`, recording when and why, and sets when the sweep must look at
    /// it next (`due_at`, cleared when `to` is not open); refuses a move the state machine
    /// does not allow.
    pub fn transition(
        &mut self,
        to: ClaimState,
        at: DateTime<Utc>,
        due_at: Option<DateTime<Utc>>,
        reason: Option<String>,
    ) -> Result<(), TransitionError> {
        if !self.state.may_become(to) {
            return Err(TransitionError {
                claim: self.id.clone(),
                from: self.state,
                to,
            });
        }
        self.state = to;
        self.due_at = if to.is_open() { due_at } else { None };
        self.history.push(StateChange {
            state: to,
            at,
            reason,
            interchange_control_number: self.interchange_control_number(),
            payment: None,
        });
        Ok(())
    }

    /// Where its money stands, once a payer has paid, denied or reversed it.
    pub fn balance(&self) -> Option<ClaimBalance> {
        if self.payments.is_empty() {
            return None;
        }
        Some(ClaimBalance::of(
            self.billed.unwrap_or_default(),
            &self.payments,
        ))
    }
}

fn sent_as_json() -> Format {
    Format::Json
}

/// A claim's move, as the webhook fan-out announces it (ids and states only: no PHI). Made
/// from the store's change stream (the outbox): a move is announced because it was stored,
/// never instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimEvent {
    /// What happened: `claim.paid`, `claim.denied`, `claim.payment-reversed`, or
    /// `claim.state-changed` for every other move (the state says which).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The claim.
    pub claim_id: ClaimId,
    /// Its organization: the webhook fan-out delivers to its subscribers only.
    pub organization: OrganizationId,
    /// Its payer.
    pub payer_id: String,
    /// Where it was.
    pub from: ClaimState,
    /// Where it is.
    pub state: ClaimState,
    /// When it moved.
    pub at: DateTime<Utc>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Which move of the claim this is (its place in the history, 1 for the first after
    /// `received`): with the claim id, the event's stable identity, so a consumer that gets
    /// it twice can tell.
    pub sequence: usize,
    /// The money, when a remittance made the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentMove>,
}

impl ClaimEvent {
    /// The moves between two stored copies of a claim (`before` is `None` when `after` was
    /// created): what the change stream announces.
    pub fn between(before: Option<&ClaimRecord>, after: &ClaimRecord) -> Vec<ClaimEvent> {
        let seen = before.map_or(1, |b| b.history.len()).max(1);
        after
            .history
            .windows(2)
            .enumerate()
            .skip(seen - 1)
            .filter_map(|(i, pair)| match pair {
                [from, to] => Some(ClaimEvent {
                    event_type: match to.state {
                        ClaimState::Paid => "claim.paid",
                        ClaimState::Denied => "claim.denied",
                        ClaimState::PaymentReversed => "claim.payment-reversed",
                        _ => "claim.state-changed",
                    }
                    .to_string(),
                    claim_id: after.id.clone(),
                    organization: after.organization.clone(),
                    payer_id: after.payer_id.clone(),
                    from: from.state,
                    state: to.state,
                    at: to.at,
                    reason: to.reason.clone(),
                    sequence: i + 1,
                    payment: to.payment.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

/// What a caller sees of a claim: where it is, how it got there, and the findings. Never the
/// claim itself (the caller has it; its PHI stays in the claim's record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    /// The claim's id.
    pub claim_id: ClaimId,
    /// Which 837 it becomes.
    pub kind: ClaimKind,
    /// The payer it goes to.
    pub payer_id: String,
    /// Where it is.
    pub state: ClaimState,
    /// Every move, oldest first.
    pub history: Vec<StateChange>,
    /// ISA13 of the 837 that carries it, once written.
    pub interchange_control_number: Option<u32>,
    /// The scrubber's, the rules' and the payer's findings.
    pub outcome: Option<OperationOutcome>,
    /// The payer's payments, denials and reversals of it, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<PostedPayment>,
    /// Where its money stands, once a payer has paid, denied or reversed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<ClaimBalance>,
}

impl From<&ClaimRecord> for ClaimView {
    fn from(record: &ClaimRecord) -> Self {
        Self {
            claim_id: record.id.clone(),
            kind: record.kind,
            payer_id: record.payer_id.clone(),
            state: record.state,
            history: record.history.clone(),
            interchange_control_number: record.interchange_control_number(),
            outcome: record.outcome.clone(),
            payments: record.payments.clone(),
            balance: record.balance(),
        }
    }
}

/// What became of a submitted claim, as its caller is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "claim", rename_all = "camelCase")]
pub enum Submitted {
    /// Stored, and through the scrubber and the payer's rules (or still on its way through
    /// them): the claim is on its way to the payer.
    Accepted(ClaimView),
    /// Stopped before the payer, by the scrubber, the payer's rules or the 837 writer; stored
    /// with why.
    Refused(ClaimView),
}

impl Submitted {
    /// What a caller is told of `record`: refused when the scrubber or the rules stopped it.
    pub fn of(record: &ClaimRecord) -> Self {
        let view = ClaimView::from(record);
        match record.state {
            ClaimState::RejectedByScrubber | ClaimState::HeldByRules => Self::Refused(view),
            _ => Self::Accepted(view),
        }
    }

    /// The claim, whatever became of it.
    pub fn claim(&self) -> &ClaimView {
        match self {
            Self::Accepted(claim) | Self::Refused(claim) => claim,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn claim_ids_are_generated_unique_and_checked_when_sent_back() {
        let a = ClaimId::generate();
        let b = ClaimId::generate();
        assert_ne!(a, b);
        assert_eq!(ClaimId::parse(a.as_str()).unwrap(), a);
        for bad in [
            "",
            "clm_",
            "clm_123",
            "xyz_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f",
            "clm_0192F5A0C1B27C3D8E9F0A1B2C3D4E5F",
            "clm_0192f5a0-c1b2-7c3d-8e9f-0a1b2c3d4e5f",
            "clm_../../etc",
        ] {
            assert!(ClaimId::parse(bad).is_err(), "{bad:?}");
        }
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ClaimId>(&json).unwrap(), a);
        assert!(serde_json::from_str::<ClaimId>("\"clm_x\"").is_err());
    }

    #[test]
    fn the_state_machine_allows_the_paths_a_claim_takes_and_nothing_else() {
        use ClaimState::*;
        let allowed: Vec<(ClaimState, ClaimState)> = ClaimState::ALL
            .iter()
            .flat_map(|&a| ClaimState::ALL.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a.may_become(b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Received, RejectedByScrubber),
                (Received, HeldByRules),
                (Received, WaitingForPayer),
                (WaitingForPayer, Sending),
                (WaitingForPayer, DeadLettered),
                (Sending, WaitingForPayer),
                (Sending, Sending),
                (Sending, DeadLettered),
                (Sending, Submitted),
                (DeadLettered, WaitingForPayer),
                (Submitted, NoAcknowledgment),
                (Submitted, AcceptedByPayer),
                (Submitted, RejectedByPayer),
                (Submitted, Paid),
                (Submitted, Denied),
                (NoAcknowledgment, AcceptedByPayer),
                (NoAcknowledgment, RejectedByPayer),
                (NoAcknowledgment, Paid),
                (NoAcknowledgment, Denied),
                (AcceptedByPayer, Paid),
                (AcceptedByPayer, Denied),
                (Paid, Paid),
                (Paid, PaymentReversed),
                (Denied, Paid),
                (Denied, PaymentReversed),
                (PaymentReversed, Paid),
                (PaymentReversed, Denied),
            ]
        );
        // Nothing goes back to received, nothing the scrubber rejected moves again, and only
        // a worker's lock leads to the payer.
        assert!(ClaimState::ALL.iter().all(|s| !s.may_become(Received)));
        assert!(
            ClaimState::ALL
                .iter()
                .all(|s| !RejectedByScrubber.may_become(*s))
        );
        assert!(
            ClaimState::ALL
                .iter()
                .all(|s| !s.may_become(Submitted) || *s == Sending)
        );
        // Every open state can be left.
        assert!(
            ClaimState::OPEN
                .iter()
                .all(|s| ClaimState::ALL.iter().any(|t| t != s && s.may_become(*t)))
        );
    }

    fn claim() -> hms_domain::claims::Claim {
        let path = hms_test_support::fixtures().join("claims/professional-subscriber.json");
        let json = std::fs::read(path).unwrap();
        hms_domain::claims::Claim::from_json(&json, ClaimKind::Professional).unwrap()
    }

    #[test]
    fn a_transition_is_recorded_with_its_due_time_and_announced_from_the_change() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let org = OrganizationId::parse("clinic-a").unwrap();
        let mut record =
            ClaimRecord::received(ClaimId::generate(), org, &claim(), Format::Json, at, at);
        let before = record.clone();
        record
            .transition(
                ClaimState::WaitingForPayer,
                at,
                Some(at),
                Some("queued".into()),
            )
            .unwrap();
        assert_eq!(record.due_at, Some(at));
        record
            .transition(ClaimState::Sending, at, Some(at), None)
            .unwrap();
        let events = ClaimEvent::between(Some(&before), &record);
        assert_eq!(
            events
                .iter()
                .map(|e| (e.from, e.state, e.sequence))
                .collect::<Vec<_>>(),
            [
                (ClaimState::Received, ClaimState::WaitingForPayer, 1),
                (ClaimState::WaitingForPayer, ClaimState::Sending, 2)
            ]
        );
        assert!(ClaimEvent::between(Some(&record), &record).is_empty());
        let err = record
            .transition(ClaimState::Received, at, None, None)
            .unwrap_err();
        assert!(
            err.to_string().contains("sending cannot become received"),
            "{err}"
        );
        assert_eq!(record.history.len(), 3);
        record
            .transition(ClaimState::DeadLettered, at, Some(at), None)
            .unwrap();
        assert_eq!(record.due_at, None, "a state at rest is never due");
        // No PHI in an event: ids, states, amounts only.
        let event = serde_json::to_string(&ClaimEvent::between(None, &record)).unwrap();
        assert!(
            !event.contains("JOHN") && !event.contains("1912301953"),
            "{event}"
        );
    }
}
