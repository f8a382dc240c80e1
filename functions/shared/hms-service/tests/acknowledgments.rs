//! A payer that answers by file: its TA1s, 999s and 277CAs dropped into the drop zone move
//! the claims they answer as results retrieval does, once, whatever is delivered twice or
//! dies half-way, and never a claim they do not answer.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod support;

use hms_service::acknowledgments::by_file::AcknowledgmentReport;
use hms_service::lifecycle::{ClaimId, ClaimState};
use hms_service::ports::{ClaimStore, NoRules, ObjectStore};
use hms_service::remittance::FileOutcome;
use hms_service::remittance::ingest::Ingested;
use hms_service::testing::{Crash, InMemoryObjectStore, PayerAnswer, acknowledgments};
use pollster::block_on;
use support::*;

/// The fixture claim with patient control number `pcn`, handed to a payer that answers
/// nothing by retrieval: its id, and the 837 the payer holds.
fn sent_claim(ch: &Test<NoRules>, pcn: &str) -> (ClaimId, Vec<u8>) {
    ch.ports.gateway.inner.then(PayerAnswer::Silent);
    let answer = submit(ch, &with_control_number(&professional(), pcn), None);
    drain(ch);
    let id = answer.id();
    assert_eq!(record(ch, &id).state, ClaimState::Submitted);
    let x12 = ch.ports.gateway.inner.received().pop().unwrap();
    (id, x12)
}

/// The payer's 999 and 277CA for the 837 `x12`, as it would drop them.
fn acks_of(x12: &[u8], reject: bool) -> (Vec<u8>, Vec<u8>) {
    let mut acks = acknowledgments(x12, reject);
    assert_eq!(acks.len(), 2, "a 999 and a 277CA");
    let ca = acks.pop().unwrap();
    (acks.pop().unwrap(), ca)
}

/// Drops `bytes` as `name` and takes it in: what the file did.
fn take_in(
    ch: &Test<NoRules>,
    drops: &InMemoryObjectStore,
    name: &str,
    bytes: &[u8],
) -> FileOutcome {
    let key = format!("inbound/payer/{name}");
    block_on(drops.put(&key, bytes.to_vec())).unwrap();
    match block_on(ch.ingest_drop(drops, &key)).unwrap() {
        Ingested::File { outcome, .. } => outcome,
        other => panic!("{name}: {other:?}"),
    }
}

fn report(outcome: FileOutcome) -> AcknowledgmentReport {
    match outcome {
        FileOutcome::Acknowledged {
            acknowledgments, ..
        } => acknowledgments,
        other => panic!("not taken as acknowledgments: {other:?}"),
    }
}

/// Element `n` of the ISA of an X12.
fn isa(x12: &[u8], n: usize) -> String {
    hms_x12::Tokenizer::new(x12)
        .flatten()
        .find(|s| s.id() == b"ISA")
        .map(|s| String::from_utf8_lossy(s.value(n)).into_owned())
        .unwrap()
}

/// A TA1 from `payer` (its ISA06, padded) on the interchange `icn`: `code` A or R.
fn ta1(payer: &str, icn: &str, code: &str) -> Vec<u8> {
    format!(
        "ISA*00*          *00*          *ZZ*{payer}*ZZ*HMSACH         *261202*1200*^*00501*000000011*0*T*:~TA1*{icn}*261202*1200*{code}*024~IEA*0*000000011~"
    )
    .into_bytes()
}

