//! X12 as payers and other systems really send it, from files of our own that each show one
//! case met in public samples: what the standard allows is accepted, what it forbids is named.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn errors(input: &[u8]) -> Vec<String> {
    validate_bytes(input, Catalog::embedded().unwrap())
        .errors()
        .map(|f| f.to_string())
        .collect()
}

/// The segments of `x12` (terminated by `~` and a newline), with `f` applied, SE01 recounted.
fn edited(x12: &[u8], f: impl Fn(Vec<String>) -> Vec<String>) -> Vec<u8> {
    let text = String::from_utf8(x12.to_vec()).unwrap();
    let segments: Vec<String> = text
        .split('~')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = f(segments);
    let st = out.iter().position(|s| s.starts_with("ST*")).unwrap();
    let se = out.iter().position(|s| s.starts_with("SE*")).unwrap();
    let mut parts: Vec<String> = out[se].split('*').map(str::to_string).collect();
    parts[1] = (se - st + 1).to_string();
    out[se] = parts.join("*");
    (out.join("~\n") + "~\n").into_bytes()
}

#[test]
fn segments_of_one_position_are_accepted_in_any_order() {
    // 835 2100: DTM*050 (received) before DTM*232/233 (statement dates), all at position 230.
    let dates = fixture("835-claim-dates-any-order.835");
    assert_eq!(errors(&dates), Vec::<String>::new());
    // 837P 2300: REF*EA and REF*D9 before REF*9F, REF*G1 and REF*F8, all at position 180.
    let references = fixture("837p-claim-references-any-order.837");
    assert_eq!(errors(&references), Vec::<String>::new());
    // Reversed once more, the DTMs are still one position.
    let reversed = edited(&dates, |segments| {
        let mut out = vec![];
        for s in segments {
            match s.as_str() {
                "DTM*050*20261105" => {}
                "DTM*233*20261101" => {
                    out.push(s.clone());
                    out.push("DTM*050*20261105".into());
                }
                _ => out.push(s),
            }
        }
        out
    });
    assert_eq!(errors(&reversed), Vec::<String>::new());
}

#[test]
fn a_required_segment_of_a_run_is_still_required() {
    // 837P 2400 DTP*472 (service date) is required; the line's other DTPs share its position,
    // and without it the line is still wrong.
    let claim = fixture("837p-claim-references-any-order.837");
    let without = edited(&claim, |segments| {
        segments
            .into_iter()
            .filter(|s| !s.starts_with("DTP*472"))
            .collect()
    });
    let found = errors(&without);
    assert!(found.iter().any(|e| e.contains("DTP")), "{found:#?}");
    // A segment of another position out of order is still out of order: REF*G1 after HI.
    let misplaced = edited(&claim, |segments| {
        let mut out: Vec<String> = segments
            .iter()
            .filter(|s| !s.starts_with("REF*G1"))
            .cloned()
            .collect();
        let hi = out.iter().position(|s| s.starts_with("HI*")).unwrap();
        out.insert(hi + 1, "REF*G1*AUTH12345".into());
        out
    });
    assert!(!errors(&misplaced).is_empty());
}

#[test]
fn a_271s_benefit_dates_and_references_use_the_tr3s_code_lists() {
    // 2110C DTP*291 (plan), REF*F6 (HIC number), REF*M7 (medical assistance category); 2100C
    // REF*CT (contract number): all X279A1 codes.
    let benefits = fixture("271-benefit-plan-dates.271");
    assert_eq!(errors(&benefits), Vec::<String>::new());
    // 347 (plan end) is a 2100C date, not a 2110C one; F8 is no 2110C reference.
    for (from, to) in [("DTP*291", "DTP*347"), ("REF*F6", "REF*F8")] {
        let wrong = edited(&benefits, |segments| {
            segments
                .into_iter()
                .map(|s| {
                    if s.starts_with(from) {
                        s.replacen(from, to, 1)
                    } else {
                        s
                    }
                })
                .collect()
        });
        let found = errors(&wrong);
        assert!(
            found.iter().any(|e| e.contains(&to[4..])),
            "{to}: {found:#?}"
        );
    }
}

