//! 835s translated as they are read: the streamed JSON is byte for byte what serializing the
//! whole model writes, the streamed FHIR is the same Bundle, NDJSON has one record or EOB per
//! line; over every 835 among the shared samples that reads, our fixture and a synthetic
//! one, fed through a reader that hands over a few bytes at a time.
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::{samples, today};
use hms_test_support::Trickle;

use hms_domain::remittance::stream::{Framing, RemitWriter, StreamError, read_835_events};
use hms_domain::remittance::{RemitError, read_835};
use hms_x12::spec::Catalog;
use serde_json::Value;

/// Every 835 that reads whole: its name and bytes.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let catalog = Catalog::embedded().unwrap();
    let mut all = vec![(
        "synthetic".to_string(),
        hms_x12::synth::remittance_835(200_000).unwrap(),
    )];
    let dirs = [samples().join("835_005010X221A1"), samples().join("demo")];
    for entry in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "835") {
            let bytes = std::fs::read(&path).unwrap();
            if read_835(&bytes, catalog).is_ok() {
                all.push((path.file_name().unwrap().to_string_lossy().into(), bytes));
            }
        }
    }
    assert!(all.len() >= 4, "only {} 835s read", all.len());
    all
}

fn json(input: &[u8], framing: Framing) -> Vec<u8> {
    let catalog = Catalog::embedded().unwrap();
    let mut writer = RemitWriter::json(vec![], framing);
    read_835_events(Trickle(input), catalog, |e| writer.event(&e)).unwrap();
    writer.finish().unwrap()
}

fn fhir(input: &[u8], framing: Framing) -> Vec<u8> {
    let catalog = Catalog::embedded().unwrap();
    let mut writer = RemitWriter::fhir(vec![], framing, today());
    read_835_events(Trickle(input), catalog, |e| writer.event(&e)).unwrap();
    writer.finish().unwrap()
}

#[test]
fn streamed_json_is_what_the_whole_model_serializes() {
    let catalog = Catalog::embedded().unwrap();
    for (name, input) in inputs() {
        let whole = serde_json::to_vec(&read_835(&input, catalog).unwrap()).unwrap();
        assert!(json(&input, Framing::Document) == whole, "{name}");
    }
}

#[test]
fn streamed_ndjson_has_a_record_per_payment_claim_payment_and_payment_end() {
    let catalog = Catalog::embedded().unwrap();
    for (name, input) in inputs() {
        let remits = read_835(&input, catalog).unwrap();
        let out = String::from_utf8(json(&input, Framing::Ndjson)).unwrap();
        let records: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut at = 0;
        for r in &remits {
            assert_eq!(records[at]["record"], "payment", "{name}");
            assert_eq!(
                records[at]["payment"],
                serde_json::to_value(&r.payment).unwrap()
            );
            at += 1;
            for c in &r.claims {
                assert_eq!(records[at]["record"], "claimPayment", "{name}");
                assert_eq!(records[at]["traceNumber"], r.payment.trace_number.as_str());
                assert_eq!(
                    records[at]["claimPayment"],
                    serde_json::to_value(c).unwrap()
                );
                at += 1;
            }
            assert_eq!(records[at]["record"], "paymentEnd", "{name}");
            assert_eq!(
                records[at]["balance"],
                serde_json::to_value(&r.balance).unwrap()
            );
            at += 1;
        }
        assert_eq!(at, records.len(), "{name}");
    }
}

#[test]
fn streamed_fhir_is_the_bundle_and_ndjson_one_eob_a_line() {
    let catalog = Catalog::embedded().unwrap();
    for (name, input) in inputs() {
        let remits = read_835(&input, catalog).unwrap();
        let bundle = hms_domain::remittance::fhir::remittance_bundle(&remits, today());
        let streamed: Value = serde_json::from_slice(&fhir(&input, Framing::Document)).unwrap();
        assert!(streamed == bundle, "{name}");
        let lines = String::from_utf8(fhir(&input, Framing::Ndjson)).unwrap();
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(lines.lines().count(), entries.len(), "{name}");
        for (line, entry) in lines.lines().zip(entries) {
            let eob: Value = serde_json::from_str(line).unwrap();
            assert!(eob == entry["resource"], "{name}");
        }
    }
}

#[test]
fn what_is_not_an_835_stops_the_stream_with_the_reason() {
    let catalog = Catalog::embedded().unwrap();
    let not_835 = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261207*0300*^*00501*000000001*0*P*:~GS*HC*A*B*20261207*0300*1*X*005010X222A1~ST*837*0001*005010X222A1~SE*2*0001~GE*1*1~IEA*1*000000001~";
    let outcome = read_835_events(&not_835[..], catalog, |_| Ok(()));
    assert!(matches!(outcome, Err(StreamError::Remit(_))), "{outcome:?}");
    assert!(
        matches!(outcome, Err(StreamError::Remit(RemitError::No835))),
        "{outcome:?}"
    );
    let outcome = read_835_events(&b""[..], catalog, |_| Ok(()));
    assert!(matches!(outcome, Err(StreamError::Remit(_))), "{outcome:?}");
    // A writer that fails is the output's error, named so.
    let input = hms_x12::synth::remittance_835(1_000).unwrap();
    let outcome = read_835_events(input.as_slice(), catalog, |_| {
        Err(std::io::Error::other("disk full"))
    });
    assert!(matches!(outcome, Err(StreamError::Write(_))));
}

#[test]
fn an_items_note_numbers_point_at_its_own_process_notes() {
    let catalog = Catalog::embedded().unwrap();
    let input = hms_x12::synth::remittance_835(200_000).unwrap();
    let remits = read_835(&input, catalog).unwrap();
    let bundle = hms_domain::remittance::fhir::remittance_bundle(&remits, today());
    let mut checked = 0;
    for entry in bundle["entry"].as_array().unwrap() {
        let eob = &entry["resource"];
        let notes = eob["processNote"].as_array().cloned().unwrap_or_default();
        let mut expected = 1;
        for item in eob["item"].as_array().unwrap() {
            for n in item["noteNumber"].as_array().cloned().unwrap_or_default() {
                assert_eq!(n, expected);
                assert_eq!(notes[expected as usize - 1]["number"], expected);
                expected += 1;
                checked += 1;
            }
        }
        assert_eq!(expected as usize - 1, notes.len());
    }
    assert!(checked > 10, "{checked}");
}
