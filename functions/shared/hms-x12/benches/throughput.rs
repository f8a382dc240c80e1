//! Throughput on a synthetic 835 of 8 MB (many claim loops): tokenizing (segments and every
//! element; segments alone), full validation (envelope + guide + elements), and validation plus
//! the 999 — the work Stedi's `ack` does — all in MB/s.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hms_x12::spec::Catalog;
use hms_x12::validate::{Options, validate_bytes, validate_reader};
use hms_x12::{Reader, Tokenizer};

fn bench(c: &mut Criterion) {
    let Ok(input) = hms_x12::synth::remittance_835(8_000_000) else {
        return;
    };
    let Ok(catalog) = Catalog::embedded() else {
        return;
    };
    let mut group = c.benchmark_group("835-8MB");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut elements = 0usize;
            for segment in Tokenizer::new(&input).flatten() {
                elements += segment.elements().count();
            }
            elements
        })
    });
    group.bench_function("segments-only", |b| {
        b.iter(|| {
            Tokenizer::new(&input)
                .flatten()
                .map(|s| s.raw().len())
                .sum::<usize>()
        })
    });
    group.bench_function("tokenize-streaming", |b| {
        b.iter(|| {
            let mut reader = Reader::new(&input[..]);
            let mut elements = 0usize;
            while let Some(Ok(segment)) = reader.next_segment() {
                elements += segment.elements().count();
            }
            elements
        })
    });
    group.bench_function("validate", |b| {
        b.iter(|| validate_bytes(&input, catalog).segments)
    });
    // What Stedi's `ack` does: read, validate, write the acknowledgment.
    let options = hms_x12::ack::AckOptions::now(1);
    group.bench_function("validate+999", |b| {
        b.iter(|| {
            let report = validate_bytes(&input, catalog);
            hms_x12::ack::ack_999(&report, &options).map(|a| a.len())
        })
    });
    // One core: what a 1-vCPU Lambda gets (element checks inline, no worker thread).
    let one_thread = Options {
        parallel: false,
        ..Options::default()
    };
    group.bench_function("validate-1-thread", |b| {
        b.iter(|| {
            validate_reader(&input[..], catalog, one_thread.clone())
                .map(|r| r.segments)
                .unwrap_or_default()
        })
    });
    group.bench_function("validate-streaming", |b| {
        b.iter(|| {
            validate_reader(&input[..], catalog, Options::default())
                .map(|r| r.segments)
                .unwrap_or_default()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
