//! A FHIR R4 `Claim` (professional) read into the domain, with its contained resources, so that
//! FHIR users never see X12. Every problem is an `OperationOutcome` issue whose expression is a
//! FHIRPath into the resource (`Claim.item[1].productOrService`).
//!
//! The clearinghouse is the 837's submitter, so submitter and receiver come from configuration,
//! not from the resource.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::claims::model::{
    Admission, ClaimInformation, CodedEvent, DiagnosisCodes, Header, InstitutionalClaim,
    InstitutionalClaimInformation, InstitutionalLine, Patient, ProfessionalClaim, Responsibility,
    ServiceLine, Subscriber,
};

use crate::ids::{MemberId, Npi, PatientControlNumber, PayerId, TaxId};
use crate::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use crate::party::{Address, Gender, Name, Payer, Provider, Receiver, Submitter};

/// NPI identifier system.
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
/// US tax identification number (EIN) identifier system.
pub const TIN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.4.4";

/// Collects the problems of one resource.
struct Reader<'a> {
    claim: &'a Value,
    issues: Vec<Issue>,
}

impl<'a> Reader<'a> {
    fn issue(&mut self, code: IssueType, id: &str, at: &str, text: String) {
        self.issues.push(Issue {
            severity: IssueSeverity::Error,
            code,
            diagnostics: Some(id.into()),
            details: Details { text },
            expression: vec![at.into()],
        });
    }

    /// A string at `value`, or an issue.
    fn string(&mut self, value: &Value, at: &str) -> Option<String> {
        match value.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.to_string()),
            _ => {
                self.issue(
                    IssueType::Required,
                    "fhir-required",
                    at,
                    format!("{at} is required"),
                );
                None
            }
        }
    }

    /// The contained resource a `#id` reference names.
    fn contained(&mut self, reference: &Value, at: &str) -> Option<&'a Value> {
        let Some(id) = reference["reference"]
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
        else {
            self.issue(IssueType::NotSupported, "fhir-reference", at,
                format!("{at} must reference a contained resource (\"#id\"); other references cannot be resolved here"));
            return None;
        };
        let found = self.claim["contained"]
            .as_array()
            .and_then(|list| list.iter().find(|r| r["id"].as_str() == Some(id)));
        if found.is_none() {
            self.issue(
                IssueType::Structure,
                "fhir-reference",
                at,
                format!("no contained resource has id {id:?}"),
            );
        }
        found
    }

    fn decimal(&mut self, value: &Value, at: &str) -> Option<Decimal> {
        let parsed = match value {
            Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
            Value::String(s) => Decimal::from_str(s).ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.issue(
                IssueType::Value,
                "fhir-decimal",
                at,
                format!("{at} must be a decimal number"),
            );
        }
        parsed
    }

    fn date(&mut self, value: &Value, at: &str) -> Option<NaiveDate> {
        let parsed = value
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        if parsed.is_none() {
            self.issue(
                IssueType::Value,
                "fhir-date",
                at,
                format!("{at} must be a date (YYYY-MM-DD)"),
            );
        }
        parsed
    }

    fn identifier(resource: &Value, system: &str) -> Option<String> {
        resource["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"].as_str() == Some(system))
            .and_then(|i| i["value"].as_str())
            .map(str::to_string)
    }

    fn name(&mut self, resource: &Value, at: &str) -> Option<Name> {
        if let Some(name) = resource["name"].as_str() {
            return Some(Name::Organization {
                name: name.to_string(),
            });
        }
        let human = &resource["name"][0];
        let last = self.string(&human["family"], &format!("{at}.name[0].family"))?;
        let given: Vec<&str> = human["given"]
            .as_array()
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        Some(Name::Person {
            last,
            first: given.first().map(|s| s.to_string()).unwrap_or_default(),
            middle: given.get(1).map(|s| s.to_string()),
            suffix: human["suffix"][0].as_str().map(str::to_string),
        })
    }

    fn address(&mut self, resource: &Value, at: &str) -> Option<Address> {
        let a = &resource["address"][0];
        if a.is_null() {
            return None;
        }
        Some(Address {
            lines: a["line"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            city: self.string(&a["city"], &format!("{at}.address[0].city"))?,
            state: self.string(&a["state"], &format!("{at}.address[0].state"))?,
            postal_code: self.string(&a["postalCode"], &format!("{at}.address[0].postalCode"))?,
        })
    }

    fn gender(value: &Value) -> Option<Gender> {
        match value.as_str()? {
            "female" => Some(Gender::Female),
            "male" => Some(Gender::Male),
            _ => Some(Gender::Unknown),
        }
    }

    fn provider(&mut self, resource: &Value, at: &str) -> Option<Provider> {
        let npi = match Self::identifier(resource, NPI_SYSTEM).map(|n| Npi::parse(&n)) {
            Some(Ok(npi)) => npi,
            Some(Err(e)) => {
                self.issue(
                    IssueType::Value,
                    "npi",
                    &format!("{at}.identifier"),
                    e.to_string(),
                );
                return None;
            }
            None => {
                self.issue(
                    IssueType::Required,
                    "npi",
                    &format!("{at}.identifier"),
                    format!("the provider needs an NPI identifier ({NPI_SYSTEM})"),
                );
                return None;
            }
        };
        let tax_id = match Self::identifier(resource, TIN_SYSTEM).map(|t| TaxId::parse(&t)) {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => {
                self.issue(
                    IssueType::Value,
                    "tax-id",
                    &format!("{at}.identifier"),
                    e.to_string(),
                );
                None
            }
            None => None,
        };
        Some(Provider {
            npi: Some(npi),
            name: self.name(resource, at)?,
            taxonomy: None,
            tax_id,
            tax_id_type: None,
            address: self.address(resource, at),
        })
    }
}

