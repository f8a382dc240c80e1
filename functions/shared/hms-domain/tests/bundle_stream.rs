//! A FHIR Bundle of Claims read from a file a Claim at a time (`StoredBundle`) gives what the
//! Bundle read whole gives (`Batch::read`): the same claims, notes and located findings, over
//! the specification's published Claims beside their resources, our fixtures, and a generated
//! Bundle whose Claims refer forward and backward by every form of reference.
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use std::io::Write;
use std::path::PathBuf;

use hms_domain::claims::{Batch, BundleError, Claim, StoredBundle};
use hms_domain::outcome::Issue;
use hms_domain::partner::Connections;
use serde_json::{Value, json};

/// What reading a Bundle gives: its claims and the reader's notes, or every finding.
type Outcome = Result<(Vec<Claim>, Vec<Issue>), Vec<Issue>>;

/// A file of `bytes` this test owns, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(bytes: &[u8]) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "hms-bundle-test-{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(bytes))
            .unwrap();
        Self(path)
    }

    fn open(&self) -> std::fs::File {
        std::fs::File::open(&self.0).unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn whole(bytes: &[u8], connections: &Connections) -> Outcome {
    Batch::read(bytes, None, connections)
        .map(|batch| (batch.claims, batch.notes))
        .map_err(|outcome| outcome.issue)
}

fn streamed(bytes: &[u8], connections: &Connections) -> Outcome {
    let file = TempFile::new(bytes);
    let opened = file.open();
    let mut bundle = StoredBundle::open(&opened)
        .unwrap()
        .expect("the input is a Bundle to read a Claim at a time");
    let (mut claims, mut notes, mut errors) = (vec![], vec![], vec![]);
    bundle
        .read_claims_located(None, connections, |_, read| {
            match read {
                Ok(read) => {
                    claims.push(read.claim);
                    notes.extend(read.notes);
                }
                Err(located) => errors.extend(located),
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap();
    assert_eq!(bundle.claims(), claims.len() + count_failed(&errors, bytes));
    if errors.is_empty() {
        Ok((claims, notes))
    } else {
        Err(errors)
    }
}

/// How many Claims of `bytes` the findings `errors` are about.
fn count_failed(errors: &[Issue], bytes: &[u8]) -> usize {
    let bundle: Value = serde_json::from_slice(bytes).unwrap();
    let claims = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, e)| e["resource"]["resourceType"] == "Claim");
    claims
        .filter(|(k, _)| {
            let at = format!("Bundle.entry[{k}].");
            errors
                .iter()
                .any(|i| i.expression.iter().any(|e| e.starts_with(&at)))
        })
        .count()
}

/// Both readings of `bundle`, compact and pretty-printed, are the same.
fn same_both_ways(bundle: &Value, connections: &Connections) -> Outcome {
    let mut first = None;
    for bytes in [
        serde_json::to_vec(bundle).unwrap(),
        serde_json::to_vec_pretty(bundle).unwrap(),
    ] {
        let expected = whole(&bytes, connections);
        let got = streamed(&bytes, connections);
        assert_eq!(got, expected);
        first.get_or_insert(got);
    }
    first.unwrap()
}

/// Every published Claim in one collection Bundle with every resource published beside it,
/// the Claims first (their references lead forward) and last.
#[test]
fn published_claims_read_a_claim_at_a_time_as_read_whole() {
    let (published, beside) = common::published_claims();
    let claims: Vec<Value> = published
        .into_iter()
        .map(|(_, claim)| common::published_entry("Claim", claim))
        .collect();
    assert!(claims.len() >= 10, "{} published Claims", claims.len());
    let connections = Connections::local();
    for entries in [
        claims.iter().chain(&beside).cloned().collect::<Vec<_>>(),
        beside.iter().chain(&claims).cloned().collect(),
    ] {
        let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
        // The published Claims lack what an 837 needs (no NPIs, no payer ids): each is
        // refused, for the same findings either way.
        let Err(issues) = same_both_ways(&bundle, &connections) else {
            panic!("the published Claims are refused");
        };
        assert!(issues.len() > claims.len());
    }
}

/// Our fixtures: a transaction Bundle (Claim, Patient, Coverage, providers by `urn:uuid`) and
/// a collection of three Claims with their parties contained.
#[test]
fn fixture_bundles_read_a_claim_at_a_time_as_read_whole() {
    let connections = Connections::local();
    for name in [
        "claim-professional-transaction-bundle.json",
        "bundle-claims.json",
    ] {
        let path = hms_test_support::workspace()
            .join("functions/shared/hms-domain/tests/fixtures/fhir")
            .join(name);
        let bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let read = same_both_ways(&bundle, &connections);
        let (claims, _) = read.unwrap_or_else(|issues| panic!("{name}: {issues:#?}"));
        assert!(!claims.is_empty(), "{name}");
    }
}

#[test]
fn generated_claims_refer_forward_and_back_and_read_as_whole() {
    let connections = Connections::local();
    let bundle = hms_test_support::synthetic_bundle(12);
    let (claims, _) = same_both_ways(&bundle, &connections).unwrap();
    assert_eq!(claims.len(), 12);

    // Two differing Patients with one id make `Patient/id` ambiguous, either way; a
    // conditional reference two Patients match is ambiguous too.
    let mut twice = bundle.clone();
    let entries = twice["entry"].as_array_mut().unwrap();
    let mut other = entries
        .iter()
        .find(|e| e["resource"]["id"] == "Patient-2")
        .unwrap()
        .clone();
    other["fullUrl"] = json!("urn:uuid:another");
    other["resource"]["gender"] = json!("unknown");
    entries.push(other);
    let Err(issues) = same_both_ways(&twice, &connections) else {
        panic!("Patient/Patient-2 names two Patients");
    };
    assert!(
        issues
            .iter()
            .any(|i| i.expression.iter().any(|e| e.starts_with("Bundle.entry[")))
    );
}

#[test]
fn what_is_not_a_bundle_is_left_to_the_whole_reader() {
    for text in [
        &br#"[{"resourceType": "Claim"}]"#[..],
        br#"{"resourceType": "Claim", "id": "c"}"#,
        br#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Bundle"}}]}"#,
        br#"{"not json"#,
        b"",
    ] {
        let file = TempFile::new(text);
        let opened = file.open();
        assert!(
            StoredBundle::open(&opened).unwrap().is_none(),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn a_broken_bundle_says_what_and_where() {
    let cases: [(&[u8], &str); 7] = [
        (
            br#"{"resourceType": "Bundle", "meta": {"lastUpdated": nul}, "entry": []}"#,
            "a member that is not JSON",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Claim"}}, {"resource": tru}]}"#,
            "Bundle.entry[1] is not JSON",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": [], "entry": []}"#,
            "a second `entry`",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": {}}"#,
            "`entry` is not an array",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": [{"resource": {}}]} x"#,
            "text after the Bundle",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": [{"resource": {}}"#,
            "the array ends before its `]`",
        ),
        (
            br#"{"resourceType": "Bundle", "entry": [{"resource": {}},]}"#,
            "a `,` before `]`",
        ),
    ];
    for (text, expected) in cases {
        let file = TempFile::new(text);
        let opened = file.open();
        let err = StoredBundle::open(&opened)
            .err()
            .unwrap_or_else(|| panic!("{} is refused", String::from_utf8_lossy(text)));
        assert!(
            err.to_string().contains(expected),
            "{err} (expected {expected})"
        );
        if let BundleError::NotJson { entry, .. } = err {
            assert_eq!(
                err.outcome().issue[0].expression,
                vec![format!("Bundle.entry[{entry}]")]
            );
        }
    }
    // A Bundle that says so after its entries is one too; without Claims it has none to read.
    let file = TempFile::new(
        br#"{"entry": [{"resource": {"resourceType": "Patient"}}], "resourceType": "Bundle"}"#,
    );
    let opened = file.open();
    let bundle = StoredBundle::open(&opened).unwrap().unwrap();
    assert_eq!(bundle.claims(), 0);
}
