//! Per-claim cost of a rule set (issue 5's targets): instantiate from the pre-linked component
//! plus `validate-claim`, as p50 and p99 over many calls (targets 20 µs and 100 µs); a cold
//! load from the `.cwasm` cache (target 5 ms); and calls per second with both cores busy.
//!
//! Run: `cargo bench -p hms-rules --bench rules`. The rule set is the tests' small component
//! written in WAT (`hms_rules::testing`): it takes the whole typed claim and answers no findings.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::time::{Duration, Instant};

use hms_rules::host::{Limits, RuleHost};

fn component() -> Vec<u8> {
    use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component};
    component(hms_rules::WIT, "rule-set", DESCRIBE, NO_FINDINGS, "")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn main() {
    let Ok(host) = RuleHost::new(Limits::default()) else {
        panic!("engine")
    };
    let bytes = component();
    let Ok(rules) = host.load("bench-rules", &bytes) else {
        panic!("load")
    };
    let claim = hms_rules::testing::claim(4);
    for _ in 0..2_000 {
        let _ = host.validate(&rules, &claim);
    }
    let mut times = Vec::with_capacity(50_000);
    for _ in 0..50_000 {
        let start = Instant::now();
        let result = host.validate(&rules, &claim);
        times.push(start.elapsed());
        assert!(result.is_ok());
    }
    times.sort_unstable();
    println!(
        "instantiate + validate-claim (4 lines), 50,000 calls: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        percentile(&times, 1.0).as_secs_f64() * 1e6,
    );

    // Cold load from the .cwasm cache: a new host each time, the artifact already on disk.
    let cache = std::env::temp_dir().join(format!("hms-rules-bench-{}", std::process::id()));
    let _ = RuleHost::new(Limits::default()).map(|h| h.load_cached("bench-rules", &bytes, &cache));
    let mut cold = vec![];
    for _ in 0..50 {
        let Ok(fresh) = RuleHost::new(Limits::default()) else {
            panic!("engine")
        };
        let start = Instant::now();
        let loaded = fresh.load_cached("bench-rules", &bytes, &cache);
        cold.push(start.elapsed());
        assert!(loaded.is_ok());
    }
    cold.sort_unstable();
    let compile_start = Instant::now();
    let compiled = host.load("bench-rules", &bytes);
    let compile = compile_start.elapsed();
    assert!(compiled.is_ok());
    println!(
        "cold load from .cwasm: p50 {:.2} ms, max {:.2} ms (compiling instead: {:.2} ms)",
        percentile(&cold, 0.5).as_secs_f64() * 1e3,
        percentile(&cold, 1.0).as_secs_f64() * 1e3,
        compile.as_secs_f64() * 1e3,
    );
    let _ = std::fs::remove_dir_all(&cache);

    // Both cores busy: one host shared by two threads.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let calls = 40_000;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..calls {
                    assert!(host.validate(&rules, &claim).is_ok());
                }
            });
        }
    });
    let elapsed = start.elapsed();
    println!(
        "{threads} threads x {calls} calls: {:.0} calls/s",
        (threads * calls) as f64 / elapsed.as_secs_f64()
    );
}
