//! Eligibility: our JSON inquiry written as a 270 (005010X279A1), and a 271 read into a benefits
//! view grouped by plan, then by service type, with typed fields (network, coverage level,
//! amount, percent, time period) instead of a flat list of X12 codes, and the payer's AAA
//! rejections as errors that say what they mean and what to do.
#![allow(
    clippy::indexing_slicing,
    reason = "plan and service-type indices are positions just pushed to the same vectors"
)]

pub mod fhir;

use std::borrow::Cow;

use chrono::NaiveDate;
use hms_x12::spec::Catalog;
use hms_x12::tree::{self, Item, LoopNode, SegmentNode};
use hms_x12::writer::{Field, InterchangeWriter};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes;
use crate::ids::{MemberId, Npi};
use crate::partner::{Envelope, TradingPartner};
use crate::party::{Gender, Name, Payer};
use crate::read::{self, ValueError, all_loops, date, decimal, opt, parts, segments, text};
use crate::request::{Format, RequestError, json_body, parse_json};
use crate::write::{Opened, TranslateError, nm1, open};

/// The implementation guide of the 270/271.
pub const VERSION: &str = "005010X279A1";

/// An eligibility inquiry, as our users send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EligibilityInquiry {
    /// The provider asking (loop 2100B).
    pub provider: InquiringProvider,
    /// The payer asked (loop 2100A).
    pub payer: Payer,
    /// The insured (loop 2100C).
    pub subscriber: InquirySubscriber,
    /// The patient, when a dependent of the subscriber (loop 2100D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent: Option<InquiryDependent>,
    /// Service types asked about (EQ01); `["30"]` (health benefit plan coverage) when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_types: Vec<String>,
    /// The date of service asked about (DTP*291); the payer assumes today when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date: Option<NaiveDate>,
    /// The caller's trace number, returned on the 271 (TRN02).
    pub trace_number: String,
}

/// The provider asking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InquiringProvider {
    /// NPI.
    #[serde(deserialize_with = "crate::ids::checked_npi")]
    pub npi: Npi,
    /// Name.
    pub name: Name,
}

/// The insured, as the inquiry identifies them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InquirySubscriber {
    /// Member id.
    pub member_id: MemberId,
    /// Name.
    pub name: Name,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
}

/// A dependent patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InquiryDependent {
    /// Name.
    pub name: Name,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
}

/// Writes `inquiry` as a 270 interchange to `partner`. The trace originator (TRN03) is
/// `9` and the first nine digits of our interchange sender id padded with zeros, as the TR3
/// allows for a non-EIN originator.
pub fn inquiry_270(
    inquiry: &EligibilityInquiry,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let fail = |field: &str| {
        let field = field.to_string();
        move |source| TranslateError::Write { field, source }
    };
    let Opened { mut w, date, time } =
        open(partner, envelope, "HS", "270", VERSION).map_err(fail("/partner"))?;
    w.simple("BHT", &["0022", "13", &inquiry.trace_number, &date, &time])
        .map_err(fail("/traceNumber"))?;
    w.simple("HL", &["1", "", "20", "1"]).map_err(fail(""))?;
    let payer = &inquiry.payer;
    w.simple("NM1", &payer.nm1("PR")).map_err(fail("/payer"))?;
    w.simple("HL", &["2", "1", "21", "1"]).map_err(fail(""))?;
    let provider = &inquiry.provider;
    w.simple(
        "NM1",
        &nm1("1P", &provider.name, "XX", provider.npi.as_str()),
    )
    .map_err(fail("/provider"))?;
    let has_dependent = inquiry.dependent.is_some();
    w.simple(
        "HL",
        &["3", "2", "22", if has_dependent { "1" } else { "0" }],
    )
    .map_err(fail(""))?;
    let originator: String = format!(
        "9{:0<9}",
        partner
            .sender_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(9)
            .collect::<String>()
    );
    let trace = |w: &mut InterchangeWriter| {
        w.simple("TRN", &["1", &inquiry.trace_number, &originator])
            .map_err(fail("/traceNumber"))
    };
    if !has_dependent {
        trace(&mut w)?;
    }
    let sub = &inquiry.subscriber;
    w.simple("NM1", &nm1("IL", &sub.name, "MI", sub.member_id.as_str()))
        .map_err(fail("/subscriber"))?;
    if !has_dependent {
        if let Some(birth) = sub.birth_date {
            let birth = crate::write::ccyymmdd(birth);
            let gender = sub.gender.map(Gender::code).unwrap_or("");
            w.simple("DMG", &["D8", &birth, gender])
                .map_err(fail("/subscriber"))?;
        }
        eligibility_query(&mut w, inquiry).map_err(fail("/serviceTypes"))?;
    }
    if let Some(dep) = &inquiry.dependent {
        w.simple("HL", &["4", "3", "23", "0"]).map_err(fail(""))?;
        trace(&mut w)?;
        w.simple("NM1", &nm1("03", &dep.name, "", ""))
            .map_err(fail("/dependent"))?;
        let birth = crate::write::ccyymmdd(dep.birth_date);
        let gender = dep.gender.map(Gender::code).unwrap_or("");
        w.simple("DMG", &["D8", &birth, gender])
            .map_err(fail("/dependent"))?;
        eligibility_query(&mut w, inquiry).map_err(fail("/serviceTypes"))?;
    }
    w.end_transaction()
        .and_then(|()| w.end_group())
        .map_err(fail(""))?;
    w.finish().map_err(fail(""))
}

