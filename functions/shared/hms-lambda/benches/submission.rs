//! Submission, now that it no longer waits for the payer: `routes::submit` end to end in
//! process (token check, claim read, store with its key and hold, scrubber, 837 written and
//! validated, queued) over in-memory ports, p50 and p99 at concurrency 1 and 8; the worker's
//! throughput handing those claims to the payer simulator over HTTP on 127.0.0.1 (CORE batch
//! submission and results retrieval); and the sweep's cost per 10,000 open claims whose
//! messages were lost (read from the due index, written, queued again).
//! Run: `cargo bench -p hms-lambda --bench submission`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure is a broken setup

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hms_adapters::{CoreGateway, Endpoints};
use hms_lambda::App;
use hms_lambda::auth::{ClaimNames, Role, TokenRequest, Verifier, mint};
use hms_service::ports::{NoRules, Topic};
use hms_service::service::SubmissionMessage;
use hms_service::testing::{InMemory, ManualClock};
use lambda_http::Body;

type BenchApp = App<InMemory<CoreGateway, NoRules, ManualClock>>;

const SECRET: &[u8] = b"the benchmark's development secret!";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `n` claims, each with its own patient control number.
fn claims(n: usize, tag: &str) -> Vec<Vec<u8>> {
    let fixture =
        std::fs::read(hms_test_support::fixtures().join("claims/professional-subscriber.json"))
            .unwrap();
    let claim: serde_json::Value = serde_json::from_slice(&fixture).unwrap();
    (0..n)
        .map(|i| {
            let mut claim = claim.clone();
            claim["claim"]["patientControlNumber"] = format!("{tag}{i:08}").into();
            serde_json::to_vec(&claim).unwrap()
        })
        .collect()
}

async fn app(url: String) -> Arc<BenchApp> {
    Arc::new(App {
        service: hms_service::testing::in_memory(
            CoreGateway::new(Endpoints::single(url, 5_000)).unwrap(),
            NoRules,
            ManualClock::new(Utc::now()),
        ),
        verifier: Verifier::local(SECRET, "hms-ach-local", "hms-ach", ClaimNames::default()),
        drops: None,
    })
}

async fn submit(app: &BenchApp, token: &str, body: Vec<u8>) -> Duration {
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/ach/submitClaim")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::Binary(body))
        .unwrap();
    let start = Instant::now();
    let response = app.submit(request).await;
    let spent = start.elapsed();
    assert_eq!(response.status(), 202);
    spent
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = hms_payer_sim::SimConfig::local().unwrap();
        let (sim, url) = hms_payer_sim::http::start(config).await.unwrap();
        let app = app(url.clone()).await;
        let request = TokenRequest {
            subject: "bench",
            organization: "clinic-a",
            roles: &[Role::Billing],
            lifetime: chrono::TimeDelta::hours(1),
        };
        let token = mint(SECRET, "hms-ach-local", "hms-ach", &request).unwrap();

        // Warm up: guides, allocator.
        for body in claims(200, "WARM") {
            submit(&app, &token, body).await;
        }
        for concurrency in [1usize, 8] {
            let total = 4000;
            let bodies = claims(total, &format!("C{concurrency}-"));
            let started = Instant::now();
            let mut tasks = vec![];
            for chunk in bodies.chunks(total / concurrency) {
                let (app, token, chunk) = (Arc::clone(&app), token.clone(), chunk.to_vec());
                tasks.push(tokio::spawn(async move {
                    let mut times = Vec::with_capacity(chunk.len());
                    for body in chunk {
                        times.push(submit(&app, &token, body).await);
                    }
                    times
                }));
            }
            let mut times = vec![];
            for t in tasks {
                times.extend(t.await.unwrap());
            }
            let wall = started.elapsed();
            times.sort();
            println!(
                "submit, concurrency {concurrency}: {} claims in {:.2} s ({:.0}/s); p50 {:?} p99 {:?}",
                times.len(),
                wall.as_secs_f64(),
                times.len() as f64 / wall.as_secs_f64(),
                percentile(&times, 0.5),
                percentile(&times, 0.99),
            );
        }

        // The worker: the queued claims to the simulator, 8 at a time (a batch's messages run
        // concurrently).
        let messages: Vec<SubmissionMessage> = app
            .service
            .ports
            .queue
            .take(Topic::Submissions)
            .into_iter()
            .take(2000)
            .map(|(body, _)| serde_json::from_slice(&body).unwrap())
            .collect();
        let sent = messages.len();
        let started = Instant::now();
        let mut tasks = vec![];
        for chunk in messages.chunks(sent / 8) {
            let (app, chunk) = (Arc::clone(&app), chunk.to_vec());
            tasks.push(tokio::spawn(async move {
                for message in chunk {
                    app.service.deliver(&message).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let wall = started.elapsed();
        let counts = sim.duplicates();
        println!(
            "worker, concurrency 8: {sent} claims sent and acknowledged in {:.2} s ({:.0} claims/s); the payer saw {} resends, {} duplicates",
            wall.as_secs_f64(),
            sent as f64 / wall.as_secs_f64(),
            counts.resends,
            counts.duplicates
        );

        // The sweep: 10,000 claims whose messages were lost, found due and queued again.
        let sweep_app = app_with_open_claims(url, &token, 10_000).await;
        sweep_app
            .service
            .ports
            .clock
            .advance(chrono::TimeDelta::hours(1));
        let started = Instant::now();
        let report = sweep_app.service.sweep(10_000, std::time::Duration::MAX).await.unwrap();
        let wall = started.elapsed();
        let queued = sweep_app.service.ports.queue.take(Topic::Submissions).len();
        println!(
            "sweep: {} open claims requeued in {:.2} s ({:.1} µs each); {queued} messages queued; per claim: 1 index item read, 1 conditional write, 1 message",
            report.requeued,
            wall.as_secs_f64(),
            wall.as_secs_f64() * 1e6 / report.requeued.max(1) as f64,
        );
    });
}

/// An app holding `n` claims waiting for the payer whose messages were lost.
async fn app_with_open_claims(url: String, token: &str, n: usize) -> Arc<BenchApp> {
    let app = app(url).await;
    for body in claims(n, "SWEEP") {
        submit(&app, token, body).await;
    }
    let lost = app.service.ports.queue.take(Topic::Submissions).len();
    assert_eq!(lost, n);
    app
}
