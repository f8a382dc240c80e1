//! 837 batches read and written one claim at a time: the claims streamed out of every shared
//! 837P and 837I that reads are the claims the whole-tree reader gives, fed a few bytes at a
//! time; a JSON array read element by element gives `Batch::read`'s claims and finds the same
//! faults in the same places; a batch written claim by claim into a sink is byte for byte
//! `write_837`'s.
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::{claim_fixture, samples};
use hms_test_support::Trickle;

use hms_domain::claims::{
    Batch, BatchSize, Claim, ClaimArrayError, ClaimKind, ClaimStreamError, StreamedBatch,
    is_claim_lines, read_837, read_837_claims, read_837_claims_beside, read_837i, read_837p,
    read_claim_array, read_claim_lines, write_837,
};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_x12::spec::Catalog;

/// The claims of `x12` read on one thread, fed a few bytes at a time; read on two threads
/// ([`read_837_claims_beside`]), they and what stops the read are the same.
fn streamed(x12: &[u8]) -> Result<Vec<Claim>, ClaimStreamError> {
    let catalog = Catalog::embedded().unwrap();
    let mut claims = vec![];
    let one = read_837_claims(Trickle(x12), catalog, |claim| {
        claims.push(claim);
        Ok(())
    })
    .map(|()| claims);
    let mut claims = vec![];
    let two = read_837_claims_beside(Trickle(x12), catalog, |claim| {
        claims.push(claim);
        Ok::<(), std::io::Error>(())
    })
    .map(|()| claims);
    assert_eq!(format!("{two:?}"), format!("{one:?}"));
    one
}

fn envelope(control: u32) -> Envelope {
    Envelope::new(control, common::today().and_hms_opt(9, 30, 0).unwrap())
}

fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(samples().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e.to_string_lossy().starts_with("837"))
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    all.sort();
    all
}

#[test]
fn streamed_claims_are_the_whole_readers() {
    let catalog = Catalog::embedded().unwrap();
    let mut compared = 0;
    for (name, x12) in files("837_005010X222A2")
        .into_iter()
        .chain(files("837_005010X223A3"))
        .chain(files("demo"))
    {
        // Each file is one kind; read whole by that kind's reader.
        let whole: Vec<Claim> = match (read_837p(&x12, catalog), read_837i(&x12, catalog)) {
            (Ok(claims), _) => claims.into_iter().map(Claim::from).collect(),
            (_, Ok(claims)) => claims.into_iter().map(Claim::from).collect(),
            (Err(_), Err(_)) => {
                assert!(
                    streamed(&x12).is_err(),
                    "{name}: the whole read failed, not the stream"
                );
                continue;
            }
        };
        assert!(!whole.is_empty(), "{name}");
        assert_eq!(streamed(&x12).unwrap(), whole, "{name}");
        assert_eq!(read_837(&x12, catalog).unwrap(), whole, "{name}");
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} 837s compared");
}

#[test]
fn a_batch_of_many_claims_streams_in_file_order() {
    // Claims of two billing providers and patients who are and are not the subscriber.
    let catalog = Catalog::embedded().unwrap();
    let batch = Batch::read(
        &claim_fixture("batch-professional.json"),
        None,
        &Connections::local(),
    )
    .unwrap();
    let x12 = write_837(
        &batch.claims,
        &TradingPartner::test_to("KEYINS"),
        &envelope(7),
    )
    .unwrap();
    let read = streamed(&x12).unwrap();
    assert_eq!(read.len(), batch.claims.len());
    assert_eq!(read, read_837(&x12, catalog).unwrap());
    let numbers: Vec<_> = read.iter().map(Claim::patient_control_number).collect();
    let sent: Vec<_> = batch
        .claims
        .iter()
        .map(Claim::patient_control_number)
        .collect();
    assert_eq!(numbers, sent);
}

