//! Any bytes as a payer's CORE answer (SOAP 1.2): no panic, no stack overflow however deep
//! the nesting. What parses writes back as SOAP that parses with the same payload and ids,
//! and writing is stable from then on (the writer may fill in what a response leaves out).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(received) = hms_connectivity::parse(data) else {
        return;
    };
    let write = |r: &hms_connectivity::Received| r.message.to_soap(r.credentials.as_ref());
    let once =
        hms_connectivity::parse(write(&received).as_bytes()).expect("what we write, we read");
    assert_eq!(once.message.payload, received.message.payload);
    assert_eq!(once.message.payload_id, received.message.payload_id);
    assert_eq!(once.message.kind, received.message.kind);
    assert_eq!(once.credentials, received.credentials);
    let twice = hms_connectivity::parse(write(&once).as_bytes()).expect("what we write, we read");
    assert_eq!(twice.message, once.message);
});
