//! The domain written as X12 5010, through the engine's writer (which computes every count and
//! refuses values holding a delimiter).

mod professional;

pub use professional::professional_837;

use hms_x12::writer::WriteError;

/// Why a claim could not be written as X12.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// A value cannot be written (it holds a delimiter, or an envelope field is too wide).
    #[error("{field}: {source}")]
    Write {
        /// The field of the claim being written.
        field: String,
        /// What the writer refused.
        source: WriteError,
    },
    /// The claim lacks something the guide requires and no default can stand in for.
    #[error("{field}: {message}")]
    Missing {
        /// The field, as a JSON pointer into the claim.
        field: String,
        /// What is missing.
        message: String,
    },
}
