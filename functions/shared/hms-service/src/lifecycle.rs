//! A claim's life inside HMS-ACH: the states it passes through from the moment we receive it
//! to the payer's last word, which moves are allowed, and the record the store keeps of every
//! move. The record is what `GET /ach/claims/{id}` shows and what webhooks announce; a claim is
//! never deleted, and a move that the state machine does not allow is an error, not a silent
//! overwrite.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use hms_domain::outcome::OperationOutcome;

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
    /// Stored; nothing checked yet.
    Received,
    /// The scrubber found errors; the claim goes no further until it is sent again, fixed.
    RejectedByScrubber,
    /// The payer's rule set found errors or failed; held with the reason.
    HeldByRules,
    /// The payer could not be reached; the claim waits in the submissions queue for a retry.
    WaitingForPayer,
    /// Every retry failed; the claim waits in the dead-letter queue for an operator.
    DeadLettered,
    /// The payer has the 837 and has not acknowledged it yet.
    Submitted,
    /// The payer's 999 and 277CA accepted it for adjudication.
    AcceptedByPayer,
    /// The payer's 999 or 277CA rejected it.
    RejectedByPayer,
    /// An 835 paid it (in part or in full).
    Paid,
    /// An 835 denied it.
    Denied,
}

impl ClaimState {
    /// Whether the state machine allows `self` → `next`. Remittance may correct itself (a
    /// reversal turns paid into denied and back), an operator may redrive a dead letter, and a
    /// claim waiting for the payer may wait again.
    pub fn may_become(self, next: ClaimState) -> bool {
        use ClaimState::*;
        matches!(
            (self, next),
            (
                Received,
                RejectedByScrubber | HeldByRules | WaitingForPayer | Submitted
            ) | (WaitingForPayer, WaitingForPayer | DeadLettered | Submitted)
                | (DeadLettered, WaitingForPayer)
                | (Submitted, AcceptedByPayer | RejectedByPayer)
                | (AcceptedByPayer, Paid | Denied)
                | (Paid, Denied | Paid)
                | (Denied, Paid | Denied)
        )
    }

    /// Whether nothing more will happen without a new submission or an operator.
    pub fn is_at_rest(self) -> bool {
        matches!(
            self,
            ClaimState::RejectedByScrubber
                | ClaimState::HeldByRules
                | ClaimState::RejectedByPayer
                | ClaimState::DeadLettered
                | ClaimState::Paid
                | ClaimState::Denied
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

/// Everything the store keeps of a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRecord {
    /// Our id.
    pub id: ClaimId,
    /// 837P or 837I.
    pub kind: ClaimKind,
    /// The payer it goes to (its id on the claim).
    pub payer_id: String,
    /// Where it is.
    pub state: ClaimState,
    /// The stored version this copy was read as (1 when created); the store bumps it on every
    /// write and refuses a write made from a stale read.
    pub version: u64,
    /// Every move, oldest first (the first is `received`).
    pub history: Vec<StateChange>,
    /// The claim in our JSON, as it will be (or was) written: after the payer's rules.
    pub claim: serde_json::Value,
    /// The findings of the scrubber, the payer's rules and the payer's acknowledgments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OperationOutcome>,
    /// Object-store key of the 837 we wrote for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x12_key: Option<String>,
    /// ISA13 of that 837.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interchange_control_number: Option<u32>,
    /// Times we have tried to hand it to the payer.
    #[serde(default)]
    pub submit_attempts: u32,
}

impl ClaimRecord {
    /// A claim just received.
    pub fn received(
        id: ClaimId,
        kind: ClaimKind,
        payer_id: String,
        claim: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            kind,
            payer_id,
            state: ClaimState::Received,
            version: 1,
            history: vec![StateChange {
                state: ClaimState::Received,
                at,
                reason: None,
                interchange_control_number: None,
            }],
            claim,
            outcome: None,
            x12_key: None,
            interchange_control_number: None,
            submit_attempts: 0,
        }
    }

    /// Moves the claim to `to`, recording when and why; refuses a move the state machine does
    /// not allow. Returns the event to announce once the move is stored.
    pub fn transition(
        &mut self,
        to: ClaimState,
        at: DateTime<Utc>,
        reason: Option<String>,
    ) -> Result<ClaimEvent, TransitionError> {
        if !self.state.may_become(to) {
            return Err(TransitionError {
                claim: self.id.clone(),
                from: self.state,
                to,
            });
        }
        let event = ClaimEvent {
            claim_id: self.id.clone(),
            payer_id: self.payer_id.clone(),
            from: self.state,
            state: to,
            at,
            reason: reason.clone(),
        };
        self.state = to;
        self.history.push(StateChange {
            state: to,
            at,
            reason,
            interchange_control_number: self.interchange_control_number,
        });
        Ok(event)
    }
}

/// A claim's move, as the webhook fan-out announces it (ids and states only: no PHI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimEvent {
    /// The claim.
    pub claim_id: ClaimId,
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
}

