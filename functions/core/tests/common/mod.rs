//! What the core integration tests share.

use std::path::PathBuf;

/// The shared X12 samples (`../shared/x12-samples` beside the clone, or `$HMS_SHARED`), read in
/// place, never copied.
pub fn samples() -> PathBuf {
    std::env::var_os("HMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("x12-samples")
}
