//! Every file of `../shared/x12-samples`, read in place: our verdict agrees with pyx12's (taken
//! from the samples' MANIFEST.md) wherever we have a guide for the file's transaction sets, and the
//! specific errors pyx12 reports are among ours. Files whose guides we do not have yet are named
//! in the output, never silently passed.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::path::{Path, PathBuf};

use hms_x12::finding::AckCode;
use hms_x12::spec::Catalog;
use hms_x12::validate::{Report, validate_bytes};

fn samples() -> PathBuf {
    hms_test_support::x12_samples()
}

/// pyx12's verdict per file, from MANIFEST.md: `true` valid, `false` invalid, absent: no map.
fn pyx12_verdicts(dir: &Path) -> Vec<(String, bool)> {
    let manifest =
        std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md is readable");
    manifest
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "pyx12").then_some(())?;
            let verdict = words.next()?;
            let file = words.next()?.to_string();
            match verdict {
                "VALID" => Some((file, true)),
                "INVALID" => Some((file, false)),
                _ => None,
            }
        })
        .collect()
}

fn validate(path: &Path) -> Report {
    let catalog = Catalog::embedded().expect("embedded specs load");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validate_bytes(&bytes, catalog)
}

/// Whether every transaction set of the report was validated against a guide.
fn fully_covered(report: &Report) -> bool {
    let sets: Vec<_> = report
        .interchanges
        .iter()
        .flat_map(|i| &i.groups)
        .flat_map(|g| &g.transactions)
        .collect();
    !sets.is_empty() && sets.iter().all(|t| t.guide.is_some())
}

#[test]
fn verdicts_agree_with_pyx12_where_we_have_the_guide() {
    let dir = samples();
    let verdicts = pyx12_verdicts(&dir);
    assert!(
        verdicts.len() >= 26,
        "MANIFEST.md lists {} pyx12 verdicts",
        verdicts.len()
    );
    let mut compared = 0;
    let mut disagreements = vec![];
    let mut uncovered = vec![];
    for (file, pyx12_valid) in &verdicts {
        let report = validate(&dir.join(file));
        if !fully_covered(&report) {
            uncovered.push(file.clone());
            continue;
        }
        compared += 1;
        let ours_valid = !report.has_errors();
        if ours_valid != *pyx12_valid {
            let first: Vec<String> = report.errors().take(5).map(|f| f.to_string()).collect();
            disagreements.push(format!(
                "{file}: pyx12 valid={pyx12_valid}, ours valid={ours_valid}\n  {}",
                first.join("\n  ")
            ));
        }
    }
    eprintln!(
        "compared {compared} files with pyx12; no guide yet for: {}",
        uncovered.join(", ")
    );
    assert!(
        disagreements.is_empty(),
        "verdicts differ from pyx12:\n{}",
        disagreements.join("\n")
    );
    assert!(compared >= 26, "only {compared} files could be compared");
}

