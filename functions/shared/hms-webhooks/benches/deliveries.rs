//! Fan-out and delivery throughput over the in-memory ports: 1,000 claim events, each fanned
//! out to an organization's three endpoints (one of which takes only payments), then every
//! delivery attempted once (signed with the endpoint's secret, answered 200, recorded). In
//! deliveries per second; the subscriptions and the events are made outside the measured time.
//! Run: `cargo bench -p hms-webhooks --bench deliveries`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure is a broken setup

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hms_service::lifecycle::{ClaimEvent, ClaimId, ClaimState};
use hms_service::ports::Topic;
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{InMemoryQueue, ManualClock};
use hms_webhooks::event::WebhookEvent;
use hms_webhooks::policy::UrlPolicy;
use hms_webhooks::records::{DeliveryMessage, RETRY_WAITS};
use hms_webhooks::service::{Attempted, NewSubscription, Webhooks};
use hms_webhooks::testing::{InMemoryWebhookStore, ScriptedEndpoints};
use pollster::block_on;

const EVENTS: usize = 1_000;

type Bench = Webhooks<InMemoryWebhookStore, InMemoryQueue, ScriptedEndpoints, ManualClock>;

fn setup() -> (Bench, Vec<WebhookEvent>) {
    let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
    let w = Webhooks {
        store: InMemoryWebhookStore::new(),
        queue: InMemoryQueue::new(),
        endpoints: ScriptedEndpoints::new(),
        clock: ManualClock::new(at),
        policy: UrlPolicy::DEPLOYED,
        retry_waits: RETRY_WAITS.to_vec(),
    };
    let org = OrganizationId::parse("clinic-a").unwrap();
    for (url, events) in [
        ("https://ehr.example.com/callback", vec!["*".to_string()]),
        ("https://billing.example.com/hooks", vec!["*".to_string()]),
        (
            "https://denials.example.com/in",
            vec!["claim.paid".to_string()],
        ),
    ] {
        block_on(w.subscribe(
            &org,
            NewSubscription {
                url: url.into(),
                events,
                description: String::new(),
            },
        ))
        .unwrap();
    }
    let events = (0..EVENTS)
        .map(|i| {
            let event = ClaimEvent {
                event_type: "claim.state-changed".into(),
                claim_id: ClaimId::generate(),
                organization: org.clone(),
                payer_id: "999996666".into(),
                from: ClaimState::Submitted,
                state: if i % 2 == 0 {
                    ClaimState::AcceptedByPayer
                } else {
                    ClaimState::RejectedByPayer
                },
                at,
                reason: None,
                sequence: 3,
                payment: None,
            };
            WebhookEvent::of_claim(&event).unwrap()
        })
        .collect();
    (w, events)
}

/// Fans every event out and attempts every delivery; how many were delivered.
fn run(w: &Bench, events: &[WebhookEvent]) -> usize {
    for event in events {
        block_on(w.fan_out(event)).unwrap();
    }
    let mut delivered = 0;
    for (body, _) in w.queue.take(Topic::WebhookDeliveries) {
        let message: DeliveryMessage = serde_json::from_slice(&body).unwrap();
        if block_on(w.attempt(&message)).unwrap() == Attempted::Delivered {
            delivered += 1;
        }
    }
    delivered
}

fn deliveries(c: &mut Criterion) {
    let mut group = c.benchmark_group("webhooks");
    group.sample_size(10);
    // Two endpoints take every event.
    group.throughput(Throughput::Elements(2 * EVENTS as u64));
    group.bench_function("fan out and deliver 2,000 (in-memory ports)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (w, events) = setup();
                let started = Instant::now();
                let delivered = run(&w, &events);
                total += started.elapsed();
                assert_eq!(delivered, 2 * EVENTS);
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, deliveries);
criterion_main!(benches);
