//! Any bytes as an 837 (a batch a provider uploads, or one we read back): the claim reader and
//! the lossless path, written back. No panic.
#![no_main]

use hms_domain::{claims, lossless};
use hms_x12::spec::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(catalog) = Catalog::embedded() else {
        return;
    };
    let _ = claims::read_837(data, catalog);
    if let Ok(read) = lossless::read_837p(data, catalog) {
        for one in &read {
            let _ = lossless::write_837p_back(one, catalog);
        }
    }
    if let Ok(read) = lossless::read_837i(data, catalog) {
        for one in &read {
            let _ = lossless::write_837i_back(one, catalog);
        }
    }
});
