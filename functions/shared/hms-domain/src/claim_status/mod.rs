//! Claim status: our JSON inquiry written as a 276 (005010X212), and a 277 (005010X212) or a
//! 277CA (005010X214) read into per-claim statuses whose category codes are spelled out; for a
//! 277CA, each claim is plainly accepted or rejected.

use std::borrow::Cow;

use chrono::NaiveDate;
use hms_x12::spec::Catalog;
use hms_x12::tree::{self, LoopNode, SegmentNode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes;
use crate::ids::{MemberId, Npi, PatientControlNumber};
use crate::partner::{Envelope, TradingPartner};
use crate::party::{Gender, Name, Payer, Receiver};
use crate::read::{ValueError, all_loops, decimal, loops, opt, parts, period, segments, text};
use crate::request::{RequestError, json_body, parse_json};
use crate::write::{Opened, TranslateError, nm1, open};
use hms_x12::writer::Field;

/// The implementation guide of the 276/277.
pub const VERSION: &str = "005010X212";

/// A claim status inquiry, as our users send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusInquiry {
    /// The payer asked (loop 2100A).
    pub payer: Payer,
    /// Who receives the answer: the submitter (loop 2100B; the id is its ETIN).
    pub information_receiver: Receiver,
    /// The billing provider of the claim (loop 2100C).
    pub provider: StatusProvider,
    /// The insured (loop 2100D).
    pub subscriber: StatusSubscriber,
    /// The patient, when a dependent (loop 2100E).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<StatusPatient>,
    /// The claim asked about (loop 2200D or 2200E).
    pub claim: ClaimReference,
}

/// The provider of the claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusProvider {
    /// NPI.
    #[serde(deserialize_with = "crate::ids::checked_npi")]
    pub npi: Npi,
    /// Name.
    pub name: Name,
}

/// The insured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusSubscriber {
    /// Member id.
    pub member_id: MemberId,
    /// Name.
    pub name: Name,
    /// Date of birth (sent when the subscriber is the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
}

/// A dependent patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusPatient {
    /// Name.
    pub name: Name,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
}

/// Which claim: as many identifiers as the caller has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimReference {
    /// The caller's trace number, returned on the 277 (TRN02).
    pub trace_number: String,
    /// The provider's claim number (REF*EJ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_control_number: Option<PatientControlNumber>,
    /// The payer's claim number (REF*1K).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_claim_control_number: Option<String>,
    /// Total charge (AMT*T3).
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_charge: Option<Decimal>,
    /// First date of service.
    pub service_from: NaiveDate,
    /// Last date of service, for a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_to: Option<NaiveDate>,
}

