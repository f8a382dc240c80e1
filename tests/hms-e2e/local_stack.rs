//! The local stack end to end: each test calls the HttpApi's routes as a clinic's system would,
//! through cargo-lambda's functions, LocalStack, DynamoDB Local and the payer simulator; the
//! submissions worker, the sweep and the claim-event outbox run as their event sources drive
//! them. Run them one at a time (`-j 1`): the fault tests change how the one simulator behaves.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::time::{Duration, Instant};

use hms_auth::Role;
use hms_e2e::{Stack, body, fixture, professional, unique};
use serde_json::{Value, json};

/// How long a claim may take from 202 to the payer's verdict locally (a worker's turn, the
/// payer's acknowledgments).
const TO_VERDICT: Duration = Duration::from_secs(60);

fn inquiry_for(member_id: &str, last: &str, first: &str, birth: &str) -> Value {
    let mut inquiry = fixture("eligibility/inquiry-subscriber.json");
    inquiry["subscriber"]["memberId"] = member_id.into();
    inquiry["subscriber"]["name"] = json!({ "type": "person", "last": last, "first": first });
    inquiry["subscriber"]["birthDate"] = birth.into();
    inquiry
}

/// The benefit codes (EB01) of every benefit in an eligibility answer.
fn benefit_codes(answer: &Value) -> Vec<String> {
    let mut codes = vec![];
    for response in answer.as_array().into_iter().flatten() {
        for member in response["members"].as_array().into_iter().flatten() {
            for plan in member["plans"].as_array().into_iter().flatten() {
                for service in plan["serviceTypes"].as_array().into_iter().flatten() {
                    for benefit in service["benefits"].as_array().into_iter().flatten() {
                        codes.push(benefit["code"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
        }
    }
    codes
}

/// The states a stored claim went through, in order.
fn states(record: &Value) -> Vec<&str> {
    record["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history: {record}"))
        .iter()
        .filter_map(|h| h["state"].as_str())
        .collect()
}

#[tokio::test]
async fn an_active_member_has_active_coverage_and_the_payer_got_a_valid_270() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let reply = stack
        .post(
            "/ach/queryEligibility",
            &token,
            &fixture("eligibility/inquiry-subscriber.json"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let codes = benefit_codes(&reply.json);
    assert!(
        codes.iter().any(|c| c == "1"),
        "no active coverage: {codes:?}"
    );
    assert!(codes.iter().any(|c| c == "C"), "no deductible: {codes:?}");
    assert_eq!(reply.json[0]["members"][0]["memberId"], "11122333301");

    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_270_Request_005010X279A1"
    );
}

#[tokio::test]
async fn an_inactive_member_is_answered_inactive() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let inquiry = inquiry_for("INACTIVE0001", "DOE", "JOHN", "1980-02-02");
    let reply = stack.post("/ach/queryEligibility", &token, &inquiry).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let codes = benefit_codes(&reply.json);
    assert!(codes.iter().all(|c| c == "6"), "not inactive: {codes:?}");
    assert!(!codes.is_empty());
}

#[tokio::test]
async fn an_unknown_member_is_a_422_with_the_payers_reason_and_its_meaning() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let inquiry = inquiry_for("NOBODY0000", "NOBODY", "NONE", "1990-01-01");
    let reply = stack.post("/ach/queryEligibility", &token, &inquiry).await;
    assert_eq!(reply.status, 422, "{}", reply.json);
    assert_eq!(reply.json["resourceType"], "OperationOutcome");
    assert_eq!(reply.json["rejections"][0]["reasonCode"], "75");
    assert_eq!(
        reply.json["rejections"][0]["reason"],
        "Subscriber/Insured Not Found"
    );
}

#[tokio::test]
async fn a_fhir_coverage_eligibility_request_gets_fhir_back() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // The fixture asks about a child; the simulator's payer knows subscribers only, so ask
    // about the subscriber himself.
    let mut request = fixture("fhir/coverage-eligibility-request.json");
    request["contained"][0]["name"] = json!([{ "family": "SMITH", "given": ["ROBERT"] }]);
    request["contained"][0]["gender"] = "male".into();
    request["contained"][0]["birthDate"] = "1943-05-19".into();
    request["contained"][2]["relationship"] = json!({ "coding": [{ "code": "self" }] });
    request["contained"][2]["subscriber"] = json!({ "reference": "#patient" });
    let reply = stack
        .call(
            "POST",
            "/ach/queryEligibility",
            Some(&token),
            &[("accept", "application/fhir+json")],
            body(&request),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.headers["content-type"], "application/fhir+json");
    let text = reply.json.to_string();
    assert!(text.contains("CoverageEligibilityResponse"), "{text}");
}

/// A 202 for a claim on its way, which then reaches `state` by the payer's answer, with the
/// history a claim that went straight through has.
async fn lands(stack: &Stack, token: &str, reply: &hms_e2e::Reply, state: &str) -> Value {
    assert_eq!(reply.status, 202, "{}", reply.json);
    assert_eq!(reply.json["state"], "waiting-for-payer", "{}", reply.json);
    let id = reply.json["claimId"]
        .as_str()
        .unwrap_or_else(|| panic!("no claim id: {}", reply.json));
    stack.claim_reaching(token, id, state, TO_VERDICT).await
}

#[tokio::test]
async fn a_clean_claim_is_answered_at_once_then_accepted_by_the_payer_with_its_history() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let started = Instant::now();
    let reply = stack.submit(&token, &professional()).await;
    let answered = started.elapsed();
    let record = lands(&stack, &token, &reply, "accepted-by-payer").await;
    assert_eq!(
        states(&record),
        [
            "received",
            "waiting-for-payer",
            "sending",
            "submitted",
            "accepted-by-payer"
        ]
    );
    assert!(
        answered < Duration::from_secs(10),
        "the submit answer took {answered:?}"
    );
    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_837_Request_005010X222A1"
    );
}

