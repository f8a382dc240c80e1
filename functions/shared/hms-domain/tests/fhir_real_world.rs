//! FHIR Claims in the shapes EHRs and generators publish them (a Synthea-shaped transaction
//! Bundle with `urn:uuid` references, codings in several systems, dateTimes, typed
//! identifiers): what the 837 needs is found where FHIR allows it to be; what must not be
//! billed is refused with what to change; every problem of a claim comes in one answer.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use chrono::NaiveDate;
use hms_domain::claims::fhir::{Read, read, resources::Resources};
use hms_domain::claims::{Batch, Claim, ClaimKind, DiagnosisCodes, read_claim, write_837};
use hms_domain::outcome::OperationOutcome;
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_domain::party::TaxIdType;
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/fhir/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn bundle() -> Value {
    fixture("claim-professional-transaction-bundle.json")
}

/// The entry index of the bundle's Claim.
fn claim_entry(bundle: &Value) -> usize {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["resource"]["resourceType"] == "Claim")
        .unwrap()
}

fn claim_of(bundle: &mut Value) -> &mut Value {
    let k = claim_entry(bundle);
    &mut bundle["entry"][k]["resource"]
}

/// The entry of `kind` in the bundle.
fn entry_of<'a>(bundle: &'a mut Value, kind: &str) -> &'a mut Value {
    let k = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["resource"]["resourceType"] == kind)
        .unwrap();
    &mut bundle["entry"][k]["resource"]
}

fn read_bundle(bundle: &Value) -> Result<Read, OperationOutcome> {
    let resources = Resources::of(bundle);
    let claim = &bundle["entry"][claim_entry(bundle)]["resource"];
    read(
        claim,
        &resources,
        ClaimKind::of(claim),
        &Connections::local(),
    )
}

fn professional(read: Read) -> hms_domain::claims::ProfessionalClaim {
    match read.claim {
        Claim::Professional(c) => c,
        Claim::Institutional(_) => panic!("read as institutional"),
    }
}

