//! The use cases over in-memory ports and an in-memory payer: every path a claim or an
//! inquiry can take, with what is stored, queued, announced and answered.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod support;

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use hms_domain::claims::{Claim, read_claim};
use hms_domain::partner::{Connections, Envelope};
use hms_service::delivery::Delivery;
use hms_service::lifecycle::{ClaimId, ClaimState};
use hms_service::ports::{GatewayError, NoRules, ObjectStore, RuleEngine, RuleVerdict};
use hms_service::service::{RetryPolicy, ServiceError};
use hms_service::testing::PayerAnswer;
use pollster::block_on;
use support::*;

/// Holds every claim with a finding, as a payer's rule set that refuses would.
struct RefusingRules;

impl RuleEngine for RefusingRules {
    fn review(&self, _claim: &Claim) -> RuleVerdict {
        RuleVerdict {
            claim: None,
            issues: vec![hms_domain::outcome::Issue {
                severity: hms_domain::outcome::IssueSeverity::Error,
                code: hms_domain::outcome::IssueType::BusinessRule,
                diagnostics: Some("prior-auth-required".into()),
                details: hms_domain::outcome::Details {
                    text: "prior-auth-rules: prior authorization required".into(),
                },
                expression: vec!["/claim/priorAuthorization".into()],
            }],
            held: true,
        }
    }
}

#[test]
fn a_clean_claim_is_answered_at_once_then_sent_once_acknowledged_and_accepted() {
    let ch = clearinghouse(NoRules);
    let answer = submit(&ch, &professional(), None);
    assert!(answer.accepted, "{}", answer.body);
    assert_eq!(answer.body["state"], "waiting-for-payer");
    assert!(
        ch.ports.gateway.inner.received().is_empty(),
        "the submit path called the payer"
    );
    let id = answer.id();
    let messages = queued(&ch);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.claim_id, id);
    assert_eq!(
        deliver(&ch, &messages[0].0).unwrap(),
        Delivery::Sent(ClaimState::AcceptedByPayer)
    );
    assert_eq!(
        states(&ch, &id),
        [
            ClaimState::Received,
            ClaimState::WaitingForPayer,
            ClaimState::Sending,
            ClaimState::Submitted,
            ClaimState::AcceptedByPayer
        ]
    );
    // Every move reached the change stream, in order, as the outbox announces it.
    let events: Vec<ClaimState> = ch
        .ports
        .store
        .inner
        .events()
        .iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        events,
        [
            ClaimState::WaitingForPayer,
            ClaimState::Sending,
            ClaimState::Submitted,
            ClaimState::AcceptedByPayer
        ]
    );
    // The 837 the payer got is the one kept, and it passes our validator.
    let stored = record(&ch, &id);
    let identity = stored.submission.clone().unwrap();
    let kept = block_on(ch.ports.objects.get(&identity.x12_key))
        .unwrap()
        .unwrap();
    assert_eq!(
        ch.ports.gateway.inner.received(),
        std::slice::from_ref(&kept)
    );
    let report =
        hms_x12::validate::validate_bytes(&kept, hms_x12::spec::Catalog::embedded().unwrap());
    assert!(
        !report.has_errors(),
        "{:?}",
        report.errors().collect::<Vec<_>>()
    );
    assert_eq!(identity.interchange_control_number, 1);
    assert_eq!(stored.due_at, None);
    // A second delivery of the same message sends nothing.
    assert_eq!(
        deliver(&ch, &messages[0].0).unwrap(),
        Delivery::NotNeeded(Some(ClaimState::AcceptedByPayer))
    );
    assert_eq!(ch.ports.gateway.inner.batches(), 1);
}

#[test]
fn a_claim_the_scrubber_rejects_is_stored_as_such_answered_with_pointers_and_never_queued() {
    let ch = clearinghouse(NoRules);
    let mut claim: serde_json::Value = serde_json::from_slice(&professional()).unwrap();
    claim["claim"]["totalCharge"] = "1.00".into();
    let answer = submit(&ch, &serde_json::to_vec(&claim).unwrap(), None);
    assert!(!answer.accepted);
    assert_eq!(answer.body["state"], "rejected-by-scrubber");
    let issue = &answer.body["outcome"]["issue"][0];
    assert_eq!(issue["expression"][0], "/claim/totalCharge");
    assert_eq!(
        states(&ch, &answer.id()),
        [ClaimState::Received, ClaimState::RejectedByScrubber]
    );
    assert!(queued(&ch).is_empty());
    // The fixed claim, with the same patient control number, is taken: the first never
    // reached the payer.
    let fixed = submit(&ch, &professional(), None);
    assert!(fixed.accepted, "{}", fixed.body);
}