/// The receiver a FHIR `Claim` goes to: its insurer (a contained Organization) by the insurer's
/// first identifier, which is the payer id; `UNKNOWN` when the claim names none, which the
/// reader then reports.
pub fn receiver_of(claim: &Value) -> Receiver {
    let payer = claim["contained"]
        .as_array()
        .and_then(|list| {
            let id = claim["insurer"]["reference"].as_str()?.strip_prefix('#')?;
            list.iter().find(|r| r["id"].as_str() == Some(id))
        })
        .and_then(|p| p["identifier"][0]["value"].as_str())
        .unwrap_or("UNKNOWN")
        .to_string();
    Receiver {
        name: payer.clone(),
        id: payer,
    }
}

/// Reads a FHIR `Claim` of type `professional` into a [`ProfessionalClaim`].
pub fn professional_from_fhir(
    claim: &Value,
    submitter: &Submitter,
    receiver: &Receiver,
) -> Result<ProfessionalClaim, OperationOutcome> {
    let (mut r, parts) = begin(claim, "professional")?;
    let diagnoses: Vec<(u64, String)> = diagnoses(&mut r, claim)
        .into_iter()
        .map(|(seq, code, _)| (seq, code))
        .collect();
    let (lines, place) = professional_lines(&mut r, claim, &diagnoses);
    let total = r.decimal(&claim["total"]["value"], "Claim.total.value");
    if place.is_none() {
        r.issue(
            IssueType::Required,
            "place-of-service",
            "Claim.item[0].locationCodeableConcept",
            "the place of service (a CMS place of service code) is required on the first item"
                .into(),
        );
    }
    let rendering = care_team(&mut r, claim, &["primary", "performing"]);
    if !r.issues.is_empty() {
        return Err(OperationOutcome::new(r.issues));
    }
    let needs = "an 837P needs (patient, coverage, provider, payer, total)";
    let (Some((header, pcn)), Some(total), Some(place)) =
        (parts.complete(submitter, receiver), total, place)
    else {
        return Err(incomplete(needs));
    };
    let info = ClaimInformation {
        patient_control_number: pcn,
        total_charge: total,
        place_of_service: place,
        frequency: "1".into(),
        provider_signature_on_file: true,
        assignment: "A".into(),
        benefits_assigned: true,
        release_of_information: "Y".into(),
        onset_date: None,
        accident_date: None,
        prior_authorization: None,
        diagnoses: diagnoses.into_iter().map(|(_, c)| c).collect(),
        diagnosis_codes: DiagnosisCodes::Icd10Cm,
        encounter: false,
    };
    let mut claim = ProfessionalClaim::new(header, info, lines);
    claim.rendering_provider = rendering;
    Ok(claim)
}

