//! Remittance: an 835 read into the domain — the payment (BPR/TRN), each claim payment (CLP)
//! with its adjustments (CAS), service payments (SVC), remark codes (LQ), and provider-level
//! adjustments (PLB) — and its JSON form, which says whether the payment balances.

pub mod balance;
pub mod fhir;
pub mod stream;
pub mod write_835;

use std::borrow::Cow;

use chrono::NaiveDate;
use compact_str::CompactString;
use hms_x12::spec::Catalog;
use hms_x12::tree;
use hms_x12::validate::Placement;
use hms_x12::walk::Place;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::read::{Fields, Line, ValueError, amount, date, decimal, opt, parts, text};

/// Why an 835 could not be read into the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemitError {
    /// The X12 did not tokenize.
    #[error(transparent)]
    X12(#[from] tree::TreeError),
    /// No 835 transaction set in the input.
    #[error("no 835 transaction set found")]
    No835,
    /// An 835 names an implementation convention (ST03, else GS08) other than 005010X221A1.
    #[error(
        "line {line}: this 835 is not 005010X221A1 (ST03, or GS08 when ST03 is empty), the only 835 guide read here"
    )]
    NoGuide {
        /// The ST's line.
        line: usize,
    },
    /// A value the guide requires is missing or malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// One 835 transaction set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remittance {
    /// How the money moves (BPR, TRN).
    pub payment: Payment,
    /// The payer (loop 1000A).
    pub payer: Party,
    /// The payee (loop 1000B).
    pub payee: Party,
    /// Claim payments (loop 2100), in file order.
    pub claims: Vec<ClaimPayment>,
    /// Provider-level adjustments (PLB).
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// Whether the payment amount equals the claims' payments less the provider adjustments.
    pub balance: Balance,
}

/// The payment (BPR) and its trace (TRN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// BPR01 (`I` remittance with payment, `H` notification only, ...).
    pub handling_code: String,
    /// BPR02.
    #[serde(with = "crate::amount_text")]
    pub amount: Decimal,
    /// BPR03: `C` credit, `D` debit.
    pub credit_debit: String,
    /// BPR04: `ACH`, `CHK`, `BOP`, `FWT`, `NON`.
    pub method: String,
    /// BPR16: the check issue or EFT effective date.
    pub date: Option<NaiveDate>,
    /// TRN02: the check or EFT trace number that reassociates payment and remittance.
    pub trace_number: String,
    /// TRN03: the payer's identifier on the trace.
    pub originator: Option<String>,
}

/// A payer or payee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    /// N102.
    pub name: String,
    /// N103/N104, when sent.
    pub id: Option<PartyId>,
    /// The party's other identifiers (its REF segments): the payer's `2U` payer
    /// identification number, the payee's `TJ` federal tax id, ... (what matches a payment to
    /// the payer a claim went to, and to the organization it belongs to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<PartyId>,
    /// Where it is (N3, N4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PartyAddress>,
    /// Whom to ask (PER): a payer's business and technical contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<PartyContact>,
}

/// A payer's or payee's address as an 835 carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyAddress {
    /// N301, N302.
    pub lines: Vec<String>,
    /// N401.
    pub city: String,
    /// N402.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// N403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// A contact of a payer (PER).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyContact {
    /// PER01: `CX` claims office, `BL` technical department, `IC` web site.
    pub function: String,
    /// PER02.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// PER03/PER04, and PER05/PER06 when sent: `TE` telephone, `EM` email, `UR` URL, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<PartyId>,
}

impl Party {
    /// The identifier qualified `qualifier`, the N1's or a REF's.
    pub fn identifier(&self, qualifier: &str) -> Option<&str> {
        self.id
            .iter()
            .chain(&self.references)
            .find(|i| i.qualifier == qualifier)
            .map(|i| i.value.as_str())
    }
}