/// `edit@FHIRPath` of every issue.
fn issues(outcome: &OperationOutcome) -> Vec<String> {
    outcome
        .issue
        .iter()
        .map(|i| {
            format!(
                "{}@{}",
                i.diagnostics.as_deref().unwrap_or(""),
                i.expression.join(",")
            )
        })
        .collect()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

#[test]
fn a_transaction_bundle_becomes_a_valid_837p_with_everything_it_says() {
    let read = read_bundle(&bundle()).unwrap_or_else(|o| panic!("{o:#?}"));
    // The filing indicator came from the payer directory, and the reader says so.
    let notes: Vec<&str> = read
        .notes
        .iter()
        .filter_map(|n| n.diagnostics.as_deref())
        .collect();
    assert_eq!(notes, ["claim-filing-indicator-default"]);
    let claim = professional(read);
    // Claim.id stands in for the missing Claim.identifier.
    assert_eq!(
        claim.claim.patient_control_number.as_str(),
        "2c3f4a5b-ee3b-4e8f-9ad2-9b6d7f0e1c09"
    );
    // The payer, by its NAIC code in a logical reference, known to the directory.
    assert_eq!(claim.payer.id.as_str(), "999996666");
    assert_eq!(claim.payer.name, "KEY INSURANCE COMPANY");
    assert_eq!(claim.subscriber.claim_filing_indicator, "CI");
    // The member id from Coverage.identifier typed MB.
    assert_eq!(claim.subscriber.member_id.as_str(), "JS00111223333");
    // NPI in its OID form, tax id typed TAX: an employer id.
    assert_eq!(
        claim.billing_provider.npi.as_ref().unwrap().as_str(),
        "1912301953"
    );
    assert_eq!(
        claim.billing_provider.tax_id.as_ref().unwrap().as_str(),
        "587654321"
    );
    assert_eq!(claim.billing_provider.tax_id_type, Some(TaxIdType::Ein));
    // Diagnoses through Condition references, the ICD-10-CM coding after the SNOMED one.
    assert_eq!(claim.claim.diagnoses, ["J02.0", "R50.9"]);
    // CPT after a SNOMED coding, and in its OID form.
    assert_eq!(claim.service_lines[0].procedure_code, "99213");
    assert_eq!(claim.service_lines[1].procedure_code, "87880");
    // dateTime periods become dates; a period with only an end is that day.
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    assert_eq!(
        (
            claim.service_lines[0].service_date,
            claim.service_lines[0].service_date_end
        ),
        (day, None)
    );
    assert_eq!(claim.service_lines[1].service_date, day);
    // Charges from unitPrice × quantity, float noise rounded off.
    let cents = |c: i64| rust_decimal::Decimal::new(c, 2);
    assert_eq!(claim.service_lines[0].charge, cents(10_000));
    assert_eq!(claim.service_lines[1].charge, cents(4_000));
    assert_eq!(claim.claim.total_charge, cents(14_000));
    // The rendering provider through item.careTeamSequence and a PractitionerRole.
    let rendering = claim.rendering_provider.as_ref().unwrap();
    assert_eq!(rendering.npi.as_ref().unwrap().as_str(), "1234567893");
    assert_eq!(rendering.taxonomy.as_deref(), Some("207Q00000X"));
    // Prior authorization, accident and onset.
    assert_eq!(
        claim.claim.prior_authorization.as_deref(),
        Some("AUTH88812")
    );
    assert_eq!(
        claim.claim.accident_date,
        NaiveDate::from_ymd_opt(2026, 10, 30)
    );
    assert_eq!(
        claim.claim.onset_date,
        NaiveDate::from_ymd_opt(2026, 10, 30)
    );

    let claim = Claim::from(claim);
    let outcome = claim.scrub(today());
    assert!(!outcome.has_errors(), "{outcome:#?}");
    let partner = TradingPartner::test_to("KEYINS");
    let envelope = Envelope::new(7, today().and_hms_opt(10, 0, 0).unwrap());
    let x12 = write_837(std::slice::from_ref(&claim), &partner, &envelope).unwrap();
    let report = validate_bytes(&x12, Catalog::embedded().unwrap());
    let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let text = String::from_utf8(x12).unwrap();
    for segment in [
        "NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
        "REF*EI*587654321~",
        "REF*G1*AUTH88812~",
        "DTP*439*D8*20261030~",
        "DTP*431*D8*20261030~",
        "HI*ABK:J020*ABF:R509~",
        "SV1*HC:87880:QW*40*UN*2***1~",
        "PRV*PE*PXC*207Q00000X~",
    ] {
        assert!(text.contains(segment), "{segment} in\n{text}");
    }
}

#[test]
fn the_bundles_other_entries_are_resources_not_claims_that_fail() {
    let json = serde_json::to_vec(&bundle()).unwrap();
    let batch =
        Batch::read(&json, None, &Connections::local()).unwrap_or_else(|o| panic!("{o:#?}"));
    assert_eq!(batch.claims.len(), 1);
    assert_eq!(batch.entries, [claim_entry(&bundle())]);
    // Notes and findings point at the Claim's own entry.
    assert!(batch.notes[0].expression[0].starts_with(&format!(
        "Bundle.entry[{}].resource.insurance",
        claim_entry(&bundle())
    )));
    // The submit endpoint takes the same Bundle as one claim.
    let (claim, _) = read_claim(&json, &Connections::local()).unwrap();
    assert_eq!(claim.payer_id().as_str(), "999996666");
}

#[test]
fn what_must_not_be_billed_is_refused_with_what_to_change() {
    let refused = |change: &dyn Fn(&mut Value), edit: &str, at: &str, says: &str| {
        let mut b = bundle();
        change(&mut b);
        let outcome = read_bundle(&b)
            .err()
            .unwrap_or_else(|| panic!("{edit} was accepted"));
        let issue = outcome
            .issue
            .iter()
            .find(|i| i.diagnostics.as_deref() == Some(edit))
            .unwrap_or_else(|| panic!("{edit}: {:?}", issues(&outcome)));
        assert_eq!(issue.expression, [at], "{edit}");
        assert!(
            issue.details.text.contains(says),
            "{edit}: {}",
            issue.details.text
        );
    };
    refused(
        &|b| claim_of(b)["use"] = "preauthorization".into(),
        "fhir-claim-use",
        "Claim.use",
        "278",
    );
    refused(
        &|b| claim_of(b)["use"] = "predetermination".into(),
        "fhir-claim-use",
        "Claim.use",
        "predetermination",
    );
    refused(
        &|b| claim_of(b)["status"] = "cancelled".into(),
        "fhir-claim-status",
        "Claim.status",
        "void",
    );
    refused(
        &|b| claim_of(b)["status"] = "draft".into(),
        "fhir-claim-status",
        "Claim.status",
        "draft",
    );
    refused(
        &|b| claim_of(b)["item"][0]["unitPrice"]["currency"] = "EUR".into(),
        "currency",
        "Claim.item[0].unitPrice.currency",
        "US dollars",
    );
    refused(
        &|b| {
            claim_of(b)["item"][1]["productOrService"] =
                json!({"coding": [{"system": "http://snomed.info/sct", "code": "122298005"}]})
        },
        "code-system",
        "Claim.item[1].productOrService",
        "http://snomed.info/sct",
    );
    refused(
        &|b| claim_of(b)["item"][1]["sequence"] = 1.into(),
        "fhir-sequence",
        "Claim.item[1].sequence",
        "repeats Claim.item[0]",
    );
    refused(
        &|b| claim_of(b)["item"][0]["diagnosisSequence"] = json!([1, 5]),
        "diagnosis-pointer",
        "Claim.item[0].diagnosisSequence[1]",
        "is 5, but no Claim.diagnosis has that sequence",
    );
    refused(
        &|b| claim_of(b)["total"]["value"] = json!(140.005),
        "money-cents",
        "Claim.total.value",
        "fraction of a cent",
    );
    // A drug in a unit the 837 has no code for.
    refused(
        &|b| {
            claim_of(b)["item"][1]["detail"] = json!([{"sequence": 1,
                "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00409-4888-20"}]},
                "quantity": {"value": 1, "unit": "kg"}}])
        },
        "ndc-unit",
        "Claim.item[1].detail[0].quantity",
        "\"kg\"",
    );
    // A payer known only by an NPI has no payer id: the NPI is never taken for one.
    refused(
        &|b| entry_of(b, "Coverage")["payor"] = json!([{ "identifier": { "system": "http://hl7.org/fhir/sid/us-npi", "value": "1912301953" }, "display": "SOME PAYER" }]),
        "payer-id",
        "Claim.insurance[0].coverage.payor[0].identifier",
        "no payer id",
    );
    // An insurer that is not there at all is said to be required, not misreferenced.
    refused(
        &|b| {
            entry_of(b, "Coverage")
                .as_object_mut()
                .unwrap()
                .remove("payor");
        },
        "payer",
        "Claim.insurer",
        "is required",
    );
    // ICD-9 and ICD-10 on one claim.
    refused(
        &|b| {
            let k = b["entry"]
                .as_array()
                .unwrap()
                .iter()
                .position(|e| e["resource"]["resourceType"] == "Condition")
                .unwrap();
            b["entry"][k]["resource"]["code"] = json!({"coding": [{"system": "http://hl7.org/fhir/sid/icd-9-cm", "code": "034.0"}]});
        },
        "diagnosis-code-set",
        "Claim.diagnosis",
        "one code set",
    );
}