/// DTP*291 and EQ for the subscriber or dependent level.
fn eligibility_query(
    w: &mut InterchangeWriter,
    inquiry: &EligibilityInquiry,
) -> Result<(), hms_x12::writer::WriteError> {
    if let Some(date) = inquiry.service_date {
        let date = crate::write::ccyymmdd(date);
        w.simple("DTP", &["291", "D8", &date])?;
    }
    let types: Vec<&str> = if inquiry.service_types.is_empty() {
        vec!["30"]
    } else {
        inquiry.service_types.iter().map(String::as_str).collect()
    };
    // One EQ with the service types as repetitions (the TR3 allows up to 99).
    w.segment(
        "EQ",
        &[Field::Repeated(types.iter().map(|t| vec![*t]).collect())],
    )
}

/// An inquiry as a caller sends it: our JSON, or a FHIR `CoverageEligibilityRequest`.
pub fn read_inquiry(body: &[u8]) -> Result<(EligibilityInquiry, Format), RequestError> {
    let value = json_body(body)?;
    let read = if value["resourceType"] == "CoverageEligibilityRequest" {
        fhir::inquiry_from_fhir(&value).map(|inquiry| (inquiry, Format::Fhir))
    } else {
        parse_json(body).map(|inquiry| (inquiry, Format::Json))
    };
    read.map_err(RequestError::Invalid)
}

/// Why a 271 could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EligibilityError {
    /// The X12 did not tokenize.
    #[error(transparent)]
    X12(#[from] tree::TreeError),
    /// No 271 transaction set in the input.
    #[error("no 271 transaction set found")]
    No271,
    /// A value is malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// A 271 as our users read it: one entry per subscriber or dependent answered about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityResponse {
    /// The payer that answered.
    pub payer: Option<String>,
    /// The payer as its NM1 names it (loop 2100A): entity, name, id qualifier and id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::claim_status::StatusParty>,
    /// The provider the answer is for (loop 2100B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<crate::claim_status::StatusParty>,
    /// Rejections at the payer or provider level (AAA in 2100A/2100B).
    pub errors: Vec<Rejection>,
    /// Each member answered about.
    pub members: Vec<MemberEligibility>,
}

/// A member's eligibility and benefits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberEligibility {
    /// `subscriber` or `dependent`.
    pub level: Cow<'static, str>,
    /// Trace numbers echoed back (TRN02).
    pub trace_numbers: Vec<String>,
    /// Name as the payer has it.
    pub last_name: String,
    /// First name.
    pub first_name: Option<String>,
    /// Member id (subscriber level).
    pub member_id: Option<String>,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Rejections about this member (AAA in 2100C/D or 2110C/D).
    pub errors: Vec<Rejection>,
    /// Dates of the coverage (DTP in 2100C/D: plan begin, eligibility, ...).
    pub dates: Vec<DatedPeriod>,
    /// Benefits grouped by plan.
    pub plans: Vec<PlanBenefits>,
}

/// An AAA rejection with what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// Whether the request was valid (AAA01).
    pub valid_request: bool,
    /// Reject reason code (AAA03).
    pub reason_code: String,
    /// What it means.
    pub reason: Option<Cow<'static, str>>,
    /// Follow-up action code (AAA04).
    pub follow_up_code: String,
    /// What to do.
    pub follow_up: Option<Cow<'static, str>>,
}

