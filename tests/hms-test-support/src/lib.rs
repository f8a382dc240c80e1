//! Where tests find what they read in place: the shared material beside the clone (`../shared`,
//! X12 samples and pyx12's maps, never copied into the repository) and the workspace's own
//! fixtures. One place knows the layout, so a crate that moves keeps its tests.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;

/// The workspace root: this crate sits at `tests/hms-test-support`.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The shared test material: `$HMS_SHARED` when set, else `../shared` beside the clone.
pub fn shared() -> PathBuf {
    std::env::var_os("HMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

/// The published X12 5010 samples, with their `MANIFEST.md`.
pub fn x12_samples() -> PathBuf {
    shared().join("x12-samples")
}

/// Every X12 file of the shared samples (their `MANIFEST.md` left out), sorted; panics when
/// there are not at least a score of them, so a missing `../shared` fails the test that needs
/// it instead of passing on nothing.
pub fn x12_sample_files() -> Vec<PathBuf> {
    let mut files = vec![];
    let mut dirs = vec![x12_samples()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "md") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "the shared samples are missing");
    files.sort();
    files
}

/// pyx12's 5010 maps, the reference our guide tables are cross-checked against.
pub fn x12_specs() -> PathBuf {
    shared().join("x12-specs")
}

/// The domain's fixtures (claims, inquiries, FHIR resources, remittances), written here.
pub fn fixtures() -> PathBuf {
    workspace().join("functions/shared/hms-domain/tests/fixtures")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixtures_are_where_the_workspace_keeps_them() {
        assert!(super::fixtures().join("claims").is_dir());
        assert!(super::workspace().join("Cargo.toml").is_file());
    }
}