#[tokio::test]
async fn an_institutional_fhir_claim_is_accepted_by_the_payers_277ca() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let reply = stack
        .post(
            "/ach/submitClaim",
            &token,
            &unique(fixture("fhir/claim-institutional.json")),
        )
        .await;
    assert_eq!(reply.json["kind"], "institutional");
    lands(&stack, &token, &reply, "accepted-by-payer").await;
    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_837_Request_005010X223A2"
    );
}

#[tokio::test]
async fn a_claim_the_scrubber_rejects_is_a_422_stored_and_never_sent() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let mut claim = professional();
    claim["claim"]["totalCharge"] = "1.00".into();
    let reply = stack.submit(&token, &claim).await;
    assert_eq!(reply.status, 422, "{}", reply.json);
    assert_eq!(reply.json["state"], "rejected-by-scrubber");
    assert_eq!(
        reply.json["outcome"]["issue"][0]["expression"][0],
        "/claim/totalCharge"
    );
    let id = reply.json["claimId"].as_str().expect("a claim id");
    stack
        .claim_reaching(&token, id, "rejected-by-scrubber", Duration::ZERO)
        .await;
    assert_eq!(
        stack.received().await.len(),
        before,
        "a rejected claim reached the payer"
    );
}

/// A test claim of an example payer rule set (`components/examples/*/tests/`).
fn example_claim(name: &str) -> Value {
    let path = format!(
        "{}/components/examples/{name}",
        hms_test_support::workspace().display()
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn the_payers_rule_set_holds_a_claim_it_refuses_and_passes_one_it_accepts() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let held = unique(example_claim(
        "prior-auth-rules/tests/mri-without-authorization-is-held.json",
    ));
    let reply = stack.submit(&token, &held).await;
    assert_eq!(
        reply.status, 422,
        "{} (the stack publishes the example rule sets when they are built: infra/check-rules.sh)",
        reply.json
    );
    assert_eq!(reply.json["state"], "held-by-rules");
    let issue = &reply.json["outcome"]["issue"][0];
    assert_eq!(issue["diagnostics"], "prior-auth-required", "{issue}");
    let text = issue["details"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("(prior-auth-rules-"), "{text}");
    assert_eq!(
        stack.received().await.len(),
        before,
        "a claim the rules held reached the payer"
    );

    // With its authorization number the same visit passes the rules and reaches the payer.
    let passes = unique(example_claim(
        "prior-auth-rules/tests/mri-with-authorization-passes.json",
    ));
    let reply = stack.submit(&token, &passes).await;
    lands(&stack, &token, &reply, "accepted-by-payer").await;
}

#[tokio::test]
async fn a_claim_the_payer_rejects_says_why_and_frees_its_number_for_the_corrected_one() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let mut claim = professional();
    // The simulator's payer refuses this procedure code (infra/local/payer.json).
    claim["serviceLines"][0]["procedureCode"] = "99499".into();
    let reply = stack.submit(&token, &claim).await;
    let record = lands(&stack, &token, &reply, "rejected-by-payer").await;
    assert!(
        record["outcome"]["issue"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["severity"] == "error")),
        "{record}"
    );
    // The corrected claim keeps its patient control number: the payer never adjudicated the
    // first.
    claim["serviceLines"][0]["procedureCode"] = "99213".into();
    let reply = stack.submit(&token, &claim).await;
    lands(&stack, &token, &reply, "accepted-by-payer").await;
}