/// Writes `inquiry` as a 276 interchange to `partner`.
pub fn inquiry_276(
    inquiry: &StatusInquiry,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let fail = |field: &'static str| {
        move |source| TranslateError::Write {
            field: field.to_string(),
            source,
        }
    };
    let Opened { mut w, date, time } =
        open(partner, envelope, "HR", "276", VERSION).map_err(fail("/partner"))?;
    let claim = &inquiry.claim;
    w.simple("BHT", &["0010", "13", &claim.trace_number, &date, &time])
        .map_err(fail("/claim/traceNumber"))?;
    w.simple("HL", &["1", "", "20", "1"]).map_err(fail(""))?;
    let payer = &inquiry.payer;
    w.simple("NM1", &payer.nm1("PR")).map_err(fail("/payer"))?;
    w.simple("HL", &["2", "1", "21", "1"]).map_err(fail(""))?;
    let receiver = &inquiry.information_receiver;
    w.simple(
        "NM1",
        &[
            "41",
            "2",
            &receiver.name,
            "",
            "",
            "",
            "",
            "46",
            &receiver.id,
        ],
    )
    .map_err(fail("/informationReceiver"))?;
    w.simple("HL", &["3", "2", "19", "1"]).map_err(fail(""))?;
    let provider = &inquiry.provider;
    w.simple(
        "NM1",
        &nm1("1P", &provider.name, "XX", provider.npi.as_str()),
    )
    .map_err(fail("/provider"))?;
    let dependent = inquiry.patient.as_ref();
    w.simple(
        "HL",
        &["4", "3", "22", if dependent.is_some() { "1" } else { "0" }],
    )
    .map_err(fail(""))?;
    let sub = &inquiry.subscriber;
    if dependent.is_none()
        && let Some(birth) = sub.birth_date
    {
        let birth = crate::write::ccyymmdd(birth);
        let gender = sub.gender.map(Gender::code).unwrap_or("");
        w.simple("DMG", &["D8", &birth, gender])
            .map_err(fail("/subscriber"))?;
    }
    w.simple("NM1", &nm1("IL", &sub.name, "MI", sub.member_id.as_str()))
        .map_err(fail("/subscriber"))?;
    if let Some(patient) = dependent {
        w.simple("HL", &["5", "4", "23"]).map_err(fail(""))?;
        let birth = crate::write::ccyymmdd(patient.birth_date);
        let gender = patient.gender.map(Gender::code).unwrap_or("");
        w.simple("DMG", &["D8", &birth, gender])
            .map_err(fail("/patient"))?;
        w.simple("NM1", &nm1("QC", &patient.name, "", ""))
            .map_err(fail("/patient"))?;
    }
    w.simple("TRN", &["1", &claim.trace_number])
        .map_err(fail("/claim/traceNumber"))?;
    if let Some(number) = &claim.payer_claim_control_number {
        w.simple("REF", &["1K", number])
            .map_err(fail("/claim/payerClaimControlNumber"))?;
    }
    if let Some(number) = &claim.patient_control_number {
        w.simple("REF", &["EJ", number.as_str()])
            .map_err(fail("/claim/patientControlNumber"))?;
    }
    if let Some(total) = claim.total_charge {
        let total = total.normalize().to_string();
        w.simple("AMT", &["T3", &total])
            .map_err(fail("/claim/totalCharge"))?;
    }
    let from = crate::write::ccyymmdd(claim.service_from);
    match claim.service_to {
        Some(to) if to != claim.service_from => {
            let range = format!("{from}-{}", crate::write::ccyymmdd(to));
            w.simple("DTP", &["472", "RD8", &range])
        }
        _ => w.simple("DTP", &["472", "D8", &from]),
    }
    .map_err(fail("/claim/serviceFrom"))?;
    w.end_transaction()
        .and_then(|()| w.end_group())
        .map_err(fail(""))?;
    w.finish().map_err(fail(""))
}