/// What an `Idempotency-Key` was first used for: the body's sha256 and, once the request is
/// answered, its answer, which a retry with the same key and body gets again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyEntry {
    /// The key, scoped by the caller (`{subject}:{key}`), so that two clients' keys never meet.
    pub key: String,
    /// The sha256 of the request body, lower-case hex.
    pub body_sha256: String,
    /// When the key was first used.
    pub at: DateTime<Utc>,
    /// The answer, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<StoredAnswer>,
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
}

impl From<&ClaimRecord> for ClaimView {
    fn from(record: &ClaimRecord) -> Self {
        Self {
            claim_id: record.id.clone(),
            kind: record.kind,
            payer_id: record.payer_id.clone(),
            state: record.state,
            history: record.history.clone(),
            interchange_control_number: record.interchange_control_number,
            outcome: record.outcome.clone(),
        }
    }
}

/// What became of a submitted claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "claim", rename_all = "camelCase")]
pub enum Submitted {
    /// Through the scrubber and the payer's rules, written and handed to the payer (or waiting
    /// for it): the claim is on its way.
    Accepted(ClaimView),
    /// Stopped before the payer, by the scrubber, the payer's rules or the 837 writer; stored
    /// with why.
    Refused(ClaimView),
}

impl Submitted {
    /// The claim, whatever became of it.
    pub fn claim(&self) -> &ClaimView {
        match self {
            Self::Accepted(claim) | Self::Refused(claim) => claim,
        }
    }
}

/// The answer an `Idempotency-Key` replays: what became of the claim when it was first sent.
pub type StoredAnswer = Submitted;

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
        let all = [
            Received,
            RejectedByScrubber,
            HeldByRules,
            WaitingForPayer,
            DeadLettered,
            Submitted,
            AcceptedByPayer,
            RejectedByPayer,
            Paid,
            Denied,
        ];
        let allowed: Vec<(ClaimState, ClaimState)> = all
            .iter()
            .flat_map(|&a| all.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| a.may_become(b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Received, RejectedByScrubber),
                (Received, HeldByRules),
                (Received, WaitingForPayer),
                (Received, Submitted),
                (WaitingForPayer, WaitingForPayer),
                (WaitingForPayer, DeadLettered),
                (WaitingForPayer, Submitted),
                (DeadLettered, WaitingForPayer),
                (Submitted, AcceptedByPayer),
                (Submitted, RejectedByPayer),
                (AcceptedByPayer, Paid),
                (AcceptedByPayer, Denied),
                (Paid, Paid),
                (Paid, Denied),
                (Denied, Paid),
                (Denied, Denied),
            ]
        );
        // Nothing goes back to received, and nothing the scrubber rejected moves again.
        assert!(all.iter().all(|s| !s.may_become(Received)));
        assert!(all.iter().all(|s| !RejectedByScrubber.may_become(*s)));
    }

    #[test]
    fn a_transition_is_recorded_versioned_and_announced_and_a_wrong_one_refused() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            ClaimKind::Professional,
            "60054".into(),
            serde_json::json!({}),
            at,
        );
        let event = record
            .transition(ClaimState::Submitted, at, Some("sent".into()))
            .unwrap();
        assert_eq!(event.from, ClaimState::Received);
        assert_eq!(event.state, ClaimState::Submitted);
        assert_eq!(record.history.len(), 2);
        let err = record
            .transition(ClaimState::Received, at, None)
            .unwrap_err();
        assert_eq!(err.to, ClaimState::Received);
        assert!(
            err.to_string().contains("submitted cannot become received"),
            "{err}"
        );
        assert_eq!(record.history.len(), 2);
        assert_eq!(record.state.to_string(), "submitted");
    }
}
