//! What the store keeps of remittance: each payment (one 835 transaction set) under an
//! identity the payer gave it, each of its claim payments with what posting made of it, the
//! postings on the claims themselves, and the exceptions finance staff work. Every identity is
//! derived from what the payer sent, never drawn at random, so that a file read twice, or a
//! function that dies and runs again, finds what it wrote the first time.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use hms_domain::remittance::balance::{Disposition, Imbalance};
use hms_domain::remittance::{
    Adjustment, ClaimPayment, ProviderAdjustment, Remark, Remittance, ServicePayment,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lifecycle::ClaimId;
use crate::ports::sha256_hex;
use crate::tenancy::OrganizationId;

/// What makes a payment one payment: the payer, and its trace (TRN02, the check or EFT trace
/// number, and TRN03, the payer's identifier on it). The same payment in two files, or one
/// file delivered twice, has one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentKey {
    /// The payer's id, as our payer directory knows it.
    pub payer_id: String,
    /// TRN02.
    pub trace_number: String,
    /// TRN03 (empty when not sent).
    pub originator: String,
}

/// Our id for a payment: `pay_` and 32 hex digits of the digest of its [`PaymentKey`], so the
/// same payment always has the same id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentId(String);

/// Why a payment id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a payment id (pay_ and 32 hex digits)")]
pub struct PaymentIdError(String);

/// `prefix` and the first 32 hex digits of the sha256 of `parts`, each ended by a NUL (so
/// that no two lists of parts run together into one).
fn derived(prefix: &str, parts: &[&str]) -> String {
    let mut joined = String::new();
    for part in parts {
        joined.push_str(part);
        joined.push('\0');
    }
    let digest = sha256_hex(joined.as_bytes());
    format!("{prefix}{}", digest.get(..32).unwrap_or(&digest))
}

/// Whether `text` is `prefix` and 32 lower-case hex digits.
fn is_derived(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 32
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl PaymentId {
    /// The id of the payment `key` identifies.
    pub fn of(key: &PaymentKey) -> Self {
        Self(derived(
            "pay_",
            &[&key.payer_id, &key.trace_number, &key.originator],
        ))
    }

    /// Checks an id a caller sent.
    pub fn parse(text: &str) -> Result<Self, PaymentIdError> {
        if is_derived(text, "pay_") {
            Ok(Self(text.to_string()))
        } else {
            Err(PaymentIdError(text.chars().take(64).collect()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PaymentId {
    type Error = PaymentIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PaymentId> for String {
    fn from(id: PaymentId) -> Self {
        id.0
    }
}

/// Where a payment was read from: the dropped file and the transaction set's place in it, with
/// the byte ranges that give the set back as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The file's object key (in the drop bucket).
    pub key: String,
    /// The transaction set's place among the file's 835s (0-based).
    pub set: usize,
    /// Bytes of the interchange and group headers (ISA, GS) the set came under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<(usize, usize)>,
    /// Bytes of the set, ST to SE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<(usize, usize)>,
}

/// How far posting a payment has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostingStatus {
    /// Its claim payments are being posted; `posted_through` says how far it surely came.
    Posting,
    /// Every claim payment is posted or an exception.
    Posted,
}

/// Another delivery of a payment already taken in: the same file again, or another file
/// holding the same payment. Recorded, never posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Duplicate {
    /// Where it came from.
    pub source: Source,
    /// When it was seen.
    pub at: DateTime<Utc>,
}

/// The most duplicate deliveries a payment keeps a record of (the count goes on).
pub const MAX_DUPLICATES_KEPT: usize = 20;

/// One payment, as the store keeps it: the 835's header and trailer (no claim payments;
/// those are kept one by one) and how far its posting came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    /// Our id.
    pub id: PaymentId,
    /// What identifies it.
    pub key: PaymentKey,
    /// The stored version this copy was read as.
    pub version: u64,
    /// The organization the payee is; `None` when no organization owns the payee's
    /// identifiers (an exception says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationId>,
    /// BPR01.
    pub handling_code: String,
    /// BPR02.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// BPR03.
    pub credit_debit: String,
    /// BPR04.
    pub method: String,
    /// BPR16: the check or EFT date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_on: Option<NaiveDate>,
    /// The payer's name (N102).
    pub payer_name: String,
    /// The payee's name (N102) and its identifiers (an NPI or tax id: a provider's, not
    /// PHI).
    pub payee: hms_domain::remittance::Party,
    /// Provider-level adjustments (PLB): interest, forwarding balances, recoupments.
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// Σ CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub claims_paid: Decimal,
    /// Whether BPR02 = Σ CLP04 − Σ PLB.
    pub balanced: bool,
    /// How many claim payments it holds.
    pub claim_payments: usize,
    /// Claim payments `0..posted_through` are surely posted (or exceptions); a run that
    /// resumes starts here, and what it finds posted past here it passes over.
    pub posted_through: usize,
    /// How far it came.
    pub status: PostingStatus,
    /// Where it was first read from.
    pub source: Source,
    /// When it was first read.
    pub received_at: DateTime<Utc>,
    /// When its last claim payment was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<DateTime<Utc>>,
    /// Deliveries of it after the first, the last [`MAX_DUPLICATES_KEPT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
    /// How many there were in all.
    #[serde(default)]
    pub duplicate_count: u64,
    /// How many runs took it up again after one that died mid-way (as far as they came to
    /// store it): an operator's sign of a function that crashed or timed out on the file.
    #[serde(default)]
    pub resumed: u32,
}

impl PaymentRecord {
    /// Where it sorts in its organization's listing, newest first: its receipt time (in
    /// milliseconds, inverted so that text order is newest first) and its id. A listing's
    /// cursor is the last item's, so pages stay stable while payments arrive.
    pub fn cursor(&self) -> String {
        let millis = self.received_at.timestamp_millis().max(0);
        format!("{:019}#{}", i64::MAX - millis, self.id)
    }

    /// A payment just read from `source`, identified by `key`, not yet posted.
    pub fn new(
        key: PaymentKey,
        organization: Option<OrganizationId>,
        remittance: &Remittance,
        claim_payments: usize,
        source: Source,
        at: DateTime<Utc>,
    ) -> Self {
        let p = &remittance.payment;
        Self {
            id: PaymentId::of(&key),
            key,
            version: 1,
            organization,
            handling_code: p.handling_code.clone(),
            amount: p.amount,
            credit_debit: p.credit_debit.clone(),
            method: p.method.clone(),
            paid_on: p.date,
            payer_name: remittance.payer.name.clone(),
            payee: remittance.payee.clone(),
            provider_adjustments: remittance.provider_adjustments.clone(),
            claims_paid: remittance.balance.claims_paid,
            balanced: remittance.balance.balanced,
            claim_payments,
            posted_through: 0,
            status: PostingStatus::Posting,
            source,
            received_at: at,
            posted_at: None,
            duplicates: vec![],
            duplicate_count: 0,
            resumed: 0,
        }
    }
}

/// The identity of one claim payment: its payment and its place in it. A claim carries the
/// postings it took by this identity, so posting one twice is seen and passed over.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostingId {
    /// The payment.
    pub payment: PaymentId,
    /// The claim payment's place in it (0-based).
    pub index: usize,
}

impl fmt::Display for PostingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.payment, self.index)
    }
}