/// Writes `response` as a 277 claim status response (005010X212) to `partner`: the source,
/// the receiver with any batch-level status, then the claims, those of one provider in a row
/// under one provider level (2000C), those of one subscriber under one subscriber level (2000D),
/// a dependent's under a patient level (2000E).
pub fn status_277(
    response: &StatusResponse,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let fail = |field: String| move |source| TranslateError::Write { field, source };
    let Opened { mut w, date, time } =
        open(partner, envelope, "HN", "277", VERSION).map_err(fail("/partner".into()))?;
    let reference = response
        .claims
        .first()
        .map(|c| c.trace_number.as_str())
        .or(response.receiver_trace_number.as_deref())
        .unwrap_or("1");
    w.simple("BHT", &["0010", "08", reference, &date, &time, "DG"])
        .map_err(fail(String::new()))?;
    let write_party =
        |w: &mut hms_x12::writer::InterchangeWriter, party: &StatusParty, at: String| {
            let values = nm1(
                &party.entity,
                &party.name,
                party.id_qualifier.as_deref().unwrap_or(""),
                party.id.as_deref().unwrap_or(""),
            );
            w.simple("NM1", &values).map_err(fail(at))
        };
    let mut hl = 1;
    w.simple("HL", &["1", "", "20", "1"])
        .map_err(fail(String::new()))?;
    if let Some(source) = &response.source {
        write_party(&mut w, source, "/source".into())?;
    }
    let mut top = 1;
    if let Some(receiver) = &response.receiver {
        hl += 1;
        top = hl;
        let children = if response.claims.is_empty() { "0" } else { "1" };
        w.simple("HL", &[&hl.to_string(), "1", "21", children])
            .map_err(fail(String::new()))?;
        write_party(&mut w, receiver, "/receiver".into())?;
        if response.receiver_trace_number.is_some() || !response.batch_statuses.is_empty() {
            let trace = response.receiver_trace_number.as_deref().unwrap_or("");
            w.simple("TRN", &["2", trace])
                .map_err(fail("/receiverTraceNumber".into()))?;
            status_segments(&mut w, &response.batch_statuses)
                .map_err(fail("/batchStatuses".into()))?;
        }
    }
    // The open provider, subscriber and patient levels: (party, HL number).
    let mut provider: Option<(&Option<StatusParty>, u32)> = None;
    let mut subscriber: Option<(&Option<StatusParty>, u32)> = None;
    let mut patient: Option<(&Option<StatusParty>, u32)> = None;
    for (k, claim) in response.claims.iter().enumerate() {
        let at = format!("/claims/{k}");
        let new_provider = provider.is_none_or(|(p, _)| p != &claim.provider);
        if new_provider {
            hl += 1;
            w.simple("HL", &[&hl.to_string(), &top.to_string(), "19", "1"])
                .map_err(fail(at.clone()))?;
            if let Some(p) = &claim.provider {
                write_party(&mut w, p, format!("{at}/provider"))?;
            }
            provider = Some((&claim.provider, hl));
            subscriber = None;
        }
        let new_subscriber = subscriber.is_none_or(|(s, _)| s != &claim.subscriber);
        if new_subscriber {
            hl += 1;
            let parent = provider.map_or(top, |(_, n)| n);
            let children = if claim.patient.is_some() { "1" } else { "0" };
            w.simple(
                "HL",
                &[&hl.to_string(), &parent.to_string(), "22", children],
            )
            .map_err(fail(at.clone()))?;
            if let Some(s) = &claim.subscriber {
                write_party(&mut w, s, format!("{at}/subscriber"))?;
            }
            subscriber = Some((&claim.subscriber, hl));
            patient = None;
        }
        if claim.patient.is_some() && patient.is_none_or(|(p, _)| p != &claim.patient) {
            hl += 1;
            let parent = subscriber.map_or(top, |(_, n)| n);
            w.simple("HL", &[&hl.to_string(), &parent.to_string(), "23"])
                .map_err(fail(at.clone()))?;
            if let Some(p) = &claim.patient {
                write_party(&mut w, p, format!("{at}/patient"))?;
            }
            patient = Some((&claim.patient, hl));
        }
        claim_tracking(&mut w, claim).map_err(fail(at))?;
    }
    w.end_transaction()
        .and_then(|()| w.end_group())
        .map_err(fail(String::new()))?;
    // A payer's transaction: the simulated payer writes it, and the lossless round trip
    // writes its base with it and patches that back into exactly what was read. Nothing we
    // send to a payer is written here.
    w.finish_unvalidated().map_err(fail(String::new()))
}

