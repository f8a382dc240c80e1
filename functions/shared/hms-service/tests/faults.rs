//! Fault injection: the process dies between any two port calls of submit, delivery, retry
//! and acknowledgment polling, and the world goes on as it does in AWS: the caller retries
//! its request under the same `Idempotency-Key`, SQS redelivers the message the dead worker
//! never acknowledged (sometimes to two workers at once), and the sweep runs on schedule. For
//! every such schedule the claim reaches the payer once (a resend carries the same identity,
//! which the payer recognises), ends where the payer's answer puts it, and nothing is lost.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::TimeDelta;
use hms_service::lifecycle::{ClaimRecord, ClaimState};
use hms_service::ports::{GatewayError, NoRules, PayerGateway};
use hms_service::service::SubmissionMessage;
use hms_service::testing::{Crash, PayerAnswer};
use pollster::block_on;
use support::*;

/// Polls two futures in turn until both are done: two workers on one message, interleaved at
/// every port call (each call yields once).
fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut cx = Context::from_waker(Waker::noop());
    let (mut ra, mut rb) = (None, None);
    loop {
        if ra.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(&mut cx)
        {
            ra = Some(out);
        }
        if rb.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(&mut cx)
        {
            rb = Some(out);
        }
        if let (Some(_), Some(_)) = (&ra, &rb) {
            return (ra.unwrap(), rb.unwrap());
        }
    }
}

/// How the payer behaves in a scenario.
#[derive(Debug, Clone, Copy)]
enum Payer {
    /// Takes the 837 and acknowledges it at once, accepting.
    Accepts,
    /// Takes it and rejects it in its 277CA.
    Rejects,
    /// Cannot be reached once, then accepts.
    FailsOnce,
    /// Takes it and acknowledges only later (the sweep polls).
    AcknowledgesLater,
}

impl Payer {
    fn script(self, ch: &Test<NoRules>) {
        let payer = &ch.ports.gateway.inner;
        match self {
            Payer::Accepts => {}
            Payer::Rejects => {
                for _ in 0..20 {
                    payer.then(PayerAnswer::Acknowledge { reject: true });
                }
            }
            Payer::FailsOnce => {
                payer.then(PayerAnswer::Fail(GatewayError::Unavailable {
                    status: Some(503),
                    message: "maintenance".into(),
                }));
            }
            Payer::AcknowledgesLater => {
                for _ in 0..20 {
                    payer.then(PayerAnswer::Silent);
                }
            }
        }
    }

    fn final_state(self) -> ClaimState {
        match self {
            Payer::Rejects => ClaimState::RejectedByPayer,
            _ => ClaimState::AcceptedByPayer,
        }
    }
}

/// What one schedule came to.
#[derive(Debug)]
struct Ending {
    claims: Vec<ClaimRecord>,
    batches: usize,
    duplicates: usize,
    resends: usize,
    calls: usize,
}

/// One claim's life with the process dying after port call `crash_at` (never when `None`),
/// with every message delivered to two workers at once when `twice`.
fn life(payer: Payer, crash_at: Option<usize>, twice: bool) -> Ending {
    let crash = Crash::new();
    let ch = clearinghouse_in(NoRules, &crash);
    payer.script(&ch);
    if let Some(k) = crash_at {
        crash.arm(k);
    }
    let body = fixture("claims/professional-subscriber.json");
    // The caller: retries its request under its key until it is answered (a 5xx or a lost
    // answer is all it sees of a crash).
    let mut answered = None;
    for _ in 0..3 {
        match try_submit(&ch, &clinic(), &body, Some("request-1")) {
            Ok(answer) if !crash.is_dead() => {
                answered = Some(answer);
                break;
            }
            _ => crash.revive(),
        }
    }
    let answered = answered.expect("the caller was never answered");
    assert!(answered.accepted, "{}", answered.body);

    // SQS and the schedule: a message a dead or failed worker did not finish comes back;
    // when nothing is queued the clock moves a minute and the sweep runs.
    let mut sqs: Vec<SubmissionMessage> = vec![];
    for _ in 0..2000 {
        for (message, delay) in queued(&ch) {
            ch.ports.clock.advance(TimeDelta::from_std(delay).unwrap());
            sqs.push(message);
        }
        if sqs.is_empty() {
            let open = ch.ports.store.inner.all().iter().any(|r| r.state.is_open());
            if !open {
                break;
            }
            ch.ports.clock.advance(TimeDelta::minutes(1));
            if block_on(ch.sweep(100, std::time::Duration::MAX)).is_err() || crash.is_dead() {
                crash.revive();
            }
            if payer_answers_late(payer, &ch) {
                ch.ports.gateway.inner.acknowledge_later(false);
            }
            continue;
        }
        for message in std::mem::take(&mut sqs) {
            let ok = if twice {
                let (a, b) = both(ch.deliver(&message), ch.deliver(&message));
                a.is_ok() && b.is_ok()
            } else {
                block_on(ch.deliver(&message)).is_ok()
            };
            if !ok || crash.is_dead() {
                crash.revive();
                sqs.push(message);
            }
        }
    }
    Ending {
        claims: ch.ports.store.inner.all(),
        batches: ch.ports.gateway.inner.batches(),
        duplicates: ch.ports.gateway.inner.duplicates(),
        resends: ch.ports.gateway.inner.resends(),
        calls: crash.calls(),
    }
}