/// A date or period with its qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatedPeriod {
    /// DTP01 (`291` plan, `346` plan begin, `356` eligibility begin, `307` eligibility, ...).
    pub qualifier: String,
    /// Start (or the date).
    pub from: NaiveDate,
    /// End, for a range.
    pub to: Option<NaiveDate>,
}

/// The benefits of one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanBenefits {
    /// Plan coverage description (EB05), when the payer named the plan.
    pub plan: Option<String>,
    /// Insurance type code (EB04: `HM` HMO, `PR` PPO, `MA` Medicare Part A, ...).
    pub insurance_type: Option<String>,
    /// Benefits by service type, in the order the payer sent them.
    pub service_types: Vec<ServiceTypeBenefits>,
}

/// The benefits for one service type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTypeBenefits {
    /// Service type code (EB03); `null` for benefits not tied to one.
    pub code: Option<String>,
    /// What it is.
    pub name: Option<Cow<'static, str>>,
    /// The benefits.
    pub benefits: Vec<Benefit>,
}

/// One benefit (an EB), with its codes spelled out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Benefit {
    /// Its EB's place among the member's benefits, from 0: an EB that lists several service
    /// types appears under each, with one position.
    pub position: usize,
    /// EB01.
    pub code: String,
    /// What kind (`Active Coverage`, `Co-Payment`, `Deductible`, ...).
    pub kind: Option<Cow<'static, str>>,
    /// EB02 coverage level code.
    pub coverage_level_code: Option<String>,
    /// What it means (`Individual`, `Family`, ...).
    pub coverage_level: Option<Cow<'static, str>>,
    /// EB12: `true` in network, `false` out of network, `null` when not applicable or not sent.
    pub in_network: Option<bool>,
    /// EB06 time period code.
    pub time_period_code: Option<String>,
    /// What it means (`Visit`, `Calendar Year`, `Remaining`, ...).
    pub time_period: Option<Cow<'static, str>>,
    /// EB07.
    #[serde(with = "crate::amount_text::option")]
    pub amount: Option<Decimal>,
    /// EB08, as a fraction (0.2 for 20 %).
    #[serde(with = "crate::amount_text::option")]
    pub percent: Option<Decimal>,
    /// EB09/EB10: quantity qualifier and quantity (visits, days, ...).
    pub quantity: Option<Quantity>,
    /// EB11: whether prior authorization is required.
    pub authorization_required: Option<bool>,
    /// Free-text messages (MSG).
    pub messages: Vec<String>,
    /// Dates of the benefit (DTP in 2110).
    pub dates: Vec<DatedPeriod>,
}

/// A quantity with its qualifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quantity {
    /// EB09 (`VS` visits, `DY` days, `HS` hours, ...).
    pub qualifier: String,
    /// EB10.
    #[serde(with = "crate::amount_text")]
    pub value: Decimal,
}

