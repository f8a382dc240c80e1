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
