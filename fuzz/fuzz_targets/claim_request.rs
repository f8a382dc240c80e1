//! Any bytes as a submitted claim (our JSON, a FHIR Claim, a Bundle): read, scrubbed, and when
//! the scrubber passes it, written as an 837. The property the submit path rests on: a claim
//! the scrubber passes is one our own validator passes as an 837.
#![no_main]

use chrono::NaiveDate;
use hms_domain::claims::{Batch, read_claim, scrub::Profile};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_x12::writer::WriteError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let connections = Connections::local();
    let Ok((claim, _)) = read_claim(data, &connections) else {
        let _ = Batch::read(data, None, &connections);
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default();
    let outcome = hms_domain::claims::scrub::scrub(&claim, today, &Profile::default());
    if outcome.has_errors() {
        return;
    }
    let partner = TradingPartner::test_to(claim.payer_id().as_str());
    let envelope = Envelope::new(1, chrono::NaiveDateTime::default());
    match claim.to_837(&partner, &envelope) {
        Ok(_) => {}
        Err(hms_domain::write::TranslateError::Write {
            source: WriteError::Invalid { first, .. },
            ..
        }) => panic!("the scrubber passed a claim whose 837 fails validation: {first}"),
        Err(_) => {}
    }
});
