//! The clearinghouse: the use cases the functions serve, over the ports. A claim is taken in
//! by the submit function (stored, scrubbed, through the payer's rules, written as an 837 and
//! queued: [`crate::submission`]), handed to its payer by a worker that holds it by a
//! conditional write ([`crate::delivery`]), followed to the payer's acknowledgments, and
//! driven on by a scheduled sweep whenever a step died ([`crate::sweep`]). Inquiries go to the
//! payer in real time ([`crate::inquiries`]). Every use case takes typed input, is given the
//! caller's organization, and returns typed answers and errors; the functions say them in HTTP.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use hms_domain::eligibility::{EligibilityError, EligibilityResponse, Rejection};
use hms_domain::outcome::OperationOutcome;
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{ClaimId, ClaimRecord, TransitionError};
use crate::ports::{
    ClaimStore, Clock, GatewayError, ObjectStoreError, Ports, QueueError, StoreError,
};
use crate::tenancy::{OrganizationId, Organizations, ProviderRefusal};

/// How often and how patiently a claim that cannot reach the payer is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; after the last the claim is dead-lettered.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles it.
    pub first_delay: Duration,
    /// The longest wait (SQS delays messages by at most 15 minutes).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(900),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// When the payer's acknowledgments are asked for after a claim is submitted, and when we
/// stop asking (the claim becomes `no-acknowledgment` for an operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgmentSchedule {
    /// The waits before each poll after the first (which comes right after the payer took
    /// the 837); the last repeats.
    pub waits: Vec<Duration>,
    /// How long after submission an acknowledgment may still come. CAQH CORE's batch rules
    /// give payers until the third business day for a 999; 72 hours covers that and no more.
    pub give_up_after: Duration,
}

impl Default for AcknowledgmentSchedule {
    fn default() -> Self {
        Self {
            waits: [60, 300, 900, 3600].map(Duration::from_secs).to_vec(),
            give_up_after: Duration::from_secs(72 * 3600),
        }
    }
}

impl AcknowledgmentSchedule {
    /// The wait after poll `polls` (1-based) came back without a final answer.
    pub fn wait_after(&self, polls: u32) -> Duration {
        let i = usize::try_from(polls.saturating_sub(1)).unwrap_or(usize::MAX);
        self.waits
            .get(i)
            .or(self.waits.last())
            .copied()
            .unwrap_or(Duration::from_secs(3600))
    }
}

/// Every deadline a claim's steps keep, sized to the functions' timeouts (`template.yaml`
/// says them; a test holds the two together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Retries of a payer that cannot be reached.
    pub retry: RetryPolicy,
    /// Acknowledgment polling.
    pub acknowledgments: AcknowledgmentSchedule,
    /// How long a claim may stay `received` before the sweep resumes its intake: longer than
    /// the submit function's timeout.
    pub intake_grace: Duration,
    /// How long a worker holds a claim in `sending`: longer than the worker's timeout, so a
    /// live worker is never replaced, and a dead one is after this.
    pub send_lease: Duration,
    /// How long after its message is due a `waiting-for-payer` claim may wait for a worker
    /// before the sweep queues it again (a message lost, or dead-lettered by SQS).
    pub pickup_grace: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            acknowledgments: AcknowledgmentSchedule::default(),
            intake_grace: Duration::from_secs(120),
            send_lease: Duration::from_secs(180),
            pickup_grace: Duration::from_secs(900),
        }
    }
}

