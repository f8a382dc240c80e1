//! The application layer of HMS-ACH: the use cases (submit a claim, retry it, look it up, ask
//! about eligibility and claim status), the ports they need from the outside world (claim store,
//! object store, queue, payer gateway, rule engine, clock), and the claim's lifecycle. It knows
//! the domain (`hms-domain`) and nothing of AWS, HTTP or CAQH CORE envelopes: the adapters
//! (`hms-adapters`) implement the ports, and the Lambda glue (`hms-lambda`) maps the typed
//! results to HTTP.

pub mod acknowledgments;
pub mod delivery;
pub mod inquiries;
pub mod intake;
pub mod lifecycle;
pub mod outbox;
pub mod ports;
pub mod remittance;
pub mod service;
pub mod submission;
pub mod sweep;
pub mod tenancy;
#[cfg(feature = "testing")]
pub mod testing;
