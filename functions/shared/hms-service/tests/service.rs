//! The use cases over in-memory ports and a scripted payer: every path a claim or an inquiry
//! can take, with what is stored, queued and answered.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use hms_domain::outcome::OperationOutcome;
use hms_domain::partner::{Connections, ControlNumbers, Envelope, TradingPartner};
use hms_service::lifecycle::{ClaimEvent, ClaimState};
use hms_service::ports::{
    GatewayError, InMemoryClaimStore, InMemoryObjectStore, InMemoryQueue, ManualClock, NoRules,
    ObjectStore, PayerGateway, RealTime, RuleEngine, RuleVerdict, Topic,
};
use hms_service::service::{Clearinghouse, RetryPolicy, ServiceError};
use pollster::block_on;

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
    let claims = hms_domain::claims::read_837::read_837p(x12, catalog).unwrap();
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
            claim: claim.into(),
            outcome: &outcome,
        })
        .collect();
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: 7,
            group: 7,
            transaction: 1,
        },
        created: Utc
            .with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .unwrap()
            .naive_utc(),
    };
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
    fn professional(
        &self,
        claim: &hms_domain::claims::model::ProfessionalClaim,
    ) -> RuleVerdict<hms_domain::claims::model::ProfessionalClaim> {
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
    fn institutional(
        &self,
        claim: &hms_domain::claims::model::InstitutionalClaim,
    ) -> RuleVerdict<hms_domain::claims::model::InstitutionalClaim> {
        NoRules.institutional(claim)
    }
}

type Test<R> = Clearinghouse<
    InMemoryClaimStore,
    InMemoryObjectStore,
    InMemoryQueue,
    ScriptedPayer,
    R,
    ManualClock,
>;

fn clearinghouse<R: RuleEngine>(rules: R) -> Test<R> {
    Clearinghouse {
        store: InMemoryClaimStore::new(),
        objects: InMemoryObjectStore::new(),
        queue: InMemoryQueue::new(),
        gateway: ScriptedPayer::default(),
        rules,
        clock: ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap()),
        connections: Connections::local(),
        retry: RetryPolicy::default(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/functions/shared/hms-domain/tests/fixtures/{name}",
        hms_test_support::workspace().display()
    ))
    .unwrap()
}

fn states<R: RuleEngine>(ch: &Test<R>, id: &str) -> Vec<ClaimState> {
    block_on(ch.claim(id))
        .unwrap()
        .history
        .iter()
        .map(|c| c.state)
        .collect()
}

fn events<R: RuleEngine>(ch: &Test<R>) -> Vec<ClaimState> {
    ch.queue
        .take(Topic::ClaimEvents)
        .iter()
        .map(|(body, _)| serde_json::from_slice::<ClaimEvent>(body).unwrap().state)
        .collect()
}

#[test]
fn a_clean_claim_is_sent_acknowledged_and_accepted_with_every_move_stored_and_announced() {
    let ch = clearinghouse(NoRules);
    ch.gateway.then(Next::Acknowledge { reject: false });
    let answer = block_on(ch.submit_claim(&fixture("claims/professional-subscriber.json"), None));
    assert_eq!(answer.status, 202, "{}", answer.body);
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
    let record = block_on(ch.claim(&id)).unwrap();
    let kept = block_on(ch.objects.get(record.x12_key.as_deref().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(ch.gateway.received.lock().unwrap()[0], kept);
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
    let answer = block_on(ch.submit_claim(&serde_json::to_vec(&claim).unwrap(), None));
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["state"], "rejected-by-scrubber");
    let issue = &answer.body["outcome"]["issue"][0];
    assert_eq!(issue["expression"][0], "/claim/totalCharge");
    let id = answer.body["claimId"].as_str().unwrap();
    assert_eq!(
        states(&ch, id),
        [ClaimState::Received, ClaimState::RejectedByScrubber]
    );
    assert!(ch.gateway.received.lock().unwrap().is_empty());
}

#[test]
fn fhir_claims_are_read_and_their_findings_point_with_fhirpath() {
    let ch = clearinghouse(NoRules);
    let mut claim: serde_json::Value =
        serde_json::from_slice(&fixture("fhir/claim-professional.json")).unwrap();
    claim["total"]["value"] = 1.into();
    let answer = block_on(ch.submit_claim(&serde_json::to_vec(&claim).unwrap(), None));
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(
        answer.body["outcome"]["issue"][0]["expression"][0],
        "Claim.total"
    );

    let answer = block_on(ch.submit_claim(&fixture("fhir/claim-institutional.json"), None));
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body["kind"], "institutional");
    assert_eq!(answer.body["state"], "submitted");
}