/// The items of a professional `Claim` as service lines, and the place of service of the first
/// item that names one.
fn professional_lines(
    r: &mut Reader<'_>,
    claim: &Value,
    diagnoses: &[(u64, String)],
) -> (Vec<ServiceLine>, Option<String>) {
    let mut lines = vec![];
    let mut place = None;
    for (i, item) in claim["item"].as_array().into_iter().flatten().enumerate() {
        let at = format!("Claim.item[{i}]");
        let code = r.string(
            &item["productOrService"]["coding"][0]["code"],
            &format!("{at}.productOrService"),
        );
        let charge = r.decimal(&item["net"]["value"], &format!("{at}.net.value"));
        let units = units(r, item, &at);
        // One date (servicedDate) or a range (servicedPeriod).
        let (date, date_end) = match (&item["servicedDate"], &item["servicedPeriod"]) {
            (Value::Null, period @ Value::Object(_)) => (
                r.date(&period["start"], &format!("{at}.servicedPeriod.start")),
                match &period["end"] {
                    Value::Null => None,
                    end => r.date(end, &format!("{at}.servicedPeriod.end")),
                },
            ),
            (date, _) => (r.date(date, &format!("{at}.servicedDate")), None),
        };
        let pointers: Vec<u8> = item["diagnosisSequence"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_u64)
                    .filter_map(|seq| diagnoses.iter().position(|(d, _)| *d == seq))
                    .filter_map(|p| u8::try_from(p + 1).ok())
                    .collect()
            })
            .unwrap_or_default();
        let pos = item["locationCodeableConcept"]["coding"][0]["code"]
            .as_str()
            .map(str::to_string);
        if place.is_none() {
            place.clone_from(&pos);
        }
        if let (Some(code), Some(charge), Some(units), Some(date)) = (code, charge, units, date) {
            lines.push(ServiceLine {
                procedure_code: code,
                modifiers: modifiers(item),
                charge,
                units,
                service_date: date,
                service_date_end: date_end.filter(|end| *end != date),
                diagnosis_pointers: pointers,
                place_of_service: pos,
                line_control_number: item["sequence"].as_u64().map(|s| s.to_string()),
                patient_count: None,
                drug: None,
                prior_adjudications: vec![],
            });
        }
    }
    (lines, place)
}

/// A FHIR R4 institutional `Claim` (a facility's bill) as an [`InstitutionalClaim`], with the
/// conventions of the CARIN Blue Button institutional profiles where R4 leaves a field open:
/// the bill type, admission, point of origin and discharge status as `supportingInfo`
/// (categories `typeofbill`, `admissionperiod`, `pointoforigin`, `admtype`,
/// `discharge-status`), diagnoses typed `principal`, `admitting` or `other`, ICD-10-PCS
/// procedures typed `principal` or `other`, the attending and operating physicians in the care
/// team, and each line's NUBC revenue code in `item.revenue`.
pub fn institutional_from_fhir(
    claim: &Value,
    submitter: &Submitter,
    receiver: &Receiver,
) -> Result<InstitutionalClaim, OperationOutcome> {
    let (mut r, parts) = begin(claim, "institutional")?;
    let bill = bill(&mut r, claim);
    let diagnoses = institutional_diagnoses(&mut r, claim);
    let (principal_procedure, other_procedures) = procedures(&mut r, claim);
    let attending = care_team(&mut r, claim, &["attending"]);
    let operating = care_team(&mut r, claim, &["operating"]);
    let lines = institutional_lines(&mut r, claim);
    let total = r.decimal(&claim["total"]["value"], "Claim.total.value");
    if !r.issues.is_empty() {
        return Err(OperationOutcome::new(r.issues));
    }
    let needs = "an 837I needs (patient, coverage, provider, payer, billable period, total)";
    let (
        Some((header, pcn)),
        Some(total),
        Some((facility_type, frequency)),
        Some(statement_from),
        Some(statement_to),
        Some(principal_diagnosis),
    ) = (
        parts.complete(submitter, receiver),
        total,
        bill.type_of_bill,
        bill.statement_from,
        bill.statement_to,
        diagnoses.principal,
    )
    else {
        return Err(incomplete(needs));
    };
    let info = InstitutionalClaimInformation {
        patient_control_number: pcn,
        total_charge: total,
        facility_type,
        frequency,
        assignment: "A".into(),
        benefits_assignment: "Y".into(),
        release_of_information: "Y".into(),
        statement_from,
        statement_to,
        admission: bill.admission,
        discharge_hour: None,
        patient_status: bill.patient_status.unwrap_or_default(),
        prior_authorization: None,
        principal_diagnosis,
        admitting_diagnosis: diagnoses.admitting,
        other_diagnoses: diagnoses.others,
        principal_procedure,
        other_procedures,
        occurrences: vec![],
        values: vec![],
        conditions: vec![],
        diagnosis_codes: DiagnosisCodes::Icd10Cm,
    };
    let mut claim = InstitutionalClaim::new(header, info, lines);
    claim.attending_provider = attending;
    claim.operating_provider = operating;
    Ok(claim)
}

