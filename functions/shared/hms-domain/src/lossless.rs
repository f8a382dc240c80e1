//! X12 → domain → X12 without losing anything.
//!
//! The domain model holds what HMS-ACH interprets; a TR3 transaction set can hold more (every
//! situational segment and element). Read for a round trip, a transaction set becomes its model
//! and, beside it, what the model does not hold: the patch that turns what the writer makes of
//! the model back into the original ([`hms_x12::patch`]). Writing applies it again. Both travel
//! together as a [`Preserved`], as JSON too, so a claim read from X12, stored, and sent again
//! is the claim that came in.
//!
//! Where the model holds an element but writes it differently, the patch records a *conflict*:
//! the model lost or altered data. The round-trip tests list every conflict over the shared
//! samples, so each one is a known, named gap of the model and a new one fails the build.

use chrono::{NaiveDateTime, NaiveTime};
use hms_x12::Delimiters;
use hms_x12::patch::{self, Comparison, Conflict, LoopPatch, PatchError};
use hms_x12::spec::Catalog;
use hms_x12::tree::{self, GroupNode, InterchangeNode, TransactionNode, TreeError, Value};
use hms_x12::writer::WriteError;
use serde::{Deserialize, Serialize};

use crate::claim_status::StatusResponse;
use crate::claims::claim::write_837_unvalidated;
use crate::claims::model::{InstitutionalClaim, ProfessionalClaim};
use crate::claims::{Claim, ClaimKind};
use crate::eligibility::EligibilityResponse;
use crate::partner::{ControlNumbers, Envelope, TradingPartner, Usage};
use crate::read::{ValueError, transactions};
use crate::remittance::Remittance;
use crate::write::TranslateError;

/// Elements a writer makes from the envelope or the structure, not from the model: control
/// numbers, counts, the guide version, the transaction's own reference, date and time
/// (BHT03-05), and the HL numbering. A difference there travels in the patch but is no conflict.
pub const ENVELOPE_ELEMENTS: &[(&str, usize)] = &[
    // HL01, HL02, HL04: numbers, parents and has-children, which the writer computes from the
    // hierarchy.
    ("HL", 1),
    ("HL", 2),
    ("HL", 4),
    ("ST", 2),
    ("ST", 3),
    ("SE", 1),
    ("SE", 2),
    ("BHT", 3),
    ("BHT", 4),
    ("BHT", 5),
];

/// A transaction set's model and what it does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preserved<T> {
    /// What the model holds.
    pub model: T,
    /// The interchange identities and control numbers it came with.
    pub envelope: Received,
    /// The rest of the original, as a patch over what the writer makes of `model` (empty when
    /// the model holds everything).
    #[serde(default, skip_serializing_if = "LoopPatch::is_empty")]
    pub unmapped: LoopPatch,
    /// Where the model writes a value other than the original's (not serialized: it is a
    /// finding about the model, recomputed on every read).
    #[serde(skip)]
    pub conflicts: Vec<String>,
}

/// The envelope a transaction set was received in: who sent it to whom (ISA, GS), its control
/// numbers and its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// The identities, as a trading partner would configure them.
    pub partner: TradingPartner,
    /// ISA13, GS06 and ST02.
    pub interchange_control: u32,
    /// GS06.
    pub group_control: u32,
    /// ST02.
    pub transaction_control: u32,
    /// GS04/GS05.
    pub created: NaiveDateTime,
    /// GS08: the guide version the group was sent under (an erratum's, say), which the
    /// transaction set's ST03 repeats.
    pub version: String,
}

impl Received {
    /// The envelope to write the model in again.
    pub fn envelope(&self) -> Envelope {
        Envelope {
            control: ControlNumbers {
                interchange: self.interchange_control,
                group: self.group_control,
                transaction: self.transaction_control,
            },
            created: self.created,
        }
    }
}