#[test]
fn an_input_without_837s_is_refused_and_a_sink_that_fails_stops_the_read() {
    let remittance = hms_x12::synth::remittance_835(2_000).unwrap();
    assert!(matches!(
        streamed(&remittance),
        Err(ClaimStreamError::Read(
            hms_domain::claims::ClaimReadError::No837P
        ))
    ));
    let x12 = std::fs::read(samples().join("demo/demo.837")).unwrap();
    let mut taken = 0;
    let result = read_837_claims(&x12[..], Catalog::embedded().unwrap(), |_| {
        taken += 1;
        Err(std::io::Error::other("disk full"))
    });
    assert!(matches!(result, Err(ClaimStreamError::Sink(e)) if e.to_string() == "disk full"));
    assert_eq!(taken, 1);
    // On two threads, the reading stops with the sink, whichever claim it fails at: in the
    // first handover, past many, or at the last claim.
    let batch = Batch::read(
        &claim_fixture("batch-professional.json"),
        None,
        &Connections::local(),
    )
    .unwrap();
    let many: Vec<Claim> = std::iter::repeat_n(batch.claims, 40).flatten().collect();
    let x12 = write_837(&many, &TradingPartner::test_to("KEYINS"), &envelope(8)).unwrap();
    let claims = streamed(&x12).unwrap().len();
    assert_eq!(claims, many.len());
    for fail_at in [0, 1, claims / 2, claims - 1] {
        let mut taken = 0;
        let result = read_837_claims_beside(&x12[..], Catalog::embedded().unwrap(), |_| {
            taken += 1;
            if taken > fail_at {
                return Err(std::io::Error::other("disk full"));
            }
            Ok(())
        });
        assert!(
            matches!(&result, Err(ClaimStreamError::Sink(e)) if e.to_string() == "disk full"),
            "{result:?}"
        );
        assert_eq!(taken, fail_at + 1);
    }
}