/// What an institutional `Claim` says of the bill itself.
struct Bill {
    /// Facility type and classification, then frequency.
    type_of_bill: Option<(String, String)>,
    statement_from: Option<NaiveDate>,
    statement_to: Option<NaiveDate>,
    admission: Option<Admission>,
    patient_status: Option<String>,
}

/// The `supportingInfo` of `category`, with its index.
fn supporting<'a>(claim: &'a Value, category: &str) -> Option<(usize, &'a Value)> {
    claim["supportingInfo"].as_array().and_then(|all| {
        all.iter().enumerate().find(|(_, i)| {
            i["category"]["coding"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["code"] == category))
        })
    })
}

/// The code of a `supportingInfo`.
fn info_code(info: &Value) -> Option<String> {
    info["code"]["coding"][0]["code"]
        .as_str()
        .map(str::to_string)
}

/// The type of bill, the billable period, the admission and the discharge status.
fn bill(r: &mut Reader<'_>, claim: &Value) -> Bill {
    // Type of bill: NUBC, with or without its leading zero (0131 or 131): facility type and
    // classification, then frequency.
    let type_of_bill = match supporting(claim, "typeofbill").map(|(k, i)| (k, info_code(i))) {
        Some((_, Some(code)))
            if code.trim_start_matches('0').chars().count() == 3
                && code.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            let digits = code.trim_start_matches('0');
            let facility: String = digits.chars().take(2).collect();
            let frequency: String = digits.chars().skip(2).collect();
            Some((facility, frequency))
        }
        Some((k, _)) => {
            r.issue(IssueType::Value, "type-of-bill", &format!("Claim.supportingInfo[{k}].code"),
                "the type of bill is three digits (NUBC: facility type, classification, frequency; a leading 0 is allowed)".into());
            None
        }
        None => {
            r.issue(
                IssueType::Required,
                "type-of-bill",
                "Claim.supportingInfo",
                "a supportingInfo of category typeofbill with the NUBC type of bill is required"
                    .into(),
            );
            None
        }
    };
    let statement_from = r.date(
        &claim["billablePeriod"]["start"],
        "Claim.billablePeriod.start",
    );
    let statement_to = r.date(&claim["billablePeriod"]["end"], "Claim.billablePeriod.end");
    let admission = match supporting(claim, "admissionperiod") {
        Some((k, i)) => {
            let at = format!("Claim.supportingInfo[{k}].timingPeriod.start");
            let start = i["timingPeriod"]["start"].as_str().unwrap_or_default();
            // A date, or a dateTime whose hour and minute become the admission hour.
            let date = start.get(..10).and_then(|d| NaiveDate::from_str(d).ok());
            let hour = start
                .get(11..16)
                .map(|hm| hm.replace(':', ""))
                .filter(|hm| hm.len() == 4);
            match date {
                Some(date) => Some(Admission {
                    date,
                    hour,
                    type_code: supporting(claim, "admtype")
                        .and_then(|(_, i)| info_code(i))
                        .unwrap_or_default(),
                    source_code: supporting(claim, "pointoforigin").and_then(|(_, i)| info_code(i)),
                }),
                None => {
                    r.issue(
                        IssueType::Value,
                        "admission",
                        &at,
                        format!("{start:?} is not a date"),
                    );
                    None
                }
            }
        }
        None => None,
    };
    Bill {
        type_of_bill,
        statement_from,
        statement_to,
        admission,
        patient_status: supporting(claim, "discharge-status").and_then(|(_, i)| info_code(i)),
    }
}