/// Why a round trip could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LosslessError {
    /// The X12 did not parse.
    #[error(transparent)]
    X12(#[from] TreeError),
    /// A value of the original is missing or malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The model could not be written.
    #[error(transparent)]
    Translate(#[from] TranslateError),
    /// The writer's X12 could not be written out again.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The kept X12 does not fit the model any more.
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// The 271 could not be read into the domain.
    #[error(transparent)]
    Eligibility(#[from] crate::eligibility::EligibilityError),
    /// The 277 could not be read into the domain.
    #[error(transparent)]
    Status(#[from] crate::claim_status::StatusError),
    /// The 835 could not be read into the domain.
    #[error(transparent)]
    Remit(#[from] crate::remittance::RemitError),
    /// No transaction set of the kind asked for.
    #[error("no {0} transaction set found")]
    NoTransaction(&'static str),
    /// The writer made something other than one interchange with one transaction set.
    #[error("the writer's output is not one transaction set")]
    Shape,
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(t)) => t.trim().to_string(),
        _ => String::new(),
    }
}

/// The envelope of `tx`, read from its interchange and group.
fn received(
    interchange: &InterchangeNode,
    group: &GroupNode,
    tx: &TransactionNode,
) -> Result<Received, ValueError> {
    let isa = &interchange.header.elements;
    let gs = &group.header.elements;
    let bad = |segment: &str, element: usize, message: String| ValueError {
        line: if segment == "ISA" {
            interchange.header.line
        } else {
            group.header.line
        },
        segment: segment.into(),
        element,
        message,
    };
    let number = |segment: &str, element: usize, value: String| {
        value.parse::<u32>().map_err(|_| {
            bad(
                segment,
                element,
                format!("{value:?} is not a control number"),
            )
        })
    };
    let date = text(gs.get(3));
    let time = text(gs.get(4));
    let created = crate::read::ccyymmdd(&date)
        .ok_or_else(|| bad("GS", 4, format!("{date:?} is not a CCYYMMDD date")))?
        .and_time(hhmm(&time).ok_or_else(|| bad("GS", 5, format!("{time:?} is not a time")))?);
    Ok(Received {
        partner: TradingPartner {
            sender_qualifier: text(isa.get(4)),
            sender_id: text(isa.get(5)),
            receiver_qualifier: text(isa.get(6)),
            receiver_id: text(isa.get(7)),
            application_sender: text(gs.get(1)),
            application_receiver: text(gs.get(2)),
            usage: if text(isa.get(14)) == "P" {
                Usage::Production
            } else {
                Usage::Test
            },
            ack_requested: text(isa.get(13)) == "1",
            submitter: None,
        },
        interchange_control: number("ISA", 13, text(isa.get(12)))?,
        group_control: number("GS", 6, text(gs.get(5)))?,
        transaction_control: number("ST", 2, tx.control.trim().to_string())?,
        created,
        version: text(gs.get(7)),
    })
}

/// `HHMM` (seconds and fractions, when sent, are left to the patch).
fn hhmm(t: &str) -> Option<NaiveTime> {
    let digits = t.get(..4)?;
    NaiveTime::parse_from_str(digits, "%H%M").ok()
}

/// The patch from `written` (the writer's X12 of one transaction set) to `original`, with its
/// conflicts.
pub fn unmapped(
    original: &TransactionNode,
    written: &[u8],
    catalog: &Catalog,
) -> Result<(LoopPatch, Vec<Conflict>), LosslessError> {
    let doc = tree::parse(written, catalog)?;
    let built = only_transaction(&doc)?;
    let mut conflicts = vec![];
    let how = Comparison {
        catalog,
        envelope: ENVELOPE_ELEMENTS,
        strict: false,
    };
    let patch = patch::diff(&original.body, &built.body, how, &mut conflicts);
    Ok((patch, conflicts))
}

fn only_transaction(doc: &tree::Document) -> Result<&TransactionNode, LosslessError> {
    match doc.interchanges.as_slice() {
        [ic] => match ic.groups.as_slice() {
            [g] => match g.transactions.as_slice() {
                [tx] => Ok(tx),
                _ => Err(LosslessError::Shape),
            },
            _ => Err(LosslessError::Shape),
        },
        _ => Err(LosslessError::Shape),
    }
}

/// `written` (the writer's X12 of one transaction set) with `unmapped` applied, in a group of
/// guide version `version` (GS08).
pub fn restore(
    written: &[u8],
    unmapped: &LoopPatch,
    version: &str,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    let mut doc = tree::parse(written, catalog)?;
    if let Some(gs08) = doc
        .interchanges
        .first_mut()
        .and_then(|i| i.groups.first_mut())
        .and_then(|g| g.header.elements.get_mut(7))
        && !version.is_empty()
    {
        *gs08 = Value::Text(version.into());
    }
    let delimiters = Delimiters::from_isa(written, 0)
        .map(|(d, _)| d)
        .unwrap_or_default();
    let tx = doc
        .interchanges
        .first_mut()
        .and_then(|i| i.groups.first_mut())
        .and_then(|g| g.transactions.first_mut())
        .ok_or(LosslessError::Shape)?;
    patch::apply(&mut tx.body, unmapped)?;
    Ok(patch::to_x12(&doc, catalog, delimiters, true)?)
}

/// What differs in meaning between two transaction sets, their SE01 counts aside (a writer
/// counts afresh): nothing, for a faithful round trip.
pub fn differences(a: &TransactionNode, b: &TransactionNode, catalog: &Catalog) -> Vec<String> {
    let mut conflicts = vec![];
    let how = Comparison {
        catalog,
        envelope: &[("SE", 1)],
        strict: true,
    };
    patch::diff(&a.body, &b.body, how, &mut conflicts);
    conflicts.iter().map(Conflict::to_string).collect()
}

/// A writer of one transaction set from its model.
type Writer<T> = fn(&T, &TradingPartner, &Envelope) -> Result<Vec<u8>, TranslateError>;

/// `model`, read from `tx`, with what it does not hold.
fn preserve<T>(
    model: T,
    (interchange, group, tx): (&InterchangeNode, &GroupNode, &TransactionNode),
    write: Writer<T>,
    catalog: &Catalog,
) -> Result<Preserved<T>, LosslessError> {
    let envelope = received(interchange, group, tx)?;
    let written = write(&model, &envelope.partner, &envelope.envelope())?;
    let (unmapped, conflicts) = unmapped(tx, &written, catalog)?;
    Ok(Preserved {
        model,
        envelope,
        unmapped,
        conflicts: conflicts.iter().map(Conflict::to_string).collect(),
    })
}

/// A [`Preserved`] transaction set written back: the original, when neither was changed.
fn write_back<T>(
    preserved: &Preserved<T>,
    write: Writer<T>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    let envelope = &preserved.envelope;
    let written = write(&preserved.model, &envelope.partner, &envelope.envelope())?;
    restore(&written, &preserved.unmapped, &envelope.version, catalog)
}

// A `Writer<Vec<ProfessionalClaim>>`: the model of an 837 transaction set is its claims.
#[allow(clippy::ptr_arg)]
fn write_837p(
    claims: &Vec<ProfessionalClaim>,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let claims: Vec<Claim> = claims.iter().cloned().map(Claim::from).collect();
    let kind = claims.first().map_or(ClaimKind::Professional, Claim::kind);
    write_837_unvalidated(&claims, partner, envelope, kind)
}

/// The models `models` (one per transaction set with id `set`, in file order) of `input`, each
/// preserved: those `wanted` picks, written back with `write`.
fn preserve_all<T>(
    input: &[u8],
    catalog: &Catalog,
    models: Vec<T>,
    set: &str,
    wanted: impl Fn(&TransactionNode) -> bool,
    write: Writer<T>,
) -> Result<Vec<Preserved<T>>, LosslessError> {
    let doc = tree::parse(input, catalog)?;
    let sets = transactions(&doc, |t| t.id == set);
    if sets.len() != models.len() {
        return Err(LosslessError::Shape);
    }
    models
        .into_iter()
        .zip(sets)
        .filter(|(_, (_, _, t))| wanted(t))
        .map(|(model, at)| preserve(model, at, write, catalog))
        .collect()
}

/// The claims of every 837 transaction set `wanted` picks, each read by `claims`.
fn preserve_claims<C>(
    input: &[u8],
    catalog: &Catalog,
    wanted: fn(&TransactionNode) -> bool,
    claims: fn(&tree::LoopNode) -> Result<Vec<C>, ValueError>,
    write: Writer<Vec<C>>,
    kind: &'static str,
) -> Result<Vec<Preserved<Vec<C>>>, LosslessError> {
    let doc = tree::parse(input, catalog)?;
    let mut out = vec![];
    for at in transactions(&doc, wanted) {
        out.push(preserve(claims(&at.2.body)?, at, write, catalog)?);
    }
    if out.is_empty() {
        return Err(LosslessError::NoTransaction(kind));
    }
    Ok(out)
}

/// Every 837P transaction set of `input`, each as its claims and what they do not hold.
pub fn read_837p(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<Preserved<Vec<ProfessionalClaim>>>, LosslessError> {
    use crate::claims::read_837::{is_837p, transaction_claims};
    preserve_claims(
        input,
        catalog,
        is_837p,
        transaction_claims,
        write_837p,
        "837P",
    )
}

/// The 837P of a [`Preserved`] transaction set: the original, when neither was changed.
pub fn write_837p_back(
    preserved: &Preserved<Vec<ProfessionalClaim>>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    write_back(preserved, write_837p, catalog)
}

/// Every 835 transaction set of `input`, each as its remittance and what it does not hold.
pub fn read_835(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<Preserved<Remittance>>, LosslessError> {
    let remittances = crate::remittance::read_835(input, catalog)?;
    let all = |_: &TransactionNode| true;
    preserve_all(
        input,
        catalog,
        remittances,
        "835",
        all,
        crate::remittance::write_835::remittance_835,
    )
}

/// The 835 of a [`Preserved`] remittance: the original, when neither was changed.
pub fn write_835_back(
    preserved: &Preserved<Remittance>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    write_back(
        preserved,
        crate::remittance::write_835::remittance_835,
        catalog,
    )
}

/// Every 277 claim status response (005010X212) of `input`, each as its statuses and what they
/// do not hold. (A 277CA is written from the scrubber's findings, not read back.)
pub fn read_277(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<Preserved<StatusResponse>>, LosslessError> {
    let responses = crate::claim_status::read_277(input, catalog)?;
    let x212 = |t: &TransactionNode| t.guide.as_deref() == Some(crate::claim_status::VERSION);
    let out = preserve_all(
        input,
        catalog,
        responses,
        "277",
        x212,
        crate::claim_status::status_277,
    )?;
    if out.is_empty() {
        return Err(LosslessError::NoTransaction("277 (005010X212)"));
    }
    Ok(out)
}

/// The 277 of a [`Preserved`] status response: the original, when neither was changed.
pub fn write_277_back(
    preserved: &Preserved<StatusResponse>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    write_back(preserved, crate::claim_status::status_277, catalog)
}

/// Every 271 of `input`, each as its benefits view and what the view does not hold.
pub fn read_271(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<Preserved<EligibilityResponse>>, LosslessError> {
    let responses = crate::eligibility::read_271(input, catalog)?;
    let all = |_: &TransactionNode| true;
    preserve_all(
        input,
        catalog,
        responses,
        "271",
        all,
        crate::eligibility::response_271,
    )
}

/// The 271 of a [`Preserved`] eligibility response: the original, when neither was changed.
pub fn write_271_back(
    preserved: &Preserved<EligibilityResponse>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    write_back(preserved, crate::eligibility::response_271, catalog)
}

#[allow(clippy::ptr_arg)] // as `write_837p`
fn write_837i(
    claims: &Vec<InstitutionalClaim>,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let claims: Vec<Claim> = claims.iter().cloned().map(Claim::from).collect();
    let kind = claims.first().map_or(ClaimKind::Professional, Claim::kind);
    write_837_unvalidated(&claims, partner, envelope, kind)
}

/// Every 837I transaction set of `input`, each as its claims and what they do not hold.
pub fn read_837i(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<Preserved<Vec<InstitutionalClaim>>>, LosslessError> {
    use crate::claims::read_837::{institutional_claims, is_837i};
    preserve_claims(
        input,
        catalog,
        is_837i,
        institutional_claims,
        write_837i,
        "837I",
    )
}

/// The 837I of a [`Preserved`] transaction set: the original, when neither was changed.
pub fn write_837i_back(
    preserved: &Preserved<Vec<InstitutionalClaim>>,
    catalog: &Catalog,
) -> Result<Vec<u8>, LosslessError> {
    write_back(preserved, write_837i, catalog)
}