/// Writes `response` as a 271 (005010X279A1) to `partner`: the payer, the provider level, then
/// each member, a dependent under the subscriber before it. A member's EBs are rebuilt from the
/// benefits view: benefits of one position are one EB listing their service types; the plan is
/// named (EB04, EB05) on the first EB of each plan.
pub fn response_271(
    response: &EligibilityResponse,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let fail = |field: String| move |source| TranslateError::Write { field, source };
    let Opened { mut w, date, time } =
        open(partner, envelope, "HB", "271", VERSION).map_err(fail("/partner".into()))?;
    let reference = response
        .members
        .iter()
        .flat_map(|m| m.trace_numbers.first())
        .next()
        .map_or("1", String::as_str);
    w.simple("BHT", &["0022", "11", reference, &date, &time])
        .map_err(fail(String::new()))?;
    w.simple("HL", &["1", "", "20", "1"])
        .map_err(fail(String::new()))?;
    let party = |p: &crate::claim_status::StatusParty| {
        nm1(
            &p.entity,
            &p.name,
            p.id_qualifier.as_deref().unwrap_or(""),
            p.id.as_deref().unwrap_or(""),
        )
        .map(str::to_string)
    };
    match &response.source {
        Some(source) => {
            let values = party(source);
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            w.simple("NM1", &values)
        }
        None => w.simple("NM1", &["PR", "2", response.payer.as_deref().unwrap_or("")]),
    }
    .map_err(fail("/payer".into()))?;
    // The AAAs of the payer and provider levels are held together; a receiver's NM1 means
    // they were the receiver's (the level a payer answers "provider not found" on).
    if response.receiver.is_none() {
        rejections(&mut w, &response.errors).map_err(fail("/errors".into()))?;
    }
    w.simple("HL", &["2", "1", "21", "1"])
        .map_err(fail(String::new()))?;
    if let Some(receiver) = &response.receiver {
        let values = party(receiver);
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        w.simple("NM1", &values).map_err(fail("/receiver".into()))?;
        rejections(&mut w, &response.errors).map_err(fail("/errors".into()))?;
    }
    let mut hl = 2;
    let mut subscriber_hl = 2;
    for (k, member) in response.members.iter().enumerate() {
        let at = format!("/members/{k}");
        hl += 1;
        let dependent = member.level == "dependent";
        let has_dependents = !dependent
            && response
                .members
                .get(k + 1)
                .is_some_and(|next| next.level == "dependent");
        let hl_text = hl.to_string();
        if dependent {
            w.simple("HL", &[&hl_text, &subscriber_hl.to_string(), "23", "0"])
        } else {
            subscriber_hl = hl;
            w.simple(
                "HL",
                &[&hl_text, "2", "22", if has_dependents { "1" } else { "0" }],
            )
        }
        .map_err(fail(at.clone()))?;
        for trace in &member.trace_numbers {
            w.simple("TRN", &["2", trace])
                .map_err(fail(format!("{at}/traceNumbers")))?;
        }
        member_loop(&mut w, member, dependent).map_err(fail(at))?;
    }
    w.end_transaction()
        .and_then(|()| w.end_group())
        .map_err(fail(String::new()))?;
    // A payer's transaction: the simulated payer writes it, and the lossless round trip
    // writes its base with it and patches that back into exactly what was read. Nothing we
    // send to a payer is written here.
    w.finish_unvalidated().map_err(fail(String::new()))
}

fn rejections(
    w: &mut InterchangeWriter,
    errors: &[Rejection],
) -> Result<(), hms_x12::writer::WriteError> {
    for e in errors {
        let valid = if e.valid_request { "Y" } else { "N" };
        w.simple("AAA", &[valid, "", &e.reason_code, &e.follow_up_code])?;
    }
    Ok(())
}

/// Loop 2100C/D and its benefits (2110C/D).
fn member_loop(
    w: &mut InterchangeWriter,
    m: &MemberEligibility,
    dependent: bool,
) -> Result<(), hms_x12::writer::WriteError> {
    let entity = if dependent { "03" } else { "IL" };
    let qualifier = if m.member_id.is_some() { "MI" } else { "" };
    w.simple(
        "NM1",
        &[
            entity,
            "1",
            &m.last_name,
            m.first_name.as_deref().unwrap_or(""),
            "",
            "",
            "",
            qualifier,
            m.member_id.as_deref().unwrap_or(""),
        ],
    )?;
    rejections(w, &m.errors)?;
    if let Some(birth) = m.birth_date {
        w.simple("DMG", &["D8", &crate::write::ccyymmdd(birth)])?;
    }
    for d in &m.dates {
        dated(w, d)?;
    }
    // The EBs in position order, each with its plan and service types.
    let mut ebs: Vec<(&Benefit, &PlanBenefits, Vec<&str>)> = vec![];
    for plan in &m.plans {
        for group in &plan.service_types {
            for b in &group.benefits {
                match ebs.iter_mut().find(|(e, _, _)| e.position == b.position) {
                    Some((_, _, codes)) => codes.extend(group.code.as_deref()),
                    None => ebs.push((b, plan, group.code.as_deref().into_iter().collect())),
                }
            }
        }
    }
    ebs.sort_by_key(|(b, _, _)| b.position);
    let mut named: Vec<&PlanBenefits> = vec![];
    for (b, plan, codes) in ebs {
        let first_of_plan = !named.iter().any(|p| std::ptr::eq(*p, plan));
        if first_of_plan {
            named.push(plan);
        }
        let (insurance, name) = if first_of_plan {
            (plan.insurance_type.as_deref(), plan.plan.as_deref())
        } else {
            (None, None)
        };
        let flag = |v: Option<bool>| match v {
            Some(true) => "Y",
            Some(false) => "N",
            None => "",
        };
        let amount = b.amount.map(crate::write::amount).unwrap_or_default();
        let percent = b.percent.map(crate::write::amount).unwrap_or_default();
        let (quantity_qualifier, quantity) = match &b.quantity {
            Some(q) => (q.qualifier.as_str(), crate::write::amount(q.value)),
            None => ("", String::new()),
        };
        w.segment(
            "EB",
            &[
                Field::Simple(&b.code),
                Field::Simple(b.coverage_level_code.as_deref().unwrap_or("")),
                Field::Repeated(codes.iter().map(|c| vec![*c]).collect()),
                Field::Simple(insurance.unwrap_or("")),
                Field::Simple(name.unwrap_or("")),
                Field::Simple(b.time_period_code.as_deref().unwrap_or("")),
                Field::Simple(&amount),
                Field::Simple(&percent),
                Field::Simple(quantity_qualifier),
                Field::Simple(&quantity),
                Field::Simple(flag(b.authorization_required)),
                Field::Simple(flag(b.in_network)),
            ],
        )?;
        for d in &b.dates {
            dated(w, d)?;
        }
        for message in &b.messages {
            w.simple("MSG", &[message])?;
        }
    }
    Ok(())
}

