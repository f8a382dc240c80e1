//! The use cases over in-memory ports and a scripted payer: every path a claim or an inquiry
//! can take, with what is stored, queued and answered.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use hms_domain::claims::{Claim, read_claim};
use hms_domain::outcome::OperationOutcome;
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_service::lifecycle::{ClaimEvent, ClaimId, ClaimState, Submitted};
use hms_service::ports::{
    Adapters, GatewayError, NoRules, ObjectStore, PayerGateway, RealTime, RuleEngine, RuleVerdict,
    Topic,
};
use hms_service::service::{Clearinghouse, RetryPolicy, ServiceError, SubmissionRetry};
use hms_service::testing::{InMemoryClaimStore, InMemoryObjectStore, InMemoryQueue, ManualClock};
use pollster::block_on;
use serde_json::Value;

/// What the scripted payer does with the next 837.
#[derive(Debug, Clone)]
enum Next {
    /// Fails the exchange.
    Fail(GatewayError),
    /// Answers with a 999 (from our own validator) and a 277CA accepting the claim, or
    /// rejecting it when `reject`.
    Acknowledge { reject: bool },
    /// Answers nothing at once.
    Silent,
}

#[derive(Debug, Default)]
struct ScriptedPayer {
    batches: Mutex<VecDeque<Next>>,
    real_time: Mutex<VecDeque<Result<Vec<u8>, GatewayError>>>,
    received: Mutex<Vec<Vec<u8>>>,
}

impl ScriptedPayer {
    fn then(&self, next: Next) -> &Self {
        self.batches.lock().unwrap().push_back(next);
        self
    }
    fn answer(&self, reply: Result<Vec<u8>, GatewayError>) {
        self.real_time.lock().unwrap().push_back(reply);
    }
}

fn partner() -> TradingPartner {
    Connections::local().default
}

fn acknowledgments(x12: &[u8], reject: bool) -> Vec<Vec<u8>> {
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let report = hms_x12::validate::validate_bytes(x12, catalog);
    let options = hms_x12::ack::AckOptions {
        date: "20261202".into(),
        time: "1200".into(),
        control_number: 1,
    };
    let ack_999 = hms_x12::ack::ack_999(&report, &options).unwrap();
    let claims = hms_domain::claims::read_837::read_837(x12, catalog).unwrap();
    let outcome = if reject {
        OperationOutcome::new(vec![hms_domain::outcome::Issue {
            severity: hms_domain::outcome::IssueSeverity::Error,
            code: hms_domain::outcome::IssueType::BusinessRule,
            diagnostics: Some("payer-edit".into()),
            details: hms_domain::outcome::Details {
                text: "member not on file for the date of service".into(),
            },
            expression: vec![],
        }])
    } else {
        OperationOutcome::new(vec![])
    };
    let batch: Vec<_> = claims
        .iter()
        .map(|claim| hms_domain::claims::ack_277ca::Reviewed {
            claim,
            outcome: &outcome,
        })
        .collect();
    let envelope = Envelope::new(
        7,
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .unwrap()
            .naive_utc(),
    );
    let ack_277 = hms_domain::claims::ack_277ca::claim_acknowledgment(
        &batch,
        &hms_domain::claims::ack_277ca::InformationSource {
            name: "PAYER".into(),
            id: "PAYER".into(),
        },
        "0001",
        envelope.created.date(),
        &partner(),
        &envelope,
    )
    .unwrap();
    vec![ack_999, ack_277]
}

impl PayerGateway for ScriptedPayer {
    async fn real_time(
        &self,
        _payer_id: &str,
        _exchange: RealTime,
        x12: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        self.received.lock().unwrap().push(x12.to_vec());
        self.real_time
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Err(GatewayError::Unavailable {
                status: Some(500),
                message: "no answer scripted".into(),
            }))
    }

    async fn submit_batch(
        &self,
        _payer_id: &str,
        x12: &[u8],
    ) -> Result<Vec<Vec<u8>>, GatewayError> {
        self.received.lock().unwrap().push(x12.to_vec());
        let next = self
            .batches
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Next::Silent);
        match next {
            Next::Fail(e) => Err(e),
            Next::Acknowledge { reject } => Ok(acknowledgments(x12, reject)),
            Next::Silent => Ok(vec![]),
        }
    }
}

/// Holds every claim with a finding, as a payer's rule set that refuses would.
struct RefusingRules;

