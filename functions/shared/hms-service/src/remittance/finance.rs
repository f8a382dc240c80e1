//! What finance staff do with remittance: read payments with their claim payments (as our
//! JSON, as FHIR ExplanationOfBenefits, or as the payer's own X12), work the exceptions, and
//! link a payment nobody could match to the claim it pays. Everything is scoped to the
//! caller's organization: another's payment or exception is not found.

use hms_domain::remittance::{Balance, Payment, Remittance};
use serde::{Deserialize, Serialize};

use super::records::{
    ClaimPaymentRecord, ExceptionId, ExceptionReason, PaymentId, PaymentRecord, PostingId,
    PostingResult, RemittanceException, Resolution,
};
use super::{ClaimOutcome, PaymentRun};
use crate::lifecycle::ClaimId;
use crate::ports::{PayerClaimKey, PaymentFilter, Ports, RemittanceStore, StoreError};
use crate::service::{Clearinghouse, ServiceError};
use crate::tenancy::OrganizationId;

/// The most payments a page holds.
pub const MAX_PAGE: usize = 100;

/// The most claim payments of one payment an answer holds; a payment with more is read on by
/// `paymentId` and `claimPaymentsFrom`.
pub const MAX_CLAIM_PAYMENTS: usize = 500;

/// A `fetchRemittance` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemittanceQuery {
    /// Only the payments of this claim (and of their claim payments, only this claim's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
    /// Only this payment (with `claimPaymentsFrom`, to read a large one on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    /// Only this payer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_id: Option<String>,
    /// Only the payment with this check or EFT trace number (TRN02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_number: Option<String>,
    /// Only those paid on or after this date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_from: Option<chrono::NaiveDate>,
    /// Only those paid on or before this date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_to: Option<chrono::NaiveDate>,
    /// The `next` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Payments a page (1 to 100, 20 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// The first claim payment to answer with, of a `paymentId` (0 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_payments_from: Option<usize>,
}

/// A payment with its claim payments, as `fetchRemittance` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// The payment.
    #[serde(flatten)]
    pub payment: PaymentRecord,
    /// Its claim payments (of the asked claim only, when one was), with what posting made
    /// of each.
    pub claim_payments: Vec<ClaimPaymentRecord>,
    /// Where its next claim payments begin, when it holds more than the answer
    /// (`claimPaymentsFrom` with its `paymentId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_payments_next: Option<usize>,
}

impl PaymentView {
    /// The payment as the domain's remittance, for the FHIR and X12 forms.
    pub fn to_remittance(&self) -> Remittance {
        let p = &self.payment;
        let provider_adjustments: rust_decimal::Decimal =
            p.provider_adjustments.iter().map(|a| a.amount).sum();
        Remittance {
            payment: Payment {
                handling_code: p.handling_code.clone(),
                amount: p.amount,
                credit_debit: p.credit_debit.clone(),
                method: p.method.clone(),
                date: p.paid_on,
                trace_number: p.key.trace_number.clone(),
                originator: Some(p.key.originator.clone()).filter(|o| !o.is_empty()),
            },
            payer: hms_domain::remittance::Party {
                name: p.payer_name.clone(),
                id: None,
                references: vec![hms_domain::remittance::PartyId {
                    qualifier: "2U".into(),
                    value: p.key.payer_id.clone(),
                }],
                address: None,
                contacts: vec![],
            },
            payee: p.payee.clone(),
            claims: self
                .claim_payments
                .iter()
                .map(|c| c.claim_payment.clone())
                .collect(),
            provider_adjustments: p.provider_adjustments.clone(),
            balance: Balance {
                claims_paid: p.claims_paid,
                provider_adjustments,
                expected_payment: p.claims_paid - provider_adjustments,
                balanced: p.balanced,
            },
        }
    }
}

/// A page of payments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemittancePage {
    /// The payments, newest first.
    pub payments: Vec<PaymentView>,
    /// The cursor of the next page; `None` on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A page of exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionPage {
    /// The exceptions, oldest first.
    pub exceptions: Vec<RemittanceException>,
    /// The cursor of the next page; `None` on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// How an exception is to be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resolve {
    /// Why, in the resolver's words (1 to 1000 characters; no PHI belongs here).
    pub note: String,
    /// The claim the held-back claim payment pays: it is posted to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
}