/// A DTP with one date or a range.
fn dated(w: &mut InterchangeWriter, d: &DatedPeriod) -> Result<(), hms_x12::writer::WriteError> {
    let day = |d: NaiveDate| crate::write::ccyymmdd(d);
    match d.to {
        Some(to) => w.simple(
            "DTP",
            &[&d.qualifier, "RD8", &format!("{}-{}", day(d.from), day(to))],
        ),
        None => w.simple("DTP", &[&d.qualifier, "D8", &day(d.from)]),
    }
}

/// Reads every 271 transaction set in `input`.
pub fn read_271(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<EligibilityResponse>, EligibilityError> {
    let doc = tree::parse(input, catalog)?;
    let mut out = vec![];
    for (_, _, tx) in read::transactions(&doc, |t| t.id == "271") {
        out.push(response(&tx.body)?);
    }
    if out.is_empty() {
        return Err(EligibilityError::No271);
    }
    Ok(out)
}

fn response(body: &LoopNode) -> Result<EligibilityResponse, EligibilityError> {
    let mut payer = None;
    let mut source = None;
    let mut receiver = None;
    let mut errors = vec![];
    let mut members = vec![];
    for l in all_loops(body) {
        match l.id.as_str() {
            "2100A" => {
                let nm1 = segments(l, "NM1").next();
                payer = nm1.map(|n| text(n, 3).to_string());
                source = nm1.map(crate::claim_status::party);
                errors.extend(segments(l, "AAA").map(rejection));
            }
            "2100B" => {
                receiver = segments(l, "NM1").next().map(crate::claim_status::party);
                errors.extend(segments(l, "AAA").map(rejection));
            }
            "2000C" => members.push(member(l, "subscriber")?),
            "2000D" => members.push(member(l, "dependent")?),
            _ => {}
        }
    }
    Ok(EligibilityResponse {
        payer,
        source,
        receiver,
        errors,
        members,
    })
}

fn member(hl_loop: &LoopNode, level: &'static str) -> Result<MemberEligibility, EligibilityError> {
    let level = Cow::Borrowed(level);
    let trace_numbers = segments(hl_loop, "TRN")
        .map(|t| text(t, 2).to_string())
        .collect();
    let name_loop = hl_loop.content.iter().find_map(|i| match i {
        Item::Loop(l) if l.id == "2100C" || l.id == "2100D" => Some(l),
        _ => None,
    });
    let mut m = MemberEligibility {
        level,
        trace_numbers,
        last_name: String::new(),
        first_name: None,
        member_id: None,
        birth_date: None,
        errors: vec![],
        dates: vec![],
        plans: vec![],
    };
    let Some(name_loop) = name_loop else {
        return Ok(m);
    };
    if let Some(nm1) = segments(name_loop, "NM1").next() {
        m.last_name = text(nm1, 3).to_string();
        m.first_name = opt(nm1, 4);
        m.member_id = opt(nm1, 9);
    }
    if let Some(dmg) = segments(name_loop, "DMG").next() {
        m.birth_date = date(dmg, 2)?;
    }
    m.errors.extend(segments(name_loop, "AAA").map(rejection));
    for dtp in segments(name_loop, "DTP") {
        m.dates.push(period(dtp)?);
    }
    // 2110C/D: each EB with what follows it. A benefit without a plan name belongs to the plan
    // last named before it (payers name the plan once, on the active-coverage EB).
    let mut current_plan: Option<(Option<String>, Option<String>)> = None;
    for (position, info) in name_loop
        .content
        .iter()
        .filter_map(|i| match i {
            Item::Loop(l) if l.id == "2110C" || l.id == "2110D" => Some(l),
            _ => None,
        })
        .enumerate()
    {
        let Some(eb) = segments(info, "EB").next() else {
            continue;
        };
        m.errors.extend(segments(info, "AAA").map(rejection));
        let plan_name = opt(eb, 5);
        let insurance = opt(eb, 4);
        if plan_name.is_some() || current_plan.is_none() {
            current_plan = Some((plan_name.clone(), insurance.clone()));
        }
        let (plan, default_insurance) = current_plan.clone().unwrap_or_default();
        let benefit = benefit(eb, info, position)?;
        let plan_index = match m.plans.iter().position(|p| p.plan == plan) {
            Some(i) => i,
            None => {
                m.plans.push(PlanBenefits {
                    plan: plan.clone(),
                    insurance_type: insurance.clone().or(default_insurance),
                    service_types: vec![],
                });
                m.plans.len() - 1
            }
        };
        let group = &mut m.plans[plan_index];
        let codes = parts(eb, 3);
        let codes: Vec<Option<String>> = if codes.is_empty() {
            vec![None]
        } else {
            codes.into_iter().map(|c| Some(c.to_string())).collect()
        };
        for code in codes {
            let index = match group.service_types.iter().position(|s| s.code == code) {
                Some(i) => i,
                None => {
                    group.service_types.push(ServiceTypeBenefits {
                        name: code
                            .as_deref()
                            .and_then(|c| codes::describe(codes::service_type, c))
                            .map(Cow::from),
                        code: code.clone(),
                        benefits: vec![],
                    });
                    group.service_types.len() - 1
                }
            };
            group.service_types[index].benefits.push(benefit.clone());
        }
    }
    Ok(m)
}

fn benefit(
    eb: &SegmentNode,
    info: &LoopNode,
    position: usize,
) -> Result<Benefit, EligibilityError> {
    let code = text(eb, 1).to_string();
    let level = opt(eb, 2);
    let period_code = opt(eb, 6);
    let percent = decimal(eb, 8)?;
    let quantity = match (opt(eb, 9), decimal(eb, 10)?) {
        (Some(qualifier), Some(value)) => Some(Quantity { qualifier, value }),
        _ => None,
    };
    let mut dates = vec![];
    for dtp in segments(info, "DTP") {
        dates.push(period(dtp)?);
    }
    Ok(Benefit {
        position,
        kind: codes::describe(codes::eligibility_benefit, &code).map(Cow::from),
        code,
        coverage_level: level
            .as_deref()
            .and_then(|l| codes::describe(codes::coverage_level, l))
            .map(Cow::from),
        coverage_level_code: level,
        in_network: yes_no(text(eb, 12)),
        time_period: period_code
            .as_deref()
            .and_then(|p| codes::describe(codes::time_period, p))
            .map(Cow::from),
        time_period_code: period_code,
        amount: decimal(eb, 7)?,
        percent,
        quantity,
        authorization_required: yes_no(text(eb, 11)),
        messages: segments(info, "MSG")
            .map(|m| text(m, 1).to_string())
            .collect(),
        dates,
    })
}

fn yes_no(code: &str) -> Option<bool> {
    match code {
        "Y" => Some(true),
        "N" => Some(false),
        _ => None,
    }
}

fn rejection(aaa: &SegmentNode) -> Rejection {
    let reason_code = text(aaa, 3).to_string();
    let follow_up_code = text(aaa, 4).to_string();
    Rejection {
        valid_request: text(aaa, 1) == "Y",
        reason: codes::describe(codes::reject_reason, &reason_code).map(Cow::from),
        reason_code,
        follow_up: codes::describe(codes::follow_up_action, &follow_up_code).map(Cow::from),
        follow_up_code,
    }
}

fn period(dtp: &SegmentNode) -> Result<DatedPeriod, EligibilityError> {
    let (qualifier, from, to) = read::period(dtp)?;
    Ok(DatedPeriod {
        qualifier,
        from,
        to,
    })
}
