//! Webhooks over in-memory ports: subscriptions kept to their organization, each event fanned
//! out once to the endpoints that take it, signed as Standard Webhooks says, retried by the
//! schedule, disabled when gone, replayed on request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code

use std::time::Duration;

use chrono::{TimeZone, Utc};
use hms_service::lifecycle::{ClaimEvent, ClaimId, ClaimState};
use hms_service::ports::Topic;
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{Crash, Crashing, InMemoryQueue, ManualClock};
use hms_webhooks::event::{EventType, WebhookEvent};
use hms_webhooks::policy::UrlPolicy;
use hms_webhooks::ports::{DeliveryFilter, Post, PostError};
use hms_webhooks::records::{DeliveryMessage, DeliveryStatus, EndpointStatus, RETRY_WAITS};
use hms_webhooks::service::{
    Attempted, NewSubscription, OVERDUE_AFTER, Replay, SubscriptionChange, WebhookError, Webhooks,
};
use hms_webhooks::signing::{SigningError, SigningSecret};
use hms_webhooks::testing::{InMemoryWebhookStore, ScriptedEndpoints};
use pollster::block_on;

type Test = Webhooks<InMemoryWebhookStore, InMemoryQueue, ScriptedEndpoints, ManualClock>;

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

fn webhooks() -> Test {
    Webhooks {
        store: InMemoryWebhookStore::new(),
        queue: InMemoryQueue::new(),
        endpoints: ScriptedEndpoints::new(),
        clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()),
        policy: UrlPolicy::DEPLOYED,
        retry_waits: hms_webhooks::records::RETRY_WAITS.to_vec(),
    }
}

fn subscribe(w: &Test, organization: &str, url: &str, events: &[&str]) -> (String, String) {
    let made = block_on(w.subscribe(
        &org(organization),
        NewSubscription {
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            description: "billing system".into(),
        },
    ))
    .unwrap();
    (made.subscription.id.to_string(), made.secret)
}

/// A claim's move as the outbox announces it.
fn claim_event(organization: &str, claim: &ClaimId, sequence: usize, state: ClaimState) -> Vec<u8> {
    let event = ClaimEvent {
        event_type: match state {
            ClaimState::Paid => "claim.paid",
            ClaimState::Denied => "claim.denied",
            _ => "claim.state-changed",
        }
        .into(),
        claim_id: claim.clone(),
        organization: org(organization),
        payer_id: "999996666".into(),
        from: ClaimState::Submitted,
        state,
        at: Utc.with_ymd_and_hms(2026, 12, 6, 11, 59, 0).unwrap(),
        reason: Some("the payer's 277CA: accepted".into()),
        sequence,
        payment: None,
    };
    serde_json::to_vec(&event).unwrap()
}

fn fan_out(w: &Test, announcement: &[u8]) -> usize {
    let event = WebhookEvent::from_announcement(announcement, w.clock_now())
        .unwrap()
        .expect("an event subscribers are told of");
    block_on(w.fan_out(&event)).unwrap()
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<Utc>;
}

impl Now for Test {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        hms_service::ports::Clock::now(&self.clock)
    }
}

/// Runs the deliveries queue as SQS and the deliverer would: each message after its delay
/// (the clock moved on), until none is left; what each attempt did.
fn run(w: &Test) -> Vec<Attempted> {
    let mut done = vec![];
    for _ in 0..1000 {
        let mut messages = w.queue.take(Topic::WebhookDeliveries);
        if messages.is_empty() {
            return done;
        }
        messages.sort_by_key(|(_, delay)| *delay);
        for (body, delay) in messages {
            w.clock.advance(chrono::TimeDelta::from_std(delay).unwrap());
            let message: DeliveryMessage = serde_json::from_slice(&body).unwrap();
            done.push(block_on(w.attempt(&message)).unwrap());
        }
    }
    panic!("the deliveries queue never emptied");
}

/// The header `name` of a post.
fn header(post: &Post, name: &str) -> String {
    post.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
        .unwrap()
}

/// Whether `post` verifies with `secret` at `now`, as a receiver checks it.
fn verify(post: &Post, secret: &str, now: chrono::DateTime<Utc>) -> Result<(), SigningError> {
    SigningSecret::parse(secret).unwrap().verify(
        &header(post, "webhook-id"),
        &header(post, "webhook-timestamp"),
        &header(post, "webhook-signature"),
        &post.body,
        now.timestamp(),
    )
}