/// Loop 2200D/E and its service lines (2220D/E).
fn claim_tracking(
    w: &mut hms_x12::writer::InterchangeWriter,
    claim: &ClaimStatus,
) -> Result<(), hms_x12::writer::WriteError> {
    w.simple("TRN", &["2", &claim.trace_number])?;
    status_segments(w, &claim.statuses)?;
    if let Some(number) = &claim.payer_claim_control_number {
        w.simple("REF", &["1K", number])?;
    }
    if let Some(number) = &claim.patient_control_number {
        w.simple("REF", &["EJ", number])?;
    }
    service_dates(w, claim.service_from, claim.service_to)?;
    for line in &claim.lines {
        let charge = line.charge.map(crate::write::amount);
        let paid = line.paid.map(crate::write::amount);
        w.segment(
            "SVC",
            &[
                Field::Composite(vec![
                    line.code_qualifier.as_deref().unwrap_or("HC"),
                    &line.code,
                ]),
                Field::Simple(charge.as_deref().unwrap_or("")),
                Field::Simple(paid.as_deref().unwrap_or("")),
            ],
        )?;
        status_segments(w, &line.statuses)?;
        if let Some(number) = &line.line_control_number {
            w.simple("REF", &["FJ", number])?;
        }
        service_dates(w, line.service_from, line.service_to)?;
    }
    Ok(())
}

/// DTP*472 with one date or a range.
fn service_dates(
    w: &mut hms_x12::writer::InterchangeWriter,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(), hms_x12::writer::WriteError> {
    let day = |d: NaiveDate| crate::write::ccyymmdd(d);
    match (from, to) {
        (Some(from), Some(to)) => w.simple(
            "DTP",
            &["472", "RD8", &format!("{}-{}", day(from), day(to))],
        ),
        (Some(from), None) => w.simple("DTP", &["472", "D8", &day(from)]),
        _ => Ok(()),
    }
}

/// The STC segments of `statuses`: each status with an effective date (STC02, which the guide
/// requires) opens an STC; up to two without one that follow it are its STC10 and STC11.
fn status_segments(
    w: &mut hms_x12::writer::InterchangeWriter,
    statuses: &[Status],
) -> Result<(), hms_x12::writer::WriteError> {
    let mut k = 0;
    while let Some((head, rest)) = statuses.get(k..).and_then(<[_]>::split_first) {
        let extra = rest
            .iter()
            .take(2)
            .take_while(|s| s.effective_date.is_none())
            .count();
        let code = |s: &'_ Status| -> Vec<String> {
            vec![
                s.category_code.clone(),
                s.status_code.clone().unwrap_or_default(),
                s.entity_code.clone().unwrap_or_default(),
                s.code_list.clone().unwrap_or_default(),
            ]
        };
        let first = code(head);
        let others: Vec<Vec<String>> = rest.iter().take(extra).map(code).collect();
        let date = head
            .effective_date
            .map(crate::write::ccyymmdd)
            .unwrap_or_default();
        let total = head
            .total_charge
            .map(crate::write::amount)
            .unwrap_or_default();
        let paid = head.paid.map(crate::write::amount).unwrap_or_default();
        fn composite(c: &[String]) -> Field<'_> {
            Field::Composite(c.iter().map(String::as_str).collect())
        }
        let mut fields = vec![
            composite(&first),
            Field::Simple(&date),
            Field::Simple(""),
            Field::Simple(&total),
            Field::Simple(&paid),
            Field::Simple(""),
            Field::Simple(""),
            Field::Simple(""),
            Field::Simple(""),
        ];
        for c in &others {
            fields.push(composite(c));
        }
        if let Some(message) = &head.message {
            fields.resize(11, Field::Simple(""));
            fields.push(Field::Simple(message));
        }
        w.segment("STC", &fields)?;
        k += 1 + extra;
    }
    Ok(())
}

/// A status inquiry as a caller sends it (our JSON).
pub fn read_inquiry(body: &[u8]) -> Result<StatusInquiry, RequestError> {
    json_body(body)?;
    parse_json(body).map_err(RequestError::Invalid)
}

/// A claim's status in one word, from its claim-level statuses (STC categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Acknowledged or accepted (A0, A1, A2, A5).
    Accepted,
    /// Any claim-level rejection (A3, A4, A6, A7, A8) or request error (E0-E4, D0).
    Rejected,
    /// Pending (P*).
    Pending,
    /// Finalized (F*).
    Finalized,
    /// The payer asks for more (R*).
    InformationRequested,
    /// No status the categories name.
    Unknown,
}

