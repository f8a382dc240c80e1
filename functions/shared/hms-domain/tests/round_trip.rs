//! X12 → domain → X12 over the shared samples: what comes back means what went in, element for
//! element, and every place where the model itself writes a value other than the file's (a
//! conflict: the model lost or altered it) is listed here by name.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::samples;
use std::path::{Path, PathBuf};

use hms_domain::lossless::{self, Preserved};
use hms_x12::spec::Catalog;
use hms_x12::tree;

fn files(dir: &str, extension: &str, demo: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(samples().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    out.push(samples().join("demo").join(demo));
    out.sort();
    out
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}

type Read<T> = fn(&[u8], &Catalog) -> Result<Vec<Preserved<T>>, lossless::LosslessError>;
type Write<T> = fn(&Preserved<T>, &Catalog) -> Result<Vec<u8>, lossless::LosslessError>;

/// Reads, writes back, and checks the meaning survived (the model's JSON form included).
/// Returns each file's conflicts, or why it was refused.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    set: &str,
    read: Read<T>,
    write: Write<T>,
) -> Result<Vec<String>, String> {
    let catalog = Catalog::embedded().unwrap();
    let input = std::fs::read(path).unwrap();
    let read = read(&input, catalog).map_err(|e| e.to_string())?;
    let original = tree::parse(&input, catalog).unwrap();
    let originals: Vec<_> = original
        .interchanges
        .iter()
        .flat_map(|i| &i.groups)
        .flat_map(|g| &g.transactions)
        .filter(|t| t.id == set)
        .collect();
    assert_eq!(originals.len(), read.len(), "{path:?}");
    let mut conflicts = vec![];
    for (preserved, tx) in read.iter().zip(originals) {
        let json = serde_json::to_string(preserved).unwrap();
        let again: Preserved<T> = serde_json::from_str(&json).unwrap();
        for p in [preserved, &again] {
            let written = write(p, catalog).map_err(|e| e.to_string())?;
            let back = tree::parse(&written, catalog).unwrap();
            let back_tx = &back.interchanges[0].groups[0].transactions[0];
            let differences = lossless::differences(tx, back_tx, catalog);
            // The envelope holds together (GS08 is the guide ST03 names, counts are right):
            // what comes back is no less valid than what went in.
            let errors = |x12: &[u8]| {
                hms_x12::validate::validate_bytes(x12, catalog)
                    .findings
                    .iter()
                    .filter(|f| f.severity == hms_x12::Severity::Error)
                    .count()
            };
            assert!(
                errors(&written) <= errors(&input),
                "{}: {} errors after, {} before",
                name(path),
                errors(&written),
                errors(&input)
            );
            assert!(
                differences.is_empty(),
                "{}: the round trip changed the meaning:\n{}",
                name(path),
                differences.join("\n")
            );
        }
        conflicts.extend(preserved.conflicts.iter().cloned());
    }
    Ok(conflicts)
}

fn round_trip_837p(path: &Path) -> Result<Vec<String>, String> {
    round_trip(path, "837", lossless::read_837p, lossless::write_837p_back)
}

/// Where the writer puts the standard form of what a file sent non-standard: the value means
/// the same, the patch keeps the file's spelling. Anything else the model writes differently is
/// a loss, and fails the test.
const NORMALIZED: &[(&str, &str)] = &[
    // CLM05-2, the facility code qualifier, is required (pyx12 reports it missing); we write `B`.
    (
        "demo.ambulance.example5.837",
        "ST/2000A/2000B/2300/CLM05: the file has \"41::1\", the model writes \"41:B:1\"",
    ),
    // A tax id is nine digits; the model keeps the digits, not the hyphen.
    (
        "demo.drug.example10.2.837",
        "ST/2000A/2010AA/REF02: the file has \"10-1234567\", the model writes \"101234567\"",
    ),
];

/// Files the reader refuses, and the start of why. Each is invalid for pyx12 too
/// (../shared/x12-samples/MANIFEST.md).
const REFUSED: &[(&str, &str)] = &[
    // CLM05 and HI are written with `>` though ISA16 makes `:` the component separator: the
    // claim reads without a diagnosis (the scrubber and the 277CA reject it), and the writer
    // will not write a claim without one.
    (
        "demo.cob.2ndary.example4.837",
        "/claim/diagnoses: at least one diagnosis is required",
    ),
    (
        "demo.example11.837",
        "/claim/diagnoses: at least one diagnosis is required",
    ),
    (
        "demo.example12.837",
        "/claim/diagnoses: at least one diagnosis is required",
    ),
    (
        "demo.cob.example3.A.837",
        "line 39: SBR: required loop or segment 2330B is missing in loop 2320",
    ),
];