#[test]
fn an_administrator_sees_the_secret_once_and_only_their_own_endpoints() {
    let w = webhooks();
    let (id, secret) = subscribe(
        &w,
        "clinic-a",
        "https://ehr.example.com/records/ach/callback",
        &["claim.paid", "claim.denied"],
    );
    assert!(secret.starts_with("whsec_"));
    SigningSecret::parse(&secret).unwrap();
    let listed = block_on(w.subscriptions(&org("clinic-a"))).unwrap();
    assert_eq!(listed.len(), 1);
    let shown = serde_json::to_string(&listed).unwrap();
    assert!(
        !shown.contains(secret.trim_start_matches("whsec_")),
        "{shown}"
    );
    assert!(matches!(
        block_on(w.subscription(&org("clinic-b"), &id)),
        Err(WebhookError::NotFound { .. })
    ));
    assert!(
        block_on(w.subscriptions(&org("clinic-b")))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        block_on(w.unsubscribe(&org("clinic-b"), &id)),
        Err(WebhookError::NotFound { .. })
    ));
    // Where it may not go, and what it may not name.
    for (url, events) in [
        ("http://ehr.example.com/x", vec!["*"]),
        ("https://169.254.169.254/latest/meta-data/", vec!["*"]),
        ("https://10.0.0.7/hook", vec!["*"]),
        ("https://ehr.example.com/x", vec!["claim.exploded"]),
        ("https://ehr.example.com/x", vec![]),
    ] {
        let refused = block_on(w.subscribe(
            &org("clinic-a"),
            NewSubscription {
                url: url.into(),
                events: events.iter().map(|e| e.to_string()).collect(),
                description: String::new(),
            },
        ));
        assert!(
            matches!(refused, Err(WebhookError::Invalid(_))),
            "{url}: {refused:?}"
        );
    }
    let changed = block_on(w.change(
        &org("clinic-a"),
        &id,
        SubscriptionChange {
            events: Some(vec!["*".into()]),
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(changed.events.names(), ["*"]);
    block_on(w.unsubscribe(&org("clinic-a"), &id)).unwrap();
    assert!(
        block_on(w.subscriptions(&org("clinic-a")))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn an_event_reaches_each_endpoint_of_its_organization_that_takes_it_once_signed() {
    let w = webhooks();
    let (paid_only, secret) = subscribe(
        &w,
        "clinic-a",
        "https://a.example.com/paid",
        &["claim.paid"],
    );
    let (_, all_secret) = subscribe(&w, "clinic-a", "https://a.example.com/all", &["*"]);
    subscribe(&w, "clinic-b", "https://b.example.com/all", &["*"]);
    let claim = ClaimId::generate();
    // Accepted: only the endpoint that takes everything; paid: both of clinic A's; clinic B's
    // never.
    assert_eq!(
        fan_out(
            &w,
            &claim_event("clinic-a", &claim, 3, ClaimState::AcceptedByPayer)
        ),
        1
    );
    assert_eq!(
        fan_out(&w, &claim_event("clinic-a", &claim, 4, ClaimState::Paid)),
        2
    );
    // Announced again (the outbox delivers at least once): nothing new.
    assert_eq!(
        fan_out(&w, &claim_event("clinic-a", &claim, 4, ClaimState::Paid)),
        0
    );
    // A move subscribers are not told of.
    assert!(
        WebhookEvent::from_announcement(
            &claim_event("clinic-a", &claim, 2, ClaimState::Sending),
            w.clock_now()
        )
        .unwrap()
        .is_none()
    );
    let done = run(&w);
    // The second announcement queued the waiting deliveries again (a run that made them may
    // have died before queueing them): those messages find them delivered and do nothing.
    assert_eq!(
        done.iter().filter(|d| **d == Attempted::Delivered).count(),
        3,
        "{done:?}"
    );
    assert!(
        done.iter()
            .all(|d| matches!(d, Attempted::Delivered | Attempted::Nothing(_)))
    );
    let posts = w.endpoints.posts();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| !p.url.contains("b.example.com")));
    for post in &posts {
        let key = if post.url.ends_with("/paid") {
            &secret
        } else {
            &all_secret
        };
        verify(post, key, w.clock_now()).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert!(body["type"].as_str().unwrap().starts_with("claim."));
        assert_eq!(body["data"]["claimId"], claim.as_str());
        assert_eq!(
            body["data"]["links"]["claim"],
            format!("/ach/claims/{claim}")
        );
        assert!(body["data"]["sequence"].as_u64().is_some());
        // Ids, states, amounts, links: no free text the payer wrote.
        assert!(body["data"].get("reason").is_none(), "{body}");
    }
    let deliveries = block_on(w.deliveries(
        &org("clinic-a"),
        &paid_only,
        &DeliveryFilter::default(),
        None,
        10,
    ))
    .unwrap();
    assert_eq!(deliveries.items.len(), 1);
    assert_eq!(deliveries.items[0].event_type, EventType::ClaimPaid);
    assert_eq!(deliveries.items[0].status, DeliveryStatus::Delivered);
}

#[test]
fn a_failing_endpoint_is_retried_on_the_schedule_with_one_message_id_then_delivered() {
    let w = webhooks();
    let url = "https://flaky.example.com/hook";
    let (id, _) = subscribe(&w, "clinic-a", url, &["*"]);
    w.endpoints
        .then(url, Ok(500))
        .then(url, Err(PostError::Timeout(Duration::from_secs(10))));
    let start = w.clock_now();
    fan_out(
        &w,
        &claim_event(
            "clinic-a",
            &ClaimId::generate(),
            3,
            ClaimState::AcceptedByPayer,
        ),
    );
    let done = run(&w);
    assert!(matches!(done[0], Attempted::Retrying(_)));
    assert!(matches!(done[1], Attempted::Retrying(_)));
    assert_eq!(done.last(), Some(&Attempted::Delivered));
    let posts = w.endpoints.posts();
    assert_eq!(posts.len(), 3, "each failure once more, then it stops");
    let ids: Vec<String> = posts.iter().map(|p| header(p, "webhook-id")).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let delivery =
        &block_on(w.deliveries(&org("clinic-a"), &id, &DeliveryFilter::default(), None, 10))
            .unwrap()
            .items[0];
    let at: Vec<i64> = delivery
        .attempts
        .iter()
        .map(|a| (a.at - start).num_seconds())
        .collect();
    assert_eq!(at, [0, 5, 5 + 300]);
    assert_eq!(delivery.attempts[0].status, Some(500));
    assert!(
        delivery.attempts[1]
            .error
            .as_deref()
            .unwrap()
            .contains("did not answer")
    );
}

#[test]
fn an_endpoint_down_past_the_schedule_ends_in_the_dead_letters_and_a_replay_delivers() {
    let w = webhooks();
    let url = "https://down.example.com/hook";
    let (id, _) = subscribe(&w, "clinic-a", url, &["claim.paid"]);
    for _ in 0..=RETRY_WAITS.len() {
        w.endpoints.then(url, Ok(503));
    }
    let start = w.clock_now();
    fan_out(
        &w,
        &claim_event("clinic-a", &ClaimId::generate(), 4, ClaimState::Paid),
    );
    let done = run(&w);
    assert_eq!(done.last(), Some(&Attempted::Failed));
    let attempts = done
        .iter()
        .filter(|d| matches!(d, Attempted::Retrying(_) | Attempted::Failed))
        .count();
    assert_eq!(attempts, RETRY_WAITS.len() + 1);
    // Waits longer than SQS's 15 minutes were queued again until due.
    assert!(done.iter().any(|d| matches!(d, Attempted::NotYetDue(_))));
    let total: u64 = RETRY_WAITS.iter().map(Duration::as_secs).sum();
    assert_eq!((w.clock_now() - start).num_seconds() as u64, total);
    let failed = DeliveryFilter {
        status: Some(DeliveryStatus::Failed),
        ..Default::default()
    };
    let dead = block_on(w.deliveries(&org("clinic-a"), &id, &failed, None, 10)).unwrap();
    assert_eq!(dead.items.len(), 1);
    // The endpoint is back; a redrive of what failed since the event delivers it, under the
    // same message id.
    let replayed = block_on(w.replay(
        &org("clinic-a"),
        &id,
        &Replay {
            since: Some(start - chrono::TimeDelta::hours(1)),
            message_id: None,
            failed_only: true,
        },
    ))
    .unwrap();
    assert_eq!(replayed, 1);
    assert_eq!(run(&w), vec![Attempted::Delivered]);
    let delivery = block_on(w.store_delivery(&dead.items[0].id));
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempt_count as usize, RETRY_WAITS.len() + 2);
    // One message again, by its id.
    let again = block_on(w.replay(
        &org("clinic-a"),
        &id,
        &Replay {
            since: None,
            message_id: Some(delivery.id.to_string()),
            failed_only: false,
        },
    ))
    .unwrap();
    assert_eq!(again, 1);
    assert_eq!(run(&w), vec![Attempted::Delivered]);
}

trait StoreRead {
    async fn store_delivery(
        &self,
        id: &hms_webhooks::records::MessageId,
    ) -> hms_webhooks::records::Delivery;
}

impl StoreRead for Test {
    async fn store_delivery(
        &self,
        id: &hms_webhooks::records::MessageId,
    ) -> hms_webhooks::records::Delivery {
        hms_webhooks::ports::WebhookStore::delivery(&self.store, id)
            .await
            .unwrap()
            .unwrap()
    }
}

#[test]
fn an_endpoint_that_answers_410_is_disabled_at_once_and_its_administrators_are_told() {
    let w = webhooks();
    let gone = "https://gone.example.com/hook";
    let (gone_id, _) = subscribe(&w, "clinic-a", gone, &["*"]);
    let (_, _) = subscribe(
        &w,
        "clinic-a",
        "https://ops.example.com/alerts",
        &["webhook.endpoint-disabled"],
    );
    w.endpoints.then(gone, Ok(410));
    fan_out(
        &w,
        &claim_event(
            "clinic-a",
            &ClaimId::generate(),
            3,
            ClaimState::AcceptedByPayer,
        ),
    );
    let done = run(&w);
    assert_eq!(done, vec![Attempted::Failed, Attempted::Delivered]);
    let view = block_on(w.subscription(&org("clinic-a"), &gone_id)).unwrap();
    assert!(
        matches!(view.status, EndpointStatus::Disabled { .. }),
        "{view:?}"
    );
    let told = w.endpoints.posts().pop().unwrap();
    assert_eq!(told.url, "https://ops.example.com/alerts");
    let body: serde_json::Value = serde_json::from_slice(&told.body).unwrap();
    assert_eq!(body["type"], "webhook.endpoint-disabled");
    assert_eq!(body["data"]["webhookId"], gone_id);
    // Nothing more goes to it until it is enabled again.
    fan_out(
        &w,
        &claim_event(
            "clinic-a",
            &ClaimId::generate(),
            3,
            ClaimState::AcceptedByPayer,
        ),
    );
    assert!(run(&w).is_empty());
}

#[test]
fn an_endpoint_failing_for_days_is_disabled() {
    let w = webhooks();
    let url = "https://broken.example.com/hook";
    let (id, _) = subscribe(&w, "clinic-a", url, &["*"]);
    for _ in 0..200 {
        w.endpoints.then(url, Ok(500));
    }
    // An event every day: each delivery's schedule fails; after five days of nothing but
    // failures the endpoint is disabled.
    for day in 0..7 {
        fan_out(
            &w,
            &claim_event(
                "clinic-a",
                &ClaimId::generate(),
                3 + day,
                ClaimState::AcceptedByPayer,
            ),
        );
        run(&w);
        w.clock.advance(chrono::TimeDelta::hours(20));
    }
    let view = block_on(w.subscription(&org("clinic-a"), &id)).unwrap();
    match view.status {
        EndpointStatus::Disabled { reason, .. } => assert!(reason.contains("5 days"), "{reason}"),
        other => panic!("still {other:?}"),
    }
}

#[test]
fn after_a_rotation_both_secrets_verify_for_a_day_then_only_the_new_one() {
    let w = webhooks();
    let (id, old) = subscribe(&w, "clinic-a", "https://a.example.com/hook", &["*"]);
    let rotated = block_on(w.rotate_secret(&org("clinic-a"), &id)).unwrap();
    assert_ne!(rotated.secret, old);
    assert!(rotated.subscription.retiring_secret_signs_until.is_some());
    let verify = |secret: &str| verify(&w.endpoints.posts().pop().unwrap(), secret, w.clock_now());
    block_on(w.send_test(&org("clinic-a"), &id)).unwrap();
    assert_eq!(run(&w), vec![Attempted::Delivered]);
    assert!(verify(&old).is_ok());
    assert!(verify(&rotated.secret).is_ok());
    w.clock.advance(chrono::TimeDelta::hours(25));
    block_on(w.send_test(&org("clinic-a"), &id)).unwrap();
    assert_eq!(run(&w), vec![Attempted::Delivered]);
    assert!(verify(&old).is_err());
    assert!(verify(&rotated.secret).is_ok());
    let body: serde_json::Value =
        serde_json::from_slice(&w.endpoints.posts().pop().unwrap().body).unwrap();
    assert_eq!(body["type"], "webhook.test");
}

#[test]
fn a_duplicate_or_stale_delivery_message_sends_nothing() {
    let w = webhooks();
    subscribe(&w, "clinic-a", "https://a.example.com/hook", &["*"]);
    fan_out(
        &w,
        &claim_event(
            "clinic-a",
            &ClaimId::generate(),
            3,
            ClaimState::AcceptedByPayer,
        ),
    );
    let mut messages = w.queue.take(Topic::WebhookDeliveries);
    assert_eq!(messages.len(), 1);
    let (body, _) = messages.pop().unwrap();
    let message: DeliveryMessage = serde_json::from_slice(&body).unwrap();
    assert_eq!(block_on(w.attempt(&message)).unwrap(), Attempted::Delivered);
    // SQS delivered it twice.
    assert!(matches!(
        block_on(w.attempt(&message)).unwrap(),
        Attempted::Nothing(_)
    ));
    assert_eq!(w.endpoints.posts().len(), 1);
}

#[test]
fn a_delivery_whose_queue_message_was_lost_is_queued_again_by_the_sweep() {
    let w = webhooks();
    subscribe(&w, "clinic-a", "https://a.example.com/hook", &["*"]);
    fan_out(
        &w,
        &claim_event("clinic-a", &ClaimId::generate(), 2, ClaimState::Paid),
    );
    // The deliverer kept failing: SQS moved the message to the dead-letter queue.
    assert_eq!(w.queue.take(Topic::WebhookDeliveries).len(), 1);
    // Not yet overdue: a slow message is not doubled.
    assert_eq!(block_on(w.sweep(OVERDUE_AFTER, 100)).unwrap().requeued, 0);
    w.clock.advance(
        chrono::TimeDelta::from_std(OVERDUE_AFTER).unwrap() + chrono::TimeDelta::minutes(1),
    );
    let swept = block_on(w.sweep(OVERDUE_AFTER, 100)).unwrap();
    assert_eq!((swept.requeued, swept.more), (1, false));
    // Queued once: the next sweep leaves it to its message.
    assert_eq!(block_on(w.sweep(OVERDUE_AFTER, 100)).unwrap().requeued, 0);
    assert_eq!(run(&w), vec![Attempted::Delivered]);
    w.clock.advance(chrono::TimeDelta::hours(1));
    assert_eq!(block_on(w.sweep(OVERDUE_AFTER, 100)).unwrap().requeued, 0);
    assert_eq!(w.endpoints.posts().len(), 1);
}

#[test]
fn a_delivery_waiting_hours_for_its_next_attempt_is_not_overdue() {
    let w = webhooks();
    let url = "https://slow.example.com/hook";
    subscribe(&w, "clinic-a", url, &["*"]);
    for _ in 0..5 {
        w.endpoints.then(url, Ok(500));
    }
    fan_out(
        &w,
        &claim_event("clinic-a", &ClaimId::generate(), 2, ClaimState::Paid),
    );
    // Five attempts fail (now, 5 s, 5 min, 30 min, 2 h): the sixth is due in 5 hours, its
    // message re-queued every 15 minutes until then.
    for _ in 0..5 {
        let messages = w.queue.take(Topic::WebhookDeliveries);
        assert_eq!(messages.len(), 1);
        let (body, delay) = messages.into_iter().next().unwrap();
        w.clock.advance(chrono::TimeDelta::from_std(delay).unwrap());
        let message: DeliveryMessage = serde_json::from_slice(&body).unwrap();
        let mut done = block_on(w.attempt(&message)).unwrap();
        while let Attempted::NotYetDue(_) = done {
            let (body, delay) = w.queue.take(Topic::WebhookDeliveries).pop().unwrap();
            w.clock.advance(chrono::TimeDelta::from_std(delay).unwrap());
            done = block_on(w.attempt(&serde_json::from_slice(&body).unwrap())).unwrap();
        }
        assert!(matches!(done, Attempted::Retrying(_)), "{done:?}");
    }
    w.clock.advance(chrono::TimeDelta::hours(4));
    assert_eq!(block_on(w.sweep(OVERDUE_AFTER, 100)).unwrap().requeued, 0);
}

type Crashy = Webhooks<
    Crashing<InMemoryWebhookStore>,
    Crashing<InMemoryQueue>,
    Crashing<ScriptedEndpoints>,
    ManualClock,
>;

/// Fault injection: the process dies after each port call in turn of fanning an event out to
/// two endpoints (one failing once) and delivering it; SQS brings back each message whose
/// handling died, and the sweep takes up a delivery whose message was lost. Every delivery
/// ends delivered, each endpoint is sent the event at most once more than it answered, and
/// nothing stays pending.
#[test]
fn a_process_dying_between_any_two_calls_loses_no_delivery() {
    let mut deaths = 0;
    for at in 1.. {
        let crash = Crash::new();
        let w: Crashy = Webhooks {
            store: Crashing::new(InMemoryWebhookStore::new(), &crash),
            queue: Crashing::new(InMemoryQueue::new(), &crash),
            endpoints: Crashing::new(ScriptedEndpoints::new(), &crash),
            clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()),
            policy: UrlPolicy::DEPLOYED,
            retry_waits: RETRY_WAITS.to_vec(),
        };
        let (flaky, steady) = (
            "https://flaky.example.com/h",
            "https://steady.example.com/h",
        );
        for url in [flaky, steady] {
            block_on(w.subscribe(
                &org("clinic-a"),
                NewSubscription {
                    url: url.into(),
                    events: vec!["*".into()],
                    description: String::new(),
                },
            ))
            .unwrap();
        }
        w.endpoints.inner.then(flaky, Ok(503));
        let event = WebhookEvent::from_announcement(
            &claim_event("clinic-a", &ClaimId::generate(), 5, ClaimState::Paid),
            hms_service::ports::Clock::now(&w.clock),
        )
        .unwrap()
        .unwrap();
        crash.arm(at);
        let mut died = false;
        let mut announced = false;
        let mut messages: Vec<(Vec<u8>, Duration)> = vec![];
        let visibility = Duration::from_secs(60);
        for _ in 0..500 {
            if !announced {
                match block_on(w.fan_out(&event)) {
                    Ok(_) => announced = true,
                    Err(_) => {
                        died = true;
                        crash.revive();
                        w.clock
                            .advance(chrono::TimeDelta::from_std(visibility).unwrap());
                    }
                }
            }
            messages.extend(w.queue.inner.take(Topic::WebhookDeliveries));
            if messages.is_empty() {
                if !announced {
                    continue;
                }
                w.clock.advance(
                    chrono::TimeDelta::from_std(OVERDUE_AFTER).unwrap()
                        + chrono::TimeDelta::minutes(1),
                );
                match block_on(w.sweep(OVERDUE_AFTER, 100)) {
                    Ok(swept) if swept.requeued == 0 => break,
                    Ok(_) => continue,
                    Err(_) => {
                        died = true;
                        crash.revive();
                        continue;
                    }
                }
            }
            messages.sort_by_key(|(_, delay)| *delay);
            let (body, delay) = messages.remove(0);
            w.clock.advance(chrono::TimeDelta::from_std(delay).unwrap());
            let message: DeliveryMessage = serde_json::from_slice(&body).unwrap();
            if block_on(w.attempt(&message)).is_err() {
                died = true;
                crash.revive();
                messages.push((body, visibility));
            }
        }
        let deliveries = w.store.inner.all_deliveries();
        assert_eq!(deliveries.len(), 2, "death after call {at}");
        for d in &deliveries {
            assert_eq!(
                d.status,
                DeliveryStatus::Delivered,
                "death after call {at}: {d:?}"
            );
        }
        let posts = w.endpoints.inner.posts();
        let to = |url: &str| posts.iter().filter(|p| p.url == url).count();
        assert!(
            (2..=3).contains(&to(flaky)),
            "death after call {at}: {}",
            to(flaky)
        );
        assert!(
            (1..=2).contains(&to(steady)),
            "death after call {at}: {}",
            to(steady)
        );
        // Every post of one delivery carries its one message id.
        for url in [flaky, steady] {
            let ids: std::collections::BTreeSet<String> = posts
                .iter()
                .filter(|p| p.url == url)
                .map(|p| header(p, "webhook-id"))
                .collect();
            assert_eq!(ids.len(), 1, "death after call {at}");
        }
        if !died {
            break;
        }
        deaths += 1;
    }
    assert!(deaths >= 15, "only {deaths} schedules died");
}