/// An identifier with its qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyId {
    /// `XX` NPI, `FI` tax id, `XV` CMS plan id, ...
    pub qualifier: String,
    /// The identifier.
    pub value: String,
}

/// Claim status codes of CLP02 with what they mean.
pub fn claim_status(code: &str) -> &'static str {
    match code {
        "1" => "Processed as primary",
        "2" => "Processed as secondary",
        "3" => "Processed as tertiary",
        "4" => "Denied",
        "19" => "Processed as primary, forwarded to additional payer(s)",
        "20" => "Processed as secondary, forwarded to additional payer(s)",
        "21" => "Processed as tertiary, forwarded to additional payer(s)",
        "22" => "Reversal of previous payment",
        "23" => "Not our claim, forwarded to additional payer(s)",
        "25" => "Predetermination pricing only, no payment",
        _ => "Unknown claim status code",
    }
}

/// Claim adjustment group codes (CAS01) with what they mean.
pub fn adjustment_group(code: &str) -> &'static str {
    match code {
        "CO" => "Contractual obligations",
        "CR" => "Corrections and reversals",
        "OA" => "Other adjustments",
        "PI" => "Payor initiated reductions",
        "PR" => "Patient responsibility",
        _ => "Unknown group code",
    }
}

/// One claim payment (CLP and what follows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimPayment {
    /// LX01 of the header the payer reported the claim under (payers group claims by
    /// provider, bill type or date), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_number: Option<CompactString>,
    /// CLP01: the provider's claim number, as sent on the 837.
    pub patient_control_number: CompactString,
    /// CLP02.
    pub status_code: CompactString,
    /// What CLP02 means.
    pub status: Cow<'static, str>,
    /// CLP03.
    #[serde(with = "crate::amount_text")]
    pub charge: Decimal,
    /// CLP04.
    #[serde(with = "crate::amount_text")]
    pub paid: Decimal,
    /// CLP05.
    #[serde(with = "crate::amount_text::option")]
    pub patient_responsibility: Option<Decimal>,
    /// CLP06.
    pub claim_filing_indicator: CompactString,
    /// CLP07: the payer's claim number.
    pub payer_claim_control_number: Option<CompactString>,
    /// CLP08: the facility code (place of service for professional claims, the bill type's
    /// first two digits for institutional ones).
    pub facility_code: Option<CompactString>,
    /// Whether the payer sent inpatient adjudication information (MIA): an inpatient claim.
    pub inpatient: bool,
    /// The patient's name and id (NM1*QC), as the payer has them.
    pub patient: Option<PersonRef>,
    /// Claim-level adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Service lines.
    pub services: Vec<ServicePayment>,
}

/// A person named on a remittance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    /// Last name.
    pub last: CompactString,
    /// First name.
    pub first: Option<CompactString>,
    /// Identifier (NM109).
    pub id: Option<CompactString>,
    /// What kind of identifier (NM108: `MI` member id, `HN` Medicare claim number, `II`
    /// unique health id, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_qualifier: Option<CompactString>,
}

/// One adjustment: group, reason (CARC), amount, quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    /// CAS01.
    pub group_code: CompactString,
    /// What the group means.
    pub group: Cow<'static, str>,
    /// Claim adjustment reason code.
    pub reason_code: CompactString,
    /// What it means (code list 139), when the embedded list has the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Cow<'static, str>>,
    /// Amount.
    #[serde(with = "crate::amount_text")]
    pub amount: Decimal,
    /// Quantity, when sent.
    #[serde(with = "crate::amount_text::option")]
    pub quantity: Option<Decimal>,
}