#[test]
fn every_837p_comes_back_as_it_went_in() {
    let mut read = 0;
    for path in files("837_005010X222A2", "837", "demo.837") {
        let file = name(&path);
        match round_trip_837p(&path) {
            Ok(conflicts) => {
                read += 1;
                let expected: Vec<&str> = NORMALIZED
                    .iter()
                    .filter(|(f, _)| *f == file)
                    .map(|(_, c)| *c)
                    .collect();
                assert_eq!(
                    conflicts, expected,
                    "{file}: the model lost or altered data"
                );
            }
            Err(why) => {
                let expected = REFUSED.iter().find(|(f, _)| *f == file);
                assert!(
                    expected.is_some_and(|(_, start)| why.starts_with(start)),
                    "{file}: refused: {why}"
                );
            }
        }
    }
    assert_eq!(read, 13 - REFUSED.len());
}

#[test]
fn every_835_comes_back_as_it_went_in() {
    let mut read = 0;
    for path in files("835_005010X221A1", "835", "demo.835") {
        let file = name(&path);
        match round_trip(&path, "835", lossless::read_835, lossless::write_835_back) {
            Ok(conflicts) => {
                read += 1;
                assert!(
                    conflicts.is_empty(),
                    "{file}: the model lost or altered data: {conflicts:#?}"
                );
            }
            // BPR16 is 20002316: pyx12 refuses it too.
            Err(why) => assert!(
                file == "managed-care.835"
                    && why == "line 4: BPR16: \"20002316\" is not a CCYYMMDD date",
                "{file}: {why}"
            ),
        }
    }
    assert_eq!(read, 3);
    // Ours: the CLI fixture; two headers (LX), an inpatient claim (MIA, DTM*150/151), a denial
    // with MOA, a PLB of three adjustments; a synthetic 835 of many claims.
    let synthetic = std::env::temp_dir().join(format!("hms-round-trip-{}.835", std::process::id()));
    std::fs::write(&synthetic, hms_x12::synth::remittance_835(40_000).unwrap()).unwrap();
    let fixture = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/remittance/two-claims.835"
    ));
    let headers = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/remittance/headers-inpatient-plb.835"
    ));
    for path in [fixture, headers, synthetic.clone()] {
        let conflicts = round_trip(&path, "835", lossless::read_835, lossless::write_835_back);
        assert_eq!(conflicts, Ok(vec![]), "{path:?}");
    }
    let _ = std::fs::remove_file(synthetic);
}

#[test]
fn every_277_comes_back_as_it_went_in() {
    let mut read = 0;
    for path in files("277_005010X212", "277", "demo.277") {
        let conflicts = round_trip(&path, "277", lossless::read_277, lossless::write_277_back);
        assert_eq!(conflicts, Ok(vec![]), "{}", name(&path));
        read += 1;
    }
    assert_eq!(read, 4);
}

#[test]
fn every_271_comes_back_as_it_went_in() {
    let mut read = 0;
    for path in files("271_005010X279A1", "271", "demo.271") {
        let conflicts = round_trip(&path, "271", lossless::read_271, lossless::write_271_back);
        assert_eq!(conflicts, Ok(vec![]), "{}", name(&path));
        read += 1;
    }
    assert_eq!(read, 3);
}

#[test]
fn every_837i_comes_back_as_it_went_in() {
    // DTP*434 (the statement period) takes a range (RD8) only; the model writes a one-day
    // statement as the range of that day.
    let normalized = [
        "ST/2000A/2000B/2300/DTP02: the file has \"D8\", the model writes \"RD8\"",
        "ST/2000A/2000B/2300/DTP03: the file has \"19960911\", the model writes \"19960911-19960911\"",
    ];
    let mut read = 0;
    for path in files("837_005010X223A3", "837i", "demo.837i") {
        let file = name(&path);
        match round_trip(&path, "837", lossless::read_837i, lossless::write_837i_back) {
            Ok(conflicts) => {
                read += 1;
                assert_eq!(
                    conflicts, normalized,
                    "{file}: the model lost or altered data"
                );
            }
            // Written with `>` where ISA16 makes `:` the component separator (pyx12 refuses
            // it too): no principal diagnosis can be read.
            Err(why) => assert!(
                file == "ppo-repriced-claim.837i"
                    && why.starts_with(
                        "/claim/principalDiagnosis: the principal diagnosis is required"
                    ),
                "{file}: {why}"
            ),
        }
    }
    assert_eq!(read, 2);
}