#[tokio::test]
async fn one_idempotency_key_is_one_claim_and_an_original_sent_twice_is_a_409_naming_the_first() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let key = format!(
        "e2e-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let claim = professional();
    let submit = |key: Option<String>, claim: Value| {
        let stack = stack.clone();
        let token = token.clone();
        async move {
            let headers: Vec<(&str, &str)> = match &key {
                Some(key) => vec![("idempotency-key", key.as_str())],
                None => vec![],
            };
            stack
                .call(
                    "POST",
                    "/ach/submitClaim",
                    Some(&token),
                    &headers,
                    body(&claim),
                )
                .await
        }
    };
    let first = submit(Some(key.clone()), claim.clone()).await;
    assert_eq!(first.status, 202, "{}", first.json);
    let again = submit(Some(key.clone()), claim.clone()).await;
    assert_eq!(again.status, 202, "{}", again.json);
    assert_eq!(again.json["claimId"], first.json["claimId"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = submit(
        Some(key.clone()),
        unique(fixture("claims/professional-dependent.json")),
    )
    .await;
    assert_eq!(other.status, 409, "{}", other.json);
    // The same original without the key: a duplicate of the first, refused by name.
    let twice = submit(None, claim).await;
    assert_eq!(twice.status, 409, "{}", twice.json);
    assert_eq!(twice.json["firstClaimId"], first.json["claimId"]);
    let id = first.json["claimId"].as_str().expect("a claim id");
    stack
        .claim_reaching(&token, id, "accepted-by-payer", TO_VERDICT)
        .await;
    assert_eq!(stack.duplicates().await.1, 0, "the payer got a duplicate");
}

#[tokio::test]
async fn a_payer_that_answers_by_file_moves_claims_by_the_999_and_277ca_it_drops() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // The simulator answers this payer by file only (infra/local/payer.json): results
    // retrieval has nothing for its claims.
    let by_file = json!({ "name": "BY FILE HEALTH PLAN", "id": "77001" });
    let mut good = professional();
    good["payer"] = by_file.clone();
    let mut bad = professional();
    bad["payer"] = by_file;
    // A procedure this payer refuses in its 277CA.
    bad["serviceLines"][0]["procedureCode"] = "99499".into();
    let mut ids = vec![];
    for claim in [&good, &bad] {
        let reply = stack.submit(&token, claim).await;
        let record = lands(&stack, &token, &reply, "submitted").await;
        ids.push(record["claimId"].as_str().unwrap_or_default().to_string());
    }
    // Each file the payer answers with, dropped as its SFTP upload would be (should the
    // simulator's own drop loop have taken them first, they are in the drop zone already).
    let files = stack.acknowledgment_files().await;
    for file in &files {
        assert!(
            file["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("inbound/77001/")),
            "{file}"
        );
    }
    stack.drop_files(&files).await;
    let accepted = stack
        .claim_reaching(&token, &ids[0], "accepted-by-payer", TO_VERDICT)
        .await;
    let reason = accepted["history"]
        .as_array()
        .and_then(|h| h.last())
        .map(|h| h["reason"].to_string())
        .unwrap_or_default();
    assert!(
        reason.contains("277CA") && reason.contains("inbound/77001/"),
        "{accepted}"
    );
    let rejected = stack
        .claim_reaching(&token, &ids[1], "rejected-by-payer", TO_VERDICT)
        .await;
    assert!(
        rejected["outcome"]["issue"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["severity"] == "error")),
        "{rejected}"
    );
}

#[tokio::test]
async fn a_claim_status_inquiry_gets_the_payers_277() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let before = stack.received().await.len();
    let reply = stack
        .post(
            "/ach/claimStatus",
            &token,
            &fixture("status/inquiry-subscriber.json"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let text = reply.json.to_string();
    assert!(
        text.contains("statusCode") || text.contains("categoryCode"),
        "{text}"
    );
    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_276_Request_005010X212"
    );
}

#[tokio::test]
async fn a_payer_that_times_out_is_a_504_for_eligibility_and_a_claim_resent_under_its_identity() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // The local stack gives the payer 3 s (HMS_PAYER_TIMEOUT_MS); it hangs for 6.
    stack.fault(json!({ "mode": "hang", "ms": 6000 }), 1).await;
    let reply = stack
        .post(
            "/ach/queryEligibility",
            &token,
            &fixture("eligibility/inquiry-subscriber.json"),
        )
        .await;
    assert_eq!(reply.status, 504, "{}", reply.json);
    assert!(
        reply.json.to_string().contains("did not answer"),
        "{}",
        reply.json
    );

    // A batch exchange is given three times as long (9 s). The payer takes the 837 but answers
    // too late: the worker cannot know it arrived, so it resends it, under the same identity.
    let (resends, duplicates) = stack.duplicates().await;
    stack.fault(json!({ "mode": "hang", "ms": 12000 }), 1).await;
    let reply = stack.submit(&token, &professional()).await;
    let record = lands(&stack, &token, &reply, "accepted-by-payer").await;
    assert_eq!(
        states(&record),
        [
            "received",
            "waiting-for-payer",
            "sending",
            "waiting-for-payer",
            "sending",
            "submitted",
            "accepted-by-payer"
        ]
    );
    let (resends_now, duplicates_now) = stack.duplicates().await;
    assert_eq!(duplicates_now, duplicates, "the payer got a duplicate");
    assert_eq!(
        resends_now,
        resends + 1,
        "the payer did not see the resend as one"
    );
}