impl RuleEngine for RefusingRules {
    fn review(&self, claim: &Claim) -> RuleVerdict {
        RuleVerdict {
            claim: claim.clone(),
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

type Test<R> = Clearinghouse<
    Adapters<InMemoryClaimStore, InMemoryObjectStore, InMemoryQueue, ScriptedPayer, R, ManualClock>,
>;

fn clearinghouse<R: RuleEngine>(rules: R) -> Test<R> {
    Clearinghouse {
        ports: Adapters {
            store: InMemoryClaimStore::new(),
            objects: InMemoryObjectStore::new(),
            queue: InMemoryQueue::new(),
            gateway: ScriptedPayer::default(),
            rules,
            clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()),
        },
        connections: Connections::local(),
        retry: RetryPolicy::default(),
    }
}

/// What a caller is told of a submission: whether the claim went on its way (the function
/// says 202) or was stopped (422), what it sees of the claim, and whether it was replayed.
struct Answer {
    accepted: bool,
    body: Value,
    replayed: bool,
}

/// A claim submitted as the function glue submits it: the body read, then the use case.
fn try_submit<R: RuleEngine>(
    ch: &Test<R>,
    body: &[u8],
    key: Option<&str>,
) -> Result<Answer, ServiceError> {
    let (claim, format) = read_claim(body, &ch.connections.submitter).unwrap();
    block_on(ch.submit_claim(claim, format, key)).map(|r| Answer {
        accepted: matches!(r.answer, Submitted::Accepted(_)),
        body: serde_json::to_value(r.answer.claim()).unwrap(),
        replayed: r.replayed,
    })
}

fn submit<R: RuleEngine>(ch: &Test<R>, body: &[u8], key: Option<&str>) -> Answer {
    try_submit(ch, body, key).unwrap()
}

/// A queued retry as the worker reads it.
fn retry<R: RuleEngine>(
    ch: &Test<R>,
    message: &[u8],
) -> Result<hms_service::lifecycle::ClaimRecord, ServiceError> {
    let message: SubmissionRetry = serde_json::from_slice(message).unwrap();
    block_on(ch.retry_submission(&message))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/functions/shared/hms-domain/tests/fixtures/{name}",
        hms_test_support::workspace().display()
    ))
    .unwrap()
}

fn states<R: RuleEngine>(ch: &Test<R>, id: &str) -> Vec<ClaimState> {
    block_on(ch.claim(&ClaimId::parse(id).unwrap()))
        .unwrap()
        .history
        .iter()
        .map(|c| c.state)
        .collect()
}

fn events<R: RuleEngine>(ch: &Test<R>) -> Vec<ClaimState> {
    ch.ports
        .queue
        .take(Topic::ClaimEvents)
        .iter()
        .map(|(body, _)| serde_json::from_slice::<ClaimEvent>(body).unwrap().state)
        .collect()
}

#[test]
fn a_clean_claim_is_sent_acknowledged_and_accepted_with_every_move_stored_and_announced() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.then(Next::Acknowledge { reject: false });
    let answer = submit(&ch, &fixture("claims/professional-subscriber.json"), None);
    assert!(answer.accepted, "{}", answer.body);
    let id = answer.body["claimId"].as_str().unwrap().to_string();
    assert_eq!(answer.body["state"], "accepted-by-payer");
    assert_eq!(
        states(&ch, &id),
        [
            ClaimState::Received,
            ClaimState::Submitted,
            ClaimState::AcceptedByPayer
        ]
    );
    assert_eq!(
        events(&ch),
        [ClaimState::Submitted, ClaimState::AcceptedByPayer]
    );
    // The 837 the payer got is the one kept, and it passes our validator.
    let record = block_on(ch.claim(&ClaimId::parse(&id).unwrap())).unwrap();
    let kept = block_on(ch.ports.objects.get(record.x12_key.as_deref().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(ch.ports.gateway.received.lock().unwrap()[0], kept);
    let report =
        hms_x12::validate::validate_bytes(&kept, hms_x12::spec::Catalog::embedded().unwrap());
    assert!(
        !report.has_errors(),
        "{:?}",
        report.errors().collect::<Vec<_>>()
    );
    assert_eq!(record.interchange_control_number, Some(1));
}

#[test]
fn a_claim_the_scrubber_rejects_is_stored_as_such_and_answered_422_with_pointers() {
    let ch = clearinghouse(NoRules);
    let mut claim: serde_json::Value =
        serde_json::from_slice(&fixture("claims/professional-subscriber.json")).unwrap();
    claim["claim"]["totalCharge"] = "1.00".into();
    let answer = submit(&ch, &serde_json::to_vec(&claim).unwrap(), None);
    assert!(!answer.accepted);
    assert_eq!(answer.body["state"], "rejected-by-scrubber");
    let issue = &answer.body["outcome"]["issue"][0];
    assert_eq!(issue["expression"][0], "/claim/totalCharge");
    let id = answer.body["claimId"].as_str().unwrap();
    assert_eq!(
        states(&ch, id),
        [ClaimState::Received, ClaimState::RejectedByScrubber]
    );
    assert!(ch.ports.gateway.received.lock().unwrap().is_empty());
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
    assert_eq!(answer.body["state"], "submitted");
}

#[test]
fn a_claim_the_payers_rules_hold_is_stored_held_with_the_rule_finding() {
    let ch = clearinghouse(RefusingRules);
    let answer = submit(&ch, &fixture("claims/professional-subscriber.json"), None);
    assert!(!answer.accepted);
    assert_eq!(answer.body["state"], "held-by-rules");
    assert_eq!(
        answer.body["outcome"]["issue"][0]["diagnostics"],
        "prior-auth-required"
    );
    assert!(ch.ports.gateway.received.lock().unwrap().is_empty());
}

#[test]
fn a_claim_the_payer_rejects_in_its_277ca_is_rejected_by_payer_with_the_status() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.then(Next::Acknowledge { reject: true });
    let answer = submit(&ch, &fixture("claims/professional-subscriber.json"), None);
    assert!(answer.accepted);
    assert_eq!(answer.body["state"], "rejected-by-payer");
    let text = answer.body["outcome"].to_string();
    assert!(text.contains("payer-277ca-A7:21"), "{text}");
}

