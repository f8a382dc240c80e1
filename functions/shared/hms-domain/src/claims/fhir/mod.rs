//! FHIR R4 `Claim`s read into the domain as EHRs and generators publish them, so that FHIR
//! users never see X12.
//!
//! A Claim arrives alone (its parties `contained`), with its parties beside it in a `Bundle`
//! (transaction, collection or searchset; references by `fullUrl`, `Type/id`, conditional or
//! logical), or as one of several Claims of a Bundle. [`resources`] resolves every reference
//! form; [`coding`] chooses codings and identifiers by system, never by position; [`reader`]
//! collects every problem of a Claim so that one answer lists them all, each with a FHIRPath
//! into the resource and a message that tells absent from malformed; [`parties`] reads what
//! every Claim carries; this module reads what the claim types carry of their own.
//!
//! The clearinghouse is the 837's submitter, so submitter and receiver come from configuration
//! (the payer's connection), not from the resource. The mapping, element by element, is
//! `FHIR_CLAIM_MAPPING.md` (beside this crate's Cargo.toml), which a test holds to this code.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

pub mod coding;
pub(crate) mod parties;
pub mod path;
pub(crate) mod reader;
pub mod resources;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::claims::claim::{Claim, ClaimKind};
use crate::claims::model::{
    Admission, ClaimInformation, CodedEvent, DiagnosisCodes, Header, InstitutionalClaim,
    InstitutionalClaimInformation, InstitutionalLine, ProfessionalClaim, ServiceLine, Stay,
};
use crate::outcome::{Issue, IssueType, OperationOutcome};
use crate::partner::Connections;
use crate::party::{Provider, Receiver};

use coding::{
    BILL_TYPE, CPT, HCPCS, ICD9_CM, ICD10, ICD10_CM, ICD10_PCS, NDC, PLACE_OF_SERVICE, Pick,
    REVENUE, code_among, has_code, pick, shape,
};
use parties::Parts;
use reader::Reader;
use resources::Resources;

pub use path::fhirpath_of;

/// NPI identifier system.
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
/// US tax identification number identifier system.
pub const TIN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.4.4";

/// A Claim read: the claim, and the choices the reader made where FHIR left one open
/// (information issues, for the caller to see).
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The claim.
    pub claim: Claim,
    /// What the reader chose and why.
    pub notes: Vec<Issue>,
}

/// The `Claim` resource `claim` (found in `input`, which holds the resources it refers to) as
/// a claim of `kind`, sent on by the clearinghouse of `connections` to the payer it names.
pub fn read(
    claim: &Value,
    resources: &Resources<'_>,
    kind: ClaimKind,
    connections: &Connections,
) -> Result<Read, OperationOutcome> {
    let mut r = Reader {
        claim,
        resources,
        connections,
        issues: vec![],
        notes: vec![],
    };
    let expected = match kind {
        ClaimKind::Professional => "professional",
        ClaimKind::Institutional => "institutional",
    };
    let parts = parties::header(&mut r, expected);
    let read = match kind {
        ClaimKind::Professional => professional(&mut r, parts).map(Claim::Professional),
        ClaimKind::Institutional => institutional(&mut r, parts).map(Claim::Institutional),
    };
    match read {
        Some(claim) if r.issues.is_empty() => Ok(Read {
            claim,
            notes: r.notes,
        }),
        _ if r.issues.is_empty() => Err(OperationOutcome::new(vec![Issue::error(
            IssueType::Structure,
            "fhir-incomplete",
            "the Claim lacks what an 837 needs",
        )])),
        _ => Err(OperationOutcome::new(r.issues)),
    }
}

/// Reads a FHIR `Claim` of type `professional` (alone, its parties contained or unresolvable)
/// into a [`ProfessionalClaim`].
pub fn professional_from_fhir(
    claim: &Value,
    connections: &Connections,
) -> Result<ProfessionalClaim, OperationOutcome> {
    match alone(claim, ClaimKind::Professional, connections)? {
        Claim::Professional(c) => Ok(c),
        other => Err(other_kind(&other)),
    }
}

/// Reads a FHIR `Claim` of type `institutional` into an [`InstitutionalClaim`], with the
/// conventions of the CARIN Blue Button institutional profiles where R4 leaves a field open:
/// the bill type, admission, point of origin and discharge status as `supportingInfo`
/// (categories `typeofbill`, `admissionperiod`, `pointoforigin`, `admtype`,
/// `discharge-status`), diagnoses typed `principal`, `admitting` or `other`, ICD-10-PCS
/// procedures typed `principal` or `other`, the attending and operating physicians in the care
/// team, and each line's NUBC revenue code in `item.revenue`.
pub fn institutional_from_fhir(
    claim: &Value,
    connections: &Connections,
) -> Result<InstitutionalClaim, OperationOutcome> {
    match alone(claim, ClaimKind::Institutional, connections)? {
        Claim::Institutional(c) => Ok(c),
        other => Err(other_kind(&other)),
    }
}