#[test]
fn a_277ca_by_file_accepts_one_claim_and_rejects_another_as_retrieval_would() {
    let ch = clearinghouse(NoRules);
    let drops = InMemoryObjectStore::new();
    let (good, good_x12) = sent_claim(&ch, "FILE-A1");
    let (bad, bad_x12) = sent_claim(&ch, "FILE-A2");
    let (good_999, good_277) = acks_of(&good_x12, false);
    let (_, bad_277) = acks_of(&bad_x12, true);

    // An accepting 999 says nothing final: the claim waits for its 277CA.
    let done = report(take_in(&ch, &drops, "a.999", &good_999));
    assert_eq!(
        (done.read, done.moved, done.unchanged),
        (1, 0, 1),
        "{done:?}"
    );
    assert_eq!(record(&ch, &good).state, ClaimState::Submitted);

    let done = report(take_in(&ch, &drops, "a.277", &good_277));
    assert_eq!((done.read, done.moved), (1, 1), "{done:?}");
    assert_eq!(done.claims[0].claim_id, good);
    assert_eq!(done.claims[0].state, ClaimState::AcceptedByPayer);
    let accepted = record(&ch, &good);
    assert_eq!(accepted.state, ClaimState::AcceptedByPayer);
    let reason = accepted.history.last().unwrap().reason.clone().unwrap();
    assert!(
        reason.contains("277CA") && reason.contains("inbound/payer/a.277"),
        "{reason}"
    );

    let done = report(take_in(&ch, &drops, "b.277", &bad_277));
    assert_eq!(done.moved, 1, "{done:?}");
    let rejected = record(&ch, &bad);
    assert_eq!(rejected.state, ClaimState::RejectedByPayer);
    let issues = rejected.outcome.unwrap().issue;
    assert!(
        issues
            .iter()
            .any(|i| i.details.text.contains("member not on file")),
        "{issues:?}"
    );

    // The rejected claim's number is free again, as after retrieval: its correction goes.
    ch.ports
        .gateway
        .inner
        .then(PayerAnswer::Acknowledge { reject: false });
    let again = submit(&ch, &with_control_number(&professional(), "FILE-A2"), None);
    assert!(again.accepted, "{:?}", again.body);
    drain(&ch);
    let corrected = again.id();
    assert_eq!(record(&ch, &corrected).state, ClaimState::AcceptedByPayer);

    // The same files again (a redelivery, or the payer sending twice): nothing moves, and the
    // late rejection of the first claim does not touch the corrected one that holds its
    // number now.
    let history = |id: &ClaimId| record(&ch, id).history.len();
    let before = (history(&good), history(&bad), history(&corrected));
    for (name, file) in [
        ("a.277", &good_277),
        ("b.277", &bad_277),
        ("a.999", &good_999),
    ] {
        let done = report(take_in(&ch, &drops, name, file));
        assert_eq!(done.moved, 0, "{name}: {done:?}");
    }
    assert_eq!((history(&good), history(&bad), history(&corrected)), before);
    assert_eq!(record(&ch, &corrected).state, ClaimState::AcceptedByPayer);
}

#[test]
fn a_rejecting_999_or_ta1_by_file_finds_its_claim_by_the_interchange_it_names() {
    let ch = clearinghouse(NoRules);
    let drops = InMemoryObjectStore::new();

    // A 999 our validator writes for an 837 with an error: AK9 R, naming the segment.
    let (by_999, x12) = sent_claim(&ch, "FILE-B1");
    let text = String::from_utf8(x12).unwrap();
    let broken = text.replacen("CLM*FILE-B1*", "CLM**", 1);
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let findings = hms_x12::validate::validate_bytes(broken.as_bytes(), catalog);
    assert!(findings.has_errors());
    let options = hms_x12::ack::AckOptions {
        date: "20261202".into(),
        time: "1200".into(),
        control_number: 21,
    };
    let ack_999 = hms_x12::ack::ack_999(&findings, &options).unwrap();
    assert!(String::from_utf8_lossy(&ack_999).contains("AK9*R"));
    let done = report(take_in(&ch, &drops, "c.999", &ack_999));
    assert_eq!((done.read, done.moved), (1, 1), "{done:?}");
    let rejected = record(&ch, &by_999);
    assert_eq!(rejected.state, ClaimState::RejectedByPayer);
    let why = &rejected.outcome.unwrap().issue;
    assert!(
        why.iter().any(|i| i.details.text.contains("CLM")),
        "the 999's IK3 names the segment: {why:?}"
    );

    // A TA1 that accepts moves nothing; one that rejects rejects the claim sent in it.
    let (by_ta1, x12) = sent_claim(&ch, "FILE-B2");
    let (payer, icn) = (isa(&x12, 8), isa(&x12, 13));
    let done = report(take_in(&ch, &drops, "d.ta1", &ta1(&payer, &icn, "A")));
    assert_eq!((done.read, done.unchanged), (1, 1), "{done:?}");
    let done = report(take_in(&ch, &drops, "e.ta1", &ta1(&payer, &icn, "R")));
    assert_eq!(done.moved, 1, "{done:?}");
    assert_eq!(record(&ch, &by_ta1).state, ClaimState::RejectedByPayer);

    // An interchange we never sent, or one sent by another partner, answers no claim.
    let done = report(take_in(
        &ch,
        &drops,
        "f.ta1",
        &ta1(&payer, "000777777", "R"),
    ));
    assert_eq!(
        (done.read, done.unmatched, done.moved),
        (1, 1, 0),
        "{done:?}"
    );
    let elsewhere = ta1("OTHERPAYER     ", &icn, "R");
    let done = report(take_in(&ch, &drops, "g.ta1", &elsewhere));
    assert_eq!(done.unmatched, 1, "{done:?}");
}

