//! The clearinghouse over in-memory ports that can die (an unarmed crash never fires), with
//! two organizations, and the moves a test makes: submit as the submit function does, deliver
//! queued messages as the worker does, sweep as the schedule does.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a part

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use hms_domain::claims::read_noted_claim;
use hms_service::delivery::Delivery;
use hms_service::lifecycle::{ClaimId, ClaimRecord, ClaimState};
use hms_service::ports::{Adapters, RuleEngine, Topic};
use hms_service::service::{Clearinghouse, Replayable, ServiceError, SubmissionMessage};
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{
    Crash, Crashing, InMemoryClaimStore, InMemoryObjectStore, InMemoryPayer, InMemoryQueue,
    ManualClock,
};
use pollster::block_on;

pub type Test<R> = Clearinghouse<
    Adapters<
        Crashing<InMemoryClaimStore>,
        Crashing<InMemoryObjectStore>,
        Crashing<InMemoryQueue>,
        Crashing<InMemoryPayer>,
        R,
        ManualClock,
    >,
>;

/// The organization that owns the fixtures' providers.
pub fn clinic() -> OrganizationId {
    OrganizationId::parse("clinic-a").unwrap()
}

/// An organization that owns none of them.
pub fn other_clinic() -> OrganizationId {
    OrganizationId::parse("clinic-b").unwrap()
}

pub fn clearinghouse_in<R: RuleEngine>(rules: R, crash: &Arc<Crash>) -> Test<R> {
    hms_service::testing::local(Adapters {
        store: Crashing::new(InMemoryClaimStore::new(), crash),
        objects: Crashing::new(InMemoryObjectStore::new(), crash),
        queue: Crashing::new(InMemoryQueue::new(), crash),
        gateway: Crashing::new(InMemoryPayer::new(), crash),
        rules,
        clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()),
    })
}

pub fn clearinghouse<R: RuleEngine>(rules: R) -> Test<R> {
    clearinghouse_in(rules, &Crash::new())
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(hms_test_support::fixtures().join(name)).unwrap()
}

/// The professional claim fixture, as a caller sends it.
pub fn professional() -> Vec<u8> {
    fixture("claims/professional-subscriber.json")
}

/// `body` with its patient control number (CLM01) set to `pcn`.
pub fn with_control_number(body: &[u8], pcn: &str) -> Vec<u8> {
    let mut claim: serde_json::Value = serde_json::from_slice(body).unwrap();
    claim["claim"]["patientControlNumber"] = pcn.into();
    serde_json::to_vec(&claim).unwrap()
}

pub fn sample(path: &str) -> Vec<u8> {
    std::fs::read(hms_test_support::x12_samples().join(path)).unwrap()
}

/// What a caller is told of a submission.
#[derive(Debug)]
pub struct Answer {
    /// 202 (on its way) rather than 422 (stopped).
    pub accepted: bool,
    /// What it sees of the claim.
    pub body: serde_json::Value,
    /// Whether it was the answer of an earlier request under the same key.
    pub replayed: bool,
}

impl Answer {
    pub fn id(&self) -> ClaimId {
        ClaimId::parse(self.body["claimId"].as_str().unwrap()).unwrap()
    }
}

/// A claim submitted as the function glue submits it: the body read, then the use case.
pub fn try_submit<R: RuleEngine>(
    ch: &Test<R>,
    org: &OrganizationId,
    body: &[u8],
    key: Option<&str>,
) -> Result<Answer, ServiceError> {
    let (claim, format, notes) = read_noted_claim(body, &ch.connections).unwrap();
    block_on(ch.submit_noted_claim(org, claim, format, notes, key)).map(|r: Replayable<_>| Answer {
        accepted: matches!(r.answer, hms_service::lifecycle::Submitted::Accepted(_)),
        body: serde_json::to_value(r.answer.claim()).unwrap(),
        replayed: r.replayed,
    })
}

pub fn submit<R: RuleEngine>(ch: &Test<R>, body: &[u8], key: Option<&str>) -> Answer {
    try_submit(ch, &clinic(), body, key).unwrap()
}

/// The messages queued for the worker so far, taken, with their delays.
pub fn queued<R: RuleEngine>(ch: &Test<R>) -> Vec<(SubmissionMessage, std::time::Duration)> {
    ch.ports
        .queue
        .inner
        .take(Topic::Submissions)
        .into_iter()
        .map(|(body, delay)| (serde_json::from_slice(&body).unwrap(), delay))
        .collect()
}

/// One delivery as the worker makes it.
pub fn deliver<R: RuleEngine>(
    ch: &Test<R>,
    message: &SubmissionMessage,
) -> Result<Delivery, ServiceError> {
    block_on(ch.deliver(message))
}

/// Delivers every queued message (after its delay), and those they queue, until none is left.
pub fn drain<R: RuleEngine>(ch: &Test<R>) {
    for _ in 0..100 {
        let messages = queued(ch);
        if messages.is_empty() {
            return;
        }
        for (message, delay) in messages {
            ch.ports
                .clock
                .advance(chrono::TimeDelta::from_std(delay).unwrap());
            let _ = deliver(ch, &message);
        }
    }
    panic!("the queue never emptied");
}

pub fn record<R: RuleEngine>(ch: &Test<R>, id: &ClaimId) -> ClaimRecord {
    block_on(ch.claim(&clinic(), id)).unwrap()
}

pub fn states<R: RuleEngine>(ch: &Test<R>, id: &ClaimId) -> Vec<ClaimState> {
    record(ch, id).history.iter().map(|c| c.state).collect()
}