#[test]
fn a_claim_the_payers_rules_hold_is_stored_held_with_the_rule_finding() {
    let ch = clearinghouse(RefusingRules);
    let answer = block_on(ch.submit_claim(&fixture("claims/professional-subscriber.json"), None));
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["state"], "held-by-rules");
    assert_eq!(
        answer.body["outcome"]["issue"][0]["diagnostics"],
        "prior-auth-required"
    );
    assert!(ch.gateway.received.lock().unwrap().is_empty());
}

#[test]
fn a_claim_the_payer_rejects_in_its_277ca_is_rejected_by_payer_with_the_status() {
    let ch = clearinghouse(NoRules);
    ch.gateway.then(Next::Acknowledge { reject: true });
    let answer = block_on(ch.submit_claim(&fixture("claims/professional-subscriber.json"), None));
    assert_eq!(answer.status, 202);
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
        ch.gateway.then(Next::Fail(timeout.clone()));
    }
    let answer = block_on(ch.submit_claim(&fixture("claims/professional-subscriber.json"), None));
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body["state"], "waiting-for-payer");
    let id = answer.body["claimId"].as_str().unwrap().to_string();

    // Attempt 2, 60 s later: fails again, and waits twice as long.
    let queued = ch.queue.take(Topic::Submissions);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1, Duration::from_secs(30));
    let record = block_on(ch.retry_submission(&queued[0].0)).unwrap();
    assert_eq!(record.state, ClaimState::WaitingForPayer);
    let queued_again = ch.queue.take(Topic::Submissions);
    assert_eq!(queued_again[0].1, Duration::from_secs(60));
    // A duplicate delivery of the old message changes nothing.
    let same = block_on(ch.retry_submission(&queued[0].0)).unwrap();
    assert_eq!(same.version, record.version);

    // Attempt 3 is the last: dead-lettered, in the dead-letter queue, its 837 still kept.
    let record = block_on(ch.retry_submission(&queued_again[0].0)).unwrap();
    assert_eq!(record.state, ClaimState::DeadLettered);
    assert!(ch.queue.take(Topic::Submissions).is_empty());
    assert_eq!(ch.queue.take(Topic::SubmissionsDeadLetter).len(), 1);
    assert!(
        block_on(ch.objects.get(record.x12_key.as_deref().unwrap()))
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
    let received = ch.gateway.received.lock().unwrap();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|x| *x == received[0]));
}

#[test]
fn a_payer_that_recovers_gets_the_waiting_claim_on_the_retry() {
    let ch = clearinghouse(NoRules);
    ch.gateway
        .then(Next::Fail(GatewayError::Unavailable {
            status: Some(503),
            message: "maintenance".into(),
        }))
        .then(Next::Acknowledge { reject: false });
    let answer = block_on(ch.submit_claim(&fixture("claims/professional-subscriber.json"), None));
    assert_eq!(answer.body["state"], "waiting-for-payer");
    let queued = ch.queue.take(Topic::Submissions);
    let record = block_on(ch.retry_submission(&queued[0].0)).unwrap();
    assert_eq!(record.state, ClaimState::AcceptedByPayer);
    assert_eq!(record.submit_attempts, 2);
}

