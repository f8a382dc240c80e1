//! FHIR R4 for eligibility: a `CoverageEligibilityRequest` read into our inquiry (then a 270),
//! and a 271's benefits view written as a `CoverageEligibilityResponse`.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Number, Value, json};

use crate::claims::fhir::NPI_SYSTEM;
use crate::eligibility::{
    Benefit, EligibilityInquiry, EligibilityResponse, InquiringProvider, InquiryDependent,
    InquirySubscriber, MemberEligibility,
};
use crate::ids::{MemberId, Npi, PayerId};
use crate::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use crate::party::{Gender, Name, Payer};

/// Code system of X12 service type codes.
pub const SERVICE_TYPE_SYSTEM: &str = "https://x12.org/codes/service-type-codes";
/// Code system of X12 eligibility or benefit information codes (EB01).
pub const BENEFIT_SYSTEM: &str = "https://x12.org/codes/eligibility-benefit-codes";
/// Code system of X12 AAA reject reason codes.
pub const REJECT_SYSTEM: &str = "https://x12.org/codes/reject-reason-codes";

fn issue(code: IssueType, at: &str, text: String) -> Issue {
    Issue {
        severity: IssueSeverity::Error,
        code,
        diagnostics: Some("fhir-eligibility".into()),
        details: Details { text },
        expression: vec![at.into()],
    }
}

fn contained<'a>(resource: &'a Value, reference: &Value) -> Option<&'a Value> {
    let id = reference["reference"].as_str()?.strip_prefix('#')?;
    resource["contained"]
        .as_array()?
        .iter()
        .find(|r| r["id"].as_str() == Some(id))
}

fn name(resource: &Value) -> Option<Name> {
    if let Some(name) = resource["name"].as_str() {
        return Some(Name::Organization { name: name.into() });
    }
    let human = &resource["name"][0];
    let given: Vec<&str> = human["given"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(Name::Person {
        last: human["family"].as_str()?.into(),
        first: given.first().map(|s| s.to_string()).unwrap_or_default(),
        middle: given.get(1).map(|s| s.to_string()),
        suffix: None,
    })
}

fn gender(value: &Value) -> Option<Gender> {
    match value.as_str()? {
        "female" => Some(Gender::Female),
        "male" => Some(Gender::Male),
        _ => Some(Gender::Unknown),
    }
}

/// `found`, or an issue saying the reference at `at` names no contained resource.
fn need<'a>(issues: &mut Vec<Issue>, found: Option<&'a Value>, at: &str) -> Option<&'a Value> {
    if found.is_none() {
        issues.push(issue(
            IssueType::Required,
            at,
            format!("{at} must reference a contained resource (\"#id\")"),
        ));
    }
    found
}

fn date(value: &Value) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.as_str()?, "%Y-%m-%d").ok()
}

/// The subscriber and, when the patient is someone else (a contained RelatedPerson holds the
/// coverage), the dependent the inquiry is about.
fn insured(
    patient: &Value,
    patient_name: Name,
    member_id: MemberId,
    relationship: &str,
    holder: Option<&Value>,
) -> Result<(InquirySubscriber, Option<InquiryDependent>), OperationOutcome> {
    Ok(match (relationship, holder.and_then(name)) {
        ("self", _) => (
            InquirySubscriber {
                member_id,
                name: patient_name,
                birth_date: date(&patient["birthDate"]),
                gender: gender(&patient["gender"]),
            },
            None,
        ),
        (_, Some(holder_name)) => match date(&patient["birthDate"]) {
            Some(birth_date) => (
                InquirySubscriber {
                    member_id,
                    name: holder_name,
                    birth_date: None,
                    gender: None,
                },
                Some(InquiryDependent {
                    name: patient_name,
                    birth_date,
                    gender: gender(&patient["gender"]),
                }),
            ),
            None => {
                return Err(OperationOutcome::new(vec![issue(
                    IssueType::Required,
                    "CoverageEligibilityRequest.patient.birthDate",
                    "a dependent patient's birth date is required".into(),
                )]));
            }
        },
        (_, None) => {
            return Err(OperationOutcome::new(vec![issue(
                IssueType::Required,
                "CoverageEligibilityRequest.insurance[0].coverage.subscriber",
                "when the patient is not the subscriber, the Coverage must reference a contained subscriber".into(),
            )]));
        }
    })
}