impl Verdict {
    /// The word as our JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Pending => "pending",
            Self::Finalized => "finalized",
            Self::InformationRequested => "information-requested",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a 277 could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// The X12 did not tokenize.
    #[error(transparent)]
    X12(#[from] tree::TreeError),
    /// No 277 transaction set in the input.
    #[error("no 277 transaction set found")]
    No277,
    /// A value is malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// The statuses of the claims one 277 or 277CA answers about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// ST03 or GS08: `005010X212` (277) or `005010X214` (277CA).
    pub guide: Option<String>,
    /// The payer or clearinghouse that answered (loop 2100A).
    pub source: Option<StatusParty>,
    /// Who the answer is for (loop 2100B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<StatusParty>,
    /// The trace number of a status reported for the receiver's whole batch (2200B TRN02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_trace_number: Option<String>,
    /// Statuses reported above the claim level (receiver or provider: a whole batch
    /// accepted or rejected).
    pub batch_statuses: Vec<Status>,
    /// One entry per claim.
    pub claims: Vec<ClaimStatus>,
}

/// A party of a 277 (the NM1 of loops 2100A to 2100E): who it is and how it is identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusParty {
    /// NM101: `PR` payer, `AY` clearinghouse, `41` submitter, `1P`/`85` provider, `IL`
    /// subscriber, `QC` patient.
    pub entity: String,
    /// The name.
    pub name: Name,
    /// NM108: how `id` identifies it (`PI`, `46`, `XX`, `MI`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_qualifier: Option<String>,
    /// NM109.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

pub(crate) fn party(nm1: &SegmentNode) -> StatusParty {
    StatusParty {
        entity: text(nm1, 1).to_string(),
        name: crate::claims::read_837::name(nm1),
        id_qualifier: opt(nm1, 8),
        id: opt(nm1, 9),
    }
}

/// A claim's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimStatus {
    /// TRN02: the inquiry's trace number (277) or the claim's control number echoed (277CA).
    pub trace_number: String,
    /// REF*EJ (277) or REF*D9 (277CA): the provider's claim number.
    pub patient_control_number: Option<String>,
    /// REF*1K: the payer's claim number.
    pub payer_claim_control_number: Option<String>,
    /// The provider the claim is from (loop 2100C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<StatusParty>,
    /// The subscriber as the payer has them (loop 2100D; for a 277CA, the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<StatusParty>,
    /// The patient, when a dependent of the subscriber (loop 2100E).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<StatusParty>,
    /// First and last dates of service (DTP*472).
    pub service_from: Option<NaiveDate>,
    /// Last date of service.
    pub service_to: Option<NaiveDate>,
    /// In one word: `rejected` when any claim-level status is a rejection (A3, A4, A6, A7,
    /// A8) or a request error (E0-E4, D0); otherwise what the first status says: `accepted`
    /// (A0, A1, A2, A5), `pending` (P*), `finalized` (F*), `information-requested` (R*).
    pub verdict: Verdict,
    /// The statuses (STC), most recent first as sent.
    pub statuses: Vec<Status>,
    /// Service line statuses (loop 2220).
    pub lines: Vec<LineStatus>,
}

/// One STC: category, status and entity codes with their dates and amounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// STC01-1 (and STC10-1, STC11-1 for the additional statuses).
    pub category_code: String,
    /// What it means.
    pub category: Option<Cow<'static, str>>,
    /// STC01-2: the status code (external code source 508).
    pub status_code: Option<String>,
    /// STC01-3: the entity the status is about, when it names one.
    pub entity_code: Option<String>,
    /// STC01-4: the code list of `status_code` when not the claim status codes (`RX`: an
    /// NCPDP reject/payment code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_list: Option<String>,
    /// STC02.
    pub effective_date: Option<NaiveDate>,
    /// STC04.
    #[serde(with = "crate::amount_text::option")]
    pub total_charge: Option<Decimal>,
    /// STC05.
    #[serde(with = "crate::amount_text::option")]
    pub paid: Option<Decimal>,
    /// STC12: free text from the payer.
    pub message: Option<String>,
}

