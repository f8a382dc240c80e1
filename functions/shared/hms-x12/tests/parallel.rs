//! Element checks on a worker thread change nothing: for clean and damaged inputs, with and
//! without a cap on findings, the report is the one a single thread produces, finding for finding
//! and in the same order.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_x12::spec::Catalog;
use hms_x12::validate::{Options, Report, validate_bytes, validate_reader};

fn shared_samples() -> Vec<Vec<u8>> {
    hms_test_support::x12_sample_files()
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

/// `input` with a byte in every `every` replaced (deterministically) by something that breaks
/// an element, a segment or a loop.
fn damaged(input: &[u8], every: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    let mut next = hms_test_support::xorshift(0x853c_49e6_748f_ea9b);
    let junk = [b'Q', b'9', b'*', b':', b'~', b'^', 0x01, b'.', b'-', b' '];
    let mut i = 200; // past the ISA
    while i < out.len() {
        let seed = next();
        out[i] = junk[(seed % junk.len() as u64) as usize];
        i += every / 2 + (seed as usize) % every;
    }
    out
}

fn both(input: &[u8], catalog: &Catalog, max_findings: usize) -> (Report, Report) {
    let one = validate_reader(
        input,
        catalog,
        Options {
            max_findings,
            parallel: false,
        },
    )
    .unwrap();
    let two = validate_reader(
        input,
        catalog,
        Options {
            max_findings,
            parallel: true,
        },
    )
    .unwrap();
    (one, two)
}

#[test]
fn worker_thread_reports_what_one_thread_reports() {
    let catalog = Catalog::embedded().unwrap();
    let synthetic = hms_x12::synth::remittance_835(400_000).unwrap();
    let mut inputs = shared_samples();
    inputs.push(synthetic.clone());
    inputs.push(damaged(&synthetic, 700));
    inputs.push(damaged(&synthetic, 97));
    let mut with_element_findings = 0;
    for input in &inputs {
        for max in [3, 40, 10_000] {
            let (one, two) = both(input, catalog, max);
            assert_eq!(one, two, "max_findings {max}");
            if one.findings.iter().any(|f| f.element.is_some()) {
                with_element_findings += 1;
            }
        }
    }
    assert!(with_element_findings >= 6, "{with_element_findings}");

    // In memory (large enough for a worker), the same again.
    for input in [synthetic.clone(), damaged(&synthetic, 97)] {
        let (one, _) = both(&input, catalog, 10_000);
        assert_eq!(validate_bytes(&input, catalog), one);
    }
    let report = validate_bytes(&damaged(&synthetic, 97), catalog);
    assert!(report.findings.len() > 500, "{}", report.findings.len());
    assert!(report.findings.iter().any(|f| f.element.is_some()));
    assert!(report.findings.iter().any(|f| f.element.is_none()));
}
