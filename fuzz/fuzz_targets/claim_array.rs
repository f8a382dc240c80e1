//! Any bytes as a batch of claims read one at a time (`hms translate --to x12` of a JSON
//! array, or of claims a line): the array scanner, the line reader and each claim's reader,
//! then the batch written claim by claim. Properties: no panic; an array the whole-input
//! reader takes, the scanner takes, and the claims both read are the same; a batch the
//! scrubber passes, written claim by claim, passes our own validator.
#![no_main]

use chrono::NaiveDate;
use hms_domain::claims::{
    Batch, BatchSize, ClaimKind, StreamedBatch, is_claim_lines, read_claim_array,
    read_claim_lines, scrub::Profile,
};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same bytes as claims a line: whatever they hold, each line is a claim or its
    // finding, and the read ends.
    let _ = is_claim_lines(data);
    let mut lines = 0usize;
    let read = read_claim_lines(data, Some(ClaimKind::Professional), |i, _| {
        assert_eq!(i, lines);
        lines += 1;
        Ok::<(), std::convert::Infallible>(())
    });
    assert!(read.is_ok_and(|n| n == lines) || data.len() > hms_domain::claims::MAX_CLAIM_BYTES);
    let mut claims = vec![];
    let mut unreadable = false;
    let streamed = read_claim_array(data, Some(ClaimKind::Professional), |_, claim| {
        match claim {
            Ok(claim) => claims.push(claim),
            Err(_) => unreadable = true,
        }
        Ok::<(), std::convert::Infallible>(())
    });
    let is_array = serde_json::from_slice::<serde_json::Value>(data).is_ok_and(|v| v.is_array());
    if is_array
        && let Ok(whole) = Batch::read(data, Some(ClaimKind::Professional), &Connections::local())
    {
        // (The streamed reader may refuse more: a claim whose object repeats a key.)
        assert!(streamed.is_ok(), "Batch::read took an array the scanner refused");
        if !unreadable {
            assert_eq!(whole.claims, claims);
        }
    }
    if streamed.is_err() || unreadable {
        return;
    }
    let Some(first) = claims.first() else {
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
    if claims
        .iter()
        .any(|c| hms_domain::claims::scrub::scrub(c, today, &Profile::default()).has_errors())
    {
        return;
    }
    let partner = TradingPartner::test_to(first.payer_id().as_str());
    let envelope = Envelope::new(1, chrono::NaiveDateTime::default());
    let size = BatchSize::of(claims.len());
    let Ok(mut batch) = StreamedBatch::new(first, size, &partner, &envelope, vec![]) else {
        return;
    };
    for claim in &claims {
        if batch.claim(claim).is_err() {
            return;
        }
    }
    if let Ok(x12) = batch.finish()
        && let Err(e) = hms_x12::writer::check_reader(&x12[..])
    {
        panic!("a batch the scrubber passed fails validation: {e}");
    }
});