/// `at` + `by`, saturating.
pub(crate) fn after(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(by)
        .ok()
        .and_then(|by| at.checked_add_signed(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Why a use case failed. Typed, with its cause; the Lambda glue says it in HTTP.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// The request cannot be carried out as asked (an inquiry that cannot be written as X12);
    /// the outcome says why.
    #[error("the request is not valid")]
    Invalid(OperationOutcome),
    /// No claim with that id for the caller's organization (another's is not found either).
    #[error("no claim {0}")]
    NotFound(ClaimId),
    /// No payment or exception with that id for the caller's organization.
    #[error("no {what} {id}")]
    NoSuch {
        /// What was looked for (`payment`, `exception`).
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request names a provider the caller's organization does not own.
    #[error(transparent)]
    NotYourProvider(#[from] ProviderRefusal),
    /// The `Idempotency-Key` was used for another request body.
    #[error("{0}")]
    Conflict(&'static str),
    /// An original claim whose patient control number the organization already sent to the
    /// payer: a corrected (7) or void (8) claim refers to the first one instead.
    #[error(
        "claim {first} already carries this patient control number to this payer; send a replacement (frequency 7) or void (8) of it instead"
    )]
    Duplicate {
        /// The claim that has it.
        first: ClaimId,
    },
    /// The operation does not apply to the claim in its state (a redrive of a claim that is
    /// not dead-lettered).
    #[error("claim {claim} is {state}: {why}")]
    NotApplicable {
        /// The claim.
        claim: ClaimId,
        /// Its state.
        state: crate::lifecycle::ClaimState,
        /// What would apply.
        why: &'static str,
    },
    /// The payer rejected the eligibility inquiry (AAA).
    #[error("the payer rejected the inquiry")]
    Rejected {
        /// The rejections, with their meanings.
        rejections: Vec<Rejection>,
        /// The whole answer.
        responses: Vec<EligibilityResponse>,
    },
    /// The payer did not answer in time.
    #[error(transparent)]
    PayerTimeout(GatewayError),
    /// The payer's endpoint failed or answered nonsense.
    #[error(transparent)]
    PayerFailed(GatewayError),
    /// The payer's X12 could not be read.
    #[error("the payer's answer could not be read")]
    PayerAnswerUnreadable(#[from] UnreadableAnswer),
    /// Our own storage failed; the request may be retried.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// Our object store failed; the request may be retried.
    #[error(transparent)]
    Objects(#[from] ObjectStoreError),
    /// Our queue failed; the request may be retried.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A claim was asked to make a move its state does not allow: a defect, reported, never
    /// hidden.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The built-in implementation guides could not be loaded: a defect of the build.
    #[error("the built-in implementation guides are defective")]
    Guides(#[source] &'static hms_x12::spec::SpecError),
    /// A stored claim could not be read back: a defect, reported, never hidden.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Whether the same request may succeed later (our storage or queue was down, or another
    /// process held the claim), as opposed to failing the same way every time.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Storage(_)
                | Self::Objects(_)
                | Self::Queue(_)
                | Self::Internal(_)
                | Self::Transition(_)
                | Self::Guides(_)
        )
    }
}

/// Why a payer's answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnreadableAnswer {
    /// A 271 that is not one.
    #[error(transparent)]
    Eligibility(#[from] EligibilityError),
    /// A 277 that is not one.
    #[error(transparent)]
    Status(#[from] hms_domain::claim_status::StatusError),
}

/// A use case's answer, and whether it answers an earlier request with the same
/// `Idempotency-Key` (read from the claim the key is bound to).
#[derive(Debug, Clone, PartialEq)]
pub struct Replayable<T> {
    /// The answer.
    pub answer: T,
    /// Whether it was replayed.
    pub replayed: bool,
}

/// The message the submissions queue carries: a claim for a worker to hand to its payer.
/// The claim's record says everything else, so a duplicate or stale message is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionMessage {
    /// The claim.
    pub claim_id: ClaimId,
}

/// The use cases over one bundle of ports, with the payer connections, the organizations'
/// provider identities and the deadlines.
#[derive(Debug)]
pub struct Clearinghouse<P> {
    /// Where it reaches the world.
    pub ports: P,
    /// Payer connections.
    pub connections: Connections,
    /// Which providers each organization owns.
    pub organizations: Organizations,
    /// Deadlines and retries.
    pub timing: Timing,
}

impl<P: Ports> Clearinghouse<P> {
    /// Now, by the clock port: the only time the use cases know.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock().now()
    }

    /// `GET /ach/claims/{id}`: the claim, when it is `organization`'s (another's is not found,
    /// so ids cannot be probed).
    pub async fn claim(
        &self,
        organization: &OrganizationId,
        id: &ClaimId,
    ) -> Result<ClaimRecord, ServiceError> {
        match self.ports.store().get(id).await? {
            Some(record) if &record.organization == organization => Ok(record),
            _ => Err(ServiceError::NotFound(id.clone())),
        }
    }

    /// Writes `record` over the stored copy it was read as, and moves its version on.
    pub(crate) async fn save(&self, record: &mut ClaimRecord) -> Result<(), ServiceError> {
        self.ports.store().update(record).await?;
        record.version += 1;
        Ok(())
    }

    /// The envelope of the next interchange to `partner`.
    pub(crate) async fn envelope(
        &self,
        partner: &TradingPartner,
    ) -> Result<Envelope, ServiceError> {
        let control = self
            .ports
            .store()
            .next_control_number(&Connections::sequence(partner))
            .await?;
        Ok(Envelope::new(control, self.now().naive_utc()))
    }
}

/// The built-in implementation guides.
pub(crate) fn catalog() -> Result<&'static hms_x12::spec::Catalog, ServiceError> {
    hms_x12::spec::Catalog::embedded().map_err(ServiceError::Guides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_acknowledgment_polls_repeat_their_last_wait() {
        let retry = RetryPolicy::default();
        assert_eq!(retry.delay_after(1), Duration::from_secs(30));
        assert_eq!(retry.delay_after(2), Duration::from_secs(60));
        assert_eq!(retry.delay_after(40), Duration::from_secs(900));
        let acks = AcknowledgmentSchedule::default();
        assert_eq!(acks.wait_after(1), Duration::from_secs(60));
        assert_eq!(acks.wait_after(4), Duration::from_secs(3600));
        assert_eq!(acks.wait_after(99), Duration::from_secs(3600));
        assert_eq!(
            after(DateTime::<Utc>::MAX_UTC, Duration::from_secs(1)),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
