//! Getting paid: each 835 transaction set is a payment, posted to the claims it pays exactly
//! once, reconciled by the TR3's balancing rules, with what cannot be settled alone raised
//! as an exception for finance staff.
//!
//! Posting is a run over a payment's claim payments in file order ([`PaymentRun`]), so that
//! a reader can stream a file of any size through it. Exactly once rests on identities the
//! payer gave: the payment's (payer, TRN02, TRN03) is created conditionally, so a second
//! delivery is seen and recorded as a duplicate; each claim payment's (payment, place) is
//! written onto its claim in the same conditional write that moves the claim, so a run that
//! died and runs again passes over what it posted; exceptions' ids are derived the same way.
//! A checkpoint on the payment says how far a run surely came, so a resumed run of a large
//! file starts near where the last one died.

pub mod finance;
pub mod ingest;
pub mod records;

use chrono::{DateTime, Utc};
use hms_domain::remittance::balance::{
    Disposition, Imbalance, claim_imbalances, payment_imbalance,
};
use hms_domain::remittance::{ClaimPayment, RemitError, RemitEvent, Remittance, Remittances};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lifecycle::{ClaimId, ClaimRecord, ClaimState, PaymentMove, StateChange};
use crate::ports::{
    ClaimStore, ControlNumberHold, PayerClaimKey, Ports, RemittanceStore, StoreError, sha256_hex,
};
use crate::service::{Clearinghouse, ServiceError};
use crate::tenancy::OrganizationId;
use records::{
    ClaimPaymentRecord, Duplicate, ExceptionId, ExceptionReason, MAX_DUPLICATES_KEPT, PaymentId,
    PaymentKey, PaymentRecord, PostedPayment, PostingId, PostingResult, PostingStatus,
    RemittanceException, Source,
};

/// How many claim payments a run posts between checkpoints: a resumed run redoes at most
/// this many lookups (never a posting: each claim says what it took).
pub const CHECKPOINT_EVERY: usize = 100;

/// How many payments a claim keeps; past it a payment is an exception (a claim paid this
/// many times is one a person must look at, and the record must stay within the store's
/// item size).
pub const MAX_PAYMENTS_PER_CLAIM: usize = 50;

/// How many times a claim payment is tried against a claim another process keeps changing.
const CONFLICT_RETRIES: usize = 5;

/// Whether a run writes, or only says what it would write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Post.
    Post,
    /// Match and reconcile, write nothing (`hms remit post --dry-run`).
    DryRun,
}

/// How a payment's run began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// A payment never seen.
    New,
    /// A payment a run began and did not finish: this run goes on from its checkpoint.
    Resumed,
    /// A payment already posted: recorded as a duplicate delivery, nothing posted.
    Duplicate,
}

/// What a run did, by counts and ids: what the ingest function logs and `hms remit post`
/// prints. No patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReport {
    /// The payment.
    pub payment_id: PaymentId,
    /// Its identity.
    pub key: PaymentKey,
    /// The payee's organization, when one owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationId>,
    /// How the run began.
    pub start: Start,
    /// BPR02.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Whether BPR02 = Σ CLP04 − Σ PLB.
    pub balanced: bool,
    /// Claim payments in the payment.
    pub claim_payments: usize,
    /// Posted as paid.
    pub paid: usize,
    /// Posted as denied.
    pub denied: usize,
    /// Posted as reversals.
    pub reversed: usize,
    /// Posted, moving no money (forwarded, pricing only).
    pub informational: usize,
    /// Found posted by an earlier run and passed over.
    pub already_posted: usize,
    /// Held back by an exception.
    pub held_back: usize,
    /// The exceptions raised, each once.
    pub exceptions: Vec<ExceptionId>,
    /// What posting each claim payment did, in file order (dry runs keep it; a real run
    /// keeps it only for small payments, its records hold the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimOutcome>,
}

/// What posting one claim payment did (or would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimOutcome {
    /// Its place in the payment.
    pub index: usize,
    /// CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// The claim it matched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
    /// What it does to the claim.
    pub disposition: Disposition,
    /// The claim's state after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ClaimState>,
    /// The exceptions it raised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<ExceptionReason>,
    /// Whether an earlier run had posted it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already_posted: bool,
}

/// The most claim outcomes a real run keeps in its report.
const REPORTED_CLAIMS: usize = 1000;

/// One payment being posted: begun from the 835's header, fed its claim payments in file
/// order, finished with its trailer.
#[derive(Debug)]
pub struct PaymentRun {
    record: PaymentRecord,
    mode: Mode,
    report: PaymentReport,
    /// The next claim payment's place.
    next: usize,
    /// Σ CLP04 so far.
    claims_paid: Decimal,
    /// Claim payments since the last checkpoint.
    since_checkpoint: usize,
    /// Why a person posts this claim payment by hand (resolving an exception), when one
    /// does: the claim may then take it over an earlier payment.
    by_hand: Option<String>,
}