/// Reads a `CoverageEligibilityRequest` (contained Patient, Coverage, insurer Organization and
/// provider) into our inquiry.
pub fn inquiry_from_fhir(request: &Value) -> Result<EligibilityInquiry, OperationOutcome> {
    let mut issues = vec![];
    let patient = need(
        &mut issues,
        contained(request, &request["patient"]),
        "CoverageEligibilityRequest.patient",
    );
    let insurer = need(
        &mut issues,
        contained(request, &request["insurer"]),
        "CoverageEligibilityRequest.insurer",
    );
    let provider = need(
        &mut issues,
        contained(request, &request["provider"]),
        "CoverageEligibilityRequest.provider",
    );
    let coverage = need(
        &mut issues,
        contained(request, &request["insurance"][0]["coverage"]),
        "CoverageEligibilityRequest.insurance[0].coverage",
    );
    let (Some(patient), Some(insurer), Some(provider), Some(coverage)) =
        (patient, insurer, provider, coverage)
    else {
        return Err(OperationOutcome::new(issues));
    };
    let mut fail = |at: &str, text: String| issues.push(issue(IssueType::Value, at, text));
    let npi = provider["identifier"]
        .as_array()
        .and_then(|ids| ids.iter().find(|i| i["system"] == NPI_SYSTEM))
        .and_then(|i| i["value"].as_str())
        .map(Npi::parse_checked);
    let npi = match npi {
        Some(Ok(npi)) => Some(npi),
        Some(Err(e)) => {
            fail(
                "CoverageEligibilityRequest.provider.identifier",
                e.to_string(),
            );
            None
        }
        None => {
            fail(
                "CoverageEligibilityRequest.provider.identifier",
                format!("the provider needs an NPI ({NPI_SYSTEM})"),
            );
            None
        }
    };
    let payer_id = insurer["identifier"][0]["value"]
        .as_str()
        .map(PayerId::parse);
    let member_id = coverage["subscriberId"].as_str().map(MemberId::parse);
    let trace = request["identifier"][0]["value"]
        .as_str()
        .map(str::to_string);
    let relationship = coverage["relationship"]["coding"][0]["code"]
        .as_str()
        .unwrap_or("self");
    let holder = if relationship == "self" {
        None
    } else {
        contained(request, &coverage["subscriber"])
    };
    let service_types: Vec<String> = request["item"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["category"]["coding"][0]["code"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let patient_name = name(patient);
    match (npi, payer_id, member_id, trace, patient_name) {
        (Some(npi), Some(Ok(payer_id)), Some(Ok(member_id)), Some(trace), Some(patient_name)) => {
            let provider_name = name(provider).unwrap_or(Name::Organization {
                name: String::new(),
            });
            let (subscriber, dependent) =
                insured(patient, patient_name, member_id, relationship, holder)?;
            if !issues.is_empty() {
                return Err(OperationOutcome::new(issues));
            }
            Ok(EligibilityInquiry {
                provider: InquiringProvider {
                    npi,
                    name: provider_name,
                },
                payer: Payer {
                    name: insurer["name"].as_str().unwrap_or_default().into(),
                    id: payer_id,
                    id_type: None,
                },
                subscriber,
                dependent,
                service_types,
                service_date: date(&request["servicedDate"]),
                trace_number: trace,
            })
        }
        _ => {
            issues.push(issue(
                IssueType::Required,
                "CoverageEligibilityRequest",
                "the request needs an identifier (the trace number), the patient's name, the insurer's identifier (payer id) and the Coverage's subscriberId".into(),
            ));
            Err(OperationOutcome::new(issues))
        }
    }
}

fn number(value: Decimal) -> Value {
    Number::from_str(&value.to_string()).map_or(Value::Null, Value::Number)
}

/// The HL7 benefit type for an EB01 code, when there is one.
fn hl7_benefit_type(code: &str) -> Option<&'static str> {
    match code {
        "B" => Some("copay"),
        "A" => Some("copay-percent"),
        "C" => Some("deductible"),
        "F" => Some("visit"),
        _ => None,
    }
}

fn benefit(b: &Benefit) -> Value {
    let mut coding = vec![json!({ "system": BENEFIT_SYSTEM, "code": b.code, "display": b.kind })];
    if let Some(hl7) = hl7_benefit_type(&b.code) {
        coding.insert(
            0,
            json!({ "system": "http://terminology.hl7.org/CodeSystem/benefit-type", "code": hl7 }),
        );
    }
    let mut out = json!({ "type": { "coding": coding } });
    if let Some(amount) = b.amount {
        out["allowedMoney"] = json!({ "value": number(amount), "currency": "USD" });
    } else if let Some(percent) = b.percent {
        out["allowedString"] = json!(format!("{}%", (percent * Decimal::ONE_HUNDRED).normalize()));
    } else if let Some(q) = &b.quantity {
        out["allowedString"] = json!(format!("{} {}", q.value.normalize(), q.qualifier));
    }
    out
}

fn member_insurance(m: &MemberEligibility) -> Vec<Value> {
    m.plans
        .iter()
        .map(|plan| {
            let inforce = plan
                .service_types
                .iter()
                .flat_map(|s| &s.benefits)
                .find(|b| b.code.chars().all(|c| c.is_ascii_digit()))
                .map(|b| matches!(b.code.as_str(), "1" | "2" | "3" | "4" | "5"));
            let items: Vec<Value> = plan
                .service_types
                .iter()
                .flat_map(|s| {
                    s.benefits.iter().map(move |b| {
                        let mut item = json!({ "benefit": [benefit(b)] });
                        if let Some(code) = &s.code {
                            item["category"] = json!({ "coding": [{ "system": SERVICE_TYPE_SYSTEM, "code": code, "display": s.name }] });
                        }
                        if let Some(network) = b.in_network {
                            item["network"] = json!({ "coding": [{
                                "system": "http://terminology.hl7.org/CodeSystem/benefit-network",
                                "code": if network { "in" } else { "out" },
                            }] });
                        }
                        if let Some(level) = &b.coverage_level_code {
                            let unit = if level == "IND" { "individual" } else { "family" };
                            item["unit"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/benefit-unit", "code": unit }], "text": b.coverage_level });
                        }
                        if let Some(period) = &b.time_period_code {
                            let term = match period.as_str() {
                                "22" | "23" => Some("annual"),
                                "32" | "33" => Some("lifetime"),
                                "7" => Some("day"),
                                _ => None,
                            };
                            let mut coding = vec![];
                            if let Some(term) = term {
                                coding.push(json!({ "system": "http://terminology.hl7.org/CodeSystem/benefit-term", "code": term }));
                            }
                            item["term"] = json!({ "coding": coding, "text": b.time_period });
                        }
                        if let Some(required) = b.authorization_required {
                            item["authorizationRequired"] = json!(required);
                        }
                        if !b.messages.is_empty() {
                            item["description"] = json!(b.messages.join(" "));
                        }
                        item
                    })
                })
                .collect();
            let mut insurance = json!({ "coverage": { "reference": "#coverage" }, "item": items });
            if let Some(inforce) = inforce {
                insurance["inforce"] = json!(inforce);
            }
            if let Some(name) = &plan.plan {
                insurance["coverage"]["display"] = json!(name);
            }
            insurance
        })
        .collect()
}

/// One `CoverageEligibilityResponse` per member of each 271 response.
pub fn responses_to_fhir(responses: &[EligibilityResponse], created: NaiveDate) -> Value {
    let mut entries = vec![];
    for r in responses {
        for m in &r.members {
            let errors: Vec<Value> = r
                .errors
                .iter()
                .chain(&m.errors)
                .map(|e| json!({ "code": { "coding": [{ "system": REJECT_SYSTEM, "code": e.reason_code, "display": e.reason }], "text": e.follow_up } }))
                .collect();
            let mut patient = json!({ "resourceType": "Patient", "id": "patient", "name": [{ "family": m.last_name }] });
            if let Some(first) = &m.first_name {
                patient["name"][0]["given"] = json!([first]);
            }
            if let Some(birth) = m.birth_date {
                patient["birthDate"] = json!(birth.format("%Y-%m-%d").to_string());
            }
            let mut coverage = json!({ "resourceType": "Coverage", "id": "coverage", "status": "active", "beneficiary": { "reference": "#patient" }, "payor": [{ "reference": "#payer" }] });
            if let Some(id) = &m.member_id {
                coverage["subscriberId"] = json!(id);
            }
            let mut resource = json!({
                "resourceType": "CoverageEligibilityResponse",
                "contained": [patient, coverage, { "resourceType": "Organization", "id": "payer", "name": r.payer }],
                "status": "active",
                "purpose": ["benefits"],
                "patient": { "reference": "#patient" },
                "created": created.format("%Y-%m-%d").to_string(),
                "request": { "identifier": { "value": m.trace_numbers.first() } },
                "outcome": if errors.is_empty() { "complete" } else { "error" },
                "insurer": { "reference": "#payer" },
                "insurance": member_insurance(m),
            });
            if !errors.is_empty() {
                resource["error"] = Value::Array(errors);
            }
            entries.push(json!({ "resource": resource }));
        }
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}