/// What became of one claim payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum PostingResult {
    /// Posted to the claim.
    #[serde(rename_all = "camelCase")]
    Posted {
        /// The claim.
        claim_id: ClaimId,
        /// What it did to it.
        disposition: Disposition,
    },
    /// Not posted: an exception holds it.
    #[serde(rename_all = "camelCase")]
    Exception {
        /// The exception.
        exception_id: ExceptionId,
        /// Why.
        reason: ExceptionReason,
    },
}

/// One claim payment as the store keeps it, with what posting made of it: what
/// `fetchRemittance` answers with beside its payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimPaymentRecord {
    /// Its identity.
    pub posting: PostingId,
    /// The organization of its payment (for the store's scoping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationId>,
    /// The claim payment as the payer sent it.
    pub claim_payment: ClaimPayment,
    /// What posting made of it.
    pub result: PostingResult,
}

/// A payment as a claim keeps it: the money, the adjustments with their reasons, the remarks
/// and the lines, with where it came from; no patient data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostedPayment {
    /// Which claim payment this is.
    pub posting: PostingId,
    /// TRN02 of its payment.
    pub trace_number: String,
    /// The check or EFT date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_on: Option<NaiveDate>,
    /// CLP02.
    pub status_code: String,
    /// What it does to the claim.
    pub disposition: Disposition,
    /// CLP03.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    /// CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// CLP05.
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub patient_responsibility: Option<Decimal>,
    /// CLP07: the payer's claim number, by which later adjustments find the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_claim_control_number: Option<String>,
    /// Claim-level adjustments (group, CARC and its meaning, amount).
    pub adjustments: Vec<Adjustment>,
    /// Line-level detail (SVC): charge, paid, adjustments and remarks per line.
    pub services: Vec<ServicePayment>,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// The reversal that took it back, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<PostingId>,
}

