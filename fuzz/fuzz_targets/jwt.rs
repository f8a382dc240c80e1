//! Any text as a bearer token the local stage checks itself (HS256): no panic; only a token
//! signed with the key verifies.
#![no_main]

use hms_auth::{ClaimNames, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let verifier = Verifier::local(
        b"a development key of thirty-two bytes!",
        "hms-ach-local",
        "hms-ach",
        ClaimNames::default(),
    );
    let header = format!("Bearer {text}");
    if let Ok(caller) = verifier.caller(None, Some(&header)) {
        panic!("a token nobody signed verified: {caller:?}");
    }
});
