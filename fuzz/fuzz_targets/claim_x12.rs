//! Any bytes as an 837 (a batch a provider uploads, or one we read back): the claim reader and
//! the lossless path, written back. No panic.
#![no_main]

use hms_domain::{claims, lossless};
use hms_x12::spec::Catalog;
use libfuzzer_sys::fuzz_target;

#[path = "lossless_round.rs"]
mod lossless_round;
use lossless_round::write_each_back;

fuzz_target!(|data: &[u8]| {
    let Ok(catalog) = Catalog::embedded() else {
        return;
    };
    let _ = claims::read_837(data, catalog);
    write_each_back(lossless::read_837p(data, catalog), |one| {
        lossless::write_837p_back(one, catalog)
    });
    write_each_back(lossless::read_837i(data, catalog), |one| {
        lossless::write_837i_back(one, catalog)
    });
});