#[test]
fn fhir_claims_are_read_and_their_findings_point_with_fhirpath() {
    let ch = clearinghouse(NoRules);
    let mut claim: serde_json::Value =
        serde_json::from_slice(&fixture("fhir/claim-professional.json")).unwrap();
    claim["total"]["value"] = 1.into();
    let answer = submit(&ch, &serde_json::to_vec(&claim).unwrap(), None);
    assert!(!answer.accepted, "{}", answer.body);
    assert_eq!(
        answer.body["outcome"]["issue"][0]["expression"][0],
        "Claim.total"
    );
    let answer = submit(&ch, &fixture("fhir/claim-institutional.json"), None);
    assert!(answer.accepted, "{}", answer.body);
    assert_eq!(answer.body["kind"], "institutional");
    drain(&ch);
    assert_eq!(record(&ch, &answer.id()).state, ClaimState::AcceptedByPayer);
}

#[test]
fn a_fhir_bundle_is_submitted_as_one_claim_and_the_readers_choices_are_shown() {
    let ch = clearinghouse(NoRules);
    let answer = submit(
        &ch,
        &fixture("fhir/claim-professional-transaction-bundle.json"),
        None,
    );
    assert!(answer.accepted, "{}", answer.body);
    let notes: Vec<&serde_json::Value> = answer.body["outcome"]["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["diagnostics"] == "claim-filing-indicator-default")
        .collect();
    assert_eq!(notes.len(), 1, "{}", answer.body);
    assert_eq!(notes[0]["severity"], "information");
    drain(&ch);
    let stored = record(&ch, &answer.id());
    assert_eq!(stored.state, ClaimState::AcceptedByPayer);
    assert!(
        stored
            .outcome
            .unwrap()
            .issue
            .iter()
            .any(|i| i.diagnostics.as_deref() == Some("claim-filing-indicator-default")),
        "the note stays with the claim"
    );
}

#[test]
fn a_claim_the_payers_rules_hold_is_stored_held_with_the_rule_finding() {
    let ch = clearinghouse(RefusingRules);
    let answer = submit(&ch, &professional(), None);
    assert!(!answer.accepted);
    assert_eq!(answer.body["state"], "held-by-rules");
    assert_eq!(
        answer.body["outcome"]["issue"][0]["diagnostics"],
        "prior-auth-required"
    );
    assert!(queued(&ch).is_empty());
}

#[test]
fn a_claim_the_payer_rejects_in_its_277ca_or_its_ta1_is_rejected_by_payer_with_why() {
    let ch = clearinghouse(NoRules);
    ch.ports
        .gateway
        .inner
        .then(PayerAnswer::Acknowledge { reject: true });
    let answer = submit(&ch, &professional(), None);
    drain(&ch);
    let rejected = record(&ch, &answer.id());
    assert_eq!(rejected.state, ClaimState::RejectedByPayer);
    let text = serde_json::to_string(&rejected.outcome).unwrap();
    assert!(text.contains("payer-277ca-A7:21"), "{text}");

    // Rejected, its control number is free for the corrected original.
    ch.ports.gateway.inner.then(PayerAnswer::RejectInterchange);
    let again = submit(&ch, &professional(), None);
    assert!(again.accepted, "{}", again.body);
    drain(&ch);
    let rejected = record(&ch, &again.id());
    assert_eq!(rejected.state, ClaimState::RejectedByPayer);
    let text = serde_json::to_string(&rejected.outcome).unwrap();
    assert!(text.contains("payer-ta1-006"), "{text}");
    // A resubmission after a rejection is no duplicate: the payer never held the first.
    assert_eq!(ch.ports.gateway.inner.duplicates(), 0);
}

#[test]
fn a_payer_that_cannot_be_reached_is_retried_with_backoff_dead_lettered_and_redriven() {
    let mut ch = clearinghouse(NoRules);
    ch.timing.retry = RetryPolicy {
        max_attempts: 3,
        first_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(900),
    };
    let timeout = GatewayError::Timeout {
        after: Duration::from_secs(10),
    };
    for _ in 0..3 {
        ch.ports
            .gateway
            .inner
            .then(PayerAnswer::Fail(timeout.clone()));
    }
    let id = submit(&ch, &professional(), None).id();
    let first = queued(&ch);
    assert_eq!(deliver(&ch, &first[0].0).unwrap(), Delivery::Retrying);
    let second = queued(&ch);
    assert_eq!(second[0].1, Duration::from_secs(30));
    // A duplicate delivery of the old message, after the claim moved on, takes it (it is
    // waiting) and tries again: attempts are counted on the claim, not the message.
    assert_eq!(deliver(&ch, &first[0].0).unwrap(), Delivery::Retrying);
    assert_eq!(queued(&ch)[0].1, Duration::from_secs(60));
    assert_eq!(deliver(&ch, &second[0].0).unwrap(), Delivery::DeadLettered);
    let stored = record(&ch, &id);
    assert_eq!(stored.state, ClaimState::DeadLettered);
    assert_eq!(stored.due_at, None);
    assert!(queued(&ch).is_empty());
    // Its 837 is kept; every attempt sent the same bytes under the same payload id.
    let received = ch.ports.gateway.inner.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|x| *x == received[0]));

    // Redriven by an operator: back in the queue, attempts afresh, and this time it lands.
    let redriven = block_on(ch.redrive(&clinic(), &id)).unwrap();
    assert_eq!(redriven.state, ClaimState::WaitingForPayer);
    drain(&ch);
    assert_eq!(record(&ch, &id).state, ClaimState::AcceptedByPayer);
    assert_eq!(ch.ports.gateway.inner.duplicates(), 0);
    let err = block_on(ch.redrive(&clinic(), &id)).unwrap_err();
    assert!(matches!(err, ServiceError::NotApplicable { .. }), "{err:?}");
    // Another organization cannot see it to redrive it.
    let err = block_on(ch.redrive(&other_clinic(), &id)).unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
}