/// A Claim alone (its parties contained) read as `kind`.
fn alone(
    claim: &Value,
    kind: ClaimKind,
    connections: &Connections,
) -> Result<Claim, OperationOutcome> {
    read(claim, &Resources::of(claim), kind, connections).map(|r| r.claim)
}

/// The outcome for a reading that gave a claim of another kind than asked (never expected:
/// [`read`] builds the kind it is given).
fn other_kind(claim: &Claim) -> OperationOutcome {
    OperationOutcome::new(vec![Issue::error(
        IssueType::Exception,
        "fhir-claim-kind",
        format!(
            "the Claim was read as a {:?} claim, not the kind asked for",
            claim.kind()
        ),
    )])
}

/// The header of `parts` addressed to the payer's receiving system.
fn complete(
    parts: Parts,
    connections: &Connections,
) -> Option<(
    Header,
    crate::ids::PatientControlNumber,
    Vec<crate::claims::model::OtherCoverage>,
)> {
    let payer = parts.payer?;
    let receiver = Receiver {
        name: payer.name.clone(),
        id: connections
            .partner_for(payer.id.as_str())
            .application_receiver,
    };
    let mut subscriber = parts.subscriber?;
    subscriber.responsibility = parts.responsibility;
    let header = Header {
        submitter: connections.submitter.clone(),
        receiver,
        billing_provider: parts.billing?,
        pay_to_address: None,
        subscriber,
        patient: parts.patient,
        payer,
    };
    Some((header, parts.pcn?, parts.other_coverage))
}

/// A diagnosis of the Claim: its sequence, code and type.
struct Diagnosis {
    sequence: u64,
    code: String,
    kind: Option<&'static str>,
}

/// `Claim.diagnosis` in sequence order, each from its `diagnosisCodeableConcept` or the
/// `code` of the Condition its `diagnosisReference` names, and the code set they share.
fn diagnoses(r: &mut Reader<'_>) -> (Vec<Diagnosis>, DiagnosisCodes) {
    let claim = r.claim;
    let mut read = vec![];
    let mut sets = vec![];
    for (i, d) in claim["diagnosis"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("Claim.diagnosis[{i}]");
        let Some((concept, _, at)) = coded_or_referenced(r, d, &at, "diagnosis", "Condition")
        else {
            continue;
        };
        let Some((code, system)) = r.code(
            concept,
            &at,
            &[ICD10_CM, ICD10, ICD9_CM],
            shape::icd10,
            "ICD-10-CM",
        ) else {
            continue;
        };
        sets.push(if system == Some(ICD9_CM) {
            DiagnosisCodes::Icd9Cm
        } else {
            DiagnosisCodes::Icd10Cm
        });
        let sequence = match &d["sequence"] {
            Value::Null => i as u64 + 1,
            s => match s.as_u64() {
                Some(s) => s,
                None => {
                    r.error(
                        IssueType::Value,
                        "fhir-sequence",
                        &format!("Claim.diagnosis[{i}].sequence"),
                        format!("Claim.diagnosis[{i}].sequence must be a positive integer"),
                    );
                    continue;
                }
            },
        };
        let kind = d["type"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|t| code_among(t, &["principal", "admitting", "other", "secondary"]));
        read.push(Diagnosis {
            sequence,
            code,
            kind,
        });
    }
    let set = match sets.first() {
        Some(first) if sets.iter().all(|s| s == first) => *first,
        Some(_) => {
            r.error(IssueType::BusinessRule, "diagnosis-code-set", "Claim.diagnosis", "Claim.diagnosis mixes ICD-9-CM and ICD-10-CM codes; a claim uses one code set (ICD-10-CM for services since 2015-10-01)".into());
            DiagnosisCodes::Icd10Cm
        }
        None => DiagnosisCodes::Icd10Cm,
    };
    read.sort_by_key(|d| d.sequence);
    for pair in read.windows(2) {
        if let [a, b] = pair
            && a.sequence == b.sequence
        {
            r.error(
                IssueType::Duplicate,
                "fhir-sequence",
                "Claim.diagnosis",
                format!("two Claim.diagnosis have sequence {}", a.sequence),
            );
        }
    }
    (read, set)
}

