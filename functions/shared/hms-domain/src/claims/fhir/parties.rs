//! The parties of a FHIR `Claim` whatever its type: the claim number, the providers, the
//! payer, the subscriber and patient, and the other coverage. Where FHIR allows a fact in
//! several places, each place is tried in a documented order (see `FHIR_CLAIM_MAPPING.md` (beside this crate's Cargo.toml)).
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics"
)]

use serde_json::Value;

use crate::claims::fhir::coding::{
    self, CLAIM_FILING, NAIC, NPI, Pick, SSN, TAXONOMY, TIN, code_among, has_code, shape,
};
use crate::claims::fhir::reader::Reader;
use crate::claims::fhir::resources::{Resolved, Unresolved};
use crate::claims::model::{OtherCoverage, Patient, Responsibility, Subscriber};
use crate::ids::{MemberId, Npi, PatientControlNumber, PayerId, TaxId};
use crate::outcome::IssueType;
use crate::party::{Address, Gender, Name, Payer, Provider, TaxIdType};

/// What every Claim carries whatever its type, each part as far as the resource gave it.
#[derive(Debug)]
pub struct Parts {
    pub pcn: Option<PatientControlNumber>,
    pub billing: Option<Provider>,
    pub payer: Option<Payer>,
    pub subscriber: Option<Subscriber>,
    pub patient: Option<Patient>,
    pub other_coverage: Vec<OtherCoverage>,
    /// The focal coverage's place in the order of benefits.
    pub responsibility: Responsibility,
}

/// An insurance's place in the order of benefits: its `sequence` (or position).
fn place(k: usize, insurance: &Value) -> Responsibility {
    match insurance["sequence"].as_u64().unwrap_or(k as u64 + 1) {
        1 => Responsibility::Primary,
        2 => Responsibility::Secondary,
        _ => Responsibility::Tertiary,
    }
}

/// The claim types an 837 does not carry, with where they go instead.
fn elsewhere(kind: &str) -> &'static str {
    match kind {
        "oral" => "a dental claim is an 837D, which this clearinghouse does not send",
        "pharmacy" => "a pharmacy claim goes to the pharmacy benefit manager as NCPDP, not X12",
        "vision" => {
            "a vision claim is billed as professional (Claim.type professional) with its CPT or HCPCS codes"
        }
        _ => "send Claim.type professional (837P) or institutional (837I)",
    }
}

/// Checks the Claim's type, use and status, and reads its parties.
pub fn header(r: &mut Reader<'_>, expected: &str) -> Parts {
    let claim = r.claim;
    match claim["type"]["coding"].as_array().and_then(|c| c.first()) {
        None => r.required(
            "fhir-claim-type",
            "Claim.type",
            "professional or institutional (http://terminology.hl7.org/CodeSystem/claim-type)",
        ),
        Some(_) if has_code(&claim["type"], expected) => {}
        Some(coding) => {
            let kind = coding["code"].as_str().unwrap_or_default();
            r.error(
                IssueType::NotSupported,
                "fhir-claim-type",
                "Claim.type",
                format!(
                    "Claim.type is {kind:?}, read here as {expected}: {}",
                    elsewhere(kind)
                ),
            );
        }
    }
    match claim["use"].as_str() {
        Some("claim") => {}
        None => r.required("fhir-claim-use", "Claim.use", "claim, for a bill"),
        Some(other) => {
            let why = match other {
                "preauthorization" => "a prior authorization request is an X12 278, not an 837",
                "predetermination" => "a predetermination asks what would be paid; an 837 bills",
                _ => "only Claim.use claim is billed",
            };
            r.error(
                IssueType::NotSupported,
                "fhir-claim-use",
                "Claim.use",
                format!("Claim.use is {other:?}: {why}"),
            );
        }
    }
    let voids = claim["related"].as_array().is_some_and(|related| {
        related.iter().any(|r| {
            has_code(&r["relationship"], "prior") || has_code(&r["relationship"], "replaces")
        })
    });
    match claim["status"].as_str() {
        Some("active") => {}
        Some("cancelled") if voids => {}
        None => r.required(
            "fhir-claim-status",
            "Claim.status",
            "active, for a claim to bill",
        ),
        Some(other) => {
            let why = match other {
                "cancelled" => {
                    "a cancelled Claim is sent as a void (frequency 8) only when it names the claim it voids: add Claim.related with relationship prior and the payer's claim number in related.reference"
                }
                "draft" => "a draft is not billed; set Claim.status to active when it is final",
                _ => "a Claim entered in error is not billed",
            };
            r.error(
                IssueType::NotSupported,
                "fhir-claim-status",
                "Claim.status",
                format!("Claim.status is {other:?}: {why}"),
            );
        }
    }
    let pcn = control_number(r);
    let billing = match &claim["provider"] {
        Value::Null => {
            r.required(
                "fhir-required",
                "Claim.provider",
                "the billing provider (loop 2010AA)",
            );
            None
        }
        reference => r
            .resource(
                reference,
                claim,
                "Claim.provider",
                &["Organization", "Practitioner", "PractitionerRole"],
            )
            .and_then(|p| provider(r, p, "Claim.provider", true)),
    };
    let (focal, others) = insurances(r);
    let coverage = focal.and_then(|(k, i)| {
        r.resource(
            &i["coverage"],
            claim,
            &format!("Claim.insurance[{k}].coverage"),
            &["Coverage"],
        )
        .map(|c| (k, c))
    });
    let payer = payer(r, coverage, true);
    let (subscriber, patient) =
        match insured(r, coverage, payer.as_ref(), focal.map_or(0, |(k, _)| k)) {
            Some((subscriber, patient)) => (Some(subscriber), patient),
            None => (None, None),
        };
    let other_coverage = others
        .into_iter()
        .filter_map(|(k, i, responsibility)| other_coverage(r, k, i, responsibility))
        .collect();
    Parts {
        pcn,
        billing,
        payer,
        subscriber,
        patient,
        other_coverage,
        responsibility: focal.map_or(Responsibility::Primary, |(k, i)| place(k, i)),
    }
}