/// One service payment (SVC and what follows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePayment {
    /// SVC01-01: `HC` HCPCS/CPT, `NU` revenue code, ...
    pub code_qualifier: CompactString,
    /// SVC01-02.
    pub procedure_code: CompactString,
    /// SVC01-03 to -06.
    pub modifiers: Vec<CompactString>,
    /// SVC02.
    #[serde(with = "crate::amount_text")]
    pub charge: Decimal,
    /// SVC03.
    #[serde(with = "crate::amount_text")]
    pub paid: Decimal,
    /// SVC05 (1 when absent).
    #[serde(with = "crate::amount_text::option")]
    pub units: Option<Decimal>,
    /// DTM*472 (or the start of a period, DTM*150).
    pub service_date: Option<NaiveDate>,
    /// The end of a period of service (DTM*151), for a line that covers several days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date_end: Option<NaiveDate>,
    /// REF*6R: the provider's line control number.
    pub line_control_number: Option<CompactString>,
    /// Adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Remark codes (LQ*HE), with what they mean.
    pub remarks: Vec<Remark>,
}

/// A remittance advice remark code (RARC) and what it means (code list 411), when the
/// embedded list has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remark {
    /// LQ02.
    pub code: CompactString,
    /// What it means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'static, str>>,
}

impl Remark {
    /// `code` with its description.
    pub fn new(code: &str) -> Self {
        Self {
            code: code.into(),
            description: crate::codes::describe(crate::codes::remittance_remark, code)
                .map(Cow::Borrowed),
        }
    }
}

/// One provider-level adjustment (a PLB reason, reference and amount).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAdjustment {
    /// PLB01.
    pub provider_id: String,
    /// PLB02.
    pub fiscal_period: Option<NaiveDate>,
    /// The adjustment reason (`WO` overpayment recovery, `L6` interest, ...).
    pub reason_code: String,
    /// Its reference, when sent.
    pub reference: Option<String>,
    /// Amount: positive reduces the payment.
    #[serde(with = "crate::amount_text")]
    pub amount: Decimal,
}

/// Whether BPR02 = Σ CLP04 − Σ PLB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Σ CLP04.
    #[serde(with = "crate::amount_text")]
    pub claims_paid: Decimal,
    /// Σ PLB amounts.
    #[serde(with = "crate::amount_text")]
    pub provider_adjustments: Decimal,
    /// Σ CLP04 − Σ PLB.
    #[serde(with = "crate::amount_text")]
    pub expected_payment: Decimal,
    /// Whether it equals BPR02.
    pub balanced: bool,
}

/// `remittances` as compact JSON, written into a buffer sized up front from their claims,
/// service lines and adjustments (growing a buffer from empty copies the output several times
/// over; for a large 835 that copying costs as much as the writing).
pub fn to_json(remittances: &[Remittance]) -> serde_json::Result<Vec<u8>> {
    let mut estimate = 1024;
    for r in remittances {
        for c in &r.claims {
            estimate += 800 + 300 * c.adjustments.len();
            for s in &c.services {
                estimate += 500 + 300 * s.adjustments.len() + 200 * s.remarks.len();
            }
        }
        estimate += 200 * r.provider_adjustments.len();
    }
    let mut out = Vec::with_capacity(estimate);
    serde_json::to_writer(&mut out, remittances)?;
    Ok(out)
}

/// Reads every 835 transaction set in `input`.
///
/// Streams: each segment goes into the domain as the guide places it, with no parse tree in
/// between, so memory is the domain's and the 835 → JSON path runs at the speed of the walk.
pub fn read_835(input: &[u8], catalog: &Catalog) -> Result<Vec<Remittance>, RemitError> {
    let mut out: Vec<Remittance> = vec![];
    let mut reader = Remittances::new(catalog);
    let mut events = vec![];
    let collect = |events: &mut Vec<RemitEvent>, out: &mut Vec<Remittance>| {
        for event in events.drain(..) {
            match event {
                RemitEvent::Begin(header) => out.push(*header),
                RemitEvent::Claim(claim) => {
                    if let Some(r) = out.last_mut() {
                        r.claims.push(*claim);
                    }
                }
                RemitEvent::End(trailer) => {
                    if let Some(r) = out.last_mut() {
                        r.provider_adjustments = trailer.provider_adjustments;
                        r.balance = trailer.balance;
                    }
                }
            }
        }
    };
    let mut tokens = hms_x12::Tokenizer::new(input);
    for segment in tokens.by_ref() {
        let segment = segment.map_err(tree::TreeError::from)?;
        reader.push(&segment, &mut events)?;
        collect(&mut events, &mut out);
    }
    reader.finish(&mut events)?;
    collect(&mut events, &mut out);
    if out.is_empty() {
        return Err(RemitError::No835);
    }
    Ok(out)
}