#[test]
fn a_message_sqs_dead_lettered_parks_its_claim_for_an_operator_who_redrives_it() {
    let ch = clearinghouse(NoRules);
    let id = submit(&ch, &professional(), None).id();
    let message = queued(&ch).remove(0).0;
    // Five failed receives later SQS moves the message to the dead-letter queue.
    assert_eq!(
        block_on(ch.message_dead_lettered(&message)).unwrap(),
        Delivery::DeadLettered
    );
    let stored = record(&ch, &id);
    assert_eq!(stored.state, ClaimState::DeadLettered);
    let reason = stored.history.last().unwrap().reason.clone().unwrap();
    assert!(reason.contains("SQS dead-lettered it"), "{reason}");
    assert_eq!(
        deliver(&ch, &message).unwrap(),
        Delivery::NotNeeded(Some(ClaimState::DeadLettered))
    );
    block_on(ch.redrive(&clinic(), &id)).unwrap();
    drain(&ch);
    assert_eq!(record(&ch, &id).state, ClaimState::AcceptedByPayer);
    // A dead letter about a claim that moved on since changes nothing.
    assert_eq!(
        block_on(ch.message_dead_lettered(&message)).unwrap(),
        Delivery::NotNeeded(Some(ClaimState::AcceptedByPayer))
    );
}

#[test]
fn an_idempotency_key_replays_the_claim_as_it_is_now_and_refuses_another_body() {
    let ch = clearinghouse(NoRules);
    let body = professional();
    let first = submit(&ch, &body, Some("key-1"));
    assert!(first.accepted && !first.replayed);
    drain(&ch);
    let again = submit(&ch, &body, Some("key-1"));
    assert!(again.replayed);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.body["state"], "accepted-by-payer");
    assert_eq!(ch.ports.gateway.inner.batches(), 1);

    let other = fixture("claims/professional-dependent.json");
    let Err(conflict) = try_submit(&ch, &clinic(), &other, Some("key-1")) else {
        panic!("another body under a used key was taken");
    };
    assert!(
        matches!(conflict, ServiceError::Conflict(_)),
        "{conflict:?}"
    );
    assert!(conflict.to_string().contains("another request body"));
}

#[test]
fn an_original_claim_whose_control_number_the_payer_has_is_refused_naming_the_first() {
    let ch = clearinghouse(NoRules);
    let first = submit(&ch, &professional(), None);
    drain(&ch);
    let Err(err) = try_submit(&ch, &clinic(), &professional(), None) else {
        panic!("the same original went through twice");
    };
    let ServiceError::Duplicate { first: named } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*named, first.id());
    // A replacement quotes the same number, and goes through.
    let mut replacement: serde_json::Value = serde_json::from_slice(&professional()).unwrap();
    replacement["claim"]["frequency"] = "7".into();
    let answer = try_submit(
        &ch,
        &clinic(),
        &serde_json::to_vec(&replacement).unwrap(),
        None,
    );
    // (Whether the scrubber wants more of a replacement is its business; it is no duplicate.)
    assert!(
        !matches!(answer, Err(ServiceError::Duplicate { .. })),
        "{answer:?}"
    );
    // Another number is another claim.
    let other = submit(&ch, &with_control_number(&professional(), "PCN-2"), None);
    assert!(other.accepted, "{}", other.body);
    drain(&ch);
    assert_eq!(ch.ports.gateway.inner.duplicates(), 0);
}