impl PaymentReport {
    /// The report of a run of `record` begun as `start`, before any claim payment.
    fn starting(record: &PaymentRecord, start: Start) -> Self {
        Self {
            payment_id: record.id.clone(),
            key: record.key.clone(),
            organization: record.organization.clone(),
            start,
            amount: record.amount,
            balanced: record.balanced,
            claim_payments: record.claim_payments,
            paid: 0,
            denied: 0,
            reversed: 0,
            informational: 0,
            already_posted: 0,
            held_back: 0,
            exceptions: vec![],
            claims: vec![],
        }
    }
}

impl PaymentRun {
    /// A run that posts one held-back claim payment of `payment` by hand, resolving
    /// `exception` with `note`.
    fn linking(payment: PaymentRecord, note: &str, exception: &ExceptionId) -> Self {
        let report = PaymentReport::starting(&payment, Start::Resumed);
        Self {
            record: payment,
            mode: Mode::Post,
            report,
            next: 0,
            claims_paid: Decimal::ZERO,
            since_checkpoint: 0,
            by_hand: Some(format!(
                "linked by hand, resolving exception {exception}: {note}"
            )),
        }
    }

    /// Whether the run posts nothing (the payment is a duplicate delivery).
    pub fn is_duplicate(&self) -> bool {
        self.report.start == Start::Duplicate
    }

    /// The payment's id.
    pub fn payment_id(&self) -> &PaymentId {
        &self.record.id
    }

    /// Notes where the payment's transaction set ends in the file `key`: kept with the payment
    /// when this run read it first (a resumed payment keeps the file it came in).
    fn transaction_ends(&mut self, key: &str, range: (usize, usize)) {
        if self.record.source.key == key && self.record.source.transaction.is_none() {
            self.record.source.transaction = Some(range);
        }
    }
}

/// A claim's money as the claims table keeps it, for a lookup that does not read it twice.
struct Matched {
    record: ClaimRecord,
}

