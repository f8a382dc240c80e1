//! Remittance: an 835 read into the domain — the payment (BPR/TRN), each claim payment (CLP)
//! with its adjustments (CAS), service payments (SVC), remark codes (LQ), and provider-level
//! adjustments (PLB) — and its JSON form, which says whether the payment balances.

use chrono::NaiveDate;
use hms_x12::spec::Catalog;
use hms_x12::tree::{self, LoopNode};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::read::{ValueError, amount, date, decimal, loops, opt, parts, required, segments, text};

/// Why an 835 could not be read into the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemitError {
    /// The X12 did not tokenize.
    #[error(transparent)]
    X12(#[from] tree::TreeError),
    /// No 835 transaction set in the input.
    #[error("no 835 transaction set found")]
    No835,
    /// A value the guide requires is missing or malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// One 835 transaction set.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// BPR01 (`I` remittance with payment, `H` notification only, ...).
    pub handling_code: String,
    /// BPR02.
    #[serde(with = "rust_decimal::serde::str")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    /// N102.
    pub name: String,
    /// N103/N104, when sent.
    pub id: Option<PartyId>,
}

/// An identifier with its qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimPayment {
    /// CLP01: the provider's claim number, as sent on the 837.
    pub patient_control_number: String,
    /// CLP02.
    pub status_code: String,
    /// What CLP02 means.
    pub status: &'static str,
    /// CLP03.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    /// CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// CLP05.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub patient_responsibility: Option<Decimal>,
    /// CLP06.
    pub claim_filing_indicator: String,
    /// CLP07: the payer's claim number.
    pub payer_claim_control_number: Option<String>,
    /// CLP08: the facility code (place of service for professional claims, the bill type's
    /// first two digits for institutional ones).
    pub facility_code: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    /// Last name.
    pub last: String,
    /// First name.
    pub first: Option<String>,
    /// Identifier (NM109).
    pub id: Option<String>,
}

/// One adjustment: group, reason (CARC), amount, quantity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    /// CAS01.
    pub group_code: String,
    /// What the group means.
    pub group: &'static str,
    /// Claim adjustment reason code.
    pub reason_code: String,
    /// Amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Quantity, when sent.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub quantity: Option<Decimal>,
}

/// One service payment (SVC and what follows it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePayment {
    /// SVC01-01: `HC` HCPCS/CPT, `NU` revenue code, ...
    pub code_qualifier: String,
    /// SVC01-02.
    pub procedure_code: String,
    /// SVC01-03 to -06.
    pub modifiers: Vec<String>,
    /// SVC02.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    /// SVC03.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// SVC05 (1 when absent).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub units: Option<Decimal>,
    /// DTM*472 (or the start, DTM*150).
    pub service_date: Option<NaiveDate>,
    /// REF*6R: the provider's line control number.
    pub line_control_number: Option<String>,
    /// Adjustments.
    pub adjustments: Vec<Adjustment>,
    /// Remark codes (LQ*HE).
    pub remarks: Vec<String>,
}

/// One provider-level adjustment (a PLB reason, reference and amount).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// Whether BPR02 = Σ CLP04 − Σ PLB.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Σ CLP04.
    #[serde(with = "rust_decimal::serde::str")]
    pub claims_paid: Decimal,
    /// Σ PLB amounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub provider_adjustments: Decimal,
    /// Σ CLP04 − Σ PLB.
    #[serde(with = "rust_decimal::serde::str")]
    pub expected_payment: Decimal,
    /// Whether it equals BPR02.
    pub balanced: bool,
}

/// Reads every 835 transaction set in `input`.
pub fn read_835(input: &[u8], catalog: &Catalog) -> Result<Vec<Remittance>, RemitError> {
    let doc = tree::parse(input, catalog)?;
    let mut out = vec![];
    for tx in doc
        .interchanges
        .iter()
        .flat_map(|i| &i.groups)
        .flat_map(|g| &g.transactions)
        .filter(|t| t.id == "835")
    {
        out.push(remittance(&tx.body)?);
    }
    if out.is_empty() {
        return Err(RemitError::No835);
    }
    Ok(out)
}