#[test]
fn a_silent_payer_is_polled_on_schedule_until_it_answers() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.inner.then(PayerAnswer::Silent);
    let id = submit(&ch, &professional(), None).id();
    drain(&ch);
    assert_eq!(record(&ch, &id).state, ClaimState::Submitted);
    assert_eq!(
        record(&ch, &id).due_at.unwrap(),
        ch.now() + TimeDelta::seconds(60)
    );
    // Nothing is due yet: the sweep leaves it alone.
    assert_eq!(
        block_on(ch.sweep(100, std::time::Duration::MAX))
            .unwrap()
            .polled,
        0
    );
    ch.ports.clock.advance(TimeDelta::seconds(61));
    assert_eq!(
        block_on(ch.sweep(100, std::time::Duration::MAX))
            .unwrap()
            .polled,
        1
    );
    let stored = record(&ch, &id);
    assert_eq!(stored.acknowledgment_polls, 2);
    assert_eq!(stored.due_at.unwrap(), ch.now() + TimeDelta::seconds(300));
    // The payer answers; the next poll moves the claim.
    ch.ports.gateway.inner.acknowledge_later(false);
    ch.ports.clock.advance(TimeDelta::seconds(301));
    assert_eq!(
        block_on(ch.sweep(100, std::time::Duration::MAX))
            .unwrap()
            .polled,
        1
    );
    assert_eq!(record(&ch, &id).state, ClaimState::AcceptedByPayer);
    assert_eq!(record(&ch, &id).due_at, None);
}

#[test]
fn a_payer_that_never_acknowledges_leaves_the_claim_for_an_operator_after_the_schedule() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.inner.then(PayerAnswer::Silent);
    let id = submit(&ch, &professional(), None).id();
    drain(&ch);
    let mut sweeps = 0;
    while record(&ch, &id).state == ClaimState::Submitted {
        ch.ports.clock.advance(TimeDelta::hours(1));
        block_on(ch.sweep(100, std::time::Duration::MAX)).unwrap();
        sweeps += 1;
        assert!(sweeps < 100, "still polling after {sweeps} hours");
    }
    let stored = record(&ch, &id);
    assert_eq!(stored.state, ClaimState::NoAcknowledgment);
    assert_eq!(stored.due_at, None);
    assert!((72..=74).contains(&sweeps), "{sweeps}");
    // The operator asks again; still nothing, so it stays for them.
    let again = block_on(ch.redrive(&clinic(), &id)).unwrap();
    assert_eq!(again.state, ClaimState::NoAcknowledgment);
    assert_eq!(again.due_at, None);
    // The payer answers at last: the next ask moves the claim.
    ch.ports.gateway.inner.acknowledge_later(false);
    let late = block_on(ch.redrive(&clinic(), &id)).unwrap();
    assert_eq!(late.state, ClaimState::AcceptedByPayer);
    assert_eq!(ch.ports.gateway.inner.batches(), 1);
}

#[test]
fn the_sweep_resumes_intake_and_requeues_claims_whose_step_died() {
    let ch = clearinghouse(NoRules);
    let id = submit(&ch, &professional(), None).id();
    // The message is lost: nothing takes the claim until the sweep finds it due.
    let lost = queued(&ch);
    assert_eq!(lost.len(), 1);
    assert_eq!(
        block_on(ch.sweep(100, std::time::Duration::MAX))
            .unwrap()
            .requeued,
        0
    );
    // A sweep whose time is spent starts nothing and says there is more.
    ch.ports.clock.advance(TimeDelta::hours(1));
    let spent = block_on(ch.sweep(100, Duration::ZERO)).unwrap();
    assert_eq!((spent.requeued, spent.more), (0, true));
    ch.ports.clock.advance(-TimeDelta::hours(1));
    ch.ports
        .clock
        .advance(TimeDelta::from_std(ch.timing.pickup_grace).unwrap() + TimeDelta::seconds(1));
    let report = block_on(ch.sweep(100, std::time::Duration::MAX)).unwrap();
    assert_eq!(report.requeued, 1);
    drain(&ch);
    assert_eq!(record(&ch, &id).state, ClaimState::AcceptedByPayer);
    assert_eq!(ch.ports.gateway.inner.batches(), 1);
}