/// What a streaming read of 835s gives, in order: for each transaction set, its header, its
/// claim payments one by one, and its trailer.
#[derive(Debug, Clone, PartialEq)]
pub enum RemitEvent {
    /// A payment begins: its BPR, TRN, payer and payee (no claim payments; its balance is
    /// not known yet).
    Begin(Box<Remittance>),
    /// One claim payment, complete.
    Claim(Box<ClaimPayment>),
    /// The payment ends: its provider-level adjustments and its balance.
    End(Trailer),
}

/// The end of a payment: what only its last segments say.
#[derive(Debug, Clone, PartialEq)]
pub struct Trailer {
    /// PLB adjustments.
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// Σ CLP04, Σ PLB and whether BPR02 is their difference.
    pub balance: Balance,
}

/// 835s read segment by segment, giving each claim payment as soon as it is complete: what
/// posts a file of any size with one claim payment in memory at a time. Feed it every segment
/// of the input in order ([`Remittances::push`]), then [`Remittances::finish`].
#[derive(Debug)]
pub struct Remittances<'c> {
    placer: hms_x12::walk::Placer<'c>,
    open: Option<Reading>,
    /// Whether an 835 was seen.
    seen: bool,
}

impl<'c> Remittances<'c> {
    /// A reader finding the 835's guide in `catalog`.
    pub fn new(catalog: &'c Catalog) -> Self {
        Self {
            placer: hms_x12::walk::Placer::new(catalog),
            open: None,
            seen: false,
        }
    }

    /// Takes the next segment of the input; what it completes goes into `out`.
    pub fn push(
        &mut self,
        segment: &hms_x12::Segment<'_>,
        out: &mut Vec<RemitEvent>,
    ) -> Result<(), RemitError> {
        let (line, place, in_loop) = self.placer.next(segment)?;
        match place {
            Place::Start(guide) => {
                if let Some(done) = self.open.take() {
                    done.finish(out)?;
                }
                if segment.value(1) == b"835" {
                    if guide.is_none() {
                        return Err(RemitError::NoGuide { line });
                    }
                    self.seen = true;
                    self.open = Some(Reading::new(line));
                }
            }
            // A segment the guide has no place for is not read: where it would go is a guess
            // (the validator reports it; a lossless read keeps it beside the model).
            Place::Body(Some(Placement::NotFound)) => {}
            Place::Body(_) => {
                if let Some(reading) = self.open.as_mut() {
                    let loop_id = in_loop.map_or("", |l| l.id.as_str());
                    reading.segment(&Line::new(*segment, line)?, loop_id, out)?;
                    if segment.id() == b"SE"
                        && let Some(done) = self.open.take()
                    {
                        done.finish(out)?;
                    }
                }
            }
            Place::Envelope | Place::Interchange => {}
        }
        Ok(())
    }

    /// Ends the input: a payment left open (no SE) ends here. `No835` when none was seen.
    pub fn finish(mut self, out: &mut Vec<RemitEvent>) -> Result<(), RemitError> {
        if let Some(done) = self.open.take() {
            done.finish(out)?;
        }
        if !self.seen {
            return Err(RemitError::No835);
        }
        Ok(())
    }
}