impl PostedPayment {
    /// `payment` of the payment traced `trace_number`, posted at `at` as `posting`.
    pub fn new(
        posting: PostingId,
        trace_number: &str,
        paid_on: Option<NaiveDate>,
        payment: &ClaimPayment,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            posting,
            trace_number: trace_number.to_string(),
            paid_on,
            status_code: payment.status_code.to_string(),
            disposition: payment.disposition(),
            charge: payment.charge,
            paid: payment.paid,
            patient_responsibility: payment.patient_responsibility,
            payer_claim_control_number: payment
                .payer_claim_control_number
                .as_deref()
                .map(str::to_string),
            adjustments: payment.adjustments.clone(),
            services: payment.services.clone(),
            posted_at: at,
            reversed_by: None,
        }
    }

    /// Σ of its adjustments in `group`, claim and line level.
    pub fn adjusted(&self, group: &str) -> Decimal {
        self.adjustments
            .iter()
            .chain(self.services.iter().flat_map(|s| &s.adjustments))
            .filter(|a| a.group_code == group)
            .map(|a| a.amount)
            .sum()
    }

    /// Every remark code of its lines, once each.
    pub fn remarks(&self) -> Vec<&Remark> {
        let mut seen: Vec<&Remark> = vec![];
        for r in self.services.iter().flat_map(|s| &s.remarks) {
            if !seen.iter().any(|s| s.code == r.code) {
                seen.push(r);
            }
        }
        seen
    }
}

/// Where a claim's money stands: what was billed, what the payer paid, what it adjusted
/// away, what it left to the patient, and what none of those accounts for. Reversals count
/// with their negative amounts, so a reversed payment adds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimBalance {
    /// The claim's total charge, as we sent it.
    #[serde(with = "rust_decimal::serde::str")]
    pub billed: Decimal,
    /// Σ CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// Σ adjustments in groups CO, OA, PI and CR (the payer's and the contract's).
    #[serde(with = "rust_decimal::serde::str")]
    pub adjusted: Decimal,
    /// Σ adjustments in group PR (the patient's to pay).
    #[serde(with = "rust_decimal::serde::str")]
    pub patient_responsibility: Decimal,
    /// billed − paid − adjusted − patient responsibility: what the payer has not yet
    /// accounted for.
    #[serde(with = "rust_decimal::serde::str")]
    pub outstanding: Decimal,
}

impl ClaimBalance {
    /// The balance of a claim billed `billed` after `payments`.
    pub fn of(billed: Decimal, payments: &[PostedPayment]) -> Self {
        let mut balance = Self {
            billed,
            ..Self::default()
        };
        for p in payments
            .iter()
            .filter(|p| p.disposition != Disposition::Informational)
        {
            balance.paid += p.paid;
            balance.patient_responsibility += p.adjusted("PR");
            balance.adjusted += ["CO", "OA", "PI", "CR"]
                .iter()
                .map(|g| p.adjusted(g))
                .sum::<Decimal>();
        }
        balance.outstanding =
            balance.billed - balance.paid - balance.adjusted - balance.patient_responsibility;
        balance
    }
}

/// Why a payment or claim payment needs a person, by a code that stays the same (finance
/// systems key on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionReason {
    /// No claim of the payee's organization went to this payer with that patient control
    /// number (or payer claim number).
    UnmatchedClaimPayment,
    /// The claim already holds a payment that was not reversed: the payer may be paying it
    /// twice.
    PossibleDuplicatePayment,
    /// The claim is in a state a payment cannot move (rejected, never sent).
    ClaimNotPayable,
    /// The payer's billed amount (CLP03) is not what we sent (CLM02).
    BilledAmountDiffers,
    /// A balancing rule of the 835 does not hold.
    OutOfBalance,
    /// No organization owns the payee's identifiers.
    UnknownPayee,
    /// A reversal (CLP02 22) of a claim with no payment to reverse.
    ReversalWithoutPayment,
}

impl ExceptionReason {
    /// Every reason.
    pub const ALL: [ExceptionReason; 7] = [
        ExceptionReason::UnmatchedClaimPayment,
        ExceptionReason::PossibleDuplicatePayment,
        ExceptionReason::ClaimNotPayable,
        ExceptionReason::BilledAmountDiffers,
        ExceptionReason::OutOfBalance,
        ExceptionReason::UnknownPayee,
        ExceptionReason::ReversalWithoutPayment,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnmatchedClaimPayment => "unmatched-claim-payment",
            Self::PossibleDuplicatePayment => "possible-duplicate-payment",
            Self::ClaimNotPayable => "claim-not-payable",
            Self::BilledAmountDiffers => "billed-amount-differs",
            Self::OutOfBalance => "out-of-balance",
            Self::UnknownPayee => "unknown-payee",
            Self::ReversalWithoutPayment => "reversal-without-payment",
        }
    }

    /// Whether the claim payment it is raised on is held back from its claim (as opposed
    /// to posted, with the exception beside it).
    pub fn holds_back(self) -> bool {
        matches!(
            self,
            Self::UnmatchedClaimPayment
                | Self::PossibleDuplicatePayment
                | Self::ClaimNotPayable
                | Self::UnknownPayee
                | Self::ReversalWithoutPayment
        )
    }
}

