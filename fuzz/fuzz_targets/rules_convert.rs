//! Any bytes as a claim on its way to a payer's rule set: read, converted to the contract's
//! records, and applied back as an unchanged transform. No panic, and the round trip keeps
//! the claim as it was.
#![no_main]

use hms_domain::claims::read_claim;
use hms_domain::partner::Connections;
use hms_rules::convert::RuleClaim;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((claim, _)) = read_claim(data, &Connections::local()) else {
        return;
    };
    let Ok(wit) = claim.to_wit() else {
        return;
    };
    let back = claim.apply(&wit).expect("an unchanged transform applies");
    assert_eq!(
        back, claim,
        "a round trip through the contract's records changed the claim"
    );
});
