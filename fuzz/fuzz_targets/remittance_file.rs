//! Any bytes as a file dropped into the drop zone, over the in-memory ports (no claims to
//! find: each claim payment is held as an exception, each acknowledgment unmatched): posted
//! as 835s, and taken as acknowledgments (999, 277CA, TA1). No panic; a file is posted or
//! rejected, never half-taken; the same bytes again post nothing more (each a duplicate); an
//! acknowledgment file moves no claim it cannot find.
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
    match pollster::block_on(ch.acknowledge_file("inbound/fuzz.ack", data)) {
        Ok(FileOutcome::Acknowledged { acknowledgments, .. }) => {
            assert_eq!(acknowledgments.moved, 0, "{acknowledgments:?}");
            assert_eq!(
                acknowledgments.read,
                acknowledgments.unmatched + acknowledgments.unchanged,
                "{acknowledgments:?}"
            );
        }
        Ok(FileOutcome::Rejected { .. }) | Err(_) => {}
        Ok(other) => panic!("acknowledgments taken as {other:?}"),
    }
});