#[test]
fn another_organization_neither_sees_nor_submits_for_the_clinics_providers() {
    let ch = clearinghouse(NoRules);
    let id = submit(&ch, &professional(), None).id();
    let err = block_on(ch.claim(&other_clinic(), &id)).unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let err = try_submit(&ch, &other_clinic(), &professional(), None).unwrap_err();
    assert!(matches!(err, ServiceError::NotYourProvider(_)), "{err:?}");
    assert!(err.to_string().contains("1912301953"), "{err}");
    // Its keys are its own: the clinic's key name means nothing to it.
    let _ = submit(
        &ch,
        &with_control_number(&professional(), "PCN-2"),
        Some("shared-name"),
    );
    let err = try_submit(&ch, &other_clinic(), &professional(), Some("shared-name")).unwrap_err();
    assert!(matches!(err, ServiceError::NotYourProvider(_)), "{err:?}");
    let (inquiry, _) =
        hms_domain::eligibility::read_inquiry(&fixture("eligibility/inquiry-subscriber.json"))
            .unwrap();
    let err = block_on(ch.query_eligibility(&other_clinic(), &inquiry)).unwrap_err();
    assert!(matches!(err, ServiceError::NotYourProvider(_)), "{err:?}");
    assert!(ch.ports.gateway.inner.received().is_empty());
}

