//! Claim events leave through an outbox that cannot lose them: the claim store's change
//! stream (DynamoDB Streams on the claims table) carries every stored write, and this use
//! case turns each into the moves it made and queues them for the webhook fan-out. A move is
//! announced because it was stored; a process that dies between the write and the
//! announcement loses nothing, since the stream delivers the change again until it is
//! announced. A change may be announced twice: each event's claim id and sequence number
//! identify it.

use std::time::Duration;

use crate::lifecycle::{ClaimEvent, ClaimRecord};
use crate::ports::{Ports, Queue, Topic};
use crate::service::{Clearinghouse, ServiceError};

impl<P: Ports> Clearinghouse<P> {
    /// Queues the events of stored changes (`before` is `None` for a claim just created), in
    /// order; how many were queued.
    pub async fn announce(
        &self,
        changes: &[(Option<ClaimRecord>, ClaimRecord)],
    ) -> Result<usize, ServiceError> {
        let mut announced = 0;
        for (before, after) in changes {
            for event in ClaimEvent::between(before.as_ref(), after) {
                let body = serde_json::to_vec(&event)
                    .map_err(|e| ServiceError::Internal(format!("a claim event: {e}")))?;
                self.ports
                    .queue()
                    .send(Topic::ClaimEvents, body, Duration::ZERO)
                    .await?;
                announced += 1;
            }
        }
        Ok(announced)
    }
}

/// A remittance event, as the webhook fan-out announces it (ids, reasons and amounts; no
/// PHI). Made from the store's change stream like claim events, so that a payment posted or
/// an exception raised is announced because it was stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type")]
pub enum RemittanceEvent {
    /// A payment's every claim payment is posted (or held back by an exception).
    #[serde(rename = "remittance.received", rename_all = "camelCase")]
    Received {
        /// The payment.
        payment_id: crate::remittance::records::PaymentId,
        /// Its organization.
        organization: crate::tenancy::OrganizationId,
        /// The payer.
        payer_id: String,
        /// BPR02.
        #[serde(with = "rust_decimal::serde::str")]
        amount: rust_decimal::Decimal,
        /// The check or EFT date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        paid_on: Option<chrono::NaiveDate>,
        /// Claim payments it holds.
        claim_payments: usize,
        /// Whether it balances.
        balanced: bool,
    },
    /// An exception was raised for finance staff.
    #[serde(rename = "remittance.exception", rename_all = "camelCase")]
    Exception {
        /// The exception.
        exception_id: crate::remittance::records::ExceptionId,
        /// Its organization.
        organization: crate::tenancy::OrganizationId,
        /// Why.
        reason: crate::remittance::records::ExceptionReason,
        /// The payment.
        payment_id: crate::remittance::records::PaymentId,
        /// The claim, when one was matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim_id: Option<crate::lifecycle::ClaimId>,
        /// CLP04 of the claim payment, when it is about one.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "rust_decimal::serde::str_option"
        )]
        paid: Option<rust_decimal::Decimal>,
    },
}

impl RemittanceEvent {
    /// The event of a payment's stored change: `remittance.received` when it became posted.
    /// A payment of no organization is announced to nobody (its exception says so to
    /// operators).
    pub fn of_payment(
        before: Option<&crate::remittance::records::PaymentRecord>,
        after: &crate::remittance::records::PaymentRecord,
    ) -> Option<Self> {
        use crate::remittance::records::PostingStatus;
        let newly_posted = after.status == PostingStatus::Posted
            && before.is_none_or(|b| b.status != PostingStatus::Posted);
        let organization = after.organization.clone()?;
        newly_posted.then(|| Self::Received {
            payment_id: after.id.clone(),
            organization,
            payer_id: after.key.payer_id.clone(),
            amount: after.amount,
            paid_on: after.paid_on,
            claim_payments: after.claim_payments,
            balanced: after.balanced,
        })
    }

    /// The event of an exception's stored change: `remittance.exception` when it was raised.
    pub fn of_exception(
        before: Option<&crate::remittance::records::RemittanceException>,
        after: &crate::remittance::records::RemittanceException,
    ) -> Option<Self> {
        if before.is_some() {
            return None;
        }
        Some(Self::Exception {
            exception_id: after.id.clone(),
            organization: after.organization.clone()?,
            reason: after.reason,
            payment_id: after.payment_id.clone(),
            claim_id: after.claim_id.clone(),
            paid: after.paid,
        })
    }
}

impl<P: Ports> Clearinghouse<P> {
    /// Queues remittance events for the webhook fan-out, in order; how many were queued.
    pub async fn announce_remittance(
        &self,
        events: &[RemittanceEvent],
    ) -> Result<usize, ServiceError> {
        for event in events {
            let body = serde_json::to_vec(event)
                .map_err(|e| ServiceError::Internal(format!("a remittance event: {e}")))?;
            self.ports
                .queue()
                .send(Topic::ClaimEvents, body, Duration::ZERO)
                .await?;
        }
        Ok(events.len())
    }
}