/// A service line's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineStatus {
    /// SVC01-1: `HC` CPT/HCPCS, `NU` revenue code, `N4` NDC, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_qualifier: Option<String>,
    /// SVC01-2: the procedure or revenue code.
    pub code: String,
    /// SVC02.
    #[serde(with = "crate::amount_text::option")]
    pub charge: Option<Decimal>,
    /// SVC03.
    #[serde(with = "crate::amount_text::option")]
    pub paid: Option<Decimal>,
    /// REF*FJ: the provider's line control number.
    pub line_control_number: Option<String>,
    /// DTP*472: the line's date of service, first and last for a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_from: Option<NaiveDate>,
    /// Last date of service of the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_to: Option<NaiveDate>,
    /// The statuses.
    pub statuses: Vec<Status>,
}

/// Reads every 277 (claim status response, or claim acknowledgment) in `input`.
pub fn read_277(input: &[u8], catalog: &Catalog) -> Result<Vec<StatusResponse>, StatusError> {
    let doc = tree::parse(input, catalog)?;
    let mut out = vec![];
    for (_, group, tx) in crate::read::transactions(&doc, |t| t.id == "277") {
        let guide = segments(&tx.body, "ST")
            .next()
            .and_then(|st| opt(st, 3))
            .or_else(|| opt(&group.header, 8));
        out.push(response(&tx.body, guide)?);
    }
    if out.is_empty() {
        return Err(StatusError::No277);
    }
    Ok(out)
}

fn response(body: &LoopNode, guide: Option<String>) -> Result<StatusResponse, StatusError> {
    let mut source = None;
    let mut receiver = None;
    let mut receiver_trace_number = None;
    let mut batch_statuses = vec![];
    let mut claims = vec![];
    // The parties above the claims, as the hierarchy comes in file order.
    let (mut provider, mut subscriber) = (None, None);
    let nm1 = |l: &LoopNode, id: &str| {
        loops(l, id)
            .next()
            .and_then(|n| segments(n, "NM1").next())
            .map(party)
    };
    for l in all_loops(body) {
        match l.id.as_str() {
            "2000A" => source = nm1(l, "2100A"),
            "2000B" => receiver = nm1(l, "2100B"),
            "2000C" => provider = nm1(l, "2100C"),
            "2200B" | "2200C" => {
                if l.id == "2200B" {
                    receiver_trace_number = segments(l, "TRN").next().and_then(|t| opt(t, 2));
                }
                for stc in segments(l, "STC") {
                    batch_statuses.extend(statuses(stc)?);
                }
            }
            "2000D" => {
                subscriber = nm1(l, "2100D");
                for tracking in loops(l, "2200D") {
                    let context = (provider.clone(), subscriber.clone(), None);
                    claims.push(claim_status(tracking, context)?);
                }
            }
            "2000E" => {
                let patient = nm1(l, "2100E");
                for tracking in loops(l, "2200E") {
                    let context = (provider.clone(), subscriber.clone(), patient.clone());
                    claims.push(claim_status(tracking, context)?);
                }
            }
            _ => {}
        }
    }
    Ok(StatusResponse {
        guide,
        source,
        receiver,
        receiver_trace_number,
        batch_statuses,
        claims,
    })
}

/// The provider, subscriber and patient above a claim.
type Context = (
    Option<StatusParty>,
    Option<StatusParty>,
    Option<StatusParty>,
);