#[test]
fn a_payer_that_cannot_be_reached_is_retried_with_backoff_then_dead_lettered_and_nothing_is_lost() {
    let mut ch = clearinghouse(NoRules);
    ch.retry = RetryPolicy {
        max_attempts: 3,
        first_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(900),
    };
    let timeout = GatewayError::Timeout {
        after: Duration::from_secs(10),
    };
    for _ in 0..3 {
        ch.ports.gateway.then(Next::Fail(timeout.clone()));
    }
    let answer = submit(&ch, &fixture("claims/professional-subscriber.json"), None);
    assert!(answer.accepted);
    assert_eq!(answer.body["state"], "waiting-for-payer");
    let id = answer.body["claimId"].as_str().unwrap().to_string();

    // Attempt 2, 60 s later: fails again, and waits twice as long.
    let queued = ch.ports.queue.take(Topic::Submissions);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1, Duration::from_secs(30));
    let record = retry(&ch, &queued[0].0).unwrap();
    assert_eq!(record.state, ClaimState::WaitingForPayer);
    let queued_again = ch.ports.queue.take(Topic::Submissions);
    assert_eq!(queued_again[0].1, Duration::from_secs(60));
    // A duplicate delivery of the old message changes nothing.
    let same = retry(&ch, &queued[0].0).unwrap();
    assert_eq!(same.version, record.version);

    // Attempt 3 is the last: dead-lettered, in the dead-letter queue, its 837 still kept.
    let record = retry(&ch, &queued_again[0].0).unwrap();
    assert_eq!(record.state, ClaimState::DeadLettered);
    assert!(ch.ports.queue.take(Topic::Submissions).is_empty());
    assert_eq!(ch.ports.queue.take(Topic::SubmissionsDeadLetter).len(), 1);
    assert!(
        block_on(ch.ports.objects.get(record.x12_key.as_deref().unwrap()))
            .unwrap()
            .is_some()
    );
    assert_eq!(
        states(&ch, &id),
        [
            ClaimState::Received,
            ClaimState::WaitingForPayer,
            ClaimState::WaitingForPayer,
            ClaimState::DeadLettered
        ]
    );
    // Every attempt sent the same bytes (the same ISA13, so the payer can spot a duplicate).
    let received = ch.ports.gateway.received.lock().unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|x| *x == received[0]));
}

#[test]
fn a_payer_that_recovers_gets_the_waiting_claim_on_the_retry() {
    let ch = clearinghouse(NoRules);
    ch.ports
        .gateway
        .then(Next::Fail(GatewayError::Unavailable {
            status: Some(503),
            message: "maintenance".into(),
        }))
        .then(Next::Acknowledge { reject: false });
    let answer = submit(&ch, &fixture("claims/professional-subscriber.json"), None);
    assert_eq!(answer.body["state"], "waiting-for-payer");
    let queued = ch.ports.queue.take(Topic::Submissions);
    let record = retry(&ch, &queued[0].0).unwrap();
    assert_eq!(record.state, ClaimState::AcceptedByPayer);
    assert_eq!(record.submit_attempts, 2);
}