/// The provider's claim number: the Claim's identifier (the first with a value), or else its
/// `id` (a generator's Claims often carry no identifier; the id is then the only number the
/// provider's system can match the payer's answers to).
fn control_number(r: &mut Reader<'_>) -> Option<PatientControlNumber> {
    let claim = r.claim;
    let (value, at) = match claim["identifier"].as_array().and_then(|ids| {
        ids.iter()
            .position(|i| i["value"].as_str().is_some_and(|v| !v.trim().is_empty()))
    }) {
        Some(k) => (
            claim["identifier"][k]["value"].as_str(),
            format!("Claim.identifier[{k}].value"),
        ),
        None => (claim["id"].as_str(), "Claim.id".to_string()),
    };
    let Some(value) = value else {
        r.required(
            "patient-control-number",
            "Claim.identifier",
            "the provider's claim number (CLM01), or else Claim.id",
        );
        return None;
    };
    match PatientControlNumber::parse(value.trim()) {
        Ok(pcn) => Some(pcn),
        Err(e) => {
            r.error(
                IssueType::Value,
                "patient-control-number",
                &at,
                format!("{at}: {e}"),
            );
            None
        }
    }
}

/// The focal insurance (with its index), and the others with their place in the order of
/// benefits (`sequence`).
#[allow(clippy::type_complexity, reason = "local to this module")]
fn insurances<'a>(
    r: &mut Reader<'a>,
) -> (
    Option<(usize, &'a Value)>,
    Vec<(usize, &'a Value, Responsibility)>,
) {
    let Some(list) = r.claim["insurance"].as_array().filter(|l| !l.is_empty()) else {
        r.required(
            "fhir-required",
            "Claim.insurance",
            "the coverage billed (the subscriber, member id and payer)",
        );
        return (None, vec![]);
    };
    let focal = list.iter().position(|i| i["focal"] == true).unwrap_or(0);
    let others = list
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != focal)
        .map(|(k, i)| (k, i, place(k, i)))
        .collect();
    (list.get(focal).map(|i| (focal, i)), others)
}

/// A provider from an Organization, Practitioner or PractitionerRole. A PractitionerRole is
/// its practitioner (name, NPI) at its organization (address and tax id when the practitioner
/// has none). The NPI is required of the billing provider only.
pub fn provider<'a>(
    r: &mut Reader<'a>,
    resource: &'a Value,
    at: &str,
    billing: bool,
) -> Option<Provider> {
    let (person, organization) = if resource["resourceType"] == "PractitionerRole" {
        let practitioner = match &resource["practitioner"] {
            Value::Null => None,
            reference => r.resource(
                reference,
                resource,
                &format!("{at}.practitioner"),
                &["Practitioner"],
            ),
        };
        let organization = match &resource["organization"] {
            Value::Null => None,
            reference => r.resource(
                reference,
                resource,
                &format!("{at}.organization"),
                &["Organization"],
            ),
        };
        (practitioner, organization)
    } else {
        (Some(resource), None)
    };
    // Where each fact may be, in order.
    let places: Vec<&Value> = [Some(resource), person, organization]
        .into_iter()
        .flatten()
        .collect();
    let npi_text = places
        .iter()
        .find_map(|p| coding::identifier(p, Some(&NPI), &["NPI"]));
    let npi = match npi_text.map(Npi::parse) {
        Some(Ok(npi)) => Some(npi),
        Some(Err(e)) => {
            r.error(
                IssueType::Value,
                "npi",
                &format!("{at}.identifier"),
                e.to_string(),
            );
            None
        }
        None if billing => {
            r.error(
                IssueType::Required,
                "npi",
                &format!("{at}.identifier"),
                format!("{at} has no NPI: add an identifier with system http://hl7.org/fhir/sid/us-npi (or type NPI){}",
                    if resource["resourceType"] == "PractitionerRole" { " to the role or its practitioner" } else { "" }),
            );
            None
        }
        None => None,
    };
    let (tax_id, tax_id_type) = tax_id(r, &places, at);
    let named = match person {
        Some(p) if p["resourceType"] != "Organization" || organization.is_none() => Some(p),
        _ => organization,
    };
    let name = match named {
        Some(n) => name(r, n, at)?,
        None => {
            r.required(
                "fhir-required",
                &format!("{at}.practitioner"),
                "the practitioner's name",
            );
            return None;
        }
    };
    let address = places
        .iter()
        .find(|p| first_address(p).is_some())
        .and_then(|p| address(r, p, at));
    let taxonomy = places.iter().find_map(|p| {
        [&p["specialty"], &p["code"]]
            .into_iter()
            .flat_map(|c| c.as_array().into_iter().flatten())
            .chain(
                p["qualification"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|q| &q["code"]),
            )
            .find_map(|c| match coding::pick(c, &[TAXONOMY], shape::none) {
                Pick::Code(code, _) => Some(code),
                _ => None,
            })
    });
    Some(Provider {
        npi,
        name,
        taxonomy,
        tax_id,
        tax_id_type,
        address,
    })
}

