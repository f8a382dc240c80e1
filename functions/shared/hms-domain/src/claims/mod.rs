//! Claims, professional (837P, 005010X222A1) and institutional (837I, 005010X223A2): the model
//! and its JSON, FHIR Claim mapping, the scrubber's edits, the 837 written and read, and the
//! 277CA that acknowledges claims.

pub mod ack_277ca;
pub mod bundle;
pub mod claim;
pub mod edits;
pub mod fhir;
pub mod institutional_837;
pub mod intake;
pub mod model;
pub mod professional_837;
pub mod read_837;
pub mod scrub;
pub mod write_837;

pub use ack_277ca::{InformationSource, Reviewed, claim_acknowledgment};
pub use bundle::{BundleError, ClaimBundleError, LocatedClaim, StoredBundle};
pub use claim::{BatchStreamError, Claim, ClaimKind, StreamedBatch, write_837};
pub use intake::{
    Batch, ClaimArrayError, MAX_CLAIM_BYTES, first_array_element, is_claim_lines, read_claim,
    read_claim_array, read_claim_lines, read_noted_claim,
};
pub use model::*;
pub use read_837::{
    ClaimReadError, ClaimStreamError, read_837, read_837_claims, read_837_claims_beside, read_837i,
    read_837p,
};
pub use write_837::BatchSize;
