//! One claim, professional or institutional. The service, the CLI, the rules host and the
//! functions hold a [`Claim`] and ask it what they need; the kind is matched here, once, and
//! nowhere else decides between the 837P and the 837I.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::model::{InstitutionalClaim, Parties, Patient, ProfessionalClaim, Subscriber};
use crate::claims::write_837::{BatchSize, BatchWriter, Out, batch};
use crate::claims::{fhir, institutional_837, professional_837, scrub};
use crate::ids::{PatientControlNumber, PayerId};
use crate::outcome::OperationOutcome;
use crate::partner::{Connections, Envelope, TradingPartner};
use crate::party::{Provider, Receiver, Submitter};
use crate::request::parse_json;
use crate::write::TranslateError;

/// Which 837 a claim becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClaimKind {
    /// 837P (005010X222A1): a practitioner's services.
    Professional,
    /// 837I (005010X223A2): a facility's bill.
    Institutional,
}

impl ClaimKind {
    /// The implementation guide its 837 is written to (GS08, ST03).
    pub fn guide(self) -> &'static str {
        match self {
            Self::Professional => professional_837::VERSION,
            Self::Institutional => institutional_837::VERSION,
        }
    }

    /// The kind of a claim as a caller sends it: a FHIR `Claim` by its `type`
    /// (`institutional`), our JSON by whether its header carries a type of bill.
    pub fn of(claim: &Value) -> Self {
        let institutional = if claim["resourceType"] == "Claim" {
            claim["type"]["coding"]
                .as_array()
                .is_some_and(|codes| codes.iter().any(|c| c["code"] == "institutional"))
        } else {
            claim.pointer("/claim/facilityType").is_some()
        };
        if institutional {
            Self::Institutional
        } else {
            Self::Professional
        }
    }
}

/// A claim of either kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(
    clippy::large_enum_variant,
    reason = "a claim is built once and moved by value rarely; boxing the professional kind would add an allocation to every claim read for no measured gain"
)]
pub enum Claim {
    /// An 837P claim.
    Professional(ProfessionalClaim),
    /// An 837I claim.
    Institutional(InstitutionalClaim),
}

impl From<ProfessionalClaim> for Claim {
    fn from(claim: ProfessionalClaim) -> Self {
        Self::Professional(claim)
    }
}

impl From<InstitutionalClaim> for Claim {
    fn from(claim: InstitutionalClaim) -> Self {
        Self::Institutional(claim)
    }
}

