//! The HMS-ACH domain, independent of AWS and of transport: what a claim, an eligibility
//! inquiry, a claim status inquiry and a remittance are, the JSON and FHIR our users send, the
//! X12 5010 payers take and answer with, and the edits a claim must pass before it goes out.
//!
//! One folder per transaction, each holding its model, its X12 reading and writing, its FHIR
//! mapping and its checks:
//! - [`claims`]: professional and institutional claims (837P/837I), the scrubber, the 277CA.
//! - [`eligibility`]: 270 inquiries and 271 benefits, with FHIR CoverageEligibility*.
//! - [`claim_status`]: 276 inquiries and 277 answers.
//! - [`remittance`]: 835 payments and FHIR ExplanationOfBenefit.
//!
//! What they share: [`ids`] (checked newtypes), [`party`] (people, organizations, providers,
//! payers), [`partner`] (trading-partner configuration as data), [`codes`] (published code
//! lists), [`outcome`] (FHIR OperationOutcome), [`read`] and [`write`] (X12 helpers over the
//! `hms-x12` engine), [`request`] (reading what callers send), [`amount_text`] (money as text), [`lossless`] (reading X12 so that
//! what the model does not carry is written back unchanged), and [`handoff`] (a streamed
//! translation's work split in order between two threads).

pub mod amount_text;
pub mod claim_status;
pub mod claims;
pub mod codes;
pub mod eligibility;
pub mod handoff;
pub mod ids;
mod json_leaves;
pub mod json_out;
pub mod lossless;
pub mod outcome;
pub mod partner;
pub mod party;
pub mod read;
pub mod remittance;
pub mod request;
pub mod write;