/// The diagnoses of an institutional `Claim`, by type.
struct Diagnoses {
    principal: Option<String>,
    admitting: Option<String>,
    others: Vec<String>,
}

/// The principal (typed `principal`, or else the first), admitting and other diagnoses.
fn institutional_diagnoses(r: &mut Reader<'_>, claim: &Value) -> Diagnoses {
    let coded = diagnoses(r, claim);
    let of_type = |t: &'static str| {
        coded
            .iter()
            .filter(move |(_, _, kind)| kind.as_deref() == Some(t))
            .map(|(_, code, _)| code.clone())
    };
    let principal = of_type("principal")
        .next()
        .or_else(|| coded.first().map(|(_, c, _)| c.clone()));
    if principal.is_none() {
        r.issue(
            IssueType::Required,
            "diagnosis-required",
            "Claim.diagnosis",
            "the principal diagnosis is required (a diagnosis of type principal, or the first)"
                .into(),
        );
    }
    let principal_code = principal.clone().unwrap_or_default();
    let admitting = of_type("admitting").next();
    let others: Vec<String> = coded
        .iter()
        .filter(|(_, code, kind)| *code != principal_code && kind.as_deref() != Some("admitting"))
        .map(|(_, code, _)| code.clone())
        .collect();
    Diagnoses {
        principal,
        admitting,
        others,
    }
}

/// The ICD-10-PCS procedures with their dates: the one typed `principal`, and the others.
fn procedures(r: &mut Reader<'_>, claim: &Value) -> (Option<CodedEvent>, Vec<CodedEvent>) {
    let mut procedures = vec![];
    for (k, p) in claim["procedure"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("Claim.procedure[{k}]");
        let code = r.string(
            &p["procedureCodeableConcept"]["coding"][0]["code"],
            &format!("{at}.procedureCodeableConcept"),
        );
        let date = match p["date"].as_str() {
            Some(d) => r.date(
                &Value::from(d.get(..10).unwrap_or(d)),
                &format!("{at}.date"),
            ),
            None => {
                r.issue(
                    IssueType::Required,
                    "procedure-date",
                    &format!("{at}.date"),
                    "an ICD-10-PCS procedure needs its date".into(),
                );
                None
            }
        };
        let principal = p["type"][0]["coding"][0]["code"] == "principal";
        if let (Some(code), Some(date)) = (code, date) {
            procedures.push((principal, CodedEvent { code, date }));
        }
    }
    let principal = procedures
        .iter()
        .position(|(principal, _)| *principal)
        .map(|k| procedures.remove(k).1);
    (principal, procedures.into_iter().map(|(_, p)| p).collect())
}

/// The items of an institutional `Claim` as revenue-code lines.
fn institutional_lines(r: &mut Reader<'_>, claim: &Value) -> Vec<InstitutionalLine> {
    let mut lines = vec![];
    for (i, item) in claim["item"].as_array().into_iter().flatten().enumerate() {
        let at = format!("Claim.item[{i}]");
        let revenue = r.string(
            &item["revenue"]["coding"][0]["code"],
            &format!("{at}.revenue"),
        );
        let procedure = item["productOrService"]["coding"][0]["code"]
            .as_str()
            .filter(|c| *c != "NA")
            .map(str::to_string);
        let charge = r.decimal(&item["net"]["value"], &format!("{at}.net.value"));
        let quantity = units(r, item, &at);
        let date = match &item["servicedDate"] {
            Value::Null => None,
            d => r.date(d, &format!("{at}.servicedDate")),
        };
        if let (Some(revenue_code), Some(charge), Some(quantity)) = (revenue, charge, quantity) {
            lines.push(InstitutionalLine {
                revenue_code,
                procedure_code: procedure,
                modifiers: modifiers(item),
                charge,
                unit: if item["quantity"]["unit"] == "days" {
                    "DA"
                } else {
                    "UN"
                }
                .into(),
                quantity,
                service_date: date,
                line_control_number: item["sequence"].as_u64().map(|s| s.to_string()),
            });
        }
    }
    lines
}

