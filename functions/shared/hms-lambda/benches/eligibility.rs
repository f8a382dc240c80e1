//! Eligibility latency added by HMS-ACH: `routes::eligibility` end to end (token check, JSON
//! inquiry, 270, CORE envelope, HTTP to the payer simulator on 127.0.0.1 with latency 0, 271
//! read into the benefits view, JSON answer), minus the time the payer exchange itself took
//! (measured around `PayerGateway::real_time`: loopback HTTP and the simulator's own work).
//! p50 and p99 at concurrency 1 and 8. Run: `cargo bench -p hms-lambda --bench eligibility`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure is a broken setup

use std::sync::Arc;
use std::time::{Duration, Instant};

use hms_adapters::{CoreGateway, Endpoints};
use hms_lambda::App;
use hms_lambda::auth::{ClaimNames, Role, TokenRequest, Verifier, mint};
use hms_service::ports::{GatewayError, NoRules, PayerGateway, RealTime, SystemClock};
use hms_service::testing::InMemory;
use lambda_http::Body;

tokio::task_local! {
    /// The time the current request's payer exchange took.
    static EXCHANGE: std::cell::Cell<Duration>;
}

/// The CORE gateway, with the time each exchange took recorded for its request.
struct Timed {
    inner: CoreGateway,
}

impl PayerGateway for Timed {
    async fn real_time(
        &self,
        payer_id: &str,
        exchange: RealTime,
        x12: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let start = Instant::now();
        let answer = self.inner.real_time(payer_id, exchange, x12).await;
        let spent = start.elapsed();
        let _ = EXCHANGE.try_with(|cell| cell.set(spent));
        answer
    }
    async fn submit_batch(
        &self,
        payer_id: &str,
        x12: &[u8],
        payload_id: &str,
    ) -> Result<(), GatewayError> {
        self.inner.submit_batch(payer_id, x12, payload_id).await
    }
    async fn retrieve_results(
        &self,
        payer_id: &str,
        payload_id: &str,
    ) -> Result<Vec<Vec<u8>>, GatewayError> {
        self.inner.retrieve_results(payer_id, payload_id).await
    }
}

type BenchApp = App<InMemory<Timed, NoRules, SystemClock>>;

const SECRET: &[u8] = b"the benchmark's development secret!";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = hms_payer_sim::SimConfig::local().unwrap();
        let (_sim, url) = hms_payer_sim::http::start(config).await.unwrap();
        let app: Arc<BenchApp> = Arc::new(App {
            service: hms_service::testing::in_memory(
                Timed {
                    inner: CoreGateway::new(Endpoints::single(url, 5_000)).unwrap(),
                },
                NoRules,
                SystemClock,
            ),
            verifier: Verifier::local(SECRET, "hms-ach-local", "hms-ach", ClaimNames::default()),
        drops: None,
        });
        let request = TokenRequest { subject: "bench", organization: "clinic-a", roles: &[Role::Billing], lifetime: chrono::TimeDelta::hours(1) };
        let token = mint(SECRET, "hms-ach-local", "hms-ach", &request).unwrap();
        let body = std::fs::read(hms_test_support::fixtures().join("eligibility/inquiry-subscriber.json")).unwrap();
        let one = |app: Arc<BenchApp>, token: String, body: Vec<u8>| async move {
            let request = lambda_http::http::Request::builder()
                .method("POST")
                .uri("/ach/queryEligibility")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::Binary(body))
                .unwrap();
            EXCHANGE
                .scope(std::cell::Cell::new(Duration::ZERO), async move {
                    let start = Instant::now();
                    let response = app.eligibility(request).await;
                    assert_eq!(response.status(), 200);
                    (start.elapsed(), EXCHANGE.with(|c| c.get()))
                })
                .await
        };
        // Warm up: connections, guides, allocator.
        for _ in 0..200 {
            one(Arc::clone(&app), token.clone(), body.clone()).await;
        }
        for concurrency in [1usize, 8] {
            let per_task = 4000 / concurrency;
            let started = Instant::now();
            let tasks: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (app, token, body) = (Arc::clone(&app), token.clone(), body.clone());
                    tokio::spawn(async move {
                        let mut times = Vec::with_capacity(per_task);
                        for _ in 0..per_task {
                            times.push(one(Arc::clone(&app), token.clone(), body.clone()).await);
                        }
                        times
                    })
                })
                .collect();
            let mut pairs = vec![];
            for t in tasks {
                pairs.extend(t.await.unwrap());
            }
            let wall = started.elapsed();
            // Added by HMS-ACH: each request's time less its own payer exchange.
            let mut total: Vec<Duration> = pairs.iter().map(|(t, _)| *t).collect();
            let mut exchange: Vec<Duration> = pairs.iter().map(|(_, e)| *e).collect();
            let mut added: Vec<Duration> = pairs.iter().map(|(t, e)| t.saturating_sub(*e)).collect();
            total.sort();
            added.sort();
            exchange.sort();
            println!(
                "concurrency {concurrency}: {} requests in {:.2} s ({:.0}/s); end to end p50 {:?} p99 {:?}; payer exchange p50 {:?} p99 {:?}; added by HMS-ACH p50 {:?} p99 {:?}",
                total.len(),
                wall.as_secs_f64(),
                total.len() as f64 / wall.as_secs_f64(),
                percentile(&total, 0.5),
                percentile(&total, 0.99),
                percentile(&exchange, 0.5),
                percentile(&exchange, 0.99),
                percentile(&added, 0.5),
                percentile(&added, 0.99),
            );
        }
    });
}