/// An 835 being read, segment by segment.
#[derive(Debug)]
struct Reading {
    /// The ST's line, where errors about missing header segments point.
    start: usize,
    payment: Option<Payment>,
    trace: Option<(String, Option<String>)>,
    payer: Option<Party>,
    payee: Option<Party>,
    /// The claim payment being read; the ones before it were given out.
    claim: Option<ClaimPayment>,
    /// Whether the payment's header was given out.
    begun: bool,
    /// Σ CLP04 of the claim payments so far.
    claims_paid: Decimal,
    provider_adjustments: Vec<ProviderAdjustment>,
    /// LX01 of the open header (loop 2000).
    header: Option<CompactString>,
}

impl Reading {
    fn new(start: usize) -> Self {
        Self {
            start,
            payment: None,
            trace: None,
            payer: None,
            payee: None,
            claim: None,
            begun: false,
            claims_paid: Decimal::ZERO,
            provider_adjustments: vec![],
            header: None,
        }
    }

    /// Gives out the payment's header, once, when its first claim payment (or its end)
    /// comes.
    fn begin(&mut self, out: &mut Vec<RemitEvent>) -> Result<(), ValueError> {
        if self.begun {
            return Ok(());
        }
        self.begun = true;
        let missing = |id: &str| ValueError {
            line: self.start,
            segment: "ST".into(),
            element: 0,
            message: format!("required segment {id} is missing from the transaction set"),
        };
        let mut payment = self.payment.clone().ok_or_else(|| missing("BPR"))?;
        let (trace_number, originator) = self.trace.clone().ok_or_else(|| missing("TRN"))?;
        payment.trace_number = trace_number;
        payment.originator = originator;
        let nobody = || Party {
            name: String::new(),
            id: None,
            references: vec![],
            address: None,
            contacts: vec![],
        };
        out.push(RemitEvent::Begin(Box::new(Remittance {
            payment,
            payer: self.payer.take().unwrap_or_else(nobody),
            payee: self.payee.take().unwrap_or_else(nobody),
            claims: vec![],
            provider_adjustments: vec![],
            balance: Balance {
                claims_paid: Decimal::ZERO,
                provider_adjustments: Decimal::ZERO,
                expected_payment: Decimal::ZERO,
                balanced: false,
            },
        })));
        Ok(())
    }

    /// Gives out the claim payment being read, if any.
    fn close_claim(&mut self, out: &mut Vec<RemitEvent>) {
        if let Some(done) = self.claim.take() {
            self.claims_paid += done.paid;
            out.push(RemitEvent::Claim(Box::new(done)));
        }
    }