/// A choice of a code or a reference to a coded resource (`diagnosis[x]`: Condition,
/// `procedure[x]`: Procedure) of the element at `at`: the concept, the resource when it was a
/// reference, and where the concept is; `None` (the issue said why) when neither is there or
/// the reference leads nowhere.
fn coded_or_referenced<'a>(
    r: &mut Reader<'a>,
    element: &'a Value,
    at: &str,
    name: &str,
    kind: &str,
) -> Option<(&'a Value, Option<&'a Value>, String)> {
    let concept = &element[format!("{name}CodeableConcept").as_str()];
    let reference = &element[format!("{name}Reference").as_str()];
    match (concept, reference) {
        (Value::Null, Value::Null) => {
            r.required(
                "fhir-required",
                &format!("{at}.{name}[x]"),
                &format!("a {name}CodeableConcept or a {name}Reference"),
            );
            None
        }
        (Value::Null, reference) => {
            let at = format!("{at}.{name}Reference");
            let resource = r.resource(reference, r.claim, &at, &[kind])?;
            Some((&resource["code"], Some(resource), format!("{at}.code")))
        }
        (concept, _) => Some((concept, None, format!("{at}.{name}CodeableConcept"))),
    }
}

/// Checks that each item's `sequence` is its own: an 837 line number and the 835's line
/// reference must not repeat.
fn distinct_sequences(r: &mut Reader<'_>) {
    let mut seen: Vec<(u64, usize)> = vec![];
    for (i, item) in r.claim["item"].as_array().into_iter().flatten().enumerate() {
        if let Some(seq) = item["sequence"].as_u64() {
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == seq) {
                let first = *first;
                r.error(IssueType::Duplicate, "fhir-sequence", &format!("Claim.item[{i}].sequence"), format!("Claim.item[{i}].sequence {seq} repeats Claim.item[{first}]'s; each line needs its own"));
            } else {
                seen.push((seq, i));
            }
        }
    }
}

/// What an item bills, whatever the claim's kind.
struct Billed {
    /// CPT or HCPCS; an institutional line may have none (data-absent-reason
    /// `not-applicable`: a room-and-board line carries only its revenue code).
    procedure: Option<String>,
    modifiers: Vec<String>,
    charge: Option<Decimal>,
    units: Option<Decimal>,
    /// The date of service and, for a range, its last day; an institutional line's date is
    /// optional.
    date: Option<NaiveDate>,
    date_end: Option<NaiveDate>,
}

/// What `item` (at `at`) bills, read as a line of a `kind` claim.
fn billed(r: &mut Reader<'_>, item: &Value, at: &str, kind: ClaimKind) -> Billed {
    let professional = kind == ClaimKind::Professional;
    let concept = &item["productOrService"];
    let procedure = match (not_applicable(concept), professional) {
        (true, true) => {
            r.required(
                "fhir-required",
                &format!("{at}.productOrService"),
                "a professional line needs its CPT or HCPCS code",
            );
            None
        }
        (true, false) => None,
        (false, _) => r
            .code(
                concept,
                &format!("{at}.productOrService"),
                &[CPT, HCPCS],
                shape::procedure,
                if professional {
                    "CPT or HCPCS"
                } else {
                    "CPT or HCPCS (or data-absent-reason not-applicable)"
                },
            )
            .map(|(c, _)| c),
    };
    let modifiers = modifiers(r, item, at);
    let units = units(r, item, at);
    let charge = charge(r, item, at, units);
    let (date, date_end) = served(r, item, at, professional);
    Billed {
        procedure,
        modifiers,
        charge,
        units,
        date,
        date_end,
    }
}

/// An item's charge: `net`, or else `unitPrice` × its `units` (read once, by the caller) ×
/// `factor`.
fn charge(r: &mut Reader<'_>, item: &Value, at: &str, units: Option<Decimal>) -> Option<Decimal> {
    if !item["net"].is_null() {
        return r.optional_money(&item["net"], &format!("{at}.net"));
    }
    if item["unitPrice"].is_null() {
        r.required(
            "fhir-required",
            &format!("{at}.net"),
            "the line's charge (or unitPrice with quantity)",
        );
        return None;
    }
    let price = r.optional_money(&item["unitPrice"], &format!("{at}.unitPrice"))?;
    let quantity = units?;
    let factor = r
        .optional_decimal(&item["factor"], &format!("{at}.factor"))
        .unwrap_or(Decimal::ONE);
    Some((price * quantity * factor).round_dp(2))
}

/// The drug a line gives (loop 2410): the first `item.detail` coded with an NDC, with its
/// quantity in a unit the 837 names (UCUM `mL` → ML, `mg` → ME, `g` → GR, `[iU]` → F2, a count
/// → UN).
fn drug(r: &mut Reader<'_>, item: &Value, at: &str) -> Option<crate::claims::model::Drug> {
    let (k, detail, ndc) = item["detail"]
        .as_array()?
        .iter()
        .enumerate()
        .find_map(
            |(k, d)| match pick(&d["productOrService"], &[NDC], shape::none) {
                Pick::Code(code, _) => Some((k, d, code)),
                _ => None,
            },
        )?;
    let at = format!("{at}.detail[{k}]");
    let quantity = &detail["quantity"];
    if quantity["value"].is_null() {
        r.required(
            "ndc-quantity",
            &format!("{at}.quantity.value"),
            "the drug's quantity (CTP04)",
        );
        return None;
    }
    let amount = r.optional_decimal(&quantity["value"], &format!("{at}.quantity.value"))?;
    let unit_text = quantity["code"]
        .as_str()
        .or(quantity["unit"].as_str())
        .unwrap_or("");
    let unit = match unit_text {
        "mL" | "ml" | "ML" => "ML",
        "mg" | "MG" => "ME",
        "g" | "GR" => "GR",
        "[iU]" | "[IU]" | "IU" | "F2" => "F2",
        "" | "1" | "{unit}" | "{each}" | "ea" | "UN" => "UN",
        other => {
            r.error(
                IssueType::CodeInvalid,
                "ndc-unit",
                &format!("{at}.quantity"),
                format!("{at}.quantity's unit {other:?} is none an 837 drug line takes (mL, mg, g, [iU], or a count)"),
            );
            return None;
        }
    };
    Some(crate::claims::model::Drug {
        ndc,
        quantity: amount,
        unit: unit.into(),
    })
}