/// The federal tax id of the first of `places` that has one: the IRS TIN system, or an
/// identifier typed `TAX` or `EN`, is an employer id; a social security number (its system or
/// type `SS`) is sent as one. A person's tax id of unstated kind is left for the 837 writer's
/// rule (a person's is an SSN).
fn tax_id(r: &mut Reader<'_>, places: &[&Value], at: &str) -> (Option<TaxId>, Option<TaxIdType>) {
    let found = places.iter().find_map(|p| {
        coding::identifier(p, Some(&TIN), &["TAX", "EN"])
            .map(|v| (v, TaxIdType::Ein))
            .or_else(|| coding::identifier(p, Some(&SSN), &["SS"]).map(|v| (v, TaxIdType::Ssn)))
    });
    match found {
        Some((value, kind)) => match TaxId::parse(value) {
            Ok(t) => (Some(t), Some(kind)),
            Err(e) => {
                r.error(
                    IssueType::Value,
                    "tax-id",
                    &format!("{at}.identifier"),
                    e.to_string(),
                );
                (None, None)
            }
        },
        None => (None, None),
    }
}

/// A person's or organization's name: an Organization's `name`; a person's official name (or
/// first), whose family name is required.
pub fn name(r: &mut Reader<'_>, resource: &Value, at: &str) -> Option<Name> {
    if let Some(name) = resource["name"].as_str() {
        return Some(Name::Organization {
            name: name.trim().to_string(),
        });
    }
    let names = resource["name"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some((k, human)) = names
        .iter()
        .enumerate()
        .find(|(_, n)| n["use"] == "official")
        .or_else(|| names.iter().enumerate().find(|(_, n)| n["use"] != "old"))
    else {
        r.required("fhir-required", &format!("{at}.name"), "");
        return None;
    };
    let last = r.string(&human["family"], &format!("{at}.name[{k}].family"))?;
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

/// The first address of `resource` that is not an old one, with its index.
fn first_address(resource: &Value) -> Option<(usize, &Value)> {
    resource["address"]
        .as_array()?
        .iter()
        .enumerate()
        .find(|(_, a)| a["use"] != "old")
}

/// The current address of `resource`, when it has one.
pub fn address(r: &mut Reader<'_>, resource: &Value, at: &str) -> Option<Address> {
    let (k, a) = first_address(resource)?;
    let at = format!("{at}.address[{k}]");
    let city = r.string(&a["city"], &format!("{at}.city"));
    let state = r.string(&a["state"], &format!("{at}.state"));
    let postal_code = r.string(&a["postalCode"], &format!("{at}.postalCode"));
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
        city: city?,
        state: state?,
        postal_code: postal_code?,
    })
}