    /// Takes in one segment of loop `loop_id`; what it completes goes into `out`.
    fn segment(
        &mut self,
        s: &Line<'_>,
        loop_id: &str,
        out: &mut Vec<RemitEvent>,
    ) -> Result<(), ValueError> {
        if matches!(loop_id, "2000" | "2100" | "2110") || s.id() == "PLB" || s.id() == "SE" {
            self.begin(out)?;
        }
        if s.id() == "CLP" || s.id() == "PLB" || s.id() == "SE" || s.id() == "LX" {
            self.close_claim(out);
        }
        let claim = self.claim.as_mut();
        match (loop_id, s.id()) {
            ("ST", "BPR") => {
                self.payment = Some(Payment {
                    handling_code: text(s, 1).to_string(),
                    amount: amount(s, 2)?,
                    credit_debit: text(s, 3).to_string(),
                    method: text(s, 4).to_string(),
                    date: date(s, 16)?,
                    trace_number: String::new(),
                    originator: None,
                })
            }
            ("ST", "TRN") => self.trace = Some((text(s, 2).to_string(), opt(s, 3))),
            ("1000A", "N1") => self.payer = Some(party(s)),
            ("1000B", "N1") => self.payee = Some(party(s)),
            ("1000A" | "1000B", "N3") => {
                let party = if loop_id == "1000A" {
                    self.payer.as_mut()
                } else {
                    self.payee.as_mut()
                };
                if let Some(p) = party {
                    let lines = [opt(s, 1), opt(s, 2)].into_iter().flatten().collect();
                    match p.address.as_mut() {
                        Some(a) => a.lines = lines,
                        None => {
                            p.address = Some(PartyAddress {
                                lines,
                                city: String::new(),
                                state: None,
                                postal_code: None,
                            })
                        }
                    }
                }
            }
            ("1000A" | "1000B", "N4") => {
                let party = if loop_id == "1000A" {
                    self.payer.as_mut()
                } else {
                    self.payee.as_mut()
                };
                if let Some(p) = party {
                    let address = p.address.get_or_insert_with(|| PartyAddress {
                        lines: vec![],
                        city: String::new(),
                        state: None,
                        postal_code: None,
                    });
                    address.city = text(s, 1).to_string();
                    address.state = opt(s, 2);
                    address.postal_code = opt(s, 3);
                }
            }
            ("1000A", "PER") => {
                if let Some(p) = self.payer.as_mut() {
                    let numbers = [(3, 4), (5, 6), (7, 8)]
                        .into_iter()
                        .filter_map(|(q, v)| {
                            opt(s, q)
                                .zip(opt(s, v))
                                .map(|(qualifier, value)| PartyId { qualifier, value })
                        })
                        .collect();
                    p.contacts.push(PartyContact {
                        function: text(s, 1).to_string(),
                        name: opt(s, 2),
                        numbers,
                    });
                }
            }
            ("1000A", "REF") => {
                if let (Some(p), Some(qualifier), Some(value)) =
                    (self.payer.as_mut(), opt(s, 1), opt(s, 2))
                {
                    p.references.push(PartyId { qualifier, value });
                }
            }
            ("1000B", "REF") => {
                if let (Some(p), Some(qualifier), Some(value)) =
                    (self.payee.as_mut(), opt(s, 1), opt(s, 2))
                {
                    p.references.push(PartyId { qualifier, value });
                }
            }
            ("2000", "LX") => self.header = opt(s, 1),
            ("2100", "CLP") => {
                let mut claim = claim_payment(s)?;
                claim.header_number.clone_from(&self.header);
                self.claim = Some(claim);
            }
            ("2100", "NM1") if text(s, 1) == "QC" => {
                if let Some(c) = claim {
                    c.patient = Some(PersonRef {
                        last: text(s, 3).into(),
                        first: opt(s, 4),
                        id: opt(s, 9),
                        id_qualifier: opt(s, 8),
                    });
                }
            }
            ("2100", "MIA") => {
                if let Some(c) = claim {
                    c.inpatient = true;
                }
            }
            ("2100", "CAS") => {
                if let Some(c) = claim {
                    adjustments(s, &mut c.adjustments)?;
                }
            }
            ("2110", id) => {
                let Some(c) = claim else { return Ok(()) };
                if id == "SVC" {
                    c.services.push(service_payment(s)?);
                    return Ok(());
                }
                let Some(service) = c.services.last_mut() else {
                    return Ok(());
                };
                match (id, text(s, 1)) {
                    ("DTM", "472") => service.service_date = date(s, 2)?,
                    ("DTM", "150") if service.service_date.is_none() => {
                        service.service_date = date(s, 2)?
                    }
                    ("DTM", "151") => service.service_date_end = date(s, 2)?,
                    ("REF", "6R") => service.line_control_number = opt(s, 2),
                    ("CAS", _) => adjustments(s, &mut service.adjustments)?,
                    ("LQ", "HE") => service.remarks.push(Remark::new(text(s, 2))),
                    _ => {}
                }
            }
            ("ST", "PLB") => provider_adjustments(s, &mut self.provider_adjustments)?,
            _ => {}
        }
        Ok(())
    }