fn remittance(body: &LoopNode) -> Result<Remittance, RemitError> {
    let bpr = required(body, "BPR")?;
    let trn = required(body, "TRN")?;
    let payment = Payment {
        handling_code: text(bpr, 1).to_string(),
        amount: amount(bpr, 2)?,
        credit_debit: text(bpr, 3).to_string(),
        method: text(bpr, 4).to_string(),
        date: date(bpr, 16)?,
        trace_number: text(trn, 2).to_string(),
        originator: opt(trn, 3),
    };
    let party = |id: &str| {
        loops(body, id)
            .next()
            .and_then(|l| segments(l, "N1").next())
            .map(|n1| Party {
                name: text(n1, 2).to_string(),
                id: opt(n1, 3)
                    .zip(opt(n1, 4))
                    .map(|(qualifier, value)| PartyId { qualifier, value }),
            })
    };
    let payer = party("1000A").unwrap_or(Party {
        name: String::new(),
        id: None,
    });
    let payee = party("1000B").unwrap_or(Party {
        name: String::new(),
        id: None,
    });
    let mut claims = vec![];
    for header in loops(body, "2000") {
        for claim in loops(header, "2100") {
            claims.push(claim_payment(claim)?);
        }
    }
    let mut provider_adjustments = vec![];
    for plb in segments(body, "PLB") {
        let provider_id = text(plb, 1).to_string();
        let fiscal_period = date(plb, 2)?;
        for pair in 0..6 {
            let (reason, value) = (3 + 2 * pair, 4 + 2 * pair);
            if text(plb, reason).is_empty() {
                continue;
            }
            let parts = parts(plb, reason);
            provider_adjustments.push(ProviderAdjustment {
                provider_id: provider_id.clone(),
                fiscal_period,
                reason_code: parts.first().cloned().unwrap_or_default(),
                reference: parts.get(1).cloned().filter(|r| !r.is_empty()),
                amount: amount(plb, value)?,
            });
        }
    }
    let claims_paid: Decimal = claims.iter().map(|c| c.paid).sum();
    let adjustments: Decimal = provider_adjustments.iter().map(|p| p.amount).sum();
    let expected = claims_paid - adjustments;
    let balance = Balance {
        claims_paid,
        provider_adjustments: adjustments,
        expected_payment: expected,
        balanced: expected == payment.amount,
    };
    Ok(Remittance {
        payment,
        payer,
        payee,
        claims,
        provider_adjustments,
        balance,
    })
}

fn claim_payment(claim: &LoopNode) -> Result<ClaimPayment, RemitError> {
    let clp = required(claim, "CLP")?;
    let status_code = text(clp, 2).to_string();
    let patient = segments(claim, "NM1")
        .find(|n| text(n, 1) == "QC")
        .map(|n| PersonRef {
            last: text(n, 3).to_string(),
            first: opt(n, 4),
            id: opt(n, 9),
        });
    let mut services = vec![];
    for line in loops(claim, "2110") {
        let svc = required(line, "SVC")?;
        let procedure = parts(svc, 1);
        let dtm = |qualifier: &str| segments(line, "DTM").find(|d| text(d, 1) == qualifier);
        let service_date = match dtm("472").or_else(|| dtm("150")) {
            Some(d) => date(d, 2)?,
            None => None,
        };
        services.push(ServicePayment {
            code_qualifier: procedure.first().cloned().unwrap_or_default(),
            procedure_code: procedure.get(1).cloned().unwrap_or_default(),
            modifiers: procedure
                .iter()
                .skip(2)
                .take(4)
                .filter(|m| !m.is_empty())
                .cloned()
                .collect(),
            charge: amount(svc, 2)?,
            paid: amount(svc, 3)?,
            units: decimal(svc, 5)?,
            service_date,
            line_control_number: segments(line, "REF")
                .find(|r| text(r, 1) == "6R")
                .and_then(|r| opt(r, 2)),
            adjustments: adjustments(line)?,
            remarks: segments(line, "LQ")
                .filter(|l| text(l, 1) == "HE")
                .map(|l| text(l, 2).to_string())
                .collect(),
        });
    }
    Ok(ClaimPayment {
        patient_control_number: text(clp, 1).to_string(),
        status: claim_status(&status_code),
        status_code,
        charge: amount(clp, 3)?,
        paid: amount(clp, 4)?,
        patient_responsibility: decimal(clp, 5)?,
        claim_filing_indicator: text(clp, 6).to_string(),
        payer_claim_control_number: opt(clp, 7),
        facility_code: opt(clp, 8),
        inpatient: segments(claim, "MIA").next().is_some(),
        patient,
        adjustments: adjustments(claim)?,
        services,
    })
}

/// Every CAS of a loop (its own, not its sub-loops'), each of its up to six reason triples.
fn adjustments(scope: &LoopNode) -> Result<Vec<Adjustment>, RemitError> {
    let mut out = vec![];
    for cas in segments(scope, "CAS") {
        let group_code = text(cas, 1).to_string();
        for triple in 0..6 {
            let reason = 2 + 3 * triple;
            if text(cas, reason).is_empty() {
                continue;
            }
            out.push(Adjustment {
                group: adjustment_group(&group_code),
                group_code: group_code.clone(),
                reason_code: text(cas, reason).to_string(),
                amount: amount(cas, reason + 1)?,
                quantity: decimal(cas, reason + 2)?,
            });
        }
    }
    Ok(out)
}