#[test]
fn a_json_array_read_element_by_element_is_batch_reads() {
    let json = claim_fixture("batch-professional.json");
    let whole = Batch::read(&json, None, &Connections::local()).unwrap();
    let mut claims = vec![];
    let count = read_claim_array(&json[..], None, |i, claim| {
        assert_eq!(i, claims.len());
        claims.push(claim.unwrap());
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    assert_eq!(count, whole.claims.len());
    assert_eq!(claims, whole.claims);
    // Fed 7 bytes at a time: strings, escapes and elements cut anywhere.
    let mut trickled = vec![];
    read_claim_array(Trickle(&json), None, |_, claim| {
        trickled.push(claim.unwrap());
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    assert_eq!(trickled, whole.claims);

    // A claim that does not read is located in the array, as Batch::read locates it, and
    // the claims after it still come.
    let mut values: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
    values[1]["claim"]["totalCharge"] = "twelve".into();
    let bad = serde_json::to_vec(&values).unwrap();
    let Err(expected) = Batch::read(&bad, None, &Connections::local()) else {
        panic!("Batch::read took a bad claim");
    };
    let mut outcomes = vec![];
    let mut read = 0;
    read_claim_array(&bad[..], None, |_, claim| {
        read += 1;
        if let Err(outcome) = claim {
            outcomes.extend(outcome.issue);
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    assert_eq!(read, values.len());
    assert_eq!(outcomes, expected.issue);
    assert_eq!(outcomes[0].expression, ["/1/claim/totalCharge"]);

    // Not an array, cut short, a trailing comma, text after it: where the scanner stopped.
    let cut = &json[..json.len() / 2];
    for (broken, problem) in [
        (&b"{\"claim\":{}}"[..], "not an array"),
        (cut, "the array ends inside an element"),
        (b"[{}, ]", "a `,` before `]`"),
        (b"[{}] {}", "text after the array"),
        (b"[{} {}]", "expected `,` or `]`"),
        (b"  ", "no array"),
    ] {
        let result = read_claim_array(broken, None, |_, _| Ok::<(), std::convert::Infallible>(()));
        assert!(
            matches!(&result, Err(ClaimArrayError::NotArray { problem: p, .. }) if *p == problem),
            "{problem}: {result:?}"
        );
    }
    // An element that is not JSON is that claim's finding; the others still come, whatever
    // brackets and quotes their strings hold.
    let mut findings = vec![];
    let count = read_claim_array(
        Trickle(br#"[{"claim": }, "a ] string, with [ brackets", 12, {"x": "\" }"}]"#),
        Some(ClaimKind::Professional),
        |i, claim| {
            findings.push((i, claim.is_err()));
            Ok::<(), std::convert::Infallible>(())
        },
    )
    .unwrap();
    assert_eq!(count, 4);
    assert_eq!(findings, [(0, true), (1, true), (2, true), (3, true)]);
}

#[test]
fn a_batch_written_claim_by_claim_is_write_837s() {
    let batch = Batch::read(
        &claim_fixture("batch-professional.json"),
        Some(ClaimKind::Professional),
        &Connections::local(),
    )
    .unwrap();
    let partner = TradingPartner::test_to("KEYINS");
    let envelope = envelope(42);
    let whole = write_837(&batch.claims, &partner, &envelope).unwrap();
    let mut streamed = StreamedBatch::new(
        &batch.claims[0],
        BatchSize::of(batch.claims.len()),
        &partner,
        &envelope,
        vec![],
    )
    .unwrap();
    for claim in &batch.claims {
        streamed.claim(claim).unwrap();
    }
    let out = streamed.finish().unwrap();
    assert!(out == whole, "the streamed batch differs from write_837's");
    hms_x12::writer::check_reader(&out[..]).unwrap();

    // Opened for several claims and given one, or for one and given two: refused, its
    // BHT03 would be wrong.
    let first = &batch.claims[0];
    let mut short =
        StreamedBatch::new(first, BatchSize::Several, &partner, &envelope, vec![]).unwrap();
    short.claim(first).unwrap();
    assert!(short.finish().is_err());
    let mut long = StreamedBatch::new(first, BatchSize::One, &partner, &envelope, vec![]).unwrap();
    long.claim(first).unwrap();
    long.claim(first).unwrap();
    assert!(long.finish().is_err());
    let mut one = StreamedBatch::new(first, BatchSize::One, &partner, &envelope, vec![]).unwrap();
    one.claim(first).unwrap();
    let one = one.finish().unwrap();
    assert_eq!(
        one,
        write_837(std::slice::from_ref(first), &partner, &envelope).unwrap()
    );
}

#[test]
fn a_claim_larger_than_any_claim_may_be_stops_the_read() {
    // One claim padded with 60,000 notes: held whole, it would grow with the input.
    let text = String::from_utf8(std::fs::read(samples().join("demo/demo.837")).unwrap()).unwrap();
    let (head, tail) = text.split_once("\nCLM*").unwrap();
    let (clm, rest) = tail.split_once('~').unwrap();
    let padded = format!(
        "{head}\nCLM*{clm}~{}{rest}",
        "\nNTE*ADD*NOTE~".repeat(60_000)
    );
    let result = streamed(padded.as_bytes());
    assert!(
        matches!(
            result,
            Err(ClaimStreamError::Read(
                hms_domain::claims::ClaimReadError::TooLarge { .. }
            ))
        ),
        "{result:?}"
    );
}

#[test]
fn the_first_element_of_an_array_is_read_alone() {
    use hms_domain::claims::first_array_element;
    assert_eq!(
        first_array_element(Trickle(b" [ {\"a\": [1, \"]\"]}, {\"b\": 2}, oops")).unwrap(),
        b"{\"a\": [1, \"]\"]}"
    );
    assert_eq!(first_array_element(&b"[\"x\"]"[..]).unwrap(), b"\"x\"");
    for none in [&b"[]"[..], b"{\"a\": 1}", b"", b"[{\"cut"] {
        assert_eq!(first_array_element(none), None);
    }
}

/// Newline-delimited claims read a line at a time are the array's claims, whatever the reads'
/// sizes; a line that does not read is located as the array's element would be, blank lines
/// are skipped, and a line past the bound stops the read, naming its claim.
#[test]
fn claims_a_line_read_line_by_line_are_the_arrays_claims() {
    let json = claim_fixture("batch-professional.json");
    let whole = Batch::read(&json, None, &Connections::local()).unwrap();
    let mut values: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
    let lines = |values: &[serde_json::Value]| {
        let mut text = Vec::new();
        for (i, value) in values.iter().enumerate() {
            serde_json::to_writer(&mut text, value).unwrap();
            // Blank lines, and a last line without its newline.
            text.extend_from_slice(if i == 1 { b"\n \n\n" } else { b"\n" });
        }
        text.pop();
        text
    };
    let text = lines(&values);
    assert!(is_claim_lines(&text[..]));
    // Lines cut by every buffer size, from reads of 7 bytes.
    for step in [1, 7, 64, 1 << 16] {
        let mut claims = vec![];
        let count = read_claim_lines(
            std::io::BufReader::with_capacity(step, Trickle(&text)),
            None,
            |i, claim| {
                assert_eq!(i, claims.len());
                claims.push(claim.unwrap());
                Ok::<(), std::convert::Infallible>(())
            },
        )
        .unwrap();
        assert_eq!(count, whole.claims.len(), "{step}");
        assert_eq!(claims, whole.claims, "{step}");
    }

    values[1]["claim"]["totalCharge"] = "twelve".into();
    let Err(expected) = Batch::read(
        &serde_json::to_vec(&values).unwrap(),
        None,
        &Connections::local(),
    ) else {
        panic!("Batch::read took a bad claim");
    };
    let mut text = lines(&values);
    text.extend_from_slice(b"\n{\"claim\": }\n");
    let mut outcomes = vec![];
    let mut read = 0;
    let count = read_claim_lines(&text[..], None, |i, claim| {
        read += 1;
        if let Err(outcome) = claim
            && i < values.len()
        {
            outcomes.extend(outcome.issue);
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    assert_eq!((count, read), (values.len() + 1, values.len() + 1));
    assert_eq!(outcomes, expected.issue);
    assert_eq!(outcomes[0].expression, ["/1/claim/totalCharge"]);

    // A line past the bound is refused as the array's element is, before it is parsed.
    let mut long = b"{\"claim\": {}}\n\"".to_vec();
    long.resize(long.len() + hms_domain::claims::MAX_CLAIM_BYTES, b'x');
    let result = read_claim_lines(&long[..], None, |_, _| {
        Ok::<(), std::convert::Infallible>(())
    });
    assert!(
        matches!(result, Err(ClaimArrayError::TooLarge { index: 1 })),
        "{result:?}"
    );
}

#[test]
fn only_a_whole_claim_object_on_the_first_of_several_lines_is_claims_a_line() {
    for (text, lines) in [
        (&b"{\"claim\": {}}\n{\"claim\": {}}\n"[..], true),
        (b"{\"claim\": {}}\n  x", true),
        // One claim alone, with or without blank lines after it.
        (b"{\"claim\": {}}\n", false),
        (b"{\"claim\": {}}\n \n\n", false),
        (b"{\"claim\": {}}", false),
        // A claim written over many lines.
        (b"{\n  \"claim\": {}\n}\n", false),
        // An array, and FHIR (a Bundle, or bulk FHIR's resources a line).
        (b"[{\"claim\": {}},\n{\"claim\": {}}]\n", false),
        (
            b"{\"resourceType\": \"Claim\"}\n{\"resourceType\": \"Claim\"}\n",
            false,
        ),
        (b"", false),
    ] {
        assert_eq!(
            is_claim_lines(text),
            lines,
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}