/// Whether the silent payer has had the claim long enough to answer.
fn payer_answers_late(payer: Payer, ch: &Test<NoRules>) -> bool {
    matches!(payer, Payer::AcknowledgesLater) && ch.ports.gateway.inner.batches() > 0
}

fn check(payer: Payer, crash_at: Option<usize>, twice: bool) {
    let ending = life(payer, crash_at, twice);
    let schedule = format!("{payer:?}, crash after call {crash_at:?}, twice {twice}");
    assert_eq!(
        ending.claims.len(),
        1,
        "{schedule}: claims {:?}",
        ending.claims
    );
    let claim = &ending.claims[0];
    assert_eq!(
        ending.batches, 1,
        "{schedule}: the payer got {} submissions",
        ending.batches
    );
    assert_eq!(ending.duplicates, 0, "{schedule}");
    // Only a worker that died with the payer's answer unseen makes a resend; the lock keeps a
    // second worker from sending at all.
    let most = usize::from(crash_at.is_some());
    assert!(
        ending.resends <= most,
        "{schedule}: {} resends",
        ending.resends
    );
    assert_eq!(
        claim.state,
        payer.final_state(),
        "{schedule}: history {:?}",
        claim.history
    );
    assert_eq!(claim.due_at, None, "{schedule}");
}

/// Every call boundary of every scenario, once with single and once with doubled deliveries.
#[test]
fn every_crash_point_ends_with_one_submission_and_the_payers_verdict() {
    for payer in [
        Payer::Accepts,
        Payer::Rejects,
        Payer::FailsOnce,
        Payer::AcknowledgesLater,
    ] {
        let calls = life(payer, None, false).calls;
        assert!(calls >= 8, "{payer:?} made only {calls} calls");
        for twice in [false, true] {
            check(payer, None, twice);
            for k in 1..=calls {
                check(payer, Some(k), twice);
            }
        }
    }
}

/// The check above can fail: a payer handed one claim under two identities counts a
/// duplicate, and a claim sent without the lock would be.
#[test]
fn the_payer_double_counts_a_duplicate_and_recognises_a_resend() {
    let ch = clearinghouse(NoRules);
    let body = fixture("claims/professional-subscriber.json");
    let id = submit(&ch, &body, None).id();
    drain(&ch);
    let stored = record(&ch, &id);
    let identity = stored.submission.unwrap();
    let x12 = block_on(hms_service::ports::ObjectStore::get(
        &ch.ports.objects,
        &identity.x12_key,
    ))
    .unwrap()
    .unwrap();
    let payer = &ch.ports.gateway.inner;
    block_on(payer.submit_batch("PAYER", &x12, &identity.payload_id)).unwrap();
    assert_eq!((payer.resends(), payer.duplicates()), (1, 0));
    block_on(payer.submit_batch("PAYER", &x12, "another-payload-id")).unwrap();
    assert_eq!(payer.duplicates(), 1);
}