#[test]
fn a_277ca_of_a_claim_still_being_handed_over_asks_to_be_delivered_again() {
    let ch = clearinghouse(NoRules);
    let drops = InMemoryObjectStore::new();
    ch.ports.gateway.inner.then(PayerAnswer::Silent);
    let id = submit(&ch, &with_control_number(&professional(), "FILE-C1"), None).id();
    // Queued, not yet handed over: the payer's answer cannot be for a claim it does not have
    // on our record; the file is to come again.
    let messages = queued(&ch);
    assert_eq!(record(&ch, &id).state, ClaimState::WaitingForPayer);
    for (message, _) in &messages {
        deliver(&ch, message).unwrap();
    }
    let x12 = ch.ports.gateway.inner.received().pop().unwrap();
    let (_, ack_277) = acks_of(&x12, false);
    // Back to before the hand-over was recorded: as if the worker were still at it.
    let mut stale = record(&ch, &id);
    stale.state = ClaimState::Sending;
    let current = block_on(ch.ports.store.inner.get(&id)).unwrap().unwrap();
    stale.version = current.version;
    block_on(ch.ports.store.inner.update(&stale)).unwrap();
    let outcome = take_in(&ch, &drops, "h.277", &ack_277);
    assert!(outcome.wants_redelivery(), "{outcome:?}");
    assert_eq!(report(outcome).later, 1);
    assert_eq!(record(&ch, &id).state, ClaimState::Sending);
}

#[test]
fn a_broken_acknowledgment_file_is_quarantined_and_moves_nothing() {
    let ch = clearinghouse(NoRules);
    let drops = InMemoryObjectStore::new();
    let (id, x12) = sent_claim(&ch, "FILE-D1");
    let (_, ack_277) = acks_of(&x12, true);
    let cut = ack_277[..ack_277.len() * 2 / 3].to_vec();
    let outcome = take_in(&ch, &drops, "cut.277", &cut);
    assert!(
        matches!(outcome, FileOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    assert!(
        block_on(drops.get("rejected/payer/cut.277"))
            .unwrap()
            .is_some()
    );
    assert_eq!(record(&ch, &id).state, ClaimState::Submitted);
}

#[test]
fn acknowledgments_taken_in_by_a_process_that_dies_anywhere_move_each_claim_once() {
    let mut deaths = 0;
    for crash_at in 1..40 {
        let crash = Crash::new();
        let ch = clearinghouse_in(NoRules, &crash);
        let drops = InMemoryObjectStore::new();
        let (a, a_x12) = sent_claim(&ch, "FILE-E1");
        let (b, b_x12) = sent_claim(&ch, "FILE-E2");
        let (_, a_277) = acks_of(&a_x12, false);
        let (_, b_277) = acks_of(&b_x12, true);
        // One file of two 277CA interchanges (each its own control number), as a payer
        // batches its answers.
        let b_277 = String::from_utf8(b_277)
            .unwrap()
            .replace("*000000007*", "*000000008*")
            .replace("IEA*1*000000007", "IEA*1*000000008");
        let file = [a_277, b_277.into_bytes()].concat();
        block_on(drops.put("inbound/payer/both.277", file)).unwrap();
        crash.arm(crash_at);
        let first = block_on(ch.ingest_drop(&drops, "inbound/payer/both.277"));
        crash.revive();
        if let Ok(done) = &first {
            assert!(
                matches!(
                    done,
                    Ingested::File {
                        outcome: FileOutcome::Acknowledged { .. },
                        ..
                    }
                ),
                "{done:?}"
            );
            continue;
        }
        deaths += 1;
        // The queue delivers it again.
        block_on(ch.ingest_drop(&drops, "inbound/payer/both.277")).unwrap();
        for (id, state) in [
            (&a, ClaimState::AcceptedByPayer),
            (&b, ClaimState::RejectedByPayer),
        ] {
            let claim = record(&ch, id);
            assert_eq!(claim.state, state, "crash at {crash_at}");
            let moves = claim.history.iter().filter(|h| h.state == state).count();
            assert_eq!(moves, 1, "crash at {crash_at}");
        }
    }
    assert!(deaths >= 3, "only {deaths} runs died");
}