/// An item's quantity: 1 when it gives none.
fn units(r: &mut Reader<'_>, item: &Value, at: &str) -> Option<Decimal> {
    match &item["quantity"]["value"] {
        Value::Null => Some(Decimal::ONE),
        q => r.optional_decimal(q, &format!("{at}.quantity.value")),
    }
}

/// An item's dates: `servicedDate`, or `servicedPeriod` (its start and end; only an end is
/// one day), or else the Claim's `billablePeriod` (noted).
fn served(
    r: &mut Reader<'_>,
    item: &Value,
    at: &str,
    required: bool,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match (&item["servicedDate"], &item["servicedPeriod"]) {
        (Value::Null, Value::Null) => {
            let period = &r.claim["billablePeriod"];
            if period.is_null() {
                if required {
                    r.required(
                        "fhir-required",
                        &format!("{at}.servicedDate"),
                        "the date of service (or servicedPeriod, or the Claim's billablePeriod)",
                    );
                }
                return (None, None);
            }
            let (start, end) = period_dates(r, period, "Claim.billablePeriod");
            if start.is_some() && required {
                r.note(
                    "service-date-from-billable-period",
                    &format!("{at}.servicedDate"),
                    format!("{at} gives no date of service: the Claim's billablePeriod is used"),
                );
            }
            (start, end)
        }
        (Value::Null, period) => period_dates(r, period, &format!("{at}.servicedPeriod")),
        (date, _) => (r.date(date, &format!("{at}.servicedDate")), None),
    }
}

/// A Period's first and last dates; a Period with only an end is that one day.
fn period_dates(
    r: &mut Reader<'_>,
    period: &Value,
    at: &str,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let start = r.optional_date(&period["start"], &format!("{at}.start"));
    let end = r.optional_date(&period["end"], &format!("{at}.end"));
    match (period["start"].is_null(), period["end"].is_null()) {
        (true, true) => {
            r.required("fhir-required", &format!("{at}.start"), "");
            (None, None)
        }
        (true, false) => (end, None),
        _ => (start, end.filter(|e| Some(*e) != start)),
    }
}

/// An item's modifiers: the CPT or HCPCS modifier coding of each `modifier`.
fn modifiers(r: &mut Reader<'_>, item: &Value, at: &str) -> Vec<String> {
    let mut found = vec![];
    for (k, m) in item["modifier"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some((code, _)) = r.code(
            m,
            &format!("{at}.modifier[{k}]"),
            &[CPT, HCPCS],
            shape::modifier,
            "CPT or HCPCS modifier",
        ) {
            found.push(code);
        }
    }
    found
}

/// Whether a `productOrService` says there is no procedure code (an 837I room-and-board line
/// carries only its revenue code): data-absent-reason `not-applicable`, or the old `NA`.
fn not_applicable(concept: &Value) -> bool {
    concept.is_null() || has_code(concept, "not-applicable") || has_code(concept, "NA")
}

/// The provider of a care team member: the first with one of `roles`, or else (when `lines`
/// is set) the member every item names in `careTeamSequence`, when it has no role of its own.
fn care_team(r: &mut Reader<'_>, roles: &[&str], lines: bool) -> Option<Provider> {
    let claim = r.claim;
    let team = claim["careTeam"].as_array()?;
    let by_role = team
        .iter()
        .position(|m| roles.iter().any(|role| has_code(&m["role"], role)));
    let k = by_role.or_else(|| {
        if !lines {
            return None;
        }
        let mut named = claim["item"]
            .as_array()?
            .iter()
            .map(|i| i["careTeamSequence"][0].as_u64());
        let first = named.next()??;
        named.all(|s| s == Some(first)).then_some(())?;
        // A member in another role (a supervisor, a referrer) is not the one who rendered.
        team.iter()
            .position(|m| m["sequence"].as_u64() == Some(first))
            .filter(|&k| team[k]["role"].is_null())
    })?;
    let at = format!("Claim.careTeam[{k}].provider");
    let member = &team[k];
    r.resource(
        &member["provider"],
        claim,
        &at,
        &["Practitioner", "PractitionerRole", "Organization"],
    )
    .and_then(|p| parties::provider(r, p, &at, false))
}