fn gender(value: &Value) -> Option<Gender> {
    match value.as_str()? {
        "female" => Some(Gender::Female),
        "male" => Some(Gender::Male),
        _ => Some(Gender::Unknown),
    }
}

/// Whether an identifier can be a payer id: typed `payerid` (CARIN) or `NIIP` (v2), in the
/// NAIC system, or a bare value with neither system nor type. Provider identifiers (NPI, tax
/// id) never are.
fn payer_id_of(identifier: &Value) -> Option<&str> {
    let value = identifier["value"]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())?;
    let typed = has_code(&identifier["type"], "payerid") || has_code(&identifier["type"], "NIIP");
    let bare = identifier["system"].is_null() && identifier["type"].is_null();
    (typed || coding::in_system(identifier, &NAIC) || bare).then_some(value)
}

/// The payer: `Claim.insurer`, or else the focal Coverage's first `payor`, each an
/// Organization in the input or a logical reference by identifier. Its id is the identifier
/// [`payer_id_of`] accepts, or any identifier the payer directory knows; the directory's entry
/// gives the id the 837 carries (an alias becomes the payer's id) and a name when the
/// resource has none.
fn payer<'a>(
    r: &mut Reader<'a>,
    coverage: Option<(usize, &'a Value)>,
    insurer: bool,
) -> Option<Payer> {
    let claim = r.claim;
    static NONE: Value = Value::Null;
    let named = if insurer { &claim["insurer"] } else { &NONE };
    let (reference, from, at) = match (named, coverage) {
        (Value::Null, Some((k, cov))) if !cov["payor"][0].is_null() => (
            &cov["payor"][0],
            cov,
            format!("Claim.insurance[{k}].coverage.payor[0]"),
        ),
        (Value::Null, _) => {
            r.required(
                "payer",
                "Claim.insurer",
                "the payer (an Organization with its payer id), here or as the Coverage's payor",
            );
            return None;
        }
        (insurer, _) => (insurer, claim, "Claim.insurer".to_string()),
    };
    let (resource, identifiers): (Option<&Value>, Vec<&Value>) =
        match r.resources.resolve(reference, from, claim) {
            Ok(Resolved::Found(org)) if org["resourceType"] == "Organization" => (
                Some(org),
                org["identifier"]
                    .as_array()
                    .map(|l| l.iter().collect())
                    .unwrap_or_default(),
            ),
            Ok(Resolved::Found(other)) => {
                r.error(
                    IssueType::Structure,
                    "payer",
                    &at,
                    format!(
                        "{at} refers to a {}; the payer is an Organization",
                        other["resourceType"].as_str().unwrap_or("resource")
                    ),
                );
                return None;
            }
            Ok(Resolved::Logical(identifier)) => (None, vec![identifier]),
            Err(Unresolved::Absent) => {
                r.required("payer", &at, "");
                return None;
            }
            Err(e) => {
                r.error(IssueType::NotFound, "payer", &at, e.explain(&at));
                return None;
            }
        };
    let directory = identifiers
        .iter()
        .filter_map(|i| i["value"].as_str())
        .find_map(|v| r.connections.payer(v))
        .cloned();
    let id = match (&directory, identifiers.iter().find_map(|i| payer_id_of(i))) {
        (Some(known), _) => known.id.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) => {
            let seen: Vec<&str> = identifiers
                .iter()
                .filter_map(|i| i["system"].as_str())
                .collect();
            r.error(
                IssueType::Required,
                "payer-id",
                &format!("{at}.identifier"),
                format!(
                    "{at} has no payer id: add an identifier typed payerid (or NIIP), or one with no system{}",
                    if seen.is_empty() { String::new() } else { format!("; the identifiers it has ({}) are not payer ids and no payer of our directory is known by them", seen.join(", ")) }
                ),
            );
            return None;
        }
    };
    let name = resource
        .and_then(|o| o["name"].as_str())
        .or(reference["display"].as_str())
        .map(str::to_string)
        .or_else(|| directory.as_ref().map(|d| d.name.clone()));
    let Some(name) = name else {
        r.required(
            "payer",
            &format!("{at}.name"),
            "the payer's name (NM103 of loop 2010BB)",
        );
        return None;
    };
    match PayerId::parse(&id) {
        Ok(id) => Some(Payer {
            name,
            id,
            id_type: None,
        }),
        Err(e) => {
            r.error(
                IssueType::Value,
                "payer-id",
                &format!("{at}.identifier"),
                e.to_string(),
            );
            None
        }
    }
}