/// An item's modifiers.
fn modifiers(item: &Value) -> Vec<String> {
    item["modifier"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|c| c["coding"][0]["code"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An item's quantity: 1 when it gives none.
fn units(r: &mut Reader<'_>, item: &Value, at: &str) -> Option<Decimal> {
    match &item["quantity"]["value"] {
        Value::Null => Some(Decimal::ONE),
        q => r.decimal(q, &format!("{at}.quantity.value")),
    }
}

/// The provider of the first care team member with one of `roles`.
fn care_team(r: &mut Reader<'_>, claim: &Value, roles: &[&str]) -> Option<Provider> {
    let member = claim["careTeam"].as_array().and_then(|team| {
        team.iter().find(|m| {
            m["role"]["coding"][0]["code"]
                .as_str()
                .is_some_and(|role| roles.contains(&role))
        })
    })?;
    r.contained(&member["provider"], "Claim.careTeam.provider")
        .and_then(|p| r.provider(p, "Claim.careTeam.provider"))
}

/// What every FHIR `Claim` carries whatever its type: the provider's claim number, the billing
/// provider, the payer, and the subscriber and patient from the Coverage and Patient; `None`
/// when the resource is not a Claim at all (the issue says so).
fn header(r: &mut Reader<'_>, claim: &Value, expected: &str) -> Option<Parts> {
    if claim["resourceType"] != "Claim" {
        r.issue(
            IssueType::Structure,
            "fhir-resource-type",
            "Claim.resourceType",
            "the resource must be a Claim".into(),
        );
        return None;
    }
    let kind = claim["type"]["coding"][0]["code"].as_str().unwrap_or("");
    if kind != expected {
        r.issue(IssueType::NotSupported, "fhir-claim-type", "Claim.type",
            format!("claim type {kind:?}: this reads {expected} claims (Claim.type, http://terminology.hl7.org/CodeSystem/claim-type)"));
    }
    let pcn = r
        .string(
            &claim["identifier"][0]["value"],
            "Claim.identifier[0].value",
        )
        .and_then(|v| {
            PatientControlNumber::parse(&v)
                .map_err(|e| {
                    r.issue(
                        IssueType::Value,
                        "patient-control-number",
                        "Claim.identifier[0].value",
                        e.to_string(),
                    )
                })
                .ok()
        });
    let billing = r
        .contained(&claim["provider"], "Claim.provider")
        .and_then(|p| r.provider(p, "Claim.provider"));
    let payer_resource = r.contained(&claim["insurer"], "Claim.insurer");
    let payer = payer_resource.and_then(|p| {
        let name = r.string(&p["name"], "Claim.insurer.name")?;
        let id = p["identifier"][0]["value"].as_str().map(PayerId::parse);
        match id {
            Some(Ok(id)) => Some(Payer {
                name,
                id,
                id_type: None,
            }),
            _ => {
                r.issue(
                    IssueType::Required,
                    "payer-id",
                    "Claim.insurer.identifier",
                    "the payer needs an identifier (its payer id)".into(),
                );
                None
            }
        }
    });
    let (subscriber, patient) = insured(r, claim);
    Some(Parts {
        pcn,
        billing,
        payer,
        subscriber,
        patient,
    })
}

/// The subscriber, and the patient when a dependent, from the Claim's Patient and its focal
/// Coverage (member id, relationship, group, claim filing indicator).
fn insured(r: &mut Reader<'_>, claim: &Value) -> (Option<Subscriber>, Option<Patient>) {
    let patient_resource = r.contained(&claim["patient"], "Claim.patient");
    let insurance = claim["insurance"]
        .as_array()
        .and_then(|list| list.iter().find(|i| i["focal"] == true).or(list.first()));
    let coverage = match insurance {
        Some(i) => r.contained(&i["coverage"], "Claim.insurance.coverage"),
        None => {
            r.issue(
                IssueType::Required,
                "fhir-required",
                "Claim.insurance",
                "Claim.insurance is required".into(),
            );
            None
        }
    };
    // Coverage: member id, relationship, group, filing indicator; the subscriber when the
    // patient is a dependent.
    let mut subscriber = None;
    let mut patient = None;
    if let (Some(cov), Some(pat)) = (coverage, patient_resource) {
        let member_id = r
            .string(
                &cov["subscriberId"],
                "Claim.insurance.coverage.subscriberId",
            )
            .and_then(|m| {
                MemberId::parse(&m)
                    .map_err(|e| {
                        r.issue(
                            IssueType::Value,
                            "member-id",
                            "Claim.insurance.coverage.subscriberId",
                            e.to_string(),
                        )
                    })
                    .ok()
            });
        let relationship = cov["relationship"]["coding"][0]["code"]
            .as_str()
            .unwrap_or("self");
        let filing = cov["type"]["coding"]
            .as_array()
            .and_then(|c| c.iter().filter_map(|c| c["code"].as_str()).next())
            .map(str::to_string);
        if filing.is_none() {
            r.issue(IssueType::Required, "claim-filing-indicator", "Claim.insurance.coverage.type",
                "Coverage.type must carry the X12 claim filing indicator code (CI commercial, MB Medicare Part B, MC Medicaid, ...)".into());
        }
        let group = cov["class"].as_array().and_then(|classes| {
            classes
                .iter()
                .find(|c| c["type"]["coding"][0]["code"] == "group")
                .and_then(|c| c["value"].as_str())
                .map(str::to_string)
        });
        let patient_name = r.name(pat, "Claim.patient");
        let patient_address = r.address(pat, "Claim.patient");
        let birth = match &pat["birthDate"] {
            Value::Null => None,
            b => r.date(b, "Claim.patient.birthDate"),
        };
        let gender = Reader::gender(&pat["gender"]);
        let holder = if relationship == "self" {
            None
        } else {
            cov.get("subscriber")
                .and_then(|s| r.contained(s, "Claim.insurance.coverage.subscriber"))
        };
        match (member_id, filing, patient_name) {
            (Some(member_id), Some(filing), Some(patient_name)) if relationship == "self" => {
                subscriber = Some(Subscriber {
                    member_id,
                    name: patient_name,
                    address: patient_address,
                    birth_date: birth,
                    gender,
                    group_number: group,
                    responsibility: Responsibility::Primary,
                    claim_filing_indicator: filing,
                });
            }
            (Some(member_id), Some(filing), Some(patient_name)) => {
                let code = match relationship {
                    "spouse" => "01",
                    "child" => "19",
                    _ => "G8",
                };
                let holder_name =
                    holder.and_then(|h| r.name(h, "Claim.insurance.coverage.subscriber"));
                match (holder_name, patient_address, birth, gender) {
                    (Some(holder_name), Some(address), Some(birth_date), Some(gender)) => {
                        subscriber = Some(Subscriber {
                            member_id,
                            name: holder_name,
                            address: None,
                            birth_date: None,
                            gender: None,
                            group_number: group,
                            responsibility: Responsibility::Primary,
                            claim_filing_indicator: filing,
                        });
                        patient = Some(Patient { relationship: code.into(), name: patient_name, address, birth_date, gender });
                    }
                    _ => r.issue(IssueType::Required, "dependent-patient", "Claim.patient",
                        "a dependent patient needs an address, birth date and gender, and the Coverage a contained subscriber".into()),
                }
            }
            _ => {}
        }
    }
    (subscriber, patient)
}

/// A reader for `claim` and its [`header`], or the outcome when it is not a Claim at all.
fn begin<'a>(claim: &'a Value, expected: &str) -> Result<(Reader<'a>, Parts), OperationOutcome> {
    let mut r = Reader {
        claim,
        issues: vec![],
    };
    match header(&mut r, claim, expected) {
        Some(h) => Ok((r, h)),
        None => Err(OperationOutcome::new(r.issues)),
    }
}

/// The outcome for a Claim that lacks what `needs` lists, with no finer issue to say so.
fn incomplete(needs: &str) -> OperationOutcome {
    OperationOutcome::new(vec![Issue {
        severity: IssueSeverity::Error,
        code: IssueType::Structure,
        diagnostics: Some("fhir-incomplete".into()),
        details: Details {
            text: format!("the Claim lacks what {needs}"),
        },
        expression: vec!["Claim".into()],
    }])
}

/// The parts of [`header`], each as far as the resource gave it.
struct Parts {
    pcn: Option<PatientControlNumber>,
    billing: Option<Provider>,
    payer: Option<Payer>,
    subscriber: Option<Subscriber>,
    patient: Option<Patient>,
}

impl Parts {
    /// The claim's header and control number, when the resource gave all an 837 needs; the
    /// clearinghouse is the submitter, and the payer's system the receiver.
    fn complete(
        self,
        submitter: &Submitter,
        receiver: &Receiver,
    ) -> Option<(Header, PatientControlNumber)> {
        let header = Header {
            submitter: submitter.clone(),
            receiver: receiver.clone(),
            billing_provider: self.billing?,
            pay_to_address: None,
            subscriber: self.subscriber?,
            patient: self.patient,
            payer: self.payer?,
        };
        Some((header, self.pcn?))
    }
}

/// `Claim.diagnosis` in sequence order: (sequence, code, the type's code, when given).
fn diagnoses(r: &mut Reader<'_>, claim: &Value) -> Vec<(u64, String, Option<String>)> {
    // Diagnoses in sequence order; pointers are positions in that order.
    let mut diagnoses: Vec<(u64, String, Option<String>)> = vec![];
    for (i, d) in claim["diagnosis"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("Claim.diagnosis[{i}].diagnosisCodeableConcept");
        match d["diagnosisCodeableConcept"]["coding"][0]["code"].as_str() {
            Some(code) => diagnoses.push((
                d["sequence"].as_u64().unwrap_or(i as u64 + 1),
                code.to_string(),
                d["type"][0]["coding"][0]["code"]
                    .as_str()
                    .map(str::to_string),
            )),
            None => r.issue(
                IssueType::Required,
                "fhir-required",
                &at,
                format!("{at} needs an ICD-10-CM coding"),
            ),
        }
    }
    diagnoses.sort_by_key(|(seq, _, _)| *seq);
    diagnoses
}

/// A scrubber issue's JSON pointer into our claim, as a FHIRPath into the FHIR `Claim` it was
/// read from (the fields that have a home in the resource; others name the Claim itself).
pub fn fhirpath_of(pointer: &str) -> String {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let rest = |from: usize, map: &dyn Fn(&str) -> &str| {
        parts
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|p| map(p))
            .filter(|p| !p.is_empty())
            .map(|p| format!(".{p}"))
            .collect::<String>()
    };
    match parts.as_slice() {
        ["serviceLines", n, field, ..] => {
            let field = match *field {
                "procedureCode" => "productOrService",
                "modifiers" => "modifier",
                "charge" => "net",
                "units" => "quantity",
                "serviceDate" => "servicedDate",
                "diagnosisPointers" => "diagnosisSequence",
                "placeOfService" => "locationCodeableConcept",
                other => other,
            };
            format!("Claim.item[{n}].{field}")
        }
        ["serviceLines", n] => format!("Claim.item[{n}]"),
        ["claim", "diagnoses", n, ..] => format!("Claim.diagnosis[{n}].diagnosisCodeableConcept"),
        ["claim", "totalCharge"] => "Claim.total".into(),
        ["claim", "patientControlNumber"] => "Claim.identifier[0].value".into(),
        ["claim", "placeOfService"] => "Claim.item[0].locationCodeableConcept".into(),
        ["billingProvider", ..] => format!(
            "Claim.provider{}",
            rest(1, &|p| match p {
                "taxId" | "npi" => "identifier",
                "lines" => "line",
                other => other,
            })
        ),
        [
            "renderingProvider" | "attendingProvider" | "operatingProvider",
            ..,
        ] => "Claim.careTeam.provider".into(),
        // The institutional Claim's fields.
        ["claim", "statementFrom"] => "Claim.billablePeriod.start".into(),
        ["claim", "statementTo"] => "Claim.billablePeriod.end".into(),
        [
            "claim",
            "principalDiagnosis" | "admittingDiagnosis" | "otherDiagnoses",
            ..,
        ] => "Claim.diagnosis".into(),
        ["claim", "principalProcedure" | "otherProcedures", ..] => "Claim.procedure".into(),
        [
            "claim",
            "facilityType" | "frequency" | "admission" | "patientStatus",
            ..,
        ] => "Claim.supportingInfo".into(),
        ["subscriber", "claimFilingIndicator"] => "Claim.insurance.coverage.type".into(),
        ["subscriber", "memberId"] => "Claim.insurance.coverage.subscriberId".into(),
        ["subscriber", ..] | ["patient", ..] => format!(
            "Claim.patient{}",
            rest(1, &|p| match p {
                "lines" => "line",
                "relationship" => "",
                other => other,
            })
        ),
        ["payer", ..] => "Claim.insurer".into(),
        _ => "Claim".into(),
    }
}