impl Claim {
    /// Appends the claim's JSON to `out`. Not generic over the writer, so the serializing is
    /// compiled here, with the domain's optimization, whatever program writes a stream of
    /// claims (and each key and value is an append, not a call into that program's writer).
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), crate::json_out::JsonOutError> {
        crate::json_out::append(out, self)
    }

    /// Our JSON claim of `kind`; a claim that does not parse is one issue, pointing where
    /// parsing stopped.
    pub fn from_json(json: &[u8], kind: ClaimKind) -> Result<Self, OperationOutcome> {
        match kind {
            ClaimKind::Professional => parse_json(json).map(Self::Professional),
            ClaimKind::Institutional => parse_json(json).map(Self::Institutional),
        }
    }

    /// A claim as it was stored: the JSON value of [`Claim::to_json`] and its kind.
    pub fn from_value(value: Value, kind: ClaimKind) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            ClaimKind::Professional => Self::Professional(serde_json::from_value(value)?),
            ClaimKind::Institutional => Self::Institutional(serde_json::from_value(value)?),
        })
    }

    /// A FHIR R4 `Claim` alone (its parties contained), of the kind its `type` says, sent on
    /// by the clearinghouse of `connections` to the payer the Claim names.
    pub fn from_fhir(claim: &Value, connections: &Connections) -> Result<Self, OperationOutcome> {
        Self::from_fhir_as(claim, ClaimKind::of(claim), connections)
    }

    /// A FHIR R4 `Claim` alone read as `kind`: a Claim of the other type is refused by name.
    pub fn from_fhir_as(
        claim: &Value,
        kind: ClaimKind,
        connections: &Connections,
    ) -> Result<Self, OperationOutcome> {
        fhir::read(
            claim,
            &fhir::resources::Resources::of(claim),
            kind,
            connections,
        )
        .map(|r| r.claim)
    }

    /// Which 837 it becomes.
    pub fn kind(&self) -> ClaimKind {
        match self {
            Self::Professional(_) => ClaimKind::Professional,
            Self::Institutional(_) => ClaimKind::Institutional,
        }
    }

    /// Who is who on the claim: submitter, receiver, providers, subscriber, patient, payer.
    pub fn parties(&self) -> Parties<'_> {
        match self {
            Self::Professional(c) => c.parties(),
            Self::Institutional(c) => c.parties(),
        }
    }

    /// The payer it goes to.
    pub fn payer_id(&self) -> &PayerId {
        &self.parties().payer.id
    }

    /// The interchange receiver (loop 1000B).
    pub fn receiver(&self) -> &Receiver {
        self.parties().receiver
    }

    /// The provider's number for the claim (CLM01), which the payer's answers quote.
    pub fn patient_control_number(&self) -> &PatientControlNumber {
        match self {
            Self::Professional(c) => &c.claim.patient_control_number,
            Self::Institutional(c) => &c.claim.patient_control_number,
        }
    }

    /// The claim frequency code (CLM05-3): `1` for an original claim, `7` for a replacement
    /// of one the payer has, `8` for its void. A replacement or void quotes the original's
    /// patient control number, so only an original may not repeat one.
    pub fn frequency(&self) -> &str {
        match self {
            Self::Professional(c) => &c.claim.frequency,
            Self::Institutional(c) => &c.claim.frequency,
        }
    }

    /// Loop 1000A.
    pub fn submitter(&self) -> &Submitter {
        self.parties().submitter
    }

    /// Loop 2010AA.
    pub fn billing_provider(&self) -> &Provider {
        self.parties().billing_provider
    }

    /// Loop 2010BA.
    pub fn subscriber(&self) -> &Subscriber {
        self.parties().subscriber
    }

    /// Loop 2010CA, when the patient is not the subscriber.
    pub fn patient(&self) -> Option<&Patient> {
        self.parties().patient
    }

    /// CLM02.
    pub fn total_charge(&self) -> Decimal {
        match self {
            Self::Professional(c) => c.claim.total_charge,
            Self::Institutional(c) => c.claim.total_charge,
        }
    }

    /// The procedure codes of its lines (SV101-2 or SV202-2), in order.
    pub fn procedure_codes(&self) -> Vec<&str> {
        match self {
            Self::Professional(c) => c
                .service_lines
                .iter()
                .map(|l| l.procedure_code.as_str())
                .collect(),
            Self::Institutional(c) => c
                .service_lines
                .iter()
                .filter_map(|l| l.procedure_code.as_deref())
                .collect(),
        }
    }

    /// The claim's service dates, as a 277CA (DTP*472) or a 276 names them: its lines' first
    /// and last dates of service (837P), or the statement period (837I).
    pub fn service_period(&self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            Self::Professional(c) => {
                let first = c.service_lines.iter().map(|l| l.service_date).min()?;
                let last = c.service_lines.iter().map(|l| l.service_date).max()?;
                Some((first, last))
            }
            Self::Institutional(c) => Some((c.claim.statement_from, c.claim.statement_to)),
        }
    }

    /// Our JSON form, as stored with the claim's record.
    pub fn to_json(&self) -> Value {
        // The model holds only strings, decimals, dates and collections of them: it always
        // serializes.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Every front-end edit of its kind; `today` is the date service dates may not be after.
    pub fn scrub(&self, today: NaiveDate) -> OperationOutcome {
        scrub::scrub(self, today, &scrub::Profile::default())
    }

    /// The claim as an 837 interchange of its own to `partner`.
    pub fn to_837(
        &self,
        partner: &TradingPartner,
        envelope: &Envelope,
    ) -> Result<Vec<u8>, TranslateError> {
        write_837(std::slice::from_ref(self), partner, envelope)
    }

    /// Writes loop 2300 and below, by kind.
    fn claim_loop(&self, out: &mut Out) -> Result<(), TranslateError> {
        match self {
            Self::Professional(c) => professional_837::claim_loop(out, c),
            Self::Institutional(c) => institutional_837::claim_loop(out, c),
        }
    }
}

