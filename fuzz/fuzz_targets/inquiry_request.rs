//! Any bytes as an eligibility inquiry (our JSON or a FHIR CoverageEligibilityRequest) or a
//! claim status inquiry: read, then written as a 270 or 276. No panic; what is written is
//! valid or refused by name (the writer validates).
#![no_main]

use hms_domain::partner::{Envelope, TradingPartner};
use hms_domain::{claim_status, eligibility};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let partner = TradingPartner::test_to("PAYER");
    let envelope = Envelope::new(1, chrono::NaiveDateTime::default());
    if let Ok((inquiry, _)) = eligibility::read_inquiry(data) {
        let _ = eligibility::inquiry_270(&inquiry, &partner, &envelope);
    }
    if let Ok(inquiry) = claim_status::read_inquiry(data) {
        let _ = claim_status::inquiry_276(&inquiry, &partner, &envelope);
    }
});