#[test]
fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let ch = clearinghouse(NoRules);
    ch.gateway.then(Next::Acknowledge { reject: false });
    let body = fixture("claims/professional-subscriber.json");
    let first = block_on(ch.submit_claim(&body, Some("client-a:key-1")));
    assert_eq!(first.status, 202);
    assert!(!first.replayed);
    let again = block_on(ch.submit_claim(&body, Some("client-a:key-1")));
    assert!(again.replayed);
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    // Only one claim reached the payer.
    assert_eq!(ch.gateway.received.lock().unwrap().len(), 1);

    let other = fixture("claims/professional-dependent.json");
    let conflict = block_on(ch.submit_claim(&other, Some("client-a:key-1")));
    assert_eq!(conflict.status, 409);
    assert!(conflict.body.to_string().contains("another request body"));
    // Another client's key of the same name is its own.
    let theirs = block_on(ch.submit_claim(&other, Some("client-b:key-1")));
    assert_eq!(theirs.status, 202);
}

#[test]
fn bad_bodies_and_unknown_claims_get_specific_answers() {
    let ch = clearinghouse(NoRules);
    let answer = block_on(ch.submit_claim(b"{not json", None));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["resourceType"], "OperationOutcome");
    let answer = block_on(ch.submit_claim(br#"{"resourceType":"Patient"}"#, None));
    assert_eq!(answer.status, 422);
    let answer = block_on(ch.submit_claim(br#"{"claim":{}}"#, None));
    assert_eq!(answer.status, 422);
    let err = block_on(ch.claim("clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f")).unwrap_err();
    assert_eq!(err.status(), 404);
    let err = block_on(ch.claim("../etc/passwd")).unwrap_err();
    assert_eq!(err.status(), 404);
}

fn sample(path: &str) -> Vec<u8> {
    std::fs::read(hms_test_support::x12_samples().join(path)).unwrap()
}

#[test]
fn eligibility_answers_benefits_and_turns_payer_trouble_into_504_and_502() {
    let ch = clearinghouse(NoRules);
    ch.gateway.answer(Ok(sample(
        "271_005010X279A1/subscriber-health-benefit-check.271",
    )));
    let (responses, fhir) =
        block_on(ch.query_eligibility(&fixture("eligibility/inquiry-subscriber.json"))).unwrap();
    assert!(!fhir);
    assert!(!responses[0].members[0].plans.is_empty());
    let sent = ch.gateway.received.lock().unwrap()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*270"));

    ch.gateway.answer(Err(GatewayError::Timeout {
        after: Duration::from_secs(20),
    }));
    let err = block_on(ch.query_eligibility(&fixture("eligibility/inquiry-subscriber.json")))
        .unwrap_err();
    assert_eq!(err.status(), 504);
    assert_eq!(err.body()["issue"][0]["diagnostics"], "payer-timeout");

    ch.gateway.answer(Ok(b"this is not X12".to_vec()));
    let err = block_on(ch.query_eligibility(&fixture("eligibility/inquiry-subscriber.json")))
        .unwrap_err();
    assert_eq!(err.status(), 502);
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
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: 9,
            group: 9,
            transaction: 1,
        },
        created: Utc
            .with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .unwrap()
            .naive_utc(),
    };
    let x12 = hms_domain::eligibility::response_271(&response, &partner(), &envelope).unwrap();
    ch.gateway.answer(Ok(x12));
    let err = block_on(ch.query_eligibility(&fixture("eligibility/inquiry-subscriber.json")))
        .unwrap_err();
    assert_eq!(err.status(), 422);
    let ServiceError::Rejected { rejections, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(rejections[0].reason_code, "75");
    let text = err.body()["issue"][0]["details"]["text"].to_string();
    assert!(text.contains("Subscriber/Insured Not Found"), "{text}");
}

#[test]
fn claim_status_sends_a_276_and_reads_the_277() {
    let ch = clearinghouse(NoRules);
    ch.gateway
        .answer(Ok(sample("277_005010X212/claim-level-status.277")));
    let responses = block_on(ch.claim_status(&fixture("status/inquiry-subscriber.json"))).unwrap();
    assert!(!responses[0].claims.is_empty());
    let sent = ch.gateway.received.lock().unwrap()[0].clone();
    assert!(sent.windows(6).any(|w| w == b"ST*276"));
    let err = block_on(ch.claim_status(b"[]")).unwrap_err();
    assert_eq!(err.status(), 422);
}