#[tokio::test]
async fn a_payer_that_fails_or_answers_garbage_is_a_clear_5xx() {
    let stack = Stack::from_env();
    let token = stack.billing();
    for (fault, status) in [
        (json!({ "mode": "serverError" }), 502),
        (json!({ "mode": "malformed" }), 502),
    ] {
        stack.fault(fault.clone(), 1).await;
        let reply = stack
            .post(
                "/ach/queryEligibility",
                &token,
                &fixture("eligibility/inquiry-subscriber.json"),
            )
            .await;
        assert_eq!(reply.status, status, "{fault}: {}", reply.json);
        assert_eq!(reply.json["resourceType"], "OperationOutcome", "{fault}");
    }
}

/// Through the gateway, as AWS would: the token's roles against each route, and the
/// organization's data kept to it. (The full matrix, every route by every role, runs in
/// `hms-lambda`'s tests.)
#[tokio::test]
async fn roles_and_organizations_keep_every_caller_to_its_own_data() {
    let stack = Stack::from_env();
    let billing = stack.billing();
    let reply = stack.submit(&billing, &professional()).await;
    assert_eq!(reply.status, 202, "{}", reply.json);
    let id = reply.json["claimId"]
        .as_str()
        .expect("a claim id")
        .to_string();
    let claim_path = format!("/ach/claims/{id}");
    let get = |token: Option<String>| {
        let stack = stack.clone();
        let path = claim_path.clone();
        async move { stack.call("GET", &path, token.as_deref(), &[], None).await }
    };
    assert_eq!(get(Some(billing.clone())).await.status, 200);
    // Another organization: not found, as if it did not exist.
    let stranger = stack.token("clinic-b", &[Role::Billing]);
    let theirs = get(Some(stranger.clone())).await;
    assert_eq!(theirs.status, 404, "{}", theirs.json);
    // The wrong role: 403 with what it needs.
    let finance = stack.token("clinic-a", &[Role::Finance]);
    let refused = get(Some(finance)).await;
    assert_eq!(refused.status, 403, "{}", refused.json);
    assert!(
        refused.json["reason"]
            .as_str()
            .is_some_and(|r| r.contains("billing")),
        "{}",
        refused.json
    );
    // No token, a forged one, an expired one: 401.
    assert_eq!(get(None).await.status, 401);
    assert_eq!(get(Some("e30.e30.c2ln".into())).await.status, 401);
    let expired = stack.token_for("clinic-a", &[Role::Billing], chrono::TimeDelta::hours(-2));
    assert_eq!(get(Some(expired)).await.status, 401);
    // A provider the organization does not own: 403, and nothing stored or sent.
    let reply = stack.submit(&stranger, &professional()).await;
    assert_eq!(reply.status, 403, "{}", reply.json);
    assert!(
        reply.json.to_string().contains("1912301953"),
        "{}",
        reply.json
    );
    // Redrive is an admin's, and only of a dead-lettered claim.
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let redrive = stack
        .call(
            "POST",
            &format!("/ach/admin/claims/{id}/redrive"),
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(redrive.status, 409, "{}", redrive.json);
    let redrive = stack
        .call(
            "POST",
            &format!("/ach/admin/claims/{id}/redrive"),
            Some(&billing),
            &[],
            None,
        )
        .await;
    assert_eq!(redrive.status, 403, "{}", redrive.json);
    let nowhere = stack.call("GET", "/ach/nowhere", None, &[], None).await;
    assert_eq!(nowhere.status, 404);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_at_once_never_a_502() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // Over the function's own limit, its 413 names it; over Lambda's payload limit, the
    // gateway refuses it, as API Gateway would.
    let started = Instant::now();
    for (size, says) in [(1 << 20, "at most 524288"), (7 << 20, "Too Large")] {
        let body = Some(vec![b' '; size]);
        let reply = stack
            .call("POST", "/ach/submitClaim", Some(&token), &[], body)
            .await;
        assert_eq!(reply.status, 413, "{}", reply.json);
        assert!(reply.json.to_string().contains(says), "{}", reply.json);
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// How long a dropped file may take to be posted locally (LocalStack's notification, the
/// poller's turn, the ingest).
const TO_POSTED: Duration = Duration::from_secs(60);

/// A finance token of the clinic.
fn finance(stack: &Stack) -> String {
    stack.token("clinic-a", &[Role::Finance])
}

/// The professional fixture with a fresh patient control number and its first line's
/// procedure `code`.
fn claim_with_code(code: &str) -> Value {
    let mut claim = professional();
    claim["serviceLines"][0]["procedureCode"] = code.into();
    claim
}

/// Submits `claim` and follows it to accepted-by-payer; its id.
async fn accepted(stack: &Stack, token: &str, claim: &Value) -> String {
    let reply = stack.submit(token, claim).await;
    let record = lands(stack, token, &reply, "accepted-by-payer").await;
    record["claimId"].as_str().unwrap_or_default().to_string()
}

/// The simulator pays; each of its 835s is dropped into the drop zone. The 835s, as text.
async fn pay_by_file(stack: &Stack) -> Vec<(String, String)> {
    let files = stack.remit().await;
    stack.drop_files(&files).await;
    files
        .iter()
        .map(|f| {
            let text = |name: &str| f[name].as_str().unwrap_or_default().to_string();
            (text("key"), text("x12"))
        })
        .collect()
}

/// The payment with `trace` as `fetchRemittance` answers it, once it is posted.
async fn posted_payment(stack: &Stack, token: &str, trace: &str) -> Value {
    let start = Instant::now();
    loop {
        let reply = stack
            .post(
                "/ach/fetchRemittance",
                token,
                &json!({ "traceNumber": trace }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        if let Some(p) = reply.json["payments"].as_array().and_then(|p| p.first())
            && p["status"] == "posted"
        {
            return p.clone();
        }
        assert!(
            start.elapsed() < TO_POSTED,
            "payment {trace} was not posted: {}",
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// TRN02 of an 835.
fn trace_of(x12: &str) -> String {
    x12.split('~')
        .find_map(|s| s.trim().strip_prefix("TRN*1*"))
        .and_then(|rest| rest.split('*').next())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_payer_pays_by_file_and_claims_reach_paid_and_denied_with_their_amounts() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let paid = accepted(&stack, &token, &claim_with_code("99213")).await;
    // Both lines of this one are procedures the simulated payer does not pay.
    let mut denied_claim = claim_with_code("97039");
    denied_claim["serviceLines"][1]["procedureCode"] = "97039".into();
    let denied = accepted(&stack, &token, &denied_claim).await;
    let dropped_at = Instant::now();
    let files = pay_by_file(&stack).await;
    assert!(!files.is_empty(), "the payer paid nothing");
    let record = stack.claim_reaching(&token, &paid, "paid", TO_POSTED).await;
    let to_paid = dropped_at.elapsed();
    eprintln!("e2e: drop to paid in {to_paid:?}");
    let balance = &record["balance"];
    assert_eq!(balance["billed"], "140.00", "{record}");
    assert_eq!(balance["outstanding"], "0.00", "{record}");
    let payment = &record["payments"][0];
    assert_eq!(payment["disposition"], "paid");
    let reasons: Vec<&str> = payment["services"][0]["adjustments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["reasonCode"].as_str())
        .collect();
    assert!(reasons.contains(&"45"), "{payment}");
    stack
        .claim_reaching(&token, &denied, "denied", TO_POSTED)
        .await;

    // Finance reads the payment: as JSON by claim, as FHIR, and as the payer's X12.
    let money = finance(&stack);
    let by_claim = stack
        .post("/ach/fetchRemittance", &money, &json!({ "claimId": paid }))
        .await;
    assert_eq!(by_claim.status, 200, "{}", by_claim.json);
    let payment = &by_claim.json["payments"][0];
    assert_eq!(payment["claimPayments"].as_array().map(Vec::len), Some(1));
    let trace = payment["key"]["traceNumber"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fhir = stack
        .call(
            "POST",
            "/ach/fetchRemittance",
            Some(&money),
            &[("accept", "application/fhir+json")],
            body(&json!({ "traceNumber": trace })),
        )
        .await;
    assert_eq!(fhir.status, 200);
    assert_eq!(fhir.json["resourceType"], "Bundle");
    assert_eq!(
        fhir.json["entry"][0]["resource"]["resourceType"],
        "ExplanationOfBenefit"
    );
    let x12 = stack
        .call(
            "POST",
            "/ach/fetchRemittance",
            Some(&money),
            &[("accept", "application/edi-x12")],
            body(&json!({ "traceNumber": trace })),
        )
        .await;
    assert_eq!(x12.status, 200);
    assert_eq!(
        x12.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/edi-x12")
    );
    // A billing token does not read money; another clinic's finance sees none of it.
    let refused = stack
        .post(
            "/ach/fetchRemittance",
            &token,
            &json!({ "traceNumber": trace }),
        )
        .await;
    assert_eq!(refused.status, 403);
    let theirs = stack
        .post(
            "/ach/fetchRemittance",
            &stack.token("clinic-b", &[Role::Finance]),
            &json!({ "traceNumber": trace }),
        )
        .await;
    assert_eq!(theirs.json["payments"].as_array().map(Vec::len), Some(0));

    // The same file again, under another name: recorded as a duplicate, posted once.
    let (_, x12) = files
        .iter()
        .find(|(_, x12)| trace_of(x12) == trace)
        .expect("the paying 835");
    stack
        .drop_file(
            &format!("inbound/again/{trace}.835"),
            x12.clone().into_bytes(),
        )
        .await;
    let start = Instant::now();
    loop {
        let reply = stack
            .post(
                "/ach/fetchRemittance",
                &money,
                &json!({ "traceNumber": trace }),
            )
            .await;
        if reply.json["payments"][0]["duplicateCount"] == 1 {
            break;
        }
        assert!(
            start.elapsed() < TO_POSTED,
            "no duplicate recorded: {}",
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let record = stack.claim_reaching(&token, &paid, "paid", TO_POSTED).await;
    assert_eq!(
        record["payments"].as_array().map(Vec::len),
        Some(1),
        "{record}"
    );
}

#[tokio::test]
async fn a_reversal_and_correction_move_the_claim_back_and_paid_again() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // 99215 is a procedure the simulated payer pays, then reverses and pays again.
    let id = accepted(&stack, &token, &claim_with_code("99215")).await;
    pay_by_file(&stack).await;
    stack.claim_reaching(&token, &id, "paid", TO_POSTED).await;
    pay_by_file(&stack).await;
    let start = Instant::now();
    let record = loop {
        let record = stack.claim_reaching(&token, &id, "paid", TO_POSTED).await;
        if record["payments"].as_array().map(Vec::len) == Some(3) {
            break record;
        }
        assert!(
            start.elapsed() < TO_POSTED,
            "no correction posted: {record}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let moved = states(&record);
    assert_eq!(
        moved[moved.len() - 3..],
        ["paid", "payment-reversed", "paid"],
        "{record}"
    );
    assert_eq!(record["payments"][1]["disposition"], "reversal");
    assert!(record["payments"][0]["reversedBy"].is_object(), "{record}");
}

#[tokio::test]
async fn an_unmatched_payment_is_an_exception_finance_resolves_by_linking_it() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let claim = claim_with_code("99213");
    let pcn = claim["claim"]["patientControlNumber"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let id = accepted(&stack, &token, &claim).await;
    // The payer keys the account number wrong.
    let files = stack.remit().await;
    let money = finance(&stack);
    let mut traces = vec![];
    for file in files {
        let key = file["key"].as_str().unwrap_or_default().to_string();
        let x12 = file["x12"]
            .as_str()
            .unwrap_or_default()
            .replace(&format!("CLP*{pcn}*"), "CLP*WRONG123*");
        traces.push(trace_of(&x12));
        stack.drop_file(&key, x12.into_bytes()).await;
    }
    for trace in &traces {
        posted_payment(&stack, &money, trace).await;
    }
    let list = stack
        .call(
            "GET",
            "/ach/remittances/exceptions",
            Some(&money),
            &[],
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.json);
    let exception = list.json["exceptions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| {
            e["reason"] == "unmatched-claim-payment"
                && traces.contains(&e["traceNumber"].as_str().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("no unmatched exception: {}", list.json))
        .clone();
    assert!(!exception.to_string().contains("WRONG123"), "{exception}");
    let resolved = stack
        .post(
            &format!(
                "/ach/remittances/exceptions/{}/resolve",
                exception["id"].as_str().unwrap_or_default()
            ),
            &money,
            &json!({ "note": "the payer keyed the account number wrong", "claimId": id }),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.json);
    let record = stack.claim_reaching(&token, &id, "paid", TO_POSTED).await;
    assert!(states(&record).last() == Some(&"paid"), "{record}");
}

#[tokio::test]
async fn a_structurally_invalid_file_is_quarantined_and_nothing_of_it_posts() {
    let stack = Stack::from_env();
    let token = stack.billing();
    let claim = claim_with_code("99213");
    let pcn = claim["claim"]["patientControlNumber"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let id = accepted(&stack, &token, &claim).await;
    let files = stack.remit().await;
    let x12 = files
        .iter()
        .filter_map(|f| f["x12"].as_str())
        .find(|x| x.contains(&format!("CLP*{pcn}*")))
        .unwrap_or_else(|| panic!("the payer did not pay {pcn}"))
        .to_string();
    // Cut short: no SE, GE or IEA.
    let cut = x12[..x12.len() / 2].to_string();
    let key = format!("inbound/broken/{}.835", trace_of(&x12));
    stack.drop_file(&key, cut.into_bytes()).await;
    let moved = key.replacen("inbound/", "rejected/", 1);
    let start = Instant::now();
    while stack.dropped(&moved).await.is_none() {
        assert!(start.elapsed() < TO_POSTED, "{key} was not quarantined");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        stack
            .dropped(&format!("{moved}.findings.json"))
            .await
            .is_some()
    );
    assert!(
        stack.dropped(&key).await.is_none(),
        "{key} is still in inbound/"
    );
    let record = stack
        .claim_reaching(&token, &id, "accepted-by-payer", TO_POSTED)
        .await;
    assert!(record["payments"].is_null(), "{record}");
}

/// Ends every function of the stack mid-work, as a crash would, and starts them again
/// (`infra/stack.sh restart-functions`, on the stack the environment names).
fn crash_the_functions() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/stack.sh");
    let done = std::process::Command::new(script)
        .arg("restart-functions")
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(
        done.status.success(),
        "restart-functions: {}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
}

#[tokio::test]
async fn an_ingest_function_killed_mid_file_resumes_and_posts_each_claim_payment_once() {
    let stack = Stack::from_env();
    let token = stack.billing();
    // Enough claim payments that posting them takes seconds on the local stack.
    let mut ids = vec![];
    for _ in 0..80 {
        let reply = stack.submit(&token, &claim_with_code("99213")).await;
        assert_eq!(reply.status, 202, "{}", reply.json);
        ids.push(
            reply.json["claimId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    for id in &ids {
        stack
            .claim_reaching(&token, id, "accepted-by-payer", TO_VERDICT)
            .await;
    }
    let money = finance(&stack);
    // The finance function answers before the file is dropped: its first start (a build check
    // and a process) would otherwise outlast the whole posting.
    let warm = stack
        .post("/ach/fetchRemittance", &money, &json!({ "limit": 1 }))
        .await;
    assert_eq!(warm.status, 200, "{}", warm.json);
    let files = stack.remit().await;
    let mut killed_mid_file = false;
    let mut killed_trace = String::new();
    for file in &files {
        let key = file["key"].as_str().unwrap_or_default();
        let x12 = file["x12"].as_str().unwrap_or_default();
        stack.drop_file(key, x12.as_bytes().to_vec()).await;
        if killed_mid_file {
            continue;
        }
        // Killed as soon as the payment is posting (its record made, its claim payments
        // going onto claims), seconds before its last claim payment.
        let trace = trace_of(x12);
        let start = Instant::now();
        while start.elapsed() < TO_POSTED {
            let reply = stack
                .post(
                    "/ach/fetchRemittance",
                    &money,
                    &json!({ "traceNumber": trace }),
                )
                .await;
            let status = reply.json["payments"][0]["status"].clone();
            if status == "posted" {
                break;
            }
            if status != "posting" {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            crash_the_functions();
            killed_mid_file = true;
            killed_trace = trace.clone();
            eprintln!(
                "e2e: functions crashed mid-file after {:?}",
                start.elapsed()
            );
            break;
        }
    }
    assert!(
        killed_mid_file,
        "no payment was seen posting before it was posted"
    );
    // The drop queue delivers the file again; the payment resumes from its checkpoint and
    // each claim passes over the posting it already holds.
    for id in &ids {
        let record = stack.claim_reaching(&token, id, "paid", TO_POSTED).await;
        assert_eq!(
            record["payments"].as_array().map(Vec::len),
            Some(1),
            "{record}"
        );
        let moves = record["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| h["state"] == "paid")
            .count();
        assert_eq!(moves, 1, "{record}");
    }
    // The payment says a run took it up again: the first died while posting it.
    let payment = posted_payment(&stack, &money, &killed_trace).await;
    assert!(
        payment["resumed"].as_u64() >= Some(1),
        "resumed {}, posted at {}",
        payment["resumed"],
        payment["postedAt"]
    );
}