/// The member id of a Coverage: `subscriberId`, or else its identifier typed `MB` (member
/// number) or `SN` (subscriber number).
fn member_id(r: &mut Reader<'_>, coverage: &Value, at: &str) -> Option<MemberId> {
    let value = coverage["subscriberId"]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .or_else(|| coding::identifier(coverage, None, &["MB", "SN"]));
    let Some(value) = value else {
        r.required(
            "member-id",
            &format!("{at}.subscriberId"),
            "the member id (NM109 of loop 2010BA), or a Coverage.identifier typed MB",
        );
        return None;
    };
    match MemberId::parse(value) {
        Ok(m) => Some(m),
        Err(e) => {
            r.error(
                IssueType::Value,
                "member-id",
                &format!("{at}.subscriberId"),
                e.to_string(),
            );
            None
        }
    }
}

/// The claim filing indicator (SBR09): an X12 code in `Coverage.type`, or else the payer
/// directory's default for the payer (noted), or an issue that says both ways.
fn filing_indicator(
    r: &mut Reader<'_>,
    coverage: &Value,
    at: &str,
    payer: Option<&Payer>,
) -> Option<String> {
    let seen = match coding::pick(&coverage["type"], &[CLAIM_FILING], shape::claim_filing) {
        Pick::Code(code, _) => return Some(code),
        Pick::Other(seen) => seen,
        Pick::Absent => vec![],
    };
    let known = payer.and_then(|p| r.connections.payer(p.id.as_str()));
    if let Some(code) = known.and_then(|k| k.claim_filing_indicator.clone()) {
        r.note(
            "claim-filing-indicator-default",
            &format!("{at}.type"),
            format!("the claim filing indicator {code} is the payer directory's for this payer ({at}.type gives no X12 claim filing code)"),
        );
        return Some(code);
    }
    let found = if seen.is_empty() {
        "none".to_string()
    } else {
        seen.join(", ")
    };
    r.error(
        IssueType::Required,
        "claim-filing-indicator",
        &format!("{at}.type"),
        format!("{at}.type has no X12 claim filing indicator (CI commercial, MB Medicare Part B, MC Medicaid, ...; found {found}), and the payer directory has no default for this payer"),
    );
    None
}

/// PAT01 for a Coverage relationship (http://terminology.hl7.org/CodeSystem/subscriber-relationship).
fn relationship_code(relationship: &str) -> &'static str {
    match relationship {
        "self" => "18",
        "spouse" => "01",
        "child" => "19",
        "common" => "53",
        _ => "G8",
    }
}

/// The Coverage's relationship of the patient to its subscriber: `self` when absent and the
/// Coverage names no other subscriber.
fn relationship(coverage: &Value) -> &str {
    let coded = code_among(
        &coverage["relationship"],
        &[
            "self", "spouse", "child", "parent", "common", "other", "injured",
        ],
    );
    match coded {
        Some(code) => code,
        None if coverage["subscriber"].is_null()
            || coverage["subscriber"] == coverage["beneficiary"] =>
        {
            "self"
        }
        None => "other",
    }
}