impl fmt::Display for ExceptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Our id for an exception: `exc_` and 32 hex digits of the digest of the payment, the claim
/// payment's place and the reason, so a run that resumes raises the same one again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExceptionId(String);

/// Why an exception id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an exception id (exc_ and 32 hex digits)")]
pub struct ExceptionIdError(String);

impl ExceptionId {
    /// The id of the exception `reason` raised on claim payment `index` of `payment` (none
    /// for the payment as a whole).
    pub fn of(payment: &PaymentId, index: Option<usize>, reason: ExceptionReason) -> Self {
        let index = index.map(|i| i.to_string()).unwrap_or_default();
        Self(derived("exc_", &[payment.as_str(), &index, reason.code()]))
    }

    /// Checks an id a caller sent.
    pub fn parse(text: &str) -> Result<Self, ExceptionIdError> {
        if is_derived(text, "exc_") {
            Ok(Self(text.to_string()))
        } else {
            Err(ExceptionIdError(text.chars().take(64).collect()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExceptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ExceptionId {
    type Error = ExceptionIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ExceptionId> for String {
    fn from(id: ExceptionId) -> Self {
        id.0
    }
}

/// How an exception was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (the caller's subject), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Why, in the resolver's words.
    pub note: String,
    /// The claim the payment was linked to by hand, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_claim: Option<ClaimId>,
}

/// Something posting could not settle alone. Says ids, reasons and amounts: never the
/// patient's name, member id or account number, so that it can be listed, logged and
/// announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemittanceException {
    /// Its id.
    pub id: ExceptionId,
    /// The stored version this copy was read as.
    pub version: u64,
    /// The payee's organization, when one owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationId>,
    /// Why.
    pub reason: ExceptionReason,
    /// The payment.
    pub payment_id: PaymentId,
    /// The payer.
    pub payer_id: String,
    /// TRN02 of the payment.
    pub trace_number: String,
    /// The claim payment's place in the payment, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_payment: Option<usize>,
    /// Our claim, when one was matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
    /// CLP03, or BPR02 for the payment.
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub charge: Option<Decimal>,
    /// CLP04.
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub paid: Option<Decimal>,
    /// What is wrong, in words (ids and amounts only).
    pub detail: String,
    /// The balancing rules broken, for an out-of-balance exception.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imbalances: Vec<Imbalance>,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// How it was settled; `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

impl RemittanceException {
    /// Where it sorts in its organization's listing, oldest first: when it was raised, and
    /// its id.
    pub fn cursor(&self) -> String {
        format!(
            "{:019}#{}",
            self.raised_at.timestamp_millis().max(0),
            self.id
        )
    }

    /// Whether it still needs a person.
    pub fn is_open(&self) -> bool {
        self.resolution.is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_derived_from_what_the_payer_sent_and_checked_when_sent_back() {
        let key = PaymentKey {
            payer_id: "SIMPAYER".into(),
            trace_number: "EFT1".into(),
            originator: "1512345678".into(),
        };
        let id = PaymentId::of(&key);
        assert_eq!(id, PaymentId::of(&key.clone()));
        assert_ne!(
            id,
            PaymentId::of(&PaymentKey {
                trace_number: "EFT2".into(),
                ..key.clone()
            })
        );
        // Parts cannot run together: ("AB", "C") is not ("A", "BC").
        let run = |a: &str, b: &str| {
            PaymentId::of(&PaymentKey {
                payer_id: a.into(),
                trace_number: b.into(),
                originator: String::new(),
            })
        };
        assert_ne!(run("AB", "C"), run("A", "BC"));
        assert_eq!(PaymentId::parse(id.as_str()).unwrap(), id);
        for bad in [
            "",
            "pay_",
            "pay_XYZ",
            "exc_0123456789abcdef0123456789abcdef",
        ] {
            assert!(PaymentId::parse(bad).is_err(), "{bad}");
        }
        let exc = ExceptionId::of(&id, Some(3), ExceptionReason::OutOfBalance);
        assert_eq!(
            exc,
            ExceptionId::of(&id, Some(3), ExceptionReason::OutOfBalance)
        );
        assert_ne!(
            exc,
            ExceptionId::of(&id, None, ExceptionReason::OutOfBalance)
        );
        assert_eq!(ExceptionId::parse(exc.as_str()).unwrap(), exc);
        let codes: Vec<&str> = ExceptionReason::ALL.iter().map(|r| r.code()).collect();
        let json: Vec<String> = ExceptionReason::ALL
            .iter()
            .map(|r| {
                serde_json::to_value(r)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(codes, json, "the code is the serde name");
    }
}
