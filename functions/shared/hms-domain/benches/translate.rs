//! The claims domain's two throughput targets, from bytes in to bytes out:
//! - FHIR R4 `Claim`s (JSON text) → parsed, read into the domain, scrubbed → one 837P batch, in
//!   claims per second (target ≥ 20 000/s);
//! - an 835 → our JSON remittance (parse, place in loops, read into the domain, serialize), in
//!   MB/s of 835 (target ≥ 50 MB/s).
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hms_domain::claims::fhir::professional_from_fhir;
use hms_domain::claims::{Claim, write_837};
use hms_domain::partner::{Envelope, TradingPartner};
use hms_x12::spec::Catalog;

/// The allocator the `hms` binary ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `count` FHIR claims as JSON text: the fixture claim, each with its own identifier, patient
/// control number and charge, so no two are the same bytes.
fn fhir_claims(count: usize) -> Option<Vec<Vec<u8>>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fhir/claim-professional.json"
    );
    let template: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (0..count)
        .map(|k| {
            let mut claim = template.clone();
            claim["id"] = format!("claim-{k}").into();
            claim["identifier"][0]["value"] = format!("PCN{k:07}").into();
            serde_json::to_vec(&claim).ok()
        })
        .collect()
}

/// `count` Synthea-shaped transaction Bundles (a Claim with its Patient, Organization,
/// Practitioner, PractitionerRole, Coverage, Encounter and two Conditions, all referred to by
/// `urn:uuid`), each Claim with its own id, as JSON text.
fn fhir_bundles(count: usize) -> Option<Vec<Vec<u8>>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fhir/claim-professional-transaction-bundle.json"
    );
    let template: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let claim = template["entry"]
        .as_array()?
        .iter()
        .position(|e| e["resource"]["resourceType"] == "Claim")?;
    (0..count)
        .map(|k| {
            let mut bundle = template.clone();
            bundle["entry"][claim]["resource"]["id"] = format!("claim-{k:07}").into();
            serde_json::to_vec(&bundle).ok()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
    let connections = hms_domain::partner::Connections::local();
    let partner = TradingPartner::test_to("PAYER");
    let envelope = Envelope::new(1, today.and_hms_opt(9, 30, 0).unwrap_or_default());
    if let Some(inputs) = fhir_claims(1_000) {
        let mut group = c.benchmark_group("fhir-claims-to-837p");
        group.throughput(Throughput::Elements(inputs.len() as u64));
        group.bench_function("1000-claims-one-batch", |b| {
            b.iter(|| {
                let claims: Vec<_> = inputs
                    .iter()
                    .filter_map(|json| {
                        let value: serde_json::Value = serde_json::from_slice(json).ok()?;
                        let claim = Claim::from(professional_from_fhir(&value, &connections).ok()?);
                        let outcome = claim.scrub(today);
                        (!outcome.has_errors()).then_some(claim)
                    })
                    .collect();
                assert_eq!(
                    claims.len(),
                    inputs.len(),
                    "every claim reads and scrubs clean"
                );
                write_837(&claims, &partner, &envelope).map(|x12| x12.len())
            })
        });
        group.finish();
    }

    if let Some(inputs) = fhir_bundles(1_000) {
        let mut group = c.benchmark_group("fhir-bundles-to-837p");
        group.throughput(Throughput::Elements(inputs.len() as u64));
        group.bench_function("1000-bundles-one-batch", |b| {
            b.iter(|| {
                let claims: Vec<_> = inputs
                    .iter()
                    .filter_map(|json| {
                        let batch =
                            hms_domain::claims::Batch::read(json, None, &connections).ok()?;
                        let claim = batch.claims.into_iter().next()?;
                        let outcome = claim.scrub(today);
                        (!outcome.has_errors()).then_some(claim)
                    })
                    .collect();
                assert_eq!(
                    claims.len(),
                    inputs.len(),
                    "every bundle reads and scrubs clean"
                );
                write_837(&claims, &partner, &envelope).map(|x12| x12.len())
            })
        });
        // Where the time goes: the JSON text into a tree, and that and the reading.
        group.bench_function("parse-only", |b| {
            b.iter(|| {
                inputs
                    .iter()
                    .filter_map(|json| serde_json::from_slice::<serde_json::Value>(json).ok())
                    .count()
            })
        });
        group.bench_function("parse-and-read", |b| {
            b.iter(|| {
                inputs
                    .iter()
                    .filter_map(|json| {
                        hms_domain::claims::Batch::read(json, None, &connections).ok()
                    })
                    .count()
            })
        });
        group.finish();
    }

    let (Ok(catalog), Ok(remittance)) = (
        Catalog::embedded(),
        hms_x12::synth::remittance_835(8_000_000),
    ) else {
        return;
    };
    let mut group = c.benchmark_group("835-to-json");
    group.throughput(Throughput::Bytes(remittance.len() as u64));
    group.sample_size(20);
    group.bench_function("8MB", |b| {
        b.iter(|| {
            let remits = hms_domain::remittance::read_835(&remittance, catalog)
                .map_err(|e| e.to_string())?;
            hms_domain::remittance::to_json(&remits)
                .map(|j| j.len())
                .map_err(|e| e.to_string())
        })
    });
    group.bench_function("8MB-tree-only", |b| {
        b.iter(|| hms_x12::tree::parse(&remittance, catalog).map(|d| d.interchanges.len()))
    });
    let remits = hms_domain::remittance::read_835(&remittance, catalog).unwrap_or_default();
    group.bench_function("8MB-serialize-only", |b| {
        b.iter(|| hms_domain::remittance::to_json(&remits).map(|j| j.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
