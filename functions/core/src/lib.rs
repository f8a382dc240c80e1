//! The HMS-ACH domain, independent of AWS: what a claim, an eligibility inquiry, a status inquiry
//! and a remittance are, the JSON our users send, the X12 5010 payers take, and the edits a claim
//! must pass before it goes out.
//!
//! - [`ids`]: identifiers as checked newtypes (an [`ids::Npi`] has a valid check digit).
//! - [`claim`]: the claim model, professional and institutional, and its documented JSON form.
//! - [`partner`]: trading-partner configuration (envelope ids, usage, control numbers) as data.
//! - [`x12`]: the domain written as X12 (837P).
//! - [`scrub`]: front-end edits, reported as a FHIR `OperationOutcome`.

pub mod amount_text;
pub mod claim;
pub mod codes;
pub mod connectivity;
pub mod eligibility;
pub mod fhir;
pub mod fhir_claim;
pub mod fhir_eligibility;
pub mod ids;
pub mod lifecycle;
pub mod lossless;
pub mod outcome;
pub mod partner;
pub mod ports;
pub mod read;
pub mod remit;
pub mod scrub;
pub mod service;
pub mod status;
pub mod x12;
