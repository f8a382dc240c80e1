//! FHIR R4 JSON for what leaves the clearinghouse toward FHIR users: one
//! `ExplanationOfBenefit` per claim payment of an 835, gathered in a `Bundle`.
//!
//! Amounts are written as JSON numbers with exactly the decimal digits the 835 carried (serde_json
//! keeps the text of a number; no float ever holds money). Codes carry their systems: X12 claim
//! adjustment group and reason codes, CPT/HCPCS and revenue codes; remark codes (LQ) become
//! process notes the lines point at.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Number, Value, json};

use crate::remittance::{Adjustment, ClaimPayment, Remittance, ServicePayment};

/// Code system of X12 claim adjustment group codes.
pub const GROUP_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-group-codes";
/// Code system of claim adjustment reason codes (CARC).
pub const CARC_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
/// HL7's adjudication categories.
pub const ADJUDICATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/adjudication";

/// A decimal as a JSON number with the same digits.
fn number(value: Decimal) -> Value {
    Number::from_str(&value.to_string()).map_or(Value::Null, Value::Number)
}

fn money(value: Decimal) -> Value {
    json!({ "value": number(value), "currency": "USD" })
}

fn adjudication_total(category: &str, value: Decimal) -> Value {
    json!({
        "category": { "coding": [{ "system": ADJUDICATION_SYSTEM, "code": category }] },
        "amount": money(value),
    })
}

fn adjustments(list: &[Adjustment]) -> Vec<Value> {
    list.iter()
        .map(|a| {
            let mut entry = json!({
                "category": { "coding": [{ "system": GROUP_SYSTEM, "code": a.group_code, "display": a.group }] },
                "reason": { "coding": [{ "system": CARC_SYSTEM, "code": a.reason_code }] },
                "amount": money(a.amount),
            });
            if let Some(reason) = &a.reason {
                entry["reason"]["coding"][0]["display"] = json!(reason);
            }
            if let Some(q) = a.quantity {
                entry["value"] = number(q);
            }
            entry
        })
        .collect()
}

/// The `ExplanationOfBenefit` for one claim payment of `remit`, made on `created` (R4 requires
/// the date the resource was made; the check or EFT date is the payment's).
pub fn explanation_of_benefit(
    remit: &Remittance,
    claim: &ClaimPayment,
    index: usize,
    created: NaiveDate,
) -> Value {
    // Inpatient adjudication (MIA) or revenue-code lines (NU) mark an institutional claim; CLP08
    // alone cannot, it holds a place of service on professional claims.
    let institutional = claim.inpatient || claim.services.iter().any(|s| s.code_qualifier == "NU");
    let claim_type = if institutional {
        "institutional"
    } else {
        "professional"
    };
    let paid_on = remit.payment.date.map(|d| d.format("%Y-%m-%d").to_string());
    let [patient_resource, coverage, payee] = parties(remit, claim);
    let items: Vec<Value> = claim.services.iter().enumerate().map(item).collect();
    let remarks: Vec<Value> = claim
        .services
        .iter()
        .flat_map(|s| &s.remarks)
        .enumerate()
        .map(|(n, remark)| {
            let text = match &remark.description {
                Some(d) => format!("remark code {}: {d}", remark.code),
                None => format!("remark code {}", remark.code),
            };
            json!({ "number": n + 1, "type": "display", "text": text })
        })
        .collect();
    let mut identifiers = vec![
        json!({ "type": { "text": "patient control number" }, "value": claim.patient_control_number }),
    ];
    if let Some(payer_number) = &claim.payer_claim_control_number {
        identifiers.push(
            json!({ "type": { "text": "payer claim control number" }, "value": payer_number }),
        );
    }
    let mut eob = json!({
        "resourceType": "ExplanationOfBenefit",
        "id": format!("eob-{}", index + 1),
        "contained": [
            patient_resource,
            coverage,
            { "resourceType": "Organization", "id": "payer", "name": remit.payer.name },
            payee,
        ],
        "identifier": identifiers,
        "status": "active",
        "created": created.format("%Y-%m-%d").to_string(),
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": claim_type }] },
        "use": "claim",
        "patient": { "reference": "#patient" },
        "insurer": { "reference": "#payer" },
        "provider": { "reference": "#payee" },
        "outcome": "complete",
        "disposition": claim.status,
        "insurance": [{ "focal": true, "coverage": { "reference": "#coverage" } }],
        "item": items,
        "adjudication": adjustments(&claim.adjustments),
        "total": [
            adjudication_total("submitted", claim.charge),
            adjudication_total("benefit", claim.paid),
        ],
        "payment": {
            "amount": money(claim.paid),
            "identifier": { "value": remit.payment.trace_number },
        },
    });
    if let Some(paid_on) = paid_on {
        eob["payment"]["date"] = json!(paid_on);
    }
    if !remarks.is_empty() {
        eob["processNote"] = Value::Array(remarks);
    }
    eob
}

