//! HMS-ACH's ASC X12 5010 engine.
//!
//! - [`Tokenizer`] and [`Reader`] split input into borrowed [`Segment`]s (no copies), from a slice
//!   or streaming from any `std::io::Read`, with delimiters taken from each ISA.
//! - [`spec`] holds the implementation guides as data (loops, segments, usage, repeats, element
//!   types, code lists, syntax notes), read from declarative files embedded in the crate.
//! - [`validate`] walks segments through a guide one at a time — memory stays flat whatever the
//!   file size — and reports [`Finding`]s that carry the 999/TA1 error codes.
//! - [`ack`] turns findings into 999 and TA1 acknowledgments; [`writer`] emits X12.
//!
//! This crate never does network I/O and knows nothing of AWS, FHIR or WebAssembly.

pub mod ack;
pub mod delimiters;
pub mod error;
pub mod finding;
pub mod patch;
pub mod reader;
mod scan;
pub mod segment;
pub mod spec;
pub mod synth;
pub mod tree;
pub mod validate;
pub mod walk;
pub mod writer;

pub use delimiters::Delimiters;
pub use error::ReadError;
pub use finding::{Finding, Severity};
pub use reader::{Reader, Tokenizer};
pub use segment::{Element, Segment};