/// The longest note kept.
pub const MAX_NOTE: usize = 1000;

fn invalid(text: impl Into<String>) -> ServiceError {
    use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
    ServiceError::Invalid(OperationOutcome::new(vec![Issue {
        severity: IssueSeverity::Error,
        code: IssueType::Value,
        diagnostics: Some("remittance-request".into()),
        details: Details { text: text.into() },
        expression: vec![],
    }]))
}

impl<P: Ports> Clearinghouse<P> {
    /// `POST /ach/fetchRemittance`: `organization`'s payments that pass `query`, with their
    /// claim payments.
    pub async fn fetch_remittance(
        &self,
        organization: &OrganizationId,
        query: &RemittanceQuery,
    ) -> Result<RemittancePage, ServiceError> {
        let limit = query.limit.unwrap_or(20);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(invalid(format!("limit is 1 to {MAX_PAGE}, not {limit}")));
        }
        if query.claim_payments_from.is_some() && query.payment_id.is_none() {
            return Err(invalid(
                "claimPaymentsFrom reads one payment on: send its paymentId",
            ));
        }
        let store = self.ports.store();
        if let Some(claim_id) = &query.claim_id {
            let claim = self.claim(organization, claim_id).await?;
            let mut ids: Vec<&PaymentId> = vec![];
            for p in &claim.payments {
                if !ids.contains(&&p.posting.payment) {
                    ids.push(&p.posting.payment);
                }
            }
            let mut payments = vec![];
            for id in ids {
                let Some(payment) = store.payment(id).await? else {
                    continue;
                };
                let mut claim_payments = vec![];
                for p in claim.payments.iter().filter(|p| &p.posting.payment == id) {
                    if let Some(c) = store.claim_payment(&p.posting).await? {
                        claim_payments.push(c);
                    }
                }
                payments.push(PaymentView {
                    payment,
                    claim_payments,
                    claim_payments_next: None,
                });
            }
            return Ok(RemittancePage {
                payments,
                next: None,
            });
        }
        if let Some(id) = &query.payment_id {
            let payment = match store.payment(id).await? {
                Some(p) if p.organization.as_ref() == Some(organization) => p,
                _ => {
                    return Err(ServiceError::NoSuch {
                        what: "payment",
                        id: id.to_string(),
                    });
                }
            };
            let view = self
                .payment_view(payment, query.claim_payments_from.unwrap_or(0))
                .await?;
            return Ok(RemittancePage {
                payments: vec![view],
                next: None,
            });
        }
        let filter = PaymentFilter {
            payer_id: query.payer_id.clone(),
            trace_number: query.trace_number.clone(),
            paid_from: query.paid_from,
            paid_to: query.paid_to,
        };
        let page = store
            .payments(organization, &filter, query.cursor.as_deref(), limit)
            .await?;
        let mut payments = vec![];
        for payment in page.items {
            payments.push(self.payment_view(payment, 0).await?);
        }
        Ok(RemittancePage {
            payments,
            next: page.next,
        })
    }

    /// `payment` with its claim payments from `from`.
    async fn payment_view(
        &self,
        payment: PaymentRecord,
        from: usize,
    ) -> Result<PaymentView, ServiceError> {
        let claim_payments = self
            .ports
            .store()
            .claim_payments(&payment.id, from, MAX_CLAIM_PAYMENTS)
            .await?;
        let end = from + claim_payments.len();
        let total = payment.claim_payments.max(payment.posted_through);
        Ok(PaymentView {
            claim_payments_next: (end < total && !claim_payments.is_empty()).then_some(end),
            payment,
            claim_payments,
        })
    }

    /// `GET /ach/remittances/exceptions`: `organization`'s exceptions, open ones only unless
    /// `all`.
    pub async fn remittance_exceptions(
        &self,
        organization: &OrganizationId,
        all: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ExceptionPage, ServiceError> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(invalid(format!("limit is 1 to {MAX_PAGE}, not {limit}")));
        }
        let page = self
            .ports
            .store()
            .exceptions(Some(organization), !all, cursor, limit)
            .await?;
        Ok(ExceptionPage {
            exceptions: page.items,
            next: page.next,
        })
    }

    /// `POST /ach/remittances/exceptions/{id}/resolve`: settles an exception of
    /// `organization` with a note, by `by` (the caller's subject); with a claim, its
    /// held-back claim payment is posted to that claim first (a move in the claim's history
    /// that names the exception).
    pub async fn resolve_exception(
        &self,
        organization: &OrganizationId,
        id: &ExceptionId,
        resolve: &Resolve,
        by: Option<&str>,
    ) -> Result<RemittanceException, ServiceError> {
        let note = resolve.note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE {
            return Err(invalid(format!("a note is 1 to {MAX_NOTE} characters")));
        }
        if note.chars().any(char::is_control) {
            return Err(invalid("a note holds no control characters"));
        }
        let store = self.ports.store();
        let mut exception = match store.exception(id).await? {
            Some(e) if e.organization.as_ref() == Some(organization) => e,
            _ => {
                return Err(ServiceError::NoSuch {
                    what: "exception",
                    id: id.to_string(),
                });
            }
        };
        if !exception.is_open() {
            return Err(ServiceError::Conflict("the exception is resolved already"));
        }
        if let Some(claim_id) = &resolve.claim_id {
            self.link(organization, &exception, claim_id, note).await?;
        }
        exception.resolution = Some(Resolution {
            at: self.now(),
            by: by.map(str::to_string),
            note: note.to_string(),
            linked_claim: resolve.claim_id.clone(),
        });
        if let Some(claim_id) = &resolve.claim_id {
            exception.claim_id = Some(claim_id.clone());
        }
        match store.update_exception(&exception).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(ServiceError::Conflict(
                    "the exception changed while it was resolved; read it again",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        exception.version += 1;
        tracing::info!(exception_id = %id, linked = resolve.claim_id.is_some(), "remittance exception resolved");
        Ok(exception)
    }

    /// Posts the claim payment `exception` held back to `claim_id`, by hand.
    async fn link(
        &self,
        organization: &OrganizationId,
        exception: &RemittanceException,
        claim_id: &ClaimId,
        note: &str,
    ) -> Result<(), ServiceError> {
        let linkable = matches!(
            exception.reason,
            ExceptionReason::UnmatchedClaimPayment | ExceptionReason::PossibleDuplicatePayment
        );
        let index = match exception.claim_payment {
            Some(index) if linkable => index,
            _ => {
                return Err(invalid(format!(
                    "a {} exception holds no claim payment to link to a claim; resolve it with a note",
                    exception.reason
                )));
            }
        };
        let store = self.ports.store();
        let record = self.claim(organization, claim_id).await?;
        let payment = store
            .payment(&exception.payment_id)
            .await?
            .ok_or_else(|| ServiceError::Internal("an exception's payment vanished".into()))?;
        let posting = PostingId {
            payment: payment.id.clone(),
            index,
        };
        let held = store
            .claim_payment(&posting)
            .await?
            .ok_or_else(|| ServiceError::Internal("a held-back claim payment vanished".into()))?;
        let disposition = held.claim_payment.disposition();
        let run = PaymentRun::linking(payment, note, &exception.id);
        let mut outcome = ClaimOutcome {
            index,
            paid: held.claim_payment.paid,
            claim_id: Some(claim_id.clone()),
            disposition,
            state: None,
            exceptions: vec![],
            already_posted: false,
        };
        let posted = self
            .post_to_claim(&run, &posting, &held.claim_payment, record, &mut outcome)
            .await?;
        if let Err((reason, detail)) = posted {
            return Err(ServiceError::NotApplicable {
                claim: claim_id.clone(),
                state: outcome
                    .state
                    .unwrap_or(crate::lifecycle::ClaimState::Received),
                why: match reason {
                    ExceptionReason::ClaimNotPayable => {
                        "a payment cannot move a claim in this state"
                    }
                    ExceptionReason::ReversalWithoutPayment => "it holds no payment to reverse",
                    _ => {
                        tracing::info!(%detail, "link refused");
                        "it cannot take this payment"
                    }
                },
            });
        }
        if let Some(number) = held.claim_payment.payer_claim_control_number.as_deref() {
            store
                .bind_payer_claim(
                    &PayerClaimKey::of(organization, &exception.payer_id, number),
                    claim_id,
                )
                .await?;
        }
        store
            .put_claim_payment(&ClaimPaymentRecord {
                result: PostingResult::Posted {
                    claim_id: claim_id.clone(),
                    disposition,
                },
                ..held
            })
            .await?;
        Ok(())
    }
}