/// Writes `claims` as one 837 batch to `partner` (one interchange, group and transaction set,
/// to the guide of their kind; see [`batch`] for how the loops are shared). The claims of a
/// batch are all of one kind; errors name a claim by its index.
pub fn write_837(
    claims: &[Claim],
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let kind = claims.first().map_or(ClaimKind::Professional, Claim::kind);
    if let Some(i) = claims.iter().position(|c| c.kind() != kind) {
        return Err(TranslateError::Missing {
            field: format!("/{i}"),
            message: format!(
                "every claim of a batch must be of one kind: this one is not {kind:?} like the first (one 837 guide per batch)"
            ),
        });
    }
    let x12 = write_837_unvalidated(claims, partner, envelope, kind)?;
    hms_x12::writer::validated(x12).map_err(|e| TranslateError::Write {
        field: String::new(),
        source: e,
    })
}

/// Why a streamed 837 batch stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchStreamError {
    /// A claim could not be written (a value the 837 cannot carry, a claim unlike the first).
    #[error(transparent)]
    Translate(#[from] TranslateError),
    /// The output could not be written.
    #[error("writing the 837: {0}")]
    Output(#[source] std::io::Error),
}

/// An 837 batch written one claim at a time into `sink` (a spool file), for batches too large
/// to hold: the same loops as [`write_837`], the segments passed on after each claim. What it
/// writes has not been validated: the spool passes `hms_x12::writer::check_reader` before it
/// leaves, as [`write_837`] validates its bytes.
pub struct StreamedBatch<W: std::io::Write> {
    batch: BatchWriter,
    kind: ClaimKind,
    sink: W,
}

impl<W: std::io::Write> std::fmt::Debug for StreamedBatch<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedBatch")
            .field("kind", &self.kind)
            .field("written", &self.batch.written())
            .finish_non_exhaustive()
    }
}

impl<W: std::io::Write> StreamedBatch<W> {
    /// Opens a batch of `size` of `first`'s kind (BHT03 depends on it: a batch read as it
    /// is written is opened when its second claim, or the input's end, comes).
    pub fn new(
        first: &Claim,
        size: BatchSize,
        partner: &TradingPartner,
        envelope: &Envelope,
        sink: W,
    ) -> Result<Self, TranslateError> {
        let kind = first.kind();
        Ok(Self {
            batch: BatchWriter::new(&first.parties(), size, partner, envelope, kind.guide())?,
            kind,
            sink,
        })
    }

    /// Writes the next claim.
    pub fn claim(&mut self, claim: &Claim) -> Result<(), BatchStreamError> {
        let kind = self.kind;
        if claim.kind() != kind {
            return Err(TranslateError::Missing {
                field: format!("/{}", self.batch.written()),
                message: format!(
                    "every claim of a batch must be of one kind: this one is not {kind:?} like the first (one 837 guide per batch)"
                ),
            }
            .into());
        }
        self.batch
            .claim(&claim.parties(), |out| claim.claim_loop(out))?;
        self.batch
            .drain_to(&mut self.sink)
            .map_err(BatchStreamError::Output)
    }

    /// Closes the batch and gives the sink back, flushed.
    pub fn finish(mut self) -> Result<W, BatchStreamError> {
        let tail = self.batch.finish()?;
        self.sink
            .write_all(&tail)
            .and_then(|()| self.sink.flush())
            .map_err(BatchStreamError::Output)?;
        Ok(self.sink)
    }
}

/// The 837 of `claims`, not yet validated: the lossless round trip's base, which it patches
/// back into exactly what it read (errors and all). Anything sent goes through [`write_837`].
pub(crate) fn write_837_unvalidated(
    claims: &[Claim],
    partner: &TradingPartner,
    envelope: &Envelope,
    kind: ClaimKind,
) -> Result<Vec<u8>, TranslateError> {
    batch(
        claims,
        Claim::parties,
        |out, claim| claim.claim_loop(out),
        partner,
        envelope,
        kind.guide(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kind_comes_from_the_fhir_type_or_the_type_of_bill() {
        let fhir =
            |code: &str| json!({"resourceType": "Claim", "type": {"coding": [{"code": code}]}});
        assert_eq!(
            ClaimKind::of(&fhir("institutional")),
            ClaimKind::Institutional
        );
        assert_eq!(
            ClaimKind::of(&fhir("professional")),
            ClaimKind::Professional
        );
        assert_eq!(
            ClaimKind::of(&json!({"claim": {"facilityType": "11"}})),
            ClaimKind::Institutional
        );
        assert_eq!(
            ClaimKind::of(&json!({"claim": {}})),
            ClaimKind::Professional
        );
        assert_eq!(ClaimKind::Institutional.guide(), "005010X223A2");
    }
}