#[test]
fn pyx12s_named_errors_are_among_ours() {
    let dir = samples();
    // (file, segment id, element, IK4/IK3/TA1 code), from the errors MANIFEST.md quotes.
    let expected: &[(&str, &str, Option<u8>, AckCode)] = &[
        (
            "835_005010X221A1/cob-contractural-adjustment.835",
            "BPR",
            Some(16),
            AckCode::Element("1"),
        ),
        (
            "835_005010X221A1/managed-care.835",
            "BPR",
            Some(16),
            AckCode::Element("8"),
        ),
        (
            "835_005010X221A1/medicare-part-a.835",
            "PER",
            None,
            AckCode::Segment("3"),
        ),
        ("demo/demo.835", "PER", None, AckCode::Segment("3")),
        (
            "835_005010X221A1/managed-care.835.997",
            "IEA",
            None,
            AckCode::Interchange("023"),
        ),
        (
            "835_005010X221A1/cob-contractural-adjustment.835.997",
            "IEA",
            None,
            AckCode::Interchange("023"),
        ),
    ];
    for (file, segment, element, ack) in expected {
        let report = validate(&dir.join(file));
        let hit = report
            .findings
            .iter()
            .any(|f| f.segment_id == *segment && f.element == *element && f.ack == *ack);
        assert!(
            hit,
            "{file}: expected {segment}{element:?} {ack:?}; ours:\n{}",
            report
                .findings
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn the_missing_per_is_reported_at_the_segment_after_it_in_loop_1000a() {
    let report = validate(&samples().join("835_005010X221A1/medicare-part-a.835"));
    let per = report
        .findings
        .iter()
        .find(|f| f.segment_id == "PER")
        .expect("PER finding");
    // pyx12: "Line:11 SEG:3 - Mandatory segment "Payer Technical Contact Information" (PER) missing".
    assert_eq!(per.line, 11);
    assert_eq!(per.loop_id.as_deref(), Some("1000A"));
    assert!(
        per.message.contains("Payer Technical Contact Information"),
        "{}",
        per.message
    );
}

/// The first error pyx12 reports for each invalid 837 sample (MANIFEST.md), with its line: ours
/// must name the same segment, element, line and 999 code.
#[test]
fn pyx12s_first_837_errors_are_ours_at_the_same_line() {
    let dir = samples();
    /// (file, line, segment id, element, component, 999 code)
    type FirstError = (
        &'static str,
        usize,
        &'static str,
        Option<u8>,
        Option<u8>,
        AckCode,
    );
    let expected: &[FirstError] = &[
        (
            "837_005010X222A2/demo.ambulance.example5.837",
            23,
            "CLM",
            Some(5),
            Some(2),
            AckCode::Element("1"),
        ),
        (
            "837_005010X222A2/demo.cob.2ndary.example4.837",
            21,
            "CLM",
            Some(5),
            Some(1),
            AckCode::Element("5"),
        ),
        (
            "837_005010X222A2/demo.cob.example3.A.837",
            44,
            "NM1",
            None,
            None,
            AckCode::Segment("3"),
        ),
        (
            "837_005010X222A2/demo.cob.example4.837",
            31,
            "AMT",
            None,
            None,
            AckCode::Segment("2"),
        ),
        (
            "837_005010X222A2/demo.example11.837",
            21,
            "CLM",
            Some(5),
            Some(1),
            AckCode::Element("5"),
        ),
        (
            "837_005010X222A2/demo.example12.837",
            26,
            "CLM",
            Some(5),
            Some(1),
            AckCode::Element("5"),
        ),
        // pyx12: the billing provider ZIP "failed to match the regular expression [0-9]{9}".
        (
            "837_005010X223A3/institutional-claim.837i",
            12,
            "N4",
            Some(3),
            None,
            AckCode::Element("4"),
        ),
        (
            "demo/demo.837i",
            12,
            "N4",
            Some(3),
            None,
            AckCode::Element("4"),
        ),
        (
            "837_005010X223A3/ppo-repriced-claim.837i",
            26,
            "CLM",
            Some(5),
            Some(1),
            AckCode::Element("5"),
        ),
    ];
    for (file, line, segment, element, component, ack) in expected {
        let report = validate(&dir.join(file));
        let hit = report.findings.iter().any(|f| {
            f.line == *line
                && f.segment_id == *segment
                && f.element == *element
                && f.component == *component
                && f.ack == *ack
        });
        assert!(
            hit,
            "{file}: expected line {line} {segment}{element:?}-{component:?} {ack:?}; ours:\n{}",
            report
                .findings
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// pyx12 has no map for these TR3 worked examples (NO-MAP in MANIFEST.md), so there is no verdict
/// to agree with; where we have the guide, the guide's own examples must validate clean.
#[test]
fn tr3_examples_pyx12_cannot_check_validate_clean_where_we_have_the_guide() {
    let dir = samples();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md");
    let mut checked = vec![];
    for line in manifest.lines() {
        let Some(rest) = line.strip_prefix("pyx12 NO-MAP ") else {
            continue;
        };
        let file = rest.split_whitespace().next().expect("file name");
        let report = validate(&dir.join(file));
        if !fully_covered(&report) {
            continue;
        }
        let errors: Vec<String> = report.errors().map(|f| f.to_string()).collect();
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
        checked.push(file.to_string());
    }
    // Every 270, 271, 276 and 277 example: we have all four guides.
    assert!(checked.len() >= 14, "checked only {checked:?}");
}
