//! HL hierarchy checks: HL01 counts 1, 2, 3, ...; HL02 names an enclosing level; HL04 tells the
//! truth about child levels. Inputs are small 276 requests written here.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;

/// A 276 with the given HL segments (and a subscriber body after each HL*..*22).
fn request(levels: &[&str]) -> Vec<u8> {
    let mut body = vec![
        "ST*276*0001*005010X212".to_string(),
        "BHT*0010*13*REF1*20260101*1200".to_string(),
    ];
    for hl in levels {
        body.push(hl.to_string());
        let level = hl.split('*').nth(3).unwrap_or_default();
        body.push(match level {
            "20" => "NM1*PR*2*PAYER*****PI*12345".to_string(),
            "21" => "NM1*41*2*RECEIVER*****46*R1".to_string(),
            "19" => "NM1*1P*2*CLINIC*****XX*1234567893".to_string(),
            _ => "NM1*IL*1*DOE*PAT****MI*M1\nTRN*1*T1".to_string(),
        });
    }
    let mut segments: Vec<String> = body.join("\n").lines().map(str::to_string).collect();
    segments.push(format!("SE*{}*0001", segments.len() + 1));
    let mut out = String::from(
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*PAYER          *260101*1200*^*00501*000000001*0*T*:~\nGS*HR*SUBMITTER*PAYER*20260101*1200*1*X*005010X212~\n",
    );
    for s in segments {
        out.push_str(&s);
        out.push_str("~\n");
    }
    out.push_str("GE*1*1~\nIEA*1*000000001~\n");
    out.into_bytes()
}

fn hl_findings(levels: &[&str]) -> Vec<(usize, Option<u8>, String)> {
    let report = validate_bytes(&request(levels), Catalog::embedded().unwrap());
    report
        .findings
        .iter()
        .filter(|f| f.segment_id == "HL" || f.message.contains("HL0"))
        .map(|f| (f.line, f.element, f.message.clone()))
        .collect()
}

/// Asserts that validating `levels` reports a finding on HL element `element` whose message
/// contains `needle` (on file line `line`, when given).
fn assert_reported(levels: &[&str], line: Option<usize>, element: u8, needle: &str) {
    let found = hl_findings(levels);
    assert!(
        found
            .iter()
            .any(|(l, e, m)| line.is_none_or(|line| *l == line)
                && *e == Some(element)
                && m.contains(needle)),
        "{found:?}"
    );
}

const TREE: [&str; 5] = [
    "HL*1**20*1",
    "HL*2*1*21*1",
    "HL*3*2*19*1",
    "HL*4*3*22*0",
    "HL*5*3*22*0",
];

#[test]
fn a_well_formed_tree_has_no_hierarchy_findings() {
    assert_eq!(hl_findings(&TREE), vec![]);
    let report = validate_bytes(&request(&TREE), Catalog::embedded().unwrap());
    assert!(!report.has_errors(), "{:?}", report.findings);
}

#[test]
fn hl01_must_count_up_by_one() {
    let mut levels = TREE;
    levels[3] = "HL*7*3*22*0";
    assert_reported(&levels, None, 1, "4 was expected");
}

#[test]
fn hl02_must_name_an_enclosing_level() {
    let mut levels = TREE;
    levels[4] = "HL*5*9*22*0";
    assert_reported(&levels, None, 2, "\"9\"");
    // A level whose HL04 says "no child levels" cannot be named as a parent.
    levels[4] = "HL*5*4*22*0";
    assert_reported(&levels, None, 2, "no child levels");
}

#[test]
fn hl04_promising_children_that_never_come_is_reported_on_that_hl() {
    let mut levels = TREE;
    levels[4] = "HL*5*3*22*1";
    // Line of HL*5 in the file: ISA, GS, ST, BHT, then two lines per level (three for 22).
    let hl5_line = 4 + 2 + 2 + 2 + 3 + 1;
    assert_reported(&levels, Some(hl5_line), 4, "none follows");
}