impl<P: Ports> Clearinghouse<P> {
    /// The payer a remittance is from, as our directory knows it: its REF*2U payer id, its
    /// N1 identifier, or its TRN03, the first the directory has, else the first sent.
    pub fn remitting_payer(&self, remittance: &Remittance) -> String {
        let payer = &remittance.payer;
        let candidates: Vec<&str> = [
            payer.identifier("2U"),
            payer.id.as_ref().map(|i| i.value.as_str()),
            remittance.payment.originator.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
        candidates
            .iter()
            .find_map(|c| self.connections.payer(c).map(|p| p.id.clone()))
            .or_else(|| candidates.first().map(|c| c.to_string()))
            .unwrap_or_default()
    }

    /// The organization a remittance pays, by its payee's NPI or tax id.
    pub fn remitted_organization(&self, remittance: &Remittance) -> Option<OrganizationId> {
        let payee = &remittance.payee;
        self.organizations.payee(
            payee.identifier("XX"),
            payee.identifier("FI").or(payee.identifier("TJ")),
        )
    }

    /// Begins posting the payment whose header (BPR, TRN, payer, payee) `remittance` holds,
    /// read from `source`. Its claim payments come after, through [`Self::post_claim`]. A
    /// payment seen before is resumed when its run never finished, and recorded as a
    /// duplicate when it did.
    pub async fn begin_payment(
        &self,
        remittance: &Remittance,
        source: Source,
        mode: Mode,
    ) -> Result<PaymentRun, ServiceError> {
        let key = PaymentKey {
            payer_id: self.remitting_payer(remittance),
            trace_number: remittance.payment.trace_number.clone(),
            originator: remittance.payment.originator.clone().unwrap_or_default(),
        };
        let organization = self.remitted_organization(remittance);
        let now = self.now();
        let fresh = PaymentRecord::new(
            key.clone(),
            organization.clone(),
            remittance,
            0,
            source,
            now,
        );
        let store = self.ports.store();
        let (record, start) = match mode {
            Mode::DryRun => match store.payment(&fresh.id).await? {
                Some(existing) if existing.status == PostingStatus::Posted => {
                    (existing, Start::Duplicate)
                }
                Some(existing) => (existing, Start::Resumed),
                None => (fresh, Start::New),
            },
            Mode::Post => match store.begin_payment(&fresh).await? {
                None => (fresh, Start::New),
                Some(existing) => {
                    let duplicate = existing.status == PostingStatus::Posted
                        || existing.source.key != fresh.source.key
                        || existing.source.set != fresh.source.set;
                    let existing = if duplicate {
                        self.record_duplicate(existing, &fresh.source, now).await?
                    } else {
                        existing
                    };
                    if existing.status == PostingStatus::Posted {
                        (existing, Start::Duplicate)
                    } else {
                        // Begun and never finished (by this file, or another holding the
                        // same payment): this run finishes it, and says so when it stores it.
                        let mut existing = existing;
                        existing.resumed += 1;
                        (existing, Start::Resumed)
                    }
                }
            },
        };
        let report = PaymentReport::starting(&record, start);
        tracing::info!(
            payment_id = %record.id,
            organization = record.organization.as_ref().map(|o| o.as_str()),
            start = ?start,
            "remittance payment begun"
        );
        Ok(PaymentRun {
            record,
            mode,
            report,
            next: 0,
            claims_paid: Decimal::ZERO,
            since_checkpoint: 0,
            by_hand: None,
        })
    }

    /// Notes another delivery of `record` from `source`, keeping the last few.
    async fn record_duplicate(
        &self,
        mut record: PaymentRecord,
        source: &Source,
        at: DateTime<Utc>,
    ) -> Result<PaymentRecord, ServiceError> {
        for _ in 0..CONFLICT_RETRIES {
            record.duplicates.push(Duplicate {
                source: source.clone(),
                at,
            });
            let overflow = record.duplicates.len().saturating_sub(MAX_DUPLICATES_KEPT);
            record.duplicates.drain(..overflow);
            record.duplicate_count += 1;
            match self.ports.store().update_payment(&record).await {
                Ok(()) => {
                    record.version += 1;
                    return Ok(record);
                }
                Err(StoreError::Conflict { .. }) => {
                    record = self
                        .ports
                        .store()
                        .payment(&record.id)
                        .await?
                        .ok_or_else(|| ServiceError::Internal("a payment vanished".into()))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict {
            what: format!("payment {} kept changing", record.id),
        }
        .into())
    }

    /// Posts the next claim payment of `run`, in file order.
    pub async fn post_claim(
        &self,
        run: &mut PaymentRun,
        payment: ClaimPayment,
    ) -> Result<(), ServiceError> {
        let index = run.next;
        run.next += 1;
        run.claims_paid += payment.paid;
        if run.is_duplicate() {
            return Ok(());
        }
        let posting = PostingId {
            payment: run.record.id.clone(),
            index,
        };
        let outcome = self.post_one(run, &posting, payment).await?;
        let r = &mut run.report;
        if outcome.already_posted {
            r.already_posted += 1;
        } else if outcome.state.is_none() || outcome.claim_id.is_none() {
            r.held_back += 1;
        } else {
            match outcome.disposition {
                Disposition::Paid => r.paid += 1,
                Disposition::Denied => r.denied += 1,
                Disposition::Reversal => r.reversed += 1,
                Disposition::Informational => r.informational += 1,
            }
        }
        if run.mode == Mode::DryRun || r.claims.len() < REPORTED_CLAIMS {
            r.claims.push(outcome);
        }
        run.since_checkpoint += 1;
        if run.mode == Mode::Post && run.since_checkpoint >= CHECKPOINT_EVERY {
            self.checkpoint(run, false).await?;
        }
        Ok(())
    }

    /// Finishes `run`: the payment's trailer (its PLB adjustments and totals in
    /// `remittance`) is stored, its own balancing rule checked, and it is marked posted.
    pub async fn finish_payment(
        &self,
        mut run: PaymentRun,
        remittance: &Remittance,
    ) -> Result<PaymentReport, ServiceError> {
        run.report.claim_payments = run.next;
        if run.is_duplicate() {
            return Ok(run.report);
        }
        run.record.provider_adjustments = remittance.provider_adjustments.clone();
        run.record.claims_paid = run.claims_paid;
        let plb: Decimal = remittance
            .provider_adjustments
            .iter()
            .map(|p| p.amount)
            .sum();
        run.record.balanced = run.claims_paid - plb == run.record.amount;
        run.report.balanced = run.record.balanced;
        if let Some(imbalance) = payment_imbalance(remittance) {
            let id = self
                .raise(
                    &run,
                    None,
                    None,
                    ExceptionReason::OutOfBalance,
                    Some(run.record.amount),
                    Some(run.claims_paid),
                    imbalance.describe(),
                    vec![imbalance],
                )
                .await?;
            push_once(&mut run.report.exceptions, id);
        }
        if run.record.organization.is_none() {
            let payee = &run.record.payee;
            let detail = format!(
                "no organization owns the payee (NPI {}, tax id {})",
                payee.identifier("XX").unwrap_or("none"),
                payee
                    .identifier("FI")
                    .or(payee.identifier("TJ"))
                    .unwrap_or("none")
            );
            let id = self
                .raise(
                    &run,
                    None,
                    None,
                    ExceptionReason::UnknownPayee,
                    Some(run.record.amount),
                    None,
                    detail,
                    vec![],
                )
                .await?;
            push_once(&mut run.report.exceptions, id);
        }
        if run.mode == Mode::Post {
            self.checkpoint(&mut run, true).await?;
        }
        tracing::info!(
            payment_id = %run.record.id,
            claim_payments = run.report.claim_payments,
            paid = run.report.paid,
            denied = run.report.denied,
            reversed = run.report.reversed,
            held_back = run.report.held_back,
            exceptions = run.report.exceptions.len(),
            balanced = run.report.balanced,
            "remittance payment posted"
        );
        Ok(run.report)
    }

    /// Stores how far `run` surely came (and, when `done`, that it is posted). A payment
    /// another run is posting at once moves on too: both post the same claim payments, each
    /// passed over by the claim that took it, and the checkpoint keeps the furthest.
    async fn checkpoint(&self, run: &mut PaymentRun, done: bool) -> Result<(), ServiceError> {
        run.since_checkpoint = 0;
        let mut record = run.record.clone();
        for _ in 0..CONFLICT_RETRIES {
            record.posted_through = record.posted_through.max(run.next);
            if done {
                record.status = PostingStatus::Posted;
                record.claim_payments = run.next;
                record.posted_at = Some(self.now());
                record.provider_adjustments = run.record.provider_adjustments.clone();
                record.claims_paid = run.record.claims_paid;
                record.balanced = run.record.balanced;
                if record.source.key == run.record.source.key {
                    record.source.transaction = run.record.source.transaction;
                }
            }
            match self.ports.store().update_payment(&record).await {
                Ok(()) => {
                    record.version += 1;
                    run.record = record;
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => {
                    let stored = self
                        .ports
                        .store()
                        .payment(&record.id)
                        .await?
                        .ok_or_else(|| ServiceError::Internal("a payment vanished".into()))?;
                    if stored.status == PostingStatus::Posted {
                        run.record = stored;
                        return Ok(());
                    }
                    record = stored;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict {
            what: format!("payment {} kept changing", record.id),
        }
        .into())
    }

    /// Raises (once) the exception `reason` on claim payment `index` of `run`'s payment (on
    /// the payment when `None`); its id.
    #[allow(clippy::too_many_arguments)]
    async fn raise(
        &self,
        run: &PaymentRun,
        index: Option<usize>,
        claim_id: Option<ClaimId>,
        reason: ExceptionReason,
        charge: Option<Decimal>,
        paid: Option<Decimal>,
        detail: String,
        imbalances: Vec<Imbalance>,
    ) -> Result<ExceptionId, ServiceError> {
        let id = ExceptionId::of(&run.record.id, index, reason);
        if run.mode == Mode::Post {
            let exception = RemittanceException {
                id: id.clone(),
                version: 1,
                organization: run.record.organization.clone(),
                reason,
                payment_id: run.record.id.clone(),
                payer_id: run.record.key.payer_id.clone(),
                trace_number: run.record.key.trace_number.clone(),
                claim_payment: index,
                claim_id,
                charge,
                paid,
                detail,
                imbalances,
                raised_at: self.now(),
                resolution: None,
            };
            if self.ports.store().raise(&exception).await? {
                tracing::warn!(
                    exception_id = %id,
                    payment_id = %run.record.id,
                    reason = %reason,
                    "remittance exception raised"
                );
            }
        }
        Ok(id)
    }

    /// The claim `payment` is for: by the payer's claim number when an earlier payment bound
    /// it, else by the patient control number the claim was sent with.
    async fn match_claim(
        &self,
        organization: &OrganizationId,
        payer_id: &str,
        payment: &ClaimPayment,
    ) -> Result<Option<Matched>, ServiceError> {
        let store = self.ports.store();
        let mut found = None;
        if let Some(number) = payment.payer_claim_control_number.as_deref() {
            found = store
                .payer_claim(&PayerClaimKey::of(organization, payer_id, number))
                .await?;
        }
        if found.is_none() {
            let hold = ControlNumberHold {
                organization: organization.clone(),
                payer_id: payer_id.to_string(),
                digest: sha256_hex(payment.patient_control_number.as_bytes()),
            };
            found = store.holder(&hold).await?;
        }
        let Some(id) = found else { return Ok(None) };
        Ok(store
            .get(&id)
            .await?
            .filter(|r| &r.organization == organization)
            .map(|record| Matched { record }))
    }

    /// Posts one claim payment: matched, checked, written onto its claim with the move it
    /// makes (or held back by an exception), and stored with what became of it.
    async fn post_one(
        &self,
        run: &PaymentRun,
        posting: &PostingId,
        payment: ClaimPayment,
    ) -> Result<ClaimOutcome, ServiceError> {
        let index = posting.index;
        let disposition = payment.disposition();
        let mut outcome = ClaimOutcome {
            index,
            paid: payment.paid,
            claim_id: None,
            disposition,
            state: None,
            exceptions: vec![],
            already_posted: false,
        };
        // The balancing rules are checked whatever else happens: an unbalanced claim payment
        // is still the payer's word, and is posted with the exception beside it.
        let imbalances = claim_imbalances(index, &payment);
        let Some(organization) = run.record.organization.clone() else {
            // The payment's unknown-payee exception says it; the claim payment is kept.
            self.keep(run, posting, payment, None, ExceptionReason::UnknownPayee)
                .await?;
            outcome.exceptions.push(ExceptionReason::UnknownPayee);
            return Ok(outcome);
        };
        let payer_id = run.record.key.payer_id.clone();
        let Some(Matched { record }) = self.match_claim(&organization, &payer_id, &payment).await?
        else {
            let detail = format!(
                "claim payment {} (paid {}) matches no claim of {organization} sent to payer {payer_id}",
                index + 1,
                payment.paid
            );
            let id = self
                .raise(
                    run,
                    Some(index),
                    None,
                    ExceptionReason::UnmatchedClaimPayment,
                    Some(payment.charge),
                    Some(payment.paid),
                    detail,
                    vec![],
                )
                .await?;
            self.keep_as(
                run,
                posting,
                payment,
                id,
                ExceptionReason::UnmatchedClaimPayment,
            )
            .await?;
            outcome
                .exceptions
                .push(ExceptionReason::UnmatchedClaimPayment);
            return Ok(outcome);
        };
        outcome.claim_id = Some(record.id.clone());
        if !imbalances.is_empty() {
            let detail = imbalances
                .iter()
                .map(Imbalance::describe)
                .collect::<Vec<_>>()
                .join("; ");
            self.raise(
                run,
                Some(index),
                Some(record.id.clone()),
                ExceptionReason::OutOfBalance,
                Some(payment.charge),
                Some(payment.paid),
                detail,
                imbalances,
            )
            .await?;
            outcome.exceptions.push(ExceptionReason::OutOfBalance);
        }
        let billed = record.billed;
        let charge = if disposition == Disposition::Reversal {
            -payment.charge
        } else {
            payment.charge
        };
        if let Some(billed) = billed
            && billed != charge
        {
            self.raise(
                run,
                Some(index),
                Some(record.id.clone()),
                ExceptionReason::BilledAmountDiffers,
                Some(payment.charge),
                Some(payment.paid),
                format!(
                    "the payer's billed amount {charge} is not the {billed} claim {} was sent with",
                    record.id
                ),
                vec![],
            )
            .await?;
            outcome
                .exceptions
                .push(ExceptionReason::BilledAmountDiffers);
        }
        let posted = self
            .post_to_claim(run, posting, &payment, record, &mut outcome)
            .await?;
        match posted {
            Ok(()) => {
                if let (Mode::Post, Some(number)) =
                    (run.mode, payment.payer_claim_control_number.as_deref())
                    && let Some(claim_id) = &outcome.claim_id
                {
                    self.ports
                        .store()
                        .bind_payer_claim(
                            &PayerClaimKey::of(&organization, &payer_id, number),
                            claim_id,
                        )
                        .await?;
                }
                if run.mode == Mode::Post {
                    let result = PostingResult::Posted {
                        claim_id: outcome.claim_id.clone().ok_or_else(|| {
                            ServiceError::Internal("a posted payment lost its claim".into())
                        })?,
                        disposition,
                    };
                    self.ports
                        .store()
                        .put_claim_payment(&ClaimPaymentRecord {
                            posting: posting.clone(),
                            organization: Some(organization),
                            claim_payment: payment,
                            result,
                        })
                        .await?;
                }
            }
            Err((reason, detail)) => {
                let id = self
                    .raise(
                        run,
                        Some(index),
                        outcome.claim_id.clone(),
                        reason,
                        Some(payment.charge),
                        Some(payment.paid),
                        detail,
                        vec![],
                    )
                    .await?;
                outcome.exceptions.push(reason);
                outcome.state = None;
                self.keep_as(run, posting, payment, id, reason).await?;
            }
        }
        Ok(outcome)
    }

    /// Stores a claim payment held back by the exception `reason` (on the payment).
    async fn keep(
        &self,
        run: &PaymentRun,
        posting: &PostingId,
        payment: ClaimPayment,
        index: Option<usize>,
        reason: ExceptionReason,
    ) -> Result<(), ServiceError> {
        let id = ExceptionId::of(&run.record.id, index, reason);
        self.keep_as(run, posting, payment, id, reason).await
    }

    /// Stores a claim payment held back by exception `id`.
    async fn keep_as(
        &self,
        run: &PaymentRun,
        posting: &PostingId,
        payment: ClaimPayment,
        id: ExceptionId,
        reason: ExceptionReason,
    ) -> Result<(), ServiceError> {
        if run.mode == Mode::DryRun {
            return Ok(());
        }
        self.ports
            .store()
            .put_claim_payment(&ClaimPaymentRecord {
                posting: posting.clone(),
                organization: run.record.organization.clone(),
                claim_payment: payment,
                result: PostingResult::Exception {
                    exception_id: id,
                    reason,
                },
            })
            .await
            .map_err(Into::into)
    }

    /// Writes `payment` onto its claim with the move it makes, in one conditional write; a
    /// claim that already took it is passed over. `Err` (inside `Ok`) when the claim cannot
    /// take it, with the exception's reason and words.
    async fn post_to_claim(
        &self,
        run: &PaymentRun,
        posting: &PostingId,
        payment: &ClaimPayment,
        mut record: ClaimRecord,
        outcome: &mut ClaimOutcome,
    ) -> Result<Result<(), (ExceptionReason, String)>, ServiceError> {
        for _ in 0..CONFLICT_RETRIES {
            if record.payments.iter().any(|p| &p.posting == posting) {
                outcome.already_posted = true;
                outcome.state = Some(record.state);
                return Ok(Ok(()));
            }
            let now = self.now();
            let mut posted = PostedPayment::new(
                posting.clone(),
                &run.record.key.trace_number,
                run.record.paid_on,
                payment,
                now,
            );
            let planned = plan(&record, &posted, run.by_hand.as_deref());
            let (to, reason) = match planned {
                Ok(plan) => plan,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if record.payments.len() >= MAX_PAYMENTS_PER_CLAIM {
                return Ok(Err((
                    ExceptionReason::PossibleDuplicatePayment,
                    format!(
                        "claim {} already holds {MAX_PAYMENTS_PER_CLAIM} payments",
                        record.id
                    ),
                )));
            }
            if posted.disposition == Disposition::Reversal
                && let Some(reversed) = reversed_payment(&record, &posted)
                && let Some(earlier) = record.payments.get_mut(reversed)
            {
                earlier.reversed_by = Some(posting.clone());
            }
            let mv = PaymentMove {
                posting: posting.clone(),
                paid: posted.paid,
                patient_responsibility: posted.adjusted("PR"),
            };
            posted.posted_at = now;
            record.payments.push(posted);
            if let Some(to) = to {
                if !record.state.may_become(to) {
                    return Ok(Err((
                        ExceptionReason::ClaimNotPayable,
                        format!(
                            "claim {} is {}, which a payment cannot move",
                            record.id, record.state
                        ),
                    )));
                }
                record.state = to;
                record.due_at = None;
                record.history.push(StateChange {
                    state: to,
                    at: now,
                    reason: Some(reason),
                    interchange_control_number: record.interchange_control_number(),
                    payment: Some(mv),
                });
            }
            outcome.state = Some(record.state);
            if run.mode == Mode::DryRun {
                return Ok(Ok(()));
            }
            match self.ports.store().update(&record).await {
                Ok(()) => {
                    tracing::info!(
                        claim_id = %record.id,
                        payment_id = %posting.payment,
                        state = %record.state,
                        "claim payment posted"
                    );
                    return Ok(Ok(()));
                }
                Err(StoreError::Conflict { .. }) => {
                    // Another process moved the claim (an acknowledgment, or the same
                    // payment posted at once by a duplicate delivery): read it again.
                    record = self
                        .ports
                        .store()
                        .get(&record.id)
                        .await?
                        .ok_or_else(|| ServiceError::Internal("a claim vanished".into()))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict {
            what: format!("claim {} kept changing", record.id),
        }
        .into())
    }
}

/// Adds `id` to `ids` unless it is there.
fn push_once(ids: &mut Vec<ExceptionId>, id: ExceptionId) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// Which of the claim's payments a reversal takes back: the latest not yet reversed with the
/// same payer claim number (any, when the reversal names none).
fn reversed_payment(record: &ClaimRecord, reversal: &PostedPayment) -> Option<usize> {
    record
        .payments
        .iter()
        .enumerate()
        .rev()
        .find(|(_, p)| {
            p.reversed_by.is_none()
                && matches!(p.disposition, Disposition::Paid | Disposition::Denied)
                && (reversal.payer_claim_control_number.is_none()
                    || p.payer_claim_control_number == reversal.payer_claim_control_number)
        })
        .map(|(i, _)| i)
}

/// Where a claim payment moves its claim (`None`: it stays) and why, or why it cannot be
/// posted.
fn plan(
    record: &ClaimRecord,
    posted: &PostedPayment,
    by_hand: Option<&str>,
) -> Result<(Option<ClaimState>, String), (ExceptionReason, String)> {
    let standing = record.payments.iter().any(|p| {
        p.reversed_by.is_none() && matches!(p.disposition, Disposition::Paid | Disposition::Denied)
    });
    let payable = matches!(
        record.state,
        ClaimState::Submitted
            | ClaimState::NoAcknowledgment
            | ClaimState::AcceptedByPayer
            | ClaimState::Paid
            | ClaimState::Denied
            | ClaimState::PaymentReversed
    );
    let trace = &posted.trace_number;
    match posted.disposition {
        Disposition::Reversal => {
            if reversed_payment(record, posted).is_none() {
                return Err((
                    ExceptionReason::ReversalWithoutPayment,
                    format!(
                        "the payment traced {trace} reverses a payment of claim {}, which holds none to reverse",
                        record.id
                    ),
                ));
            }
            Ok((
                Some(ClaimState::PaymentReversed),
                format!(
                    "the payer reversed its payment (trace {trace}, {})",
                    posted.paid
                ),
            ))
        }
        Disposition::Paid | Disposition::Denied => {
            if !payable {
                return Err((
                    ExceptionReason::ClaimNotPayable,
                    format!(
                        "claim {} is {}, which a payment cannot move",
                        record.id, record.state
                    ),
                ));
            }
            if let Some(why) = by_hand {
                let to = if posted.disposition == Disposition::Paid {
                    ClaimState::Paid
                } else {
                    ClaimState::Denied
                };
                if !record.state.may_become(to) {
                    return Err((
                        ExceptionReason::ClaimNotPayable,
                        format!(
                            "claim {} is {}, which this payment cannot move",
                            record.id, record.state
                        ),
                    ));
                }
                return Ok((
                    Some(to),
                    format!("{why} (trace {trace}, paid {})", posted.paid),
                ));
            }
            if standing {
                return Err((
                    ExceptionReason::PossibleDuplicatePayment,
                    format!(
                        "claim {} already holds a payment that was not reversed; the payment traced {trace} may pay it twice",
                        record.id
                    ),
                ));
            }
            let (to, verb) = if posted.disposition == Disposition::Paid {
                (ClaimState::Paid, "paid")
            } else {
                (ClaimState::Denied, "denied")
            };
            Ok((
                Some(to),
                format!(
                    "the payer {verb} it (trace {trace}, CLP02 {}, paid {})",
                    posted.status_code, posted.paid
                ),
            ))
        }
        Disposition::Informational => Ok((None, String::new())),
    }
}

/// The most structural findings a rejected file's report keeps.
pub const MAX_REJECTION_FINDINGS: usize = 50;

/// What became of a dropped file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FileOutcome {
    /// Its payments were posted (or found posted before).
    Posted {
        /// Each transaction set's payment, in file order.
        payments: Vec<PaymentReport>,
        /// Element-level findings of the validator that did not stop posting (a payer's
        /// file accepted with errors).
        warnings: usize,
    },
    /// Its acknowledgments (TA1, 999, 277CA) moved the claims they answer.
    Acknowledged {
        /// What they did.
        acknowledgments: crate::acknowledgments::by_file::AcknowledgmentReport,
        /// Element-level findings of the validator that did not stop them.
        warnings: usize,
    },
    /// It fails structurally (or cannot be read): nothing of it is posted or moved.
    Rejected {
        /// Why, in words.
        reason: String,
        /// The validator's structural findings, the first [`MAX_REJECTION_FINDINGS`] (where
        /// and what, never the values, which may be PHI).
        findings: Vec<RejectionFinding>,
    },
}

impl FileOutcome {
    /// Whether the file must be taken in again later: acknowledgments of claims whose
    /// hand-over to the payer was still being recorded.
    pub fn wants_redelivery(&self) -> bool {
        matches!(self, Self::Acknowledged { acknowledgments, .. } if acknowledgments.later > 0)
    }
}

/// One structural finding of a rejected file, without the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectionFinding {
    /// Segment number in the file.
    pub line: usize,
    /// The segment (and element) it concerns: `CLP`, `BPR16`.
    pub location: String,
    /// The acknowledgment slot and code (`IK304 3`).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// Why a file fails structurally: its envelope, a group, a transaction set or a segment
/// breaks the standard (element-level errors do not stop a payer's payment from posting), or
/// it holds no 835 we can read. `None` when it can be posted.
pub fn structural_rejection(
    report: &hms_x12::validate::Report,
) -> Option<(String, Vec<RejectionFinding>)> {
    use hms_x12::finding::{AckCode, Severity};
    let structural: Vec<&hms_x12::finding::Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && !matches!(f.ack, AckCode::Element(_)))
        .collect();
    if structural.is_empty() {
        return None;
    }
    let findings = structural
        .iter()
        .take(MAX_REJECTION_FINDINGS)
        .map(|f| RejectionFinding {
            line: f.line,
            location: f.location(),
            code: format!("{} {}", f.ack.slot(), f.ack.code()),
            message: f.message.clone(),
        })
        .collect();
    Some((
        format!(
            "the file fails structurally: {} error(s), the first at segment {}",
            structural.len(),
            structural.first().map_or(0, |f| f.line)
        ),
        findings,
    ))
}

impl<P: Ports> Clearinghouse<P> {
    /// Posts every 835 of a dropped file (`key` in the drop zone) held in memory.
    pub async fn post_file(
        &self,
        key: &str,
        bytes: &[u8],
        mode: Mode,
    ) -> Result<FileOutcome, ServiceError> {
        self.post_stream(key, || Ok(std::io::Cursor::new(bytes)), mode)
            .await
    }

    /// Posts every 835 of a dropped file (`key` in the drop zone) that `open` reads from its
    /// start (it is opened three times), streaming: memory holds a segment and a claim
    /// payment at a time, whatever the file's size. The file is validated first and rejected
    /// whole when it fails structurally; then read through without posting, and rejected
    /// whole when a value cannot be read; then each transaction set is posted as a payment,
    /// claim payment by claim payment.
    pub async fn post_stream<R: std::io::Read>(
        &self,
        key: &str,
        open: impl Fn() -> std::io::Result<R>,
        mode: Mode,
    ) -> Result<FileOutcome, ServiceError> {
        let catalog = crate::service::catalog()?;
        let unreadable = |e: std::io::Error| {
            ServiceError::Objects(crate::ports::ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: e.to_string(),
            })
        };
        let options = hms_x12::validate::Options {
            max_findings: 1_000,
            parallel: false,
        };
        let report =
            match hms_x12::validate::validate_reader(open().map_err(unreadable)?, catalog, options)
            {
                Ok(report) => report,
                Err(e) => return Err(unreadable(std::io::Error::other(e.to_string()))),
            };
        if let Some((reason, findings)) = structural_rejection(&report) {
            return Ok(FileOutcome::Rejected { reason, findings });
        }
        let warnings = report.findings.len() + report.suppressed;
        drop(report);
        // Read through once without posting: a value that cannot be read rejects the whole
        // file before any of it is posted.
        let mut reader = hms_x12::Reader::new(open().map_err(unreadable)?);
        let mut remittances = Remittances::new(catalog);
        let mut events = vec![];
        let mut problem = None;
        while let Some(next) = reader.next_segment() {
            let pushed = match next {
                Ok(segment) => remittances.push(&segment, &mut events),
                Err(e) => Err(RemitError::X12(e.into())),
            };
            events.clear();
            if let Err(e) = pushed {
                problem = Some(e);
                break;
            }
        }
        if let Some(e) = problem
            .map(Err)
            .unwrap_or_else(|| remittances.finish(&mut events))
            .err()
        {
            return Ok(FileOutcome::Rejected {
                reason: format!("the file cannot be read as 835 payments: {e}"),
                findings: vec![],
            });
        }
        // Post.
        let mut reader = hms_x12::Reader::new(open().map_err(unreadable)?);
        let again = |e: &dyn std::fmt::Display| {
            ServiceError::Internal(format!("a file read once could not be read again: {e}"))
        };
        // Taken when the input ends: its last events go through the same loop as the others.
        let mut remittances = Some(Remittances::new(catalog));
        let mut payments = vec![];
        let (mut isa, mut gs_end, mut st) = (0, 0, 0);
        let mut set = 0;
        let mut open_run: Option<(PaymentRun, Remittance)> = None;
        while let Some(reading) = remittances.as_mut() {
            let end;
            match reader.next_segment() {
                Some(next) => {
                    let segment = next.map_err(|e| again(&e))?;
                    let offset = segment.offset();
                    let id = segment.id().to_vec();
                    reading.push(&segment, &mut events).map_err(|e| again(&e))?;
                    end = reader.position();
                    match id.as_slice() {
                        b"ISA" => isa = offset,
                        b"GS" => gs_end = end,
                        b"ST" => st = offset,
                        _ => {}
                    }
                }
                None => {
                    if let Some(reading) = remittances.take() {
                        reading.finish(&mut events).map_err(|e| again(&e))?;
                    }
                    end = reader.position();
                }
            }
            for event in events.drain(..) {
                match event {
                    RemitEvent::Begin(header) => {
                        let source = Source {
                            key: key.to_string(),
                            set,
                            envelope: Some((isa, gs_end)),
                            transaction: None,
                        };
                        set += 1;
                        let run = self.begin_payment(&header, source, mode).await?;
                        open_run = Some((run, *header));
                    }
                    RemitEvent::Claim(claim) => {
                        if let Some((run, _)) = open_run.as_mut() {
                            self.post_claim(run, *claim).await?;
                        }
                    }
                    RemitEvent::End(trailer) => {
                        if let Some((mut run, mut header)) = open_run.take() {
                            header.provider_adjustments = trailer.provider_adjustments;
                            header.balance = trailer.balance;
                            run.transaction_ends(key, (st, end));
                            payments.push(self.finish_payment(run, &header).await?);
                        }
                    }
                }
            }
        }
        Ok(FileOutcome::Posted { payments, warnings })
    }
}

/// The transaction set `source` names, as an interchange of its own: its ISA and GS as the
/// payer sent them, the set, and a GE and IEA that close them. `None` when the file does not
/// hold the bytes the source names (it was replaced).
pub fn transaction_x12(file: &[u8], source: &Source) -> Option<Vec<u8>> {
    let (envelope, transaction) = (source.envelope?, source.transaction?);
    let header = file.get(envelope.0..envelope.1)?;
    let set = file.get(transaction.0..transaction.1)?;
    enveloped(header, set)
}

/// The transaction set `source` names, as an interchange of its own (see
/// [`transaction_x12`]), read back from the drop zone `drops` in two ranged reads, its
/// envelope's and its own: never the whole file, which may be hundreds of megabytes. `None`
/// when the file is gone, or no longer holds the bytes the source names.
pub async fn source_x12<D: crate::ports::ObjectStore>(
    drops: &D,
    source: &Source,
) -> Result<Option<Vec<u8>>, crate::ports::ObjectStoreError> {
    let (Some(envelope), Some(transaction)) = (source.envelope, source.transaction) else {
        return Ok(None);
    };
    let read = |(start, end): (usize, usize)| {
        let range = start as u64..end as u64;
        async move {
            let bytes = drops.get_range(&source.key, range).await?;
            Ok::<_, crate::ports::ObjectStoreError>(
                bytes.filter(|b| b.len() == end.saturating_sub(start)),
            )
        }
    };
    let Some(header) = read(envelope).await? else {
        return Ok(None);
    };
    let Some(set) = read(transaction).await? else {
        return Ok(None);
    };
    Ok(enveloped(&header, &set))
}

/// `header` (an ISA and GS as sent) and one transaction set, closed with a GE and IEA; `None`
/// when the header is not an interchange's.
fn enveloped(header: &[u8], set: &[u8]) -> Option<Vec<u8>> {
    let mut tokens = hms_x12::Tokenizer::new(header);
    let (mut isa13, mut gs06) = (Vec::new(), Vec::new());
    for segment in tokens.by_ref().flatten() {
        match segment.id() {
            b"ISA" => isa13 = segment.value(13).to_vec(),
            b"GS" => gs06 = segment.value(6).to_vec(),
            _ => {}
        }
    }
    let d = tokens.delimiters()?;
    let (e, t) = (d.element, d.segment);
    let mut out = Vec::with_capacity(header.len() + set.len() + 64);
    out.extend_from_slice(header);
    out.extend_from_slice(set);
    for part in [&b"GE"[..], &[e], b"1", &[e], &gs06, &[t]] {
        out.extend_from_slice(part);
    }
    for part in [&b"IEA"[..], &[e], b"1", &[e], &isa13, &[t]] {
        out.extend_from_slice(part);
    }
    Some(out)
}