#[test]
fn bad_bodies_and_unknown_claims_get_specific_answers() {
    use hms_domain::request::RequestError;
    let ch = clearinghouse(NoRules);
    let submitter = &ch.connections;
    let err = read_claim(b"{not json", submitter).unwrap_err();
    assert!(matches!(err, RequestError::NotJson(_)), "{err:?}");
    let err = read_claim(br#"{"resourceType":"Patient"}"#, submitter).unwrap_err();
    assert!(matches!(err, RequestError::Invalid(_)), "{err:?}");
    let err = read_claim(br#"{"claim":{}}"#, submitter).unwrap_err();
    assert!(matches!(err, RequestError::Invalid(_)), "{err:?}");
    let unknown = ClaimId::parse("clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f").unwrap();
    let err = block_on(ch.claim(&clinic(), &unknown)).unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    assert!(ClaimId::parse("../etc/passwd").is_err());
}

#[test]
fn eligibility_answers_benefits_and_turns_payer_trouble_into_504_and_502() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.inner.answer(Ok(sample(
        "271_005010X279A1/subscriber-health-benefit-check.271",
    )));
    let (inquiry, format) =
        hms_domain::eligibility::read_inquiry(&fixture("eligibility/inquiry-subscriber.json"))
            .unwrap();
    assert_eq!(format, hms_domain::request::Format::Json);
    let responses = block_on(ch.query_eligibility(&clinic(), &inquiry)).unwrap();
    assert!(!responses[0].members[0].plans.is_empty());
    let sent = ch.ports.gateway.inner.received()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*270"));

    ch.ports.gateway.inner.answer(Err(GatewayError::Timeout {
        after: Duration::from_secs(20),
    }));
    let err = block_on(ch.query_eligibility(&clinic(), &inquiry)).unwrap_err();
    assert!(matches!(err, ServiceError::PayerTimeout(_)), "{err:?}");

    ch.ports
        .gateway
        .inner
        .answer(Ok(b"this is not X12".to_vec()));
    let err = block_on(ch.query_eligibility(&clinic(), &inquiry)).unwrap_err();
    assert!(
        matches!(err, ServiceError::PayerAnswerUnreadable(_)),
        "{err:?}"
    );
}

#[test]
fn an_eligibility_rejection_is_a_422_with_the_payers_reason_and_its_meaning() {
    let ch = clearinghouse(NoRules);
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let mut response = hms_domain::eligibility::read_271(
        &sample("271_005010X279A1/subscriber-health-benefit-check.271"),
        catalog,
    )
    .unwrap()
    .remove(0);
    let member = &mut response.members[0];
    member.plans.clear();
    member.errors.push(hms_domain::eligibility::Rejection {
        valid_request: true,
        reason_code: "75".into(),
        reason: None,
        follow_up_code: "C".into(),
        follow_up: None,
    });
    let envelope = Envelope::new(
        9,
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .unwrap()
            .naive_utc(),
    );
    let x12 =
        hms_domain::eligibility::response_271(&response, &Connections::local().default, &envelope)
            .unwrap();
    ch.ports.gateway.inner.answer(Ok(x12));
    let (inquiry, _) =
        hms_domain::eligibility::read_inquiry(&fixture("eligibility/inquiry-subscriber.json"))
            .unwrap();
    let err = block_on(ch.query_eligibility(&clinic(), &inquiry)).unwrap_err();
    let ServiceError::Rejected { rejections, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(rejections[0].reason_code, "75");
    let text = rejections[0].reason.as_deref().unwrap_or_default();
    assert!(text.contains("Subscriber/Insured Not Found"), "{text}");
}

#[test]
fn claim_status_sends_a_276_and_reads_the_277() {
    let ch = clearinghouse(NoRules);
    ch.ports
        .gateway
        .inner
        .answer(Ok(sample("277_005010X212/claim-level-status.277")));
    let inquiry =
        hms_domain::claim_status::read_inquiry(&fixture("status/inquiry-subscriber.json")).unwrap();
    let responses = block_on(ch.claim_status(&clinic(), &inquiry)).unwrap();
    assert!(!responses[0].claims.is_empty());
    let sent = ch.ports.gateway.inner.received()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*276"));
    let err = hms_domain::claim_status::read_inquiry(b"[]").unwrap_err();
    assert!(
        matches!(err, hms_domain::request::RequestError::Invalid(_)),
        "{err:?}"
    );
}

#[test]
fn an_inquiry_whose_270_fails_our_validator_is_a_422_naming_the_element_and_never_sent() {
    let ch = clearinghouse(NoRules);
    let mut json: serde_json::Value =
        serde_json::from_slice(&fixture("eligibility/inquiry-subscriber.json")).unwrap();
    json["subscriber"]["name"]["last"] = "A".repeat(100_000).into();
    let (inquiry, _) =
        hms_domain::eligibility::read_inquiry(&serde_json::to_vec(&json).unwrap()).unwrap();
    let err = block_on(ch.query_eligibility(&clinic(), &inquiry)).unwrap_err();
    let ServiceError::Invalid(outcome) = &err else {
        panic!("{err:?}")
    };
    let text = &outcome.issue[0].details.text;
    assert!(
        text.contains("NM103") && text.contains("too long"),
        "{text}"
    );
    assert!(ch.ports.gateway.inner.received().is_empty());
}

/// The outpatient fixture with `lines` lines (each the first, its own line control number) and
/// the total they add up to.
fn outpatient_with_lines(lines: usize) -> Vec<u8> {
    let mut claim: serde_json::Value =
        serde_json::from_slice(&fixture("claims/institutional-outpatient.json")).unwrap();
    let line = claim["serviceLines"][0].clone();
    let charge: rust_decimal::Decimal = line["charge"].as_str().unwrap().parse().unwrap();
    claim["serviceLines"] = (1..=lines)
        .map(|n| {
            let mut line = line.clone();
            line["lineControlNumber"] = n.to_string().into();
            line
        })
        .collect();
    claim["claim"]["totalCharge"] = (charge * rust_decimal::Decimal::from(lines))
        .to_string()
        .into();
    claim["claim"]["patientControlNumber"] = format!("LINES{lines}").into();
    serde_json::to_vec(&claim).unwrap()
}

#[test]
fn the_largest_claim_an_837_takes_is_kept_in_one_record_and_a_larger_one_is_refused_unstored() {
    let ch = clearinghouse(NoRules);
    // 999 lines, an 837I's most: received, kept, and its record fits a DynamoDB item.
    let answer = submit(&ch, &outpatient_with_lines(999), None);
    let id = answer.body["claimId"].as_str().unwrap().to_string();
    let record = block_on(ch.claim(&clinic(), &ClaimId::parse(&id).unwrap())).unwrap();
    let kept = serde_json::to_vec(&record).unwrap().len();
    assert!(kept < 400_000, "{kept} bytes");
    // Far past it: refused before anything is stored, naming the size.
    let err = try_submit(&ch, &clinic(), &outpatient_with_lines(3_000), None).unwrap_err();
    let ServiceError::Invalid(outcome) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        outcome.issue[0].diagnostics.as_deref(),
        Some("claim-too-large")
    );
    assert!(
        outcome.issue[0].details.text.contains("at most 240000"),
        "{outcome:?}"
    );
}