#[test]
fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.then(Next::Acknowledge { reject: false });
    let body = fixture("claims/professional-subscriber.json");
    let first = submit(&ch, &body, Some("client-a:key-1"));
    assert!(first.accepted);
    assert!(!first.replayed);
    let again = submit(&ch, &body, Some("client-a:key-1"));
    assert!(again.replayed);
    assert_eq!(again.accepted, first.accepted);
    assert_eq!(again.body, first.body);
    // Only one claim reached the payer.
    assert_eq!(ch.ports.gateway.received.lock().unwrap().len(), 1);

    let other = fixture("claims/professional-dependent.json");
    let Err(conflict) = try_submit(&ch, &other, Some("client-a:key-1")) else {
        panic!("another body under a used key was taken");
    };
    assert!(
        matches!(conflict, ServiceError::Conflict(_)),
        "{conflict:?}"
    );
    assert!(conflict.to_string().contains("another request body"));
    // Another client's key of the same name is its own.
    let theirs = submit(&ch, &other, Some("client-b:key-1"));
    assert!(theirs.accepted);
}

#[test]
fn bad_bodies_and_unknown_claims_get_specific_answers() {
    use hms_domain::request::RequestError;
    let ch = clearinghouse(NoRules);
    let submitter = &ch.connections.submitter;
    let err = read_claim(b"{not json", submitter).unwrap_err();
    assert!(matches!(err, RequestError::NotJson(_)), "{err:?}");
    let err = read_claim(br#"{"resourceType":"Patient"}"#, submitter).unwrap_err();
    assert!(matches!(err, RequestError::Invalid(_)), "{err:?}");
    let err = read_claim(br#"{"claim":{}}"#, submitter).unwrap_err();
    assert!(matches!(err, RequestError::Invalid(_)), "{err:?}");
    let unknown = ClaimId::parse("clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f").unwrap();
    let err = block_on(ch.claim(&unknown)).unwrap_err();
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    assert!(ClaimId::parse("../etc/passwd").is_err());
}

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(hms_test_support::x12_samples().join(path)).unwrap()
}

#[test]
fn eligibility_answers_benefits_and_turns_payer_trouble_into_504_and_502() {
    let ch = clearinghouse(NoRules);
    ch.ports.gateway.answer(Ok(sample(
        "271_005010X279A1/subscriber-health-benefit-check.271",
    )));
    let (inquiry, format) =
        hms_domain::eligibility::read_inquiry(&fixture("eligibility/inquiry-subscriber.json"))
            .unwrap();
    assert_eq!(format, hms_domain::request::Format::Json);
    let responses = block_on(ch.query_eligibility(&inquiry)).unwrap();
    assert!(!responses[0].members[0].plans.is_empty());
    let sent = ch.ports.gateway.received.lock().unwrap()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*270"));

    ch.ports.gateway.answer(Err(GatewayError::Timeout {
        after: Duration::from_secs(20),
    }));
    let err = block_on(ch.query_eligibility(&inquiry)).unwrap_err();
    assert!(matches!(err, ServiceError::PayerTimeout(_)), "{err:?}");

    ch.ports.gateway.answer(Ok(b"this is not X12".to_vec()));
    let err = block_on(ch.query_eligibility(&inquiry)).unwrap_err();
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
    let x12 = hms_domain::eligibility::response_271(&response, &partner(), &envelope).unwrap();
    ch.ports.gateway.answer(Ok(x12));
    let (inquiry, _) =
        hms_domain::eligibility::read_inquiry(&fixture("eligibility/inquiry-subscriber.json"))
            .unwrap();
    let err = block_on(ch.query_eligibility(&inquiry)).unwrap_err();
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
        .answer(Ok(sample("277_005010X212/claim-level-status.277")));
    let inquiry =
        hms_domain::claim_status::read_inquiry(&fixture("status/inquiry-subscriber.json")).unwrap();
    let responses = block_on(ch.claim_status(&inquiry)).unwrap();
    assert!(!responses[0].claims.is_empty());
    let sent = ch.ports.gateway.received.lock().unwrap()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*276"));
    let err = hms_domain::claim_status::read_inquiry(b"[]").unwrap_err();
    assert!(
        matches!(err, hms_domain::request::RequestError::Invalid(_)),
        "{err:?}"
    );
}
