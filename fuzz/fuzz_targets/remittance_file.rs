//! Any bytes as a file dropped into the drop zone, posted over the in-memory ports (no claims
//! to find: each claim payment is held as an exception): no panic; a file is posted or
//! rejected, never half-taken; the same bytes again post nothing more (each a duplicate).
#![no_main]

use chrono::{TimeZone, Utc};
use hms_service::ports::NoRules;
use hms_service::remittance::{FileOutcome, Mode, Start};
use hms_service::testing::{InMemoryPayer, ManualClock, in_memory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).single();
    let Some(at) = at else { return };
    let ch = in_memory(InMemoryPayer::new(), NoRules, ManualClock::new(at));
    let first = pollster::block_on(ch.post_file("inbound/fuzz.835", data, Mode::Post));
    let Ok(first) = first else { return };
    let again = pollster::block_on(ch.post_file("inbound/again.835", data, Mode::Post));
    match (first, again) {
        (FileOutcome::Posted { payments, .. }, Ok(FileOutcome::Posted { payments: second, .. })) => {
            assert_eq!(payments.len(), second.len());
            for (one, two) in payments.iter().zip(&second) {
                // The same payment twice in one file is a duplicate the first time already.
                if one.start == Start::New {
                    assert_eq!(two.start, Start::Duplicate, "{:?}", two.payment_id);
                }
            }
        }
        (FileOutcome::Rejected { .. }, Ok(FileOutcome::Rejected { .. })) => {}
        (one, two) => panic!("the same bytes were taken two ways: {one:?} then {two:?}"),
    }
});