/// The referring provider: the requester of the ServiceRequest `Claim.referral` names, or a
/// care team member in the role `referring`.
fn referring(r: &mut Reader<'_>) -> Option<Provider> {
    let claim = r.claim;
    if claim["referral"].is_null() {
        return care_team(r, &["referring"], false);
    }
    let request = r.resource(
        &claim["referral"],
        claim,
        "Claim.referral",
        &["ServiceRequest"],
    )?;
    let requester = match &request["requester"] {
        Value::Null => return None,
        reference => r.resource(
            reference,
            request,
            "Claim.referral.requester",
            &["Practitioner", "PractitionerRole", "Organization"],
        )?,
    };
    parties::provider(r, requester, "Claim.referral.requester", false)
}

/// The `supportingInfo` of `category`, with its index.
fn supporting<'a>(claim: &'a Value, category: &str) -> Option<(usize, &'a Value)> {
    claim["supportingInfo"]
        .as_array()?
        .iter()
        .enumerate()
        .find(|(_, i)| has_code(&i["category"], category))
}

/// The first code of a `supportingInfo`.
fn info_code(info: &Value) -> Option<String> {
    info["code"]["coding"]
        .as_array()?
        .iter()
        .find_map(|c| c["code"].as_str())
        .map(str::to_string)
}