/// The subscriber, and the patient when a dependent, from the Claim's Patient and its focal
/// Coverage.
fn insured<'a>(
    r: &mut Reader<'a>,
    coverage: Option<(usize, &'a Value)>,
    payer: Option<&Payer>,
    k: usize,
) -> Option<(Subscriber, Option<Patient>)> {
    let claim = r.claim;
    let patient = match &claim["patient"] {
        Value::Null => {
            r.required("fhir-required", "Claim.patient", "");
            None
        }
        reference => r.resource(reference, claim, "Claim.patient", &["Patient"]),
    };
    let (_, cov) = coverage?;
    let at = format!("Claim.insurance[{k}].coverage");
    let member_id = member_id(r, cov, &at);
    let filing = filing_indicator(r, cov, &at, payer);
    let relationship = relationship(cov);
    let group = group(cov);
    let pat = patient?;
    let patient_name = name(r, pat, "Claim.patient");
    let patient_address = address(r, pat, "Claim.patient");
    let birth = r.optional_date(&pat["birthDate"], "Claim.patient.birthDate");
    let gender = gender(&pat["gender"]);
    if relationship == "self" {
        return Some((
            Subscriber {
                member_id: member_id?,
                name: patient_name?,
                address: patient_address,
                birth_date: birth,
                gender,
                group_number: group,
                responsibility: Responsibility::Primary,
                claim_filing_indicator: filing?,
            },
            None,
        ));
    }
    let holder = match &cov["subscriber"] {
        Value::Null => {
            r.required(
                "dependent-patient",
                &format!("{at}.subscriber"),
                "the patient is a dependent, so the 837 names the subscriber",
            );
            None
        }
        reference => r.resource(
            reference,
            cov,
            &format!("{at}.subscriber"),
            &["Patient", "RelatedPerson"],
        ),
    };
    let holder_name = holder.and_then(|h| name(r, h, &format!("{at}.subscriber")));
    if patient_address.is_none() {
        r.required(
            "dependent-patient",
            "Claim.patient.address",
            "a dependent patient's address (loop 2010CA)",
        );
    }
    if birth.is_none() && pat["birthDate"].is_null() {
        r.required(
            "dependent-patient",
            "Claim.patient.birthDate",
            "a dependent patient's birth date (loop 2010CA)",
        );
    }
    if gender.is_none() {
        r.required(
            "dependent-patient",
            "Claim.patient.gender",
            "a dependent patient's sex (loop 2010CA)",
        );
    }
    let subscriber = Subscriber {
        member_id: member_id?,
        name: holder_name?,
        address: None,
        birth_date: None,
        gender: None,
        group_number: group,
        responsibility: Responsibility::Primary,
        claim_filing_indicator: filing?,
    };
    let patient = Patient {
        relationship: relationship_code(relationship).into(),
        name: patient_name?,
        address: patient_address?,
        birth_date: birth?,
        gender: gender?,
    };
    Some((subscriber, Some(patient)))
}

/// The group or policy number: the Coverage's class of type `group`.
fn group(coverage: &Value) -> Option<String> {
    coverage["class"].as_array().and_then(|classes| {
        classes
            .iter()
            .find(|c| has_code(&c["type"], "group"))
            .and_then(|c| c["value"].as_str())
            .map(str::to_string)
    })
}

/// Another coverage of the Claim (loops 2320, 2330A, 2330B): its payer, subscriber and member
/// id, with no adjudication (a FHIR Claim carries none; a secondary claim's payer ahead's
/// payment comes from its ClaimResponse, which is not read here).
fn other_coverage<'a>(
    r: &mut Reader<'a>,
    k: usize,
    insurance: &'a Value,
    responsibility: Responsibility,
) -> Option<OtherCoverage> {
    let claim = r.claim;
    let at = format!("Claim.insurance[{k}].coverage");
    let cov = r.resource(&insurance["coverage"], claim, &at, &["Coverage"])?;
    // The other coverage's payer is its own payor, never the Claim's insurer.
    let payer = payer(r, Some((k, cov)), false);
    let member_id = member_id(r, cov, &at)?;
    let filing = filing_indicator(r, cov, &at, payer.as_ref())?;
    let relationship = relationship(cov);
    let holder = match &cov["subscriber"] {
        Value::Null => match &claim["patient"] {
            Value::Null => None,
            p => r.resource(p, claim, "Claim.patient", &["Patient"]),
        },
        reference => r.resource(
            reference,
            cov,
            &format!("{at}.subscriber"),
            &["Patient", "RelatedPerson"],
        ),
    }?;
    let subscriber_name = name(r, holder, &format!("{at}.subscriber"))?;
    Some(OtherCoverage {
        responsibility,
        relationship: relationship_code(relationship).into(),
        group_number: group(cov),
        claim_filing_indicator: filing,
        subscriber_name,
        member_id,
        payer: payer?,
        paid: None,
        adjudication_date: None,
        adjustments: vec![],
        benefits_assigned: None,
        release_of_information: None,
    })
}
