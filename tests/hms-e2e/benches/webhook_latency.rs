//! Event → delivered latency of webhooks on the running local stack: `hms webhooks listen`
//! (a healthy receiver, answering at once) subscribes to every event of clinic-a, claims are
//! submitted at a steady rate and go their way (accepted by the simulated payer, events from
//! the claims table's stream through claim-events, webhook-fanout and webhook-deliver), and
//! each event's delivery time less its own timestamp (the moment the claim moved) is taken.
//!
//! Run with the stack up: `eval "$(infra/stack.sh env)"; HMS_CLI=target/debug/hms cargo bench
//! -p hms-e2e --bench webhook_latency` (`HMS_BENCH_CLAIMS`, default 100; `HMS_BENCH_RATE`
//! claims per second, default 5).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)] // a bench: a panic is a failed run

use std::time::{Duration, Instant};

use hms_auth::Role;
use hms_e2e::{Listener, Stack, professional};
use serde_json::Value;

fn number(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let claims = number("HMS_BENCH_CLAIMS", 100);
    let rate = number("HMS_BENCH_RATE", 5).max(1);
    let stack = Stack::from_env();
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let listener = Listener::start(&stack, &admin, &[]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let billing = stack.billing();
    let started = Instant::now();
    let submitted: Vec<String> = runtime.block_on(async {
        let mut ids = vec![];
        for i in 0..claims {
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            let reply = stack.submit(&billing, &professional()).await;
            assert_eq!(reply.status, 202, "{}", reply.json);
            ids.push(reply.json["claimId"].as_str().unwrap().to_string());
        }
        ids
    });
    // Every claim's acceptance delivered, then a quiet while for whatever follows.
    let mine: std::collections::HashSet<&str> = submitted.iter().map(String::as_str).collect();
    let mut accepted = std::collections::HashSet::new();
    let mut latencies_ms = vec![];
    let mut types = std::collections::BTreeMap::<String, usize>::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let quiet = if accepted.len() == mine.len() {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(60)
        };
        let Ok(line) = listener.printed.recv_timeout(quiet) else {
            break;
        };
        let message = &line["message"];
        let Some(claim) = message["data"]["claimId"].as_str() else {
            continue;
        };
        if !mine.contains(claim) {
            continue;
        }
        let at = |v: &Value| {
            chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let latency = at(&line["receivedAt"]) - at(&message["timestamp"]);
        latencies_ms.push(latency.num_microseconds().unwrap() as f64 / 1000.0);
        let kind = message["type"].as_str().unwrap_or("?").to_string();
        if kind == "claim.accepted" {
            accepted.insert(claim.to_string());
        }
        *types.entry(kind).or_default() += 1;
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = listener.stop();
    latencies_ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((latencies_ms.len() as f64 - 1.0) * q).round() as usize;
        latencies_ms.get(i).copied().unwrap_or(f64::NAN)
    };
    println!(
        "claims {claims} at {rate}/s; events delivered {} ({types:?}); accepted delivered for {} of {claims}",
        latencies_ms.len(),
        accepted.len()
    );
    println!(
        "event -> delivered (ms): p50 {:.0}  p90 {:.0}  p99 {:.0}  max {:.0}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}