    /// Ends the payment: its last claim payment, then its trailer.
    fn finish(mut self, out: &mut Vec<RemitEvent>) -> Result<(), ValueError> {
        self.begin(out)?;
        self.close_claim(out);
        let expected_amount = self.payment.as_ref().map(|p| p.amount);
        let adjustments: Decimal = self.provider_adjustments.iter().map(|p| p.amount).sum();
        let expected = self.claims_paid - adjustments;
        out.push(RemitEvent::End(Trailer {
            provider_adjustments: self.provider_adjustments,
            balance: Balance {
                claims_paid: self.claims_paid,
                provider_adjustments: adjustments,
                expected_payment: expected,
                balanced: expected_amount == Some(expected),
            },
        }));
        Ok(())
    }
}

fn party(n1: &Line<'_>) -> Party {
    Party {
        name: text(n1, 2).to_string(),
        id: opt(n1, 3)
            .zip(opt(n1, 4))
            .map(|(qualifier, value)| PartyId { qualifier, value }),
        references: vec![],
        address: None,
        contacts: vec![],
    }
}

fn claim_payment(clp: &Line<'_>) -> Result<ClaimPayment, ValueError> {
    let status_code = CompactString::from(text(clp, 2));
    Ok(ClaimPayment {
        patient_control_number: text(clp, 1).into(),
        status: claim_status(&status_code).into(),
        status_code,
        charge: amount(clp, 3)?,
        paid: amount(clp, 4)?,
        patient_responsibility: decimal(clp, 5)?,
        claim_filing_indicator: text(clp, 6).into(),
        header_number: None,
        payer_claim_control_number: opt(clp, 7),
        facility_code: opt(clp, 8),
        inpatient: false,
        patient: None,
        adjustments: vec![],
        services: vec![],
    })
}

fn service_payment(svc: &Line<'_>) -> Result<ServicePayment, ValueError> {
    let procedure = parts(svc, 1);
    Ok(ServicePayment {
        code_qualifier: procedure.first().copied().unwrap_or_default().into(),
        procedure_code: procedure.get(1).copied().unwrap_or_default().into(),
        modifiers: procedure
            .iter()
            .skip(2)
            .take(4)
            .filter(|m| !m.is_empty())
            .map(|m| CompactString::from(*m))
            .collect(),
        charge: amount(svc, 2)?,
        paid: amount(svc, 3)?,
        units: decimal(svc, 5)?,
        service_date: None,
        service_date_end: None,
        line_control_number: None,
        adjustments: vec![],
        remarks: vec![],
    })
}

/// A CAS's up to six reason triples, added to `out`.
fn adjustments(cas: &Line<'_>, out: &mut Vec<Adjustment>) -> Result<(), ValueError> {
    for r in crate::read::cas_reasons(cas)? {
        out.push(Adjustment {
            group: adjustment_group(r.group).into(),
            group_code: r.group.into(),
            reason_code: r.reason.into(),
            reason: crate::codes::describe(crate::codes::claim_adjustment_reason, r.reason)
                .map(Cow::Borrowed),
            amount: r.amount,
            quantity: r.quantity,
        });
    }
    Ok(())
}

/// A PLB's up to six adjustments, added to `out`.
fn provider_adjustments(
    plb: &Line<'_>,
    out: &mut Vec<ProviderAdjustment>,
) -> Result<(), ValueError> {
    let provider_id = text(plb, 1);
    let fiscal_period = date(plb, 2)?;
    for pair in 0..6 {
        let (reason, value) = (3 + 2 * pair, 4 + 2 * pair);
        if text(plb, reason).is_empty() {
            continue;
        }
        let parts = parts(plb, reason);
        out.push(ProviderAdjustment {
            provider_id: provider_id.to_string(),
            fiscal_period,
            reason_code: parts.first().map(|c| c.to_string()).unwrap_or_default(),
            reference: parts
                .get(1)
                .filter(|r| !r.is_empty())
                .map(|r| r.to_string()),
            amount: amount(plb, value)?,
        });
    }
    Ok(())
}
