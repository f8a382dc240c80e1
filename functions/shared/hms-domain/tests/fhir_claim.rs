//! A FHIR `Claim` → the domain → the scrubber → an 837P, with problems as FHIRPath expressions.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use chrono::NaiveDate;
use hms_domain::claims::fhir::{fhirpath_of, professional_from_fhir};
use hms_domain::claims::{Claim, write_837};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_domain::party::{Contact, Submitter};
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;
use serde_json::Value;

fn resource() -> Value {
    let path = format!(
        "{}/tests/fixtures/fhir/claim-professional.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn connections() -> Connections {
    let mut connections = Connections::local();
    connections.submitter = Submitter {
        name: "HMS-ACH".into(),
        id: "HMSACH".into(),
        contact: Contact {
            name: "EDI SUPPORT".into(),
            phone: Some("8005550100".into()),
            email: None,
        },
    };
    connections
}

#[test]
fn fhir_claim_becomes_a_clean_837p() {
    let connections = connections();
    let claim = professional_from_fhir(&resource(), &connections).unwrap();
    assert_eq!(claim.claim.total_charge.to_string(), "140.00");
    assert_eq!(claim.service_lines[0].diagnosis_pointers, [1, 2]);
    assert_eq!(claim.subscriber.group_number.as_deref(), Some("2222-SJ"));
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let outcome = Claim::from(claim.clone()).scrub(today);
    assert!(!outcome.has_errors(), "{outcome:?}");
    let partner = TradingPartner::test_to("KEYINS");
    let envelope = Envelope::new(1, today.and_hms_opt(10, 0, 0).unwrap());
    let x12 = write_837(&[Claim::from(claim.clone())], &partner, &envelope).unwrap();
    let report = validate_bytes(&x12, Catalog::embedded().unwrap());
    let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let text = String::from_utf8(x12).unwrap();
    assert!(text.contains("NM1*82*1*KILDARE*BEN****XX*1234567893~"));
    assert!(text.contains("SV1*HC:99213:25*100*UN*1***1:2~"));
}

#[test]
fn fhir_problems_point_with_fhirpath() {
    let connections = connections();
    let mut bad = resource();
    bad["contained"][1]["identifier"][0]["value"] = "191230195".into();
    bad["item"][1]["servicedDate"] = "November 2".into();
    let outcome = professional_from_fhir(&bad, &connections).unwrap_err();
    let at: Vec<&str> = outcome
        .issue
        .iter()
        .map(|i| i.expression[0].as_str())
        .collect();
    assert_eq!(
        at,
        ["Claim.provider.identifier", "Claim.item[1].servicedDate"]
    );
    // A wrong check digit reads, and the scrubber's pointer names the same place.
    assert_eq!(
        fhirpath_of("/billingProvider/npi"),
        "Claim.provider.identifier"
    );
    // Scrubber pointers translate to the same kind of path.
    assert_eq!(
        fhirpath_of("/serviceLines/1/procedureCode"),
        "Claim.item[1].productOrService"
    );
    assert_eq!(
        fhirpath_of("/claim/diagnoses/0"),
        "Claim.diagnosis[0].diagnosisCodeableConcept"
    );
    assert_eq!(
        fhirpath_of("/billingProvider/address/postalCode"),
        "Claim.provider.address.postalCode"
    );
}

#[test]
fn fhir_institutional_claim_becomes_a_clean_837i() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fhir/claim-institutional.json"
    );
    let resource: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let connections = connections();
    let claim = hms_domain::claims::fhir::institutional_from_fhir(&resource, &connections)
        .unwrap_or_else(|o| panic!("{}", serde_json::to_string_pretty(&o).unwrap()));
    let c = &claim.claim;
    assert_eq!(
        (c.facility_type.as_str(), c.frequency.as_str()),
        ("11", "1")
    );
    let admission = c.admission.as_ref().unwrap();
    assert_eq!(admission.hour.as_deref(), Some("1130"));
    assert_eq!(
        (
            admission.type_code.as_str(),
            admission.source_code.as_deref()
        ),
        ("1", Some("7"))
    );
    assert_eq!(c.patient_status, "01");
    assert_eq!(c.principal_diagnosis, "I21.4");
    assert_eq!(c.admitting_diagnosis.as_deref(), Some("R07.9"));
    assert_eq!(c.other_diagnoses, ["I10"]);
    assert_eq!(
        c.principal_procedure.as_ref().map(|p| p.code.as_str()),
        Some("027034Z")
    );
    assert_eq!(claim.service_lines[0].unit, "DA");
    assert_eq!(claim.service_lines[0].procedure_code, None);
    assert!(claim.operating_provider.is_some());
    let outcome =
        Claim::from(claim.clone()).scrub(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
    assert!(
        !outcome.has_errors(),
        "{}",
        serde_json::to_string_pretty(&outcome).unwrap()
    );

    // A Claim of another type, or without its bill type, says which field is wrong.
    let mut professional = resource.clone();
    professional["type"]["coding"][0]["code"] = "professional".into();
    let err =
        hms_domain::claims::fhir::institutional_from_fhir(&professional, &connections).unwrap_err();
    assert_eq!(err.issue[0].diagnostics.as_deref(), Some("fhir-claim-type"));
    let mut untyped = resource;
    untyped["supportingInfo"][0]["code"]["coding"][0]["code"] = "11".into();
    let err =
        hms_domain::claims::fhir::institutional_from_fhir(&untyped, &connections).unwrap_err();
    assert_eq!(err.issue[0].expression, ["Claim.supportingInfo[0].code"]);
}

#[test]
fn multi_byte_text_in_any_string_of_a_fhir_claim_is_an_issue_never_a_panic() {
    // Every string of both FHIR claims replaced, one at a time, by text whose characters
    // straddle the byte offsets a reader might slice at ("1é": a type of bill of two
    // characters and three bytes).
    fn strings(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (k, v) in fields {
                    strings(v, format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    strings(v, format!("{at}/{i}"), out);
                }
            }
            Value::String(_) => out.push(at),
            _ => {}
        }
    }
    let connections = connections();
    for name in ["claim-institutional.json", "claim-professional.json"] {
        let path = format!("{}/tests/fixtures/fhir/{name}", env!("CARGO_MANIFEST_DIR"));
        let resource: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut pointers = vec![];
        strings(&resource, String::new(), &mut pointers);
        assert!(pointers.len() > 20, "{name}");
        for pointer in &pointers {
            for hostile in ["1é", "2024010€00", "€"] {
                let mut changed = resource.clone();
                *changed.pointer_mut(pointer).unwrap() = hostile.into();
                let _ = hms_domain::claims::fhir::institutional_from_fhir(&changed, &connections);
                let _ = hms_domain::claims::fhir::professional_from_fhir(&changed, &connections);
                let body = serde_json::to_vec(&changed).unwrap();
                let _ = hms_domain::claims::read_claim(&body, &connections);
            }
        }
    }
}
