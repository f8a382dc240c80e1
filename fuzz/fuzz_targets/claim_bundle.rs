//! Any bytes as a FHIR Bundle of Claims read a Claim at a time from a file (`hms translate
//! --to x12` of a Bundle): the Bundle's scanner and index, then each Claim resolving its
//! references from the file. Properties: no panic; a Bundle the scanner takes reads as the
//! Bundle read whole does (the same claims and notes, or the same located findings).
#![no_main]

use std::io::Write;

use hms_domain::claims::{Batch, StoredBundle};
use hms_domain::partner::Connections;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("hms-fuzz-bundle-{}.json", std::process::id()));
    let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(data));
    let Ok(file) = written.and_then(|()| std::fs::File::open(&path)) else {
        return;
    };
    let Ok(Some(mut bundle)) = StoredBundle::open(&file) else {
        return;
    };
    let connections = Connections::local();
    let (mut claims, mut notes, mut errors) = (vec![], vec![], vec![]);
    let read = bundle.read_claims_located(None, &connections, |_, read| {
        match read {
            Ok(read) => {
                claims.push(read.claim);
                notes.extend(read.notes);
            }
            Err(located) => errors.extend(located),
        }
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(e) = read {
        panic!("the file, indexed, could not be read again: {e}");
    }
    // The whole reader's own bounds (a document nested past serde_json's depth, more than its
    // resources bound, a lookup past ours) are not what this compares.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if value["entry"].as_array().is_none_or(|e| e.len() > 1_000) {
        return;
    }
    match Batch::read(data, None, &connections) {
        Ok(whole) => {
            assert!(errors.is_empty(), "streamed findings the whole read has not: {errors:?}");
            assert_eq!(whole.claims, claims);
            assert_eq!(whole.notes, notes);
        }
        Err(outcome) if claims.is_empty() && errors.is_empty() => {
            // No Claims: the whole reader says so; the CLI says the same of an empty stream.
            assert!(outcome.issue.iter().any(|i| i.diagnostics.as_deref() == Some("no-claims")));
        }
        Err(outcome) => assert_eq!(outcome.issue, errors),
    }
});
