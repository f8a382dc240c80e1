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

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use hms_auth::Role;
use hms_e2e::{Stack, professional};
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
    let hms = std::env::var("HMS_CLI").expect("HMS_CLI names the hms binary");
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut child = std::process::Command::new(hms)
        .args(["webhooks", "listen", "--port", &port.to_string(), "--json"])
        .args(["--api", &stack.api, "--token", &admin])
        .env_remove("HMS_WEBHOOK_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.contains("as webhook whk_"), "{first}");
    let (lines, printed) = std::sync::mpsc::channel::<Value>();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = lines.send(v);
            }
        }
    });
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
        let Ok(line) = printed.recv_timeout(quiet) else {
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
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
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
