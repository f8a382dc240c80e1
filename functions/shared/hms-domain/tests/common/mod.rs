//! What the domain's integration tests share.

use std::path::PathBuf;

/// The shared X12 samples, read in place, never copied.
pub fn samples() -> PathBuf {
    hms_test_support::x12_samples()
}
