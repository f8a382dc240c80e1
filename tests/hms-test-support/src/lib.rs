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

/// A reader that gives at most 7 bytes a read: what a streaming reader must take in stride
/// (segments, ISAs, JSON strings and escapes cut anywhere).
#[derive(Debug)]
pub struct Trickle<'a>(pub &'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(7);
        let (head, tail) = self.0.split_at(n);
        buf[..n].copy_from_slice(head);
        self.0 = tail;
        Ok(n)
    }
}

/// `count` professional claims of our JSON for a batch larger than any fixture: the claims of
/// `claims/batch-professional.json` over and over, each with its own patient control number
/// (`prefix` and seven digits), made as they are taken.
pub fn synthetic_claims(
    prefix: &str,
    count: usize,
) -> impl Iterator<Item = serde_json::Value> + use<'_> {
    let fixture = fixtures().join("claims/batch-professional.json");
    let claims: Vec<serde_json::Value> = std::fs::read(&fixture)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("{} holds no claims", fixture.display()));
    (0..count).map(move |i| {
        let mut claim = claims[i % claims.len()].clone();
        claim["claim"]["patientControlNumber"] = format!("{prefix}{i:07}").into();
        claim
    })
}

/// The entries of a FHIR transaction Bundle of `copies` professional Claims, each with the
/// Patient, Coverage, providers, Encounter and Conditions of its own (the transaction fixture's,
/// `fhir/claim-professional-transaction-bundle.json`, with copy-numbered urls and ids; Claim
/// `claim-N`), made as they are taken. The references take every form a Bundle's do: by
/// `urn:uuid`, by `Type/id` (the diagnoses; every third Claim's Patient) and conditional (every
/// third Claim's Patient, by its record number `MRN<N>`). Odd copies put the Claim before its
/// resources, so that its references lead forward.
pub fn synthetic_bundle_entries(copies: usize) -> impl Iterator<Item = serde_json::Value> {
    use serde_json::json;
    let fixture = fixtures().join("fhir/claim-professional-transaction-bundle.json");
    let text =
        std::fs::read_to_string(&fixture).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
    (0..copies).flat_map(move |copy| {
        let own = text
            .replace("urn:uuid:", &format!("urn:uuid:{copy:04}-"))
            .replace("Condition/", &format!("Condition/{copy:04}-"));
        let bundle: serde_json::Value =
            serde_json::from_str(&own).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
        let mut group: Vec<serde_json::Value> =
            bundle["entry"].as_array().cloned().unwrap_or_default();
        for entry in &mut group {
            let id = entry["resource"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let resource = &mut entry["resource"];
            resource["id"] = match resource["resourceType"].as_str() {
                // The Claim's id is its patient control number: 38 characters at most.
                Some("Claim") => json!(format!("claim-{copy}")),
                Some("Patient") => json!(format!("Patient-{copy}")),
                _ => json!(format!("{copy:04}-{id}")),
            };
            if resource["resourceType"] == "Patient" {
                resource["identifier"] = json!([
                    { "system": "http://hospital.example/mrn", "value": format!("MRN{copy}") }
                ]);
            }
        }
        let claim = group
            .iter()
            .position(|e| e["resource"]["resourceType"] == "Claim")
            .unwrap_or_default();
        match copy % 3 {
            1 => {
                group[claim]["resource"]["patient"] = json!({
                    "reference": format!("Patient?identifier=http://hospital.example/mrn|MRN{copy}")
                });
            }
            2 => {
                group[claim]["resource"]["patient"] =
                    json!({ "reference": format!("Patient/Patient-{copy}") });
            }
            _ => {}
        }
        if copy % 2 == 1 {
            let first = group.remove(claim);
            group.insert(0, first);
        }
        group
    })
}

/// A fixed stream of pseudo-random words from `seed` (xorshift64): what generated test inputs
/// are drawn from, the same on every run and machine, so a failure reproduces. `seed` must not
/// be zero (the stream would stay zero).
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// [`synthetic_bundle_entries`] in one Bundle.
pub fn synthetic_bundle(copies: usize) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = synthetic_bundle_entries(copies).collect();
    serde_json::json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixtures_are_where_the_workspace_keeps_them() {
        assert!(super::fixtures().join("claims").is_dir());
        assert!(super::workspace().join("Cargo.toml").is_file());
    }
}

/// What `tracing` wrote while a test ran, as the JSON lines a Lambda's subscriber writes (with
/// the current span): for tests that hold what is logged, and what never is.
#[derive(Debug, Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut text) = self.0.lock() {
            text.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// A JSON subscriber at every level that writes here; set it as the default for a test.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_current_span(true)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|text| String::from_utf8_lossy(&text).into_owned())
            .unwrap_or_default()
    }

    /// Each line written, as JSON (a line that is not JSON is left out).
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The lines `call` made, with this log as the default subscriber while it ran.
    pub fn during(call: impl FnOnce()) -> Vec<serde_json::Value> {
        let log = Self::default();
        tracing::subscriber::with_default(log.subscriber(), call);
        log.lines()
    }
}