fn claim_status(
    tracking: &LoopNode,
    (provider, subscriber, patient): Context,
) -> Result<ClaimStatus, StatusError> {
    let reference = |q: &str| {
        segments(tracking, "REF")
            .find(|r| text(r, 1) == q)
            .and_then(|r| opt(r, 2))
    };
    let mut all = vec![];
    for stc in segments(tracking, "STC") {
        all.extend(statuses(stc)?);
    }
    let (service_from, service_to) = match segments(tracking, "DTP").find(|d| text(d, 1) == "472") {
        Some(dtp) => {
            let (_, from, to) = period(dtp)?;
            (Some(from), to)
        }
        None => (None, None),
    };
    let mut lines = vec![];
    for line in loops(tracking, "2220D").chain(loops(tracking, "2220E")) {
        let svc = segments(line, "SVC").next();
        let (line_from, line_to) = match segments(line, "DTP").find(|d| text(d, 1) == "472") {
            Some(dtp) => {
                let (_, from, to) = period(dtp)?;
                (Some(from), to)
            }
            None => (None, None),
        };
        let mut line_statuses = vec![];
        for stc in segments(line, "STC") {
            line_statuses.extend(statuses(stc)?);
        }
        lines.push(LineStatus {
            code_qualifier: svc.and_then(|s| parts(s, 1).first().map(|q| q.to_string())),
            code: svc
                .map(|s| {
                    parts(s, 1)
                        .get(1)
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                })
                .unwrap_or_default(),
            charge: match svc {
                Some(s) => decimal(s, 2)?,
                None => None,
            },
            paid: match svc {
                Some(s) => decimal(s, 3)?,
                None => None,
            },
            line_control_number: segments(line, "REF")
                .find(|r| text(r, 1) == "FJ")
                .and_then(|r| opt(r, 2)),
            service_from: line_from,
            service_to: line_to,
            statuses: line_statuses,
        });
    }
    let rejected = all.iter().any(|s| {
        matches!(
            s.category_code.as_str(),
            "A3" | "A4" | "A6" | "A7" | "A8" | "D0"
        ) || s.category_code.starts_with('E')
    });
    Ok(ClaimStatus {
        trace_number: segments(tracking, "TRN")
            .next()
            .map(|t| text(t, 2).to_string())
            .unwrap_or_default(),
        patient_control_number: reference("EJ").or_else(|| reference("D9")),
        payer_claim_control_number: reference("1K"),
        provider,
        subscriber,
        patient,
        service_from,
        service_to,
        verdict: if rejected {
            Verdict::Rejected
        } else {
            match all.first().map(|s| s.category_code.as_bytes().first()) {
                Some(Some(b'A')) => Verdict::Accepted,
                Some(Some(b'P')) => Verdict::Pending,
                Some(Some(b'F')) => Verdict::Finalized,
                Some(Some(b'R')) => Verdict::InformationRequested,
                _ => Verdict::Unknown,
            }
        },
        statuses: all,
        lines,
    })
}

/// STC01, and STC10 and STC11 when sent, as statuses sharing the STC's dates and amounts.
fn statuses(stc: &SegmentNode) -> Result<Vec<Status>, ValueError> {
    let effective_date = crate::read::date(stc, 2)?;
    let total_charge = decimal(stc, 4)?;
    let paid = decimal(stc, 5)?;
    let message = opt(stc, 12);
    let mut out = vec![];
    for n in [1, 10, 11] {
        let composite = parts(stc, n);
        let Some(category_code) = composite.first().filter(|c| !c.is_empty()) else {
            continue;
        };
        out.push(Status {
            category: codes::describe(codes::claim_status_category, category_code).map(Cow::from),
            category_code: category_code.to_string(),
            status_code: composite
                .get(1)
                .filter(|c| !c.is_empty())
                .map(|c| c.to_string()),
            entity_code: composite
                .get(2)
                .filter(|c| !c.is_empty())
                .map(|c| c.to_string()),
            code_list: composite
                .get(3)
                .filter(|c| !c.is_empty())
                .map(|c| c.to_string()),
            effective_date: if n == 1 { effective_date } else { None },
            total_charge: if n == 1 { total_charge } else { None },
            paid: if n == 1 { paid } else { None },
            message: if n == 1 { message.clone() } else { None },
        });
    }
    Ok(out)
}