#[test]
fn an_icd9_claim_goes_out_as_icd9_never_as_icd10() {
    let mut b = bundle();
    for e in b["entry"].as_array_mut().unwrap() {
        if e["resource"]["resourceType"] == "Condition" {
            e["resource"]["code"] =
                json!({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.103", "code": "034.0"}]});
        }
    }
    let claim = professional(read_bundle(&b).unwrap());
    assert_eq!(claim.claim.diagnosis_codes, DiagnosisCodes::Icd9Cm);
    // And the scrubber refuses ICD-9 for a service in 2026.
    assert!(Claim::from(claim).scrub(today()).has_errors());
}

#[test]
fn every_problem_of_a_claim_comes_in_one_answer_absent_told_from_malformed() {
    let mut b = bundle();
    let claim = claim_of(&mut b);
    claim["item"][0]
        .as_object_mut()
        .unwrap()
        .remove("servicedPeriod");
    claim.as_object_mut().unwrap().remove("billablePeriod");
    claim["item"][1]["servicedPeriod"] = json!({"start": "2026-11"});
    claim["item"][1]["quantity"]["value"] = "two".into();
    entry_of(&mut b, "Coverage")["identifier"] = json!([]);
    let outcome = read_bundle(&b).unwrap_err();
    let found = issues(&outcome);
    for expected in [
        "fhir-required@Claim.item[0].servicedDate",
        "fhir-date@Claim.item[1].servicedPeriod.start",
        "fhir-decimal@Claim.item[1].quantity.value",
        "member-id@Claim.insurance[0].coverage.subscriberId",
    ] {
        assert!(
            found.contains(&expected.to_string()),
            "{expected} in {found:#?}"
        );
    }
    let text = |at: &str| {
        outcome
            .issue
            .iter()
            .find(|i| i.expression == [at])
            .unwrap()
            .details
            .text
            .clone()
    };
    assert!(text("Claim.item[0].servicedDate").contains("is required"));
    assert!(text("Claim.item[1].servicedPeriod.start").contains("full date"));
}

#[test]
fn an_array_sent_as_one_claim_is_told_the_endpoint_takes_one() {
    let body = serde_json::to_vec(&json!([{"claim": {}}, {"claim": {}}])).unwrap();
    let err = read_claim(&body, &Connections::local()).unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("one-claim") && text.contains("array of 2"),
        "{text}"
    );
}

#[test]
fn an_institutional_line_with_only_a_revenue_code_is_not_asked_for_a_procedure() {
    let mut claim = fixture("claim-institutional.json");
    claim["item"][0]["productOrService"] = json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-applicable"}]});
    claim["billablePeriod"]["start"] = "2026-11-01T11:30:00-05:00".into();
    let read = read(
        &claim,
        &Resources::of(&claim),
        ClaimKind::Institutional,
        &Connections::local(),
    )
    .unwrap_or_else(|o| panic!("{o:#?}"));
    let Claim::Institutional(claim) = read.claim else {
        panic!()
    };
    assert_eq!(claim.service_lines[0].procedure_code, None);
    assert_eq!(
        claim.claim.statement_from,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
    );
}

#[test]
fn a_second_coverage_becomes_other_coverage_and_a_referral_the_referring_provider() {
    let mut b = bundle();
    let entries = b["entry"].as_array_mut().unwrap();
    entries.push(json!({ "fullUrl": "urn:uuid:secondary-coverage", "resource": {
        "resourceType": "Coverage", "id": "secondary", "status": "active",
        "subscriberId": "MCR55511", "type": {"coding": [{"system": "http://codesystem.x12.org/005010/1032", "code": "MB"}]},
        "beneficiary": {"reference": "urn:uuid:4a8b6c2e-1f0d-4e57-9b1a-0c3d2e1f5a01"},
        "payor": [{"identifier": {"value": "842610001"}}]
    }}));
    entries.push(json!({ "fullUrl": "urn:uuid:referral", "resource": {
        "resourceType": "ServiceRequest", "id": "referral", "status": "active", "intent": "order",
        "subject": {"reference": "urn:uuid:4a8b6c2e-1f0d-4e57-9b1a-0c3d2e1f5a01"},
        "requester": {"reference": "urn:uuid:referrer"}
    }}));
    entries.push(json!({ "fullUrl": "urn:uuid:referrer", "resource": {
        "resourceType": "Practitioner", "id": "referrer",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1003000126"}],
        "name": [{"family": "WELBY", "given": ["MARCUS"]}]
    }}));
    let claim = claim_of(&mut b);
    claim["insurance"].as_array_mut().unwrap().push(json!({"sequence": 2, "focal": false, "coverage": {"reference": "urn:uuid:secondary-coverage"}}));
    claim["referral"] = json!({"reference": "urn:uuid:referral"});
    let claim = professional(read_bundle(&b).unwrap_or_else(|o| panic!("{o:#?}")));
    let other = &claim.other_coverage[0];
    assert_eq!(other.payer.id.as_str(), "842610001");
    assert_eq!(other.payer.name, "ABC COMPANY");
    assert_eq!(other.claim_filing_indicator, "MB");
    assert_eq!(other.member_id.as_str(), "MCR55511");
    let referring = claim.referring_provider.as_ref().unwrap();
    assert_eq!(referring.npi.as_ref().unwrap().as_str(), "1003000126");
    let claim = Claim::from(claim);
    assert!(
        !claim.scrub(today()).has_errors(),
        "{:#?}",
        claim.scrub(today())
    );
    let x12 = write_837(
        std::slice::from_ref(&claim),
        &TradingPartner::test_to("KEYINS"),
        &Envelope::new(8, today().and_hms_opt(10, 0, 0).unwrap()),
    )
    .unwrap();
    let text = String::from_utf8(x12).unwrap();
    assert!(
        text.contains("NM1*DN*1*WELBY*MARCUS****XX*1003000126~"),
        "{text}"
    );
    assert!(
        text.contains("SBR*P*18*2222-SJ******CI~") && text.contains("SBR*S*18*******MB~"),
        "{text}"
    );
}

#[test]
fn accident_stay_payment_supervisor_and_corrections_reach_their_segments() {
    let mut b = bundle();
    b["entry"].as_array_mut().unwrap().push(
        json!({ "fullUrl": "urn:uuid:supervisor", "resource": {
            "resourceType": "Practitioner", "id": "supervisor",
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1003000126"}],
            "name": [{"family": "WELBY", "given": ["MARCUS"]}]
        }}),
    );
    let claim = claim_of(&mut b);
    claim["accident"] = json!({
        "date": "2026-10-30",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MVA"}]},
        "locationAddress": {"city": "BOSTON", "state": "MA"}
    });
    let info = claim["supportingInfo"].as_array_mut().unwrap();
    info.push(
        json!({"sequence": 2, "category": {"coding": [{"code": "hospitalized"}]},
        "timingPeriod": {"start": "2026-10-30T22:00:00-05:00", "end": "2026-11-01"}}),
    );
    info.push(
        json!({"sequence": 3, "category": {"coding": [{"code": "patientpaid"}]},
        "valueQuantity": {"value": 25, "unit": "USD"}}),
    );
    claim["careTeam"].as_array_mut().unwrap().push(json!({"sequence": 2,
        "provider": {"reference": "urn:uuid:supervisor"}, "role": {"coding": [{"code": "supervisor"}]}}));
    claim["related"] = json!([{"relationship": {"coding": [{"code": "prior"}]},
        "reference": {"value": "PCN2026110200417"}}]);
    let professional = professional(read_bundle(&b).unwrap_or_else(|o| panic!("{o:#?}")));
    let c = &professional.claim;
    assert_eq!(
        (c.related_causes.as_slice(), c.accident_state.as_deref()),
        (&["AA".to_string()][..], Some("MA"))
    );
    assert_eq!(c.frequency, "7");
    assert_eq!(c.payer_claim_number.as_deref(), Some("PCN2026110200417"));
    assert_eq!(c.patient_paid, Some(rust_decimal::Decimal::new(25, 0)));
    let stay = c.hospitalization.unwrap();
    assert_eq!(
        (stay.admitted, stay.discharged),
        (
            NaiveDate::from_ymd_opt(2026, 10, 30).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 1)
        )
    );
    assert!(professional.supervising_provider.is_some());
    let claim = Claim::from(professional);
    let outcome = claim.scrub(today());
    assert!(!outcome.has_errors(), "{outcome:#?}");
    let x12 = write_837(
        std::slice::from_ref(&claim),
        &TradingPartner::test_to("KEYINS"),
        &Envelope::new(9, today().and_hms_opt(10, 0, 0).unwrap()),
    )
    .unwrap();
    let text = String::from_utf8(x12).unwrap();
    for segment in [
        ":B:7*Y*A*Y*Y**AA:::MA~",
        "DTP*435*D8*20261030~",
        "DTP*096*D8*20261101~",
        "AMT*F5*25~",
        "REF*F8*PCN2026110200417~",
        "NM1*DQ*1*WELBY*MARCUS****XX*1003000126~",
    ] {
        assert!(text.contains(segment), "{segment} in\n{text}");
    }

    // The same claim cancelled is its void; a correction without the payer's number is refused.
    claim_of(&mut b)["status"] = "cancelled".into();
    assert_eq!(professional_frequency(&b), "8");
    claim_of(&mut b)["related"][0]
        .as_object_mut()
        .unwrap()
        .remove("reference");
    let outcome = read_bundle(&b).unwrap_err();
    assert!(
        issues(&outcome).contains(&"payer-claim-number@Claim.related[0].reference".to_string()),
        "{:?}",
        issues(&outcome)
    );
    // A motor vehicle accident without its state is refused: CLM11-4 is then required.
    let mut b = bundle();
    claim_of(&mut b)["accident"]["type"] = json!({"coding": [{"code": "MVA"}]});
    let outcome = read_bundle(&b).unwrap_err();
    assert_eq!(
        issues(&outcome),
        ["accident-state@Claim.accident.locationAddress.state"]
    );
}

