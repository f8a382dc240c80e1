//! What the domain's integration tests share. Each test binary uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::NaiveDate;

/// The shared X12 samples, read in place, never copied.
pub fn samples() -> PathBuf {
    hms_test_support::x12_samples()
}

/// A claim fixture's bytes (`tests/fixtures/claims/NAME`).
pub fn claim_fixture(name: &str) -> Vec<u8> {
    std::fs::read(hms_test_support::fixtures().join("claims").join(name))
        .unwrap_or_else(|e| panic!("claims/{name}: {e}"))
}

/// The day the fixtures' claims are scrubbed on: after every date of service they carry.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default()
}

/// The published FHIR corpus directory (the R4 specification's examples): `HMS_CORPUS_DIR`,
/// or where `infra/corpus.sh` puts it.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("HMS_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../.local/corpus/hl7.fhir.r4.examples-4.0.1"
            ))
        });
    assert!(
        dir.join(".complete").exists(),
        "the published FHIR corpus is missing at {}: run infra/corpus.sh (infra/setup.sh test does)",
        dir.display()
    );
    dir
}

/// The resource types a published Claim refers to, published beside the Claims.
const PUBLISHED_PARTY_TYPES: &[&str] = &[
    "Patient",
    "Coverage",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Condition",
    "Procedure",
    "ServiceRequest",
    "RelatedPerson",
    "Location",
];

/// Every published Claim (its file name and resource), and every published resource a Claim
/// may refer to as a Bundle entry with the `fullUrl` the specification gives it; both in file
/// name order.
pub fn published_claims() -> (Vec<(String, serde_json::Value)>, Vec<serde_json::Value>) {
    let dir = corpus();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let (mut claims, mut beside) = (vec![], vec![]);
    for name in names {
        let kind = name.split('-').next().unwrap_or_default().to_string();
        if kind != "Claim" && !PUBLISHED_PARTY_TYPES.contains(&kind.as_str()) {
            continue;
        }
        let resource: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(&name)).unwrap()).unwrap();
        if kind == "Claim" {
            claims.push((name, resource));
        } else {
            beside.push(published_entry(&kind, resource));
        }
    }
    (claims, beside)
}

/// `resource`, of type `kind`, as a Bundle entry with the `fullUrl` the specification gives it.
pub fn published_entry(kind: &str, resource: serde_json::Value) -> serde_json::Value {
    let id = resource["id"].as_str().unwrap_or_default().to_string();
    serde_json::json!({ "fullUrl": format!("http://hl7.org/fhir/{kind}/{id}"), "resource": resource })
}