/// What a Claim corrects: its frequency (`1` original; `7` a replacement, an active Claim
/// whose `related` claim has relationship `prior`; `8` a void, a cancelled Claim with one)
/// and the payer's claim number of the claim corrected (`related.reference`, REF*F8), which a
/// correction requires. `None` when a correction lacks it (the issue says so).
fn correction(r: &mut Reader<'_>) -> (Option<String>, Option<String>) {
    let claim = r.claim;
    let prior = claim["related"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .find(|(_, rel)| {
            has_code(&rel["relationship"], "prior") || has_code(&rel["relationship"], "replaces")
        });
    let cancelled = claim["status"] == "cancelled";
    let Some((k, related)) = prior else {
        // A cancelled Claim with nothing to void was refused with its status.
        return (Some("1".into()), None);
    };
    let number = related["reference"]["value"]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match number {
        Some(number) => (
            Some(if cancelled { "8" } else { "7" }.into()),
            Some(number.to_string()),
        ),
        None => {
            r.required(
                "payer-claim-number",
                &format!("Claim.related[{k}].reference"),
                "a replacement or void names the payer's claim number of the claim it corrects (REF*F8)",
            );
            (None, None)
        }
    }
}

/// The referral number: the identifier of the ServiceRequest `Claim.referral` names (REF*9F).
fn referral_number(r: &mut Reader<'_>) -> Option<String> {
    let claim = r.claim;
    if claim["referral"].is_null() {
        return None;
    }
    let request = match r.resources.resolve(&claim["referral"], claim, claim) {
        Ok(resources::Resolved::Found(request)) => request,
        // A logical reference carries the referral number itself.
        Ok(resources::Resolved::Logical(identifier)) => identifier,
        // `referring` reports what does not resolve.
        Err(_) => return None,
    };
    let value = if request["resourceType"] == "ServiceRequest" {
        request["identifier"][0]["value"].as_str()
    } else {
        request["value"].as_str()
    };
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The accident the services are related to (CLM11): its kind from `Claim.accident.type`
/// (v3-ActIncidentCode `MVA` → `AA` auto accident, `WPA` → `EM` employment, any other →
/// `OA` other accident) and, for an auto accident, the state of `accident.locationAddress`,
/// which the 837 then requires.
fn accident(r: &mut Reader<'_>) -> (Vec<String>, Option<String>) {
    let accident = &r.claim["accident"];
    if accident.is_null() {
        return (vec![], None);
    }
    let cause = match code_among(&accident["type"], &["MVA", "WPA"]) {
        Some("MVA") => "AA",
        Some(_) => "EM",
        None => "OA",
    };
    let state = accident["locationAddress"]["state"]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if cause == "AA" && state.is_none() {
        r.required(
            "accident-state",
            "Claim.accident.locationAddress.state",
            "the state of a motor vehicle accident (CLM11-4)",
        );
    }
    (
        vec![cause.to_string()],
        state.filter(|_| cause == "AA").map(str::to_string),
    )
}

/// What the patient has paid (AMT*F5): a `supportingInfo` of category `patientpaid` whose
/// `valueQuantity` is in US dollars (R4's supportingInfo carries no Money).
fn patient_paid(r: &mut Reader<'_>) -> Option<Decimal> {
    let (k, info) = supporting(r.claim, "patientpaid")?;
    let at = format!("Claim.supportingInfo[{k}].valueQuantity");
    let quantity = &info["valueQuantity"];
    if quantity.is_null() {
        r.required("patient-paid", &at, "the amount paid, in USD");
        return None;
    }
    let unit = quantity["code"].as_str().or(quantity["unit"].as_str());
    if unit.is_some_and(|u| u != reader::CURRENCY) {
        r.error(
            IssueType::NotSupported,
            "currency",
            &at,
            format!("{at} must be in USD"),
        );
        return None;
    }
    r.optional_money(&json_money(quantity), &at)
}

/// A Quantity's value as a Money, for [`Reader::optional_money`].
fn json_money(quantity: &Value) -> Value {
    serde_json::json!({ "value": quantity["value"].clone() })
}

/// The focal insurance's first prior authorization number.
fn prior_authorization(r: &mut Reader<'_>) -> Option<String> {
    let list = r.claim["insurance"].as_array()?;
    let focal = list.iter().find(|i| i["focal"] == true).or(list.first())?;
    focal["preAuthRef"][0].as_str().map(str::to_string)
}

/// Reads the professional claim of `parts`.
fn professional(r: &mut Reader<'_>, parts: Parts) -> Option<ProfessionalClaim> {
    let claim = r.claim;
    let (diagnoses, code_set) = diagnoses(r);
    distinct_sequences(r);
    let mut lines = vec![];
    let mut place = None;
    let items = claim["item"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if items.is_empty() {
        r.required("fhir-required", "Claim.item", "at least one service line");
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("Claim.item[{i}]");
        let Billed {
            procedure: code,
            modifiers,
            charge,
            units,
            date,
            date_end,
        } = billed(r, item, &at, ClaimKind::Professional);
        let mut pointers = vec![];
        for (j, seq) in item["diagnosisSequence"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let found = seq
                .as_u64()
                .and_then(|s| diagnoses.iter().position(|d| d.sequence == s));
            match found.and_then(|p| u8::try_from(p + 1).ok()) {
                Some(p) => pointers.push(p),
                None => r.error(IssueType::BusinessRule, "diagnosis-pointer", &format!("{at}.diagnosisSequence[{j}]"), format!("{at}.diagnosisSequence[{j}] is {seq}, but no Claim.diagnosis has that sequence")),
            }
        }
        let pos = match pick(
            &item["locationCodeableConcept"],
            &[PLACE_OF_SERVICE],
            shape::place,
        ) {
            Pick::Code(code, _) => Some(code),
            Pick::Absent => None,
            Pick::Other(seen) => {
                r.error(
                    IssueType::CodeInvalid,
                    "place-of-service",
                    &format!("{at}.locationCodeableConcept"),
                    format!(
                        "{at}.locationCodeableConcept has no CMS place of service code (found {})",
                        seen.join(", ")
                    ),
                );
                None
            }
        };
        if place.is_none() {
            place.clone_from(&pos);
        }
        if let (Some(code), Some(charge), Some(units), Some(date)) = (code, charge, units, date) {
            lines.push(ServiceLine {
                procedure_code: code,
                modifiers,
                charge,
                units,
                service_date: date,
                service_date_end: date_end,
                diagnosis_pointers: pointers,
                place_of_service: pos,
                line_control_number: item["sequence"].as_u64().map(|s| s.to_string()),
                patient_count: None,
                drug: drug(r, item, &at),
                prior_adjudications: vec![],
            });
        }
    }
    if place.is_none() && !items.is_empty() {
        r.required(
            "place-of-service",
            "Claim.item[0].locationCodeableConcept",
            "the place of service (a CMS place of service code) of the first item",
        );
    }
    let total = total(r, lines.iter().map(|l| l.charge));
    let rendering = care_team(r, &["primary", "performing", "rendering"], true);
    let referring = referring(r);
    let accident_date = r.optional_date(&claim["accident"]["date"], "Claim.accident.date");
    let onset_date = supporting(claim, "onset").and_then(|(k, i)| {
        r.optional_date(
            &i["timingDate"],
            &format!("Claim.supportingInfo[{k}].timingDate"),
        )
    });
    let prior_authorization = prior_authorization(r);
    let (related_causes, accident_state) = accident(r);
    let hospitalization = supporting(claim, "hospitalized").and_then(|(k, info)| {
        let at = format!("Claim.supportingInfo[{k}].timingPeriod");
        match period_dates(r, &info["timingPeriod"], &at) {
            (Some(admitted), discharged) => Some(Stay {
                admitted,
                discharged,
            }),
            _ => None,
        }
    });
    let patient_paid = patient_paid(r);
    let supervising = care_team(r, &["supervisor"], false);
    let (frequency, payer_claim_number) = correction(r);
    let referral_number = referral_number(r);
    let connections = r.connections;
    let (header, pcn, other_coverage) = complete(parts, connections)?;
    let info = ClaimInformation {
        patient_control_number: pcn,
        total_charge: total?,
        place_of_service: place?,
        frequency: frequency?,
        provider_signature_on_file: true,
        assignment: "A".into(),
        benefits_assigned: true,
        release_of_information: "Y".into(),
        onset_date,
        accident_date,
        prior_authorization,
        related_causes,
        accident_state,
        hospitalization,
        patient_paid,
        referral_number,
        payer_claim_number,
        diagnoses: diagnoses.into_iter().map(|d| d.code).collect(),
        diagnosis_codes: code_set,
        encounter: false,
    };
    let mut claim = ProfessionalClaim::new(header, info, lines);
    claim.rendering_provider = rendering;
    claim.referring_provider = referring;
    claim.supervising_provider = supervising;
    claim.other_coverage = other_coverage;
    Some(claim)
}

/// `Claim.total`, or else the sum of the lines (noted).
fn total(r: &mut Reader<'_>, charges: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    if r.claim["total"].is_null() {
        let sum: Decimal = charges.sum();
        r.note(
            "total-from-lines",
            "Claim.total",
            format!("Claim.total is absent: the lines' charges add up to {sum}"),
        );
        return Some(sum);
    }
    r.optional_money(&r.claim["total"], "Claim.total")
}

/// Reads the institutional claim of `parts`.
fn institutional(r: &mut Reader<'_>, parts: Parts) -> Option<InstitutionalClaim> {
    let claim = r.claim;
    let bill = bill(r);
    let (coded, code_set) = diagnoses(r);
    distinct_sequences(r);
    let of_type = |t: &'static str| {
        coded
            .iter()
            .filter(move |d| d.kind == Some(t))
            .map(|d| d.code.clone())
    };
    let principal = of_type("principal")
        .next()
        .or_else(|| coded.first().map(|d| d.code.clone()));
    if principal.is_none() && claim["diagnosis"].as_array().is_none_or(|d| d.is_empty()) {
        r.required(
            "diagnosis-required",
            "Claim.diagnosis",
            "the principal diagnosis (a diagnosis of type principal, or the first)",
        );
    }
    let admitting = of_type("admitting").next();
    let principal_code = principal.clone().unwrap_or_default();
    let others: Vec<String> = coded
        .iter()
        .filter(|d| d.code != principal_code && d.kind != Some("admitting"))
        .map(|d| d.code.clone())
        .collect();
    let (principal_procedure, other_procedures) = procedures(r);
    let attending = care_team(r, &["attending"], false);
    let operating = care_team(r, &["operating"], false);
    let lines = institutional_lines(r);
    let total = total(r, lines.iter().map(|l| l.charge));
    let prior_authorization = prior_authorization(r);
    let (correcting, payer_claim_number) = correction(r);
    let referral_number = referral_number(r);
    let connections = r.connections;
    let (header, pcn, other_coverage) = complete(parts, connections)?;
    let (facility_type, mut frequency) = bill.type_of_bill?;
    // A replacement or void says so in its status and related claim; the bill type's third
    // digit must agree, and a correction's frequency wins over an original's.
    match correcting?.as_str() {
        "1" => {}
        corrected => frequency = corrected.to_string(),
    }
    let info = InstitutionalClaimInformation {
        patient_control_number: pcn,
        total_charge: total?,
        facility_type,
        frequency,
        assignment: "A".into(),
        benefits_assignment: "Y".into(),
        release_of_information: "Y".into(),
        statement_from: bill.statement_from?,
        statement_to: bill.statement_to?,
        admission: bill.admission,
        discharge_hour: None,
        patient_status: bill.patient_status.unwrap_or_default(),
        prior_authorization,
        referral_number,
        payer_claim_number,
        principal_diagnosis: principal?,
        admitting_diagnosis: admitting,
        other_diagnoses: others,
        principal_procedure,
        other_procedures,
        occurrences: vec![],
        values: vec![],
        conditions: vec![],
        diagnosis_codes: code_set,
    };
    let mut claim = InstitutionalClaim::new(header, info, lines);
    claim.attending_provider = attending;
    claim.operating_provider = operating;
    claim.other_coverage = other_coverage;
    Some(claim)
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

/// The type of bill, the billable period, the admission and the discharge status.
fn bill(r: &mut Reader<'_>) -> Bill {
    let claim = r.claim;
    // Type of bill: NUBC, with or without its leading zero (0131 or 131).
    let type_of_bill = match supporting(claim, "typeofbill") {
        Some((k, info)) => {
            let at = format!("Claim.supportingInfo[{k}].code");
            match r.code(
                &info["code"],
                &at,
                &[BILL_TYPE],
                shape::any,
                "NUBC type of bill",
            ) {
                Some((code, _))
                    if code.trim_start_matches('0').chars().count() == 3
                        && code.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    let digits = code.trim_start_matches('0');
                    Some((
                        digits.chars().take(2).collect(),
                        digits.chars().skip(2).collect(),
                    ))
                }
                Some((code, _)) => {
                    r.error(IssueType::Value, "type-of-bill", &at, format!("{code:?} is not a type of bill: three digits (NUBC: facility type, classification, frequency; a leading 0 is allowed)"));
                    None
                }
                None => None,
            }
        }
        None => {
            r.required(
                "type-of-bill",
                "Claim.supportingInfo",
                "a supportingInfo of category typeofbill with the NUBC type of bill",
            );
            None
        }
    };
    let period = &claim["billablePeriod"];
    let statement_from = r.date(&period["start"], "Claim.billablePeriod.start");
    let statement_to = match &period["end"] {
        Value::Null => statement_from,
        end => r.date(end, "Claim.billablePeriod.end"),
    };
    let admission = supporting(claim, "admissionperiod").and_then(|(k, i)| {
        let at = format!("Claim.supportingInfo[{k}].timingPeriod.start");
        let start = i["timingPeriod"]["start"].as_str().unwrap_or_default();
        let date = r.date(&i["timingPeriod"]["start"], &at)?;
        // A dateTime's hour and minute become the admission hour.
        let hour = start
            .split_once('T')
            .and_then(|(_, time)| time.get(..5))
            .map(|hm| hm.replace(':', ""))
            .filter(|hm| hm.len() == 4 && hm.bytes().all(|b| b.is_ascii_digit()));
        Some(Admission {
            date,
            hour,
            type_code: supporting(claim, "admtype")
                .and_then(|(_, i)| info_code(i))
                .unwrap_or_default(),
            source_code: supporting(claim, "pointoforigin").and_then(|(_, i)| info_code(i)),
        })
    });
    Bill {
        type_of_bill,
        statement_from,
        statement_to,
        admission,
        patient_status: supporting(claim, "discharge-status").and_then(|(_, i)| info_code(i)),
    }
}

/// The ICD-10-PCS procedures with their dates: the one typed `principal`, and the others.
/// Each from its `procedureCodeableConcept` or the Procedure its `procedureReference` names
/// (whose `performed[x]` gives the date when `Claim.procedure.date` does not).
fn procedures(r: &mut Reader<'_>) -> (Option<CodedEvent>, Vec<CodedEvent>) {
    let claim = r.claim;
    let mut procedures = vec![];
    for (k, p) in claim["procedure"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("Claim.procedure[{k}]");
        let Some((concept, procedure, code_at)) =
            coded_or_referenced(r, p, &at, "procedure", "Procedure")
        else {
            continue;
        };
        let performed = match procedure {
            Some(procedure) => match &procedure["performedDateTime"] {
                Value::Null => &procedure["performedPeriod"]["start"],
                d => d,
            },
            None => &Value::Null,
        };
        let code = r.code(
            concept,
            &code_at,
            &[ICD10_PCS],
            |c| c.chars().count() == 7 && c.chars().all(|c| c.is_ascii_alphanumeric()),
            "ICD-10-PCS",
        );
        let date = match (&p["date"], performed) {
            (Value::Null, Value::Null) => {
                r.required(
                    "procedure-date",
                    &format!("{at}.date"),
                    "an ICD-10-PCS procedure needs its date",
                );
                None
            }
            (Value::Null, performed) => {
                r.date(performed, &format!("{at}.procedureReference.performed"))
            }
            (d, _) => r.date(d, &format!("{at}.date")),
        };
        let principal = p["type"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| has_code(t, "principal"));
        if let (Some((code, _)), Some(date)) = (code, date) {
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
fn institutional_lines(r: &mut Reader<'_>) -> Vec<InstitutionalLine> {
    let claim = r.claim;
    let mut lines = vec![];
    let items = claim["item"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if items.is_empty() {
        r.required("fhir-required", "Claim.item", "at least one service line");
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("Claim.item[{i}]");
        let revenue = r
            .code(
                &item["revenue"],
                &format!("{at}.revenue"),
                &[REVENUE],
                shape::revenue,
                "NUBC revenue code",
            )
            .map(|(code, _)| format!("{code:0>4}"));
        let Billed {
            procedure,
            modifiers,
            charge,
            units: quantity,
            date,
            ..
        } = billed(r, item, &at, ClaimKind::Institutional);
        if let (Some(revenue_code), Some(charge), Some(quantity)) = (revenue, charge, quantity) {
            lines.push(InstitutionalLine {
                revenue_code,
                procedure_code: procedure,
                modifiers,
                charge,
                unit: if item["quantity"]["unit"] == "days" || item["quantity"]["code"] == "d" {
                    "DA"
                } else {
                    "UN"
                }
                .into(),
                quantity,
                service_date: if item["servicedDate"].is_null() && item["servicedPeriod"].is_null()
                {
                    None
                } else {
                    date
                },
                line_control_number: item["sequence"].as_u64().map(|s| s.to_string()),
            });
        }
    }
    lines
}