fn professional_frequency(bundle: &Value) -> String {
    professional(read_bundle(bundle).unwrap_or_else(|o| panic!("{o:#?}")))
        .claim
        .frequency
}

#[test]
fn a_procedure_reference_gives_its_code_and_its_performed_date() {
    let mut claim = fixture("claim-institutional.json");
    claim["contained"].as_array_mut().unwrap().push(json!({
        "resourceType": "Procedure", "id": "pci", "status": "completed",
        "code": {"coding": [
            {"system": "http://snomed.info/sct", "code": "415070008"},
            {"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "027034Z"}
        ]},
        "performedDateTime": "2026-10-12T08:30:00-05:00"
    }));
    claim["procedure"][0] = json!({"sequence": 1, "type": [{"coding": [{"code": "principal"}]}],
        "procedureReference": {"reference": "#pci"}});
    let read = read(
        &claim,
        &Resources::of(&claim),
        ClaimKind::Institutional,
        &Connections::local(),
    )
    .unwrap_or_else(|o| panic!("{o:#?}"));
    let Claim::Institutional(claim) = read.claim else {
        panic!()
    };
    let principal = claim.claim.principal_procedure.unwrap();
    assert_eq!(
        (principal.code.as_str(), principal.date),
        ("027034Z", NaiveDate::from_ymd_opt(2026, 10, 12).unwrap())
    );
}
