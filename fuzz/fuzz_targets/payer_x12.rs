//! Any bytes as X12 a payer sends back: the 271, 277 and 835 readers (and their lossless
//! forms, written back), and the acknowledgment judge over 999, TA1 and 277CA. No panic; a
//! lossless read writes back what it read.
#![no_main]

use hms_domain::{claim_status, eligibility, lossless, remittance};
use hms_x12::spec::Catalog;
use libfuzzer_sys::fuzz_target;

#[path = "lossless_round.rs"]
mod lossless_round;
use lossless_round::write_each_back;

fuzz_target!(|data: &[u8]| {
    let Ok(catalog) = Catalog::embedded() else {
        return;
    };
    let _ = eligibility::read_271(data, catalog);
    let _ = claim_status::read_277(data, catalog);
    let _ = remittance::read_835(data, catalog);
    let _ = hms_service::acknowledgments::judge_acknowledgments(&[data.to_vec()]);
    write_each_back(lossless::read_271(data, catalog), |one| {
        lossless::write_271_back(one, catalog)
    });
    write_each_back(lossless::read_277(data, catalog), |one| {
        lossless::write_277_back(one, catalog)
    });
    write_each_back(lossless::read_835(data, catalog), |one| {
        lossless::write_835_back(one, catalog)
    });
});