#[test]
fn a_999_naming_the_base_guide_is_accepted_with_a_warning() {
    let ack = fixture("999-base-guide.999");
    let report = validate_bytes(&ack, Catalog::embedded().unwrap());
    assert_eq!(
        report.errors().count(),
        0,
        "{:#?}",
        report.errors().map(|f| f.to_string()).collect::<Vec<_>>()
    );
    let warnings: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("005010X231 is validated as 005010X231A1")),
        "{warnings:#?}"
    );
}

#[test]
fn a_state_code_is_one_of_the_postal_services_or_canada_posts() {
    let claim = fixture("837p-claim-references-any-order.837");
    for (state, valid) in [
        ("NP", false),
        ("NA", false),
        ("ZZ", false),
        ("ON", true),
        ("PR", true),
        ("FL", true),
    ] {
        let changed = edited(&claim, |segments| {
            segments
                .into_iter()
                .map(|s| match s.strip_prefix("N4*") {
                    Some(rest) => {
                        let mut parts: Vec<&str> = rest.split('*').collect();
                        parts[1] = state;
                        format!("N4*{}", parts.join("*"))
                    }
                    None => s,
                })
                .collect()
        });
        let found = errors(&changed);
        assert_eq!(found.is_empty(), valid, "{state}: {found:#?}");
        if !valid {
            assert!(
                found.iter().all(|e| e.contains("N402")),
                "{state}: {found:#?}"
            );
        }
    }
}

#[test]
fn a_byte_order_mark_is_skipped_with_a_warning_that_names_it() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend_from_slice(&fixture("271-benefit-plan-dates.271"));
    for report in [
        validate_bytes(&input, Catalog::embedded().unwrap()),
        hms_x12::validate::validate_reader(
            &input[..],
            Catalog::embedded().unwrap(),
            Default::default(),
        )
        .unwrap(),
    ] {
        assert_eq!(report.errors().count(), 0);
        let warnings: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        assert!(
            warnings[0].contains("byte-order mark") && warnings[0].starts_with("warning line 1 "),
            "{warnings:#?}"
        );
    }
}

#[test]
fn findings_after_a_malformed_segment_keep_their_lines() {
    let benefits = fixture("271-benefit-plan-dates.271");
    let broken = edited(&benefits, |segments| {
        segments
            .into_iter()
            .map(|s| match s.as_str() {
                "REF*M7*A1" => "r3F*M7*A1".to_string(),
                "DTP*291*D8*20260101" => "DTP*999*D8*20260101".to_string(),
                _ => s,
            })
            .collect()
    });
    let report = validate_bytes(&broken, Catalog::embedded().unwrap());
    let lines: Vec<usize> = report.errors().map(|f| f.line).collect();
    // The malformed id is line 17, the DTP after it line 18; SE01 counts the malformed one.
    assert_eq!(
        lines,
        [17, 18],
        "{:#?}",
        report.errors().map(|f| f.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn a_999s_business_unit_context_is_told_from_its_segment_context() {
    // CTX*CLM01:26463774 names the claim an IK3 is about (the business unit form); the segment
    // context form starts with SITUATIONAL TRIGGER. Both sit in loop 2100.
    let ack = fixture("999-business-unit-context.999");
    assert_eq!(errors(&ack), Vec::<String>::new());
    let tree = hms_x12::tree::parse(&ack, Catalog::embedded().unwrap()).unwrap();
    let json = serde_json::to_string(&tree).unwrap();
    assert!(json.contains("Business Unit Identifier"), "{json}");
    let situational = edited(&ack, |segments| {
        segments
            .into_iter()
            .map(|s| {
                if s.starts_with("CTX*") {
                    "CTX*SITUATIONAL TRIGGER*CLM*22**2".into()
                } else {
                    s
                }
            })
            .collect()
    });
    assert_eq!(errors(&situational), Vec::<String>::new());
}