/// The EOB's contained Patient, Coverage and payee Organization.
fn parties(remit: &Remittance, claim: &ClaimPayment) -> [Value; 3] {
    let patient = claim.patient.as_ref();
    let mut patient_resource = json!({
        "resourceType": "Patient",
        "id": "patient",
        "name": [{ "family": patient.map(|p| p.last.clone()).unwrap_or_default() }],
    });
    if let Some(first) = patient.and_then(|p| p.first.clone()) {
        patient_resource["name"][0]["given"] = json!([first]);
    }
    let mut coverage = json!({
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
        "beneficiary": { "reference": "#patient" },
        "payor": [{ "reference": "#payer" }],
    });
    if let Some(id) = patient.and_then(|p| p.id.clone()) {
        coverage["subscriberId"] = json!(id);
    }
    let mut payee =
        json!({ "resourceType": "Organization", "id": "payee", "name": remit.payee.name });
    if let Some(id) = &remit.payee.id
        && id.qualifier == "XX"
    {
        payee["identifier"] =
            json!([{ "system": "http://hl7.org/fhir/sid/us-npi", "value": id.value }]);
    }
    [patient_resource, coverage, payee]
}

/// One service payment as an EOB item: the service, its dates and units, what was charged,
/// paid and adjusted, and its remarks by number.
fn item((i, s): (usize, &ServicePayment)) -> Value {
    let system = match s.code_qualifier.as_str() {
        "NU" => "https://www.nubc.org/CodeSystem/RevenueCodes",
        _ => "http://www.ama-assn.org/go/cpt",
    };
    let mut adjudication = vec![
        adjudication_total("submitted", s.charge),
        adjudication_total("benefit", s.paid),
    ];
    adjudication.extend(adjustments(&s.adjustments));
    let mut item = json!({
        "sequence": i + 1,
        "productOrService": { "coding": [{ "system": system, "code": s.procedure_code }] },
        "adjudication": adjudication,
    });
    if !s.modifiers.is_empty() {
        item["modifier"] = Value::Array(
            s.modifiers
                .iter()
                .map(|m| json!({ "coding": [{ "code": m }] }))
                .collect(),
        );
    }
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    match (s.service_date, s.service_date_end) {
        (Some(start), Some(end)) => {
            item["servicedPeriod"] = json!({ "start": day(start), "end": day(end) });
        }
        (None, Some(end)) => item["servicedPeriod"] = json!({ "end": day(end) }),
        (Some(date), None) => item["servicedDate"] = json!(day(date)),
        (None, None) => {}
    }
    if let Some(units) = s.units {
        item["quantity"] = json!({ "value": number(units) });
    }
    if !s.remarks.is_empty() {
        item["noteNumber"] = Value::Array((1..=s.remarks.len()).map(|n| json!(n)).collect());
    }
    item
}

/// A `Bundle` (type `collection`) with one `ExplanationOfBenefit` per claim payment, made on
/// `created`.
pub fn remittance_bundle(remits: &[Remittance], created: NaiveDate) -> Value {
    let mut entries = vec![];
    for remit in remits {
        for claim in &remit.claims {
            let eob = explanation_of_benefit(remit, claim, entries.len(), created);
            entries.push(json!({ "resource": eob }));
        }
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}
