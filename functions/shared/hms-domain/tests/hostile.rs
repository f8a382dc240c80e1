//! Hostile X12 from a payer: every element of every shared sample replaced, one at a time, by
//! text that once crashed a reader (a multi-byte character where a date's eighth byte is, a lone
//! accent, an overlong value). Every reader must answer with a value or an error, never a panic.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use hms_domain::{claim_status, claims, eligibility, lossless, remittance};
use hms_x12::spec::Catalog;

/// Values that break byte-sliced text: '€' straddles byte 8 of a CCYYMMDDHHMM, 'é' straddles
/// byte 2 of a type of bill or a time.
const HOSTILE: [&str; 4] = ["2024010€00", "1é", "€€€€€€€€€€€€", "20240101-2024€"];

/// Every reader of payer or caller X12 we have, run on `input`; only a panic fails.
fn read_all(input: &[u8], catalog: &Catalog) {
    let _ = eligibility::read_271(input, catalog);
    let _ = claim_status::read_277(input, catalog);
    let _ = remittance::read_835(input, catalog);
    let _ = claims::read_837::read_837(input, catalog);
    let _ = lossless::read_271(input, catalog);
    let _ = lossless::read_277(input, catalog);
    let _ = lossless::read_835(input, catalog);
    let _ = lossless::read_837p(input, catalog);
    let _ = lossless::read_837i(input, catalog);
    let _ = hms_x12::validate::validate_bytes(input, catalog);
}

/// `text` with element `n` (counting over the whole interchange, ISA excluded) replaced.
fn with_element(text: &str, n: usize, value: &str) -> Option<String> {
    let mut seen = 0;
    let mut out = String::with_capacity(text.len() + value.len());
    let mut replaced = false;
    for (i, segment) in text.split('~').enumerate() {
        if i > 0 {
            out.push('~');
        }
        if segment.trim_start().starts_with("ISA") || replaced {
            out.push_str(segment);
            continue;
        }
        let mut elements: Vec<&str> = segment.split('*').collect();
        let here = elements.len().saturating_sub(1);
        if n < seen + here {
            let at = n - seen + 1;
            elements[at] = value;
            // A date's format qualifier says how its value is sliced: make it the one that
            // slices most (DTP02/DTM05 `DT`, CCYYMMDDHHMM).
            if at == 3 && elements[0].trim() == "DTP" {
                elements[2] = "DT";
            }
            replaced = true;
        }
        seen += here;
        out.push_str(&elements.join("*"));
    }
    replaced.then_some(out)
}

#[test]
fn no_reader_panics_on_multi_byte_text_in_any_element() {
    let catalog = Catalog::embedded().unwrap();
    let mut files = 0;
    let mut runs = 0;
    for path in hms_test_support::x12_sample_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !text.contains('~') || !text.contains("*") {
            continue;
        }
        files += 1;
        // Large samples: every element of the first 150, which covers every header loop and
        // the first claims or benefits.
        for n in 0..150 {
            for value in HOSTILE {
                let Some(mutated) = with_element(&text, n, value) else {
                    break;
                };
                read_all(mutated.as_bytes(), catalog);
                runs += 1;
            }
        }
    }
    assert!(files > 10, "only {files} samples were read");
    assert!(runs > 5_000, "only {runs} mutations ran");
}

#[test]
fn the_date_that_crashed_the_271_reader_is_an_error_naming_the_element() {
    let catalog = Catalog::embedded().unwrap();
    let path = common::samples().join("271_005010X279A1/dependent-health-benefit-check.271");
    let text = std::fs::read_to_string(path).unwrap();
    let hostile = text.replacen("DTP*346*D8*20060101", "DTP*346*DT*2024010€00", 1);
    assert_ne!(hostile, text);
    let err = eligibility::read_271(hostile.as_bytes(), catalog).unwrap_err();
    assert!(err.to_string().contains("DTP03"), "{err}");
}
