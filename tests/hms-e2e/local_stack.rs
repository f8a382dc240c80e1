//! The local stack end to end: each test calls the HttpApi's routes as a clinic's system would,
//! through cargo-lambda's functions, LocalStack, DynamoDB Local and the payer simulator. Run them
//! one at a time (`-j 1`): the fault tests change how the one simulator behaves.

use std::time::{Duration, Instant};

use hms_auth::scope;
use hms_e2e::{Stack, body, fixture};
use serde_json::{Value, json};

const ALL: [&str; 3] = [
    scope::ELIGIBILITY_READ,
    scope::CLAIMS_WRITE,
    scope::CLAIMS_READ,
];

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

/// Waits for the stored claim `id` to reach `state`, returning its record.
async fn claim_reaching(
    stack: &Stack,
    token: &str,
    id: &str,
    state: &str,
    within: Duration,
) -> Value {
    let start = Instant::now();
    loop {
        let reply = stack
            .call("GET", &format!("/ach/claims/{id}"), Some(token), &[], None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        if reply.json["state"] == state {
            return reply.json;
        }
        assert!(
            start.elapsed() < within,
            "claim {id} did not become {state} within {within:?}: {}",
            reply.json
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn an_active_member_has_active_coverage_and_the_payer_got_a_valid_270() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::ELIGIBILITY_READ]);
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
    let token = stack.token("clinic-e2e", &[scope::ELIGIBILITY_READ]);
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
    let token = stack.token("clinic-e2e", &[scope::ELIGIBILITY_READ]);
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
    let token = stack.token("clinic-e2e", &[scope::ELIGIBILITY_READ]);
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

/// A 202 for a claim the payer accepted, whose stored history says how it got there.
async fn accepted_with_its_history(stack: &Stack, token: &str, reply: &hms_e2e::Reply) {
    assert_eq!(reply.status, 202, "{}", reply.json);
    assert_eq!(reply.json["state"], "accepted-by-payer");
    let id = reply.json["claimId"]
        .as_str()
        .unwrap_or_else(|| panic!("no claim id: {}", reply.json));
    let record = claim_reaching(stack, token, id, "accepted-by-payer", Duration::ZERO).await;
    assert_eq!(
        states(&record),
        ["received", "submitted", "accepted-by-payer"]
    );
}

#[tokio::test]
async fn a_clean_claim_is_accepted_by_the_payer_and_its_history_is_stored() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE, scope::CLAIMS_READ]);
    let before = stack.received().await.len();
    let reply = stack
        .post(
            "/ach/submitClaim",
            &token,
            &fixture("claims/professional-subscriber.json"),
        )
        .await;
    accepted_with_its_history(&stack, &token, &reply).await;

    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_837_Request_005010X222A1"
    );
}

#[tokio::test]
async fn an_institutional_fhir_claim_is_accepted_by_the_payers_277ca() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE, scope::CLAIMS_READ]);
    let before = stack.received().await.len();
    let reply = stack
        .post(
            "/ach/submitClaim",
            &token,
            &fixture("fhir/claim-institutional.json"),
        )
        .await;
    accepted_with_its_history(&stack, &token, &reply).await;
    assert_eq!(reply.json["kind"], "institutional");
    assert_eq!(
        stack.sent_since(before).await["payloadType"],
        "X12_837_Request_005010X223A2"
    );
}

#[tokio::test]
async fn a_claim_the_scrubber_rejects_is_a_422_stored_and_never_sent() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE, scope::CLAIMS_READ]);
    let before = stack.received().await.len();
    let mut claim = fixture("claims/professional-subscriber.json");
    claim["claim"]["totalCharge"] = "1.00".into();
    let reply = stack.post("/ach/submitClaim", &token, &claim).await;
    assert_eq!(reply.status, 422, "{}", reply.json);
    assert_eq!(reply.json["state"], "rejected-by-scrubber");
    assert_eq!(
        reply.json["outcome"]["issue"][0]["expression"][0],
        "/claim/totalCharge"
    );
    let id = reply.json["claimId"].as_str().expect("a claim id");
    claim_reaching(&stack, &token, id, "rejected-by-scrubber", Duration::ZERO).await;
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
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE, scope::CLAIMS_READ]);
    let before = stack.received().await.len();
    let held = example_claim("prior-auth-rules/tests/mri-without-authorization-is-held.json");
    let reply = stack.post("/ach/submitClaim", &token, &held).await;
    assert_eq!(
        reply.status, 422,
        "{} (the stack publishes the example rule sets when they are built: infra/check-rules.sh)",
        reply.json
    );
    assert_eq!(reply.json["state"], "held-by-rules");
    let issue = &reply.json["outcome"]["issue"][0];
    assert_eq!(issue["diagnostics"], "prior-auth-required", "{issue}");
    let text = issue["details"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("(prior-auth-rules.wasm)"), "{text}");
    let id = reply.json["claimId"].as_str().expect("a claim id");
    claim_reaching(&stack, &token, id, "held-by-rules", Duration::ZERO).await;
    assert_eq!(
        stack.received().await.len(),
        before,
        "a claim the rules held reached the payer"
    );

    // With its authorization number the same visit passes the rules and reaches the payer.
    let passes = example_claim("prior-auth-rules/tests/mri-with-authorization-passes.json");
    let reply = stack.post("/ach/submitClaim", &token, &passes).await;
    assert_eq!(reply.status, 202, "{}", reply.json);
    assert_eq!(reply.json["state"], "accepted-by-payer");
}

#[tokio::test]
async fn a_claim_the_payer_rejects_says_why() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE]);
    let mut claim = fixture("claims/professional-subscriber.json");
    // The simulator's payer refuses this procedure code (infra/local/payer.json).
    claim["serviceLines"][0]["procedureCode"] = "99499".into();
    let reply = stack.post("/ach/submitClaim", &token, &claim).await;
    assert_eq!(reply.status, 202, "{}", reply.json);
    assert_eq!(reply.json["state"], "rejected-by-payer", "{}", reply.json);
    assert!(
        reply.json["outcome"]["issue"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["severity"] == "error")),
        "{}",
        reply.json
    );
}

#[tokio::test]
async fn one_idempotency_key_is_one_claim_and_another_body_under_it_is_a_409() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_WRITE]);
    let key = format!(
        "e2e-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let claim = fixture("claims/professional-subscriber.json");
    let first = stack
        .call(
            "POST",
            "/ach/submitClaim",
            Some(&token),
            &[("idempotency-key", &key)],
            body(&claim),
        )
        .await;
    assert_eq!(first.status, 202, "{}", first.json);
    let again = stack
        .call(
            "POST",
            "/ach/submitClaim",
            Some(&token),
            &[("idempotency-key", &key)],
            body(&claim),
        )
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.json, first.json);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = stack
        .call(
            "POST",
            "/ach/submitClaim",
            Some(&token),
            &[("idempotency-key", &key)],
            body(&fixture("claims/professional-dependent.json")),
        )
        .await;
    assert_eq!(other.status, 409, "{}", other.json);
    // The key is the caller's: another caller's same key is another claim.
    let stranger = stack.token("clinic-other", &[scope::CLAIMS_WRITE]);
    let theirs = stack
        .call(
            "POST",
            "/ach/submitClaim",
            Some(&stranger),
            &[("idempotency-key", &key)],
            body(&claim),
        )
        .await;
    assert_eq!(theirs.status, 202);
    assert_ne!(theirs.json["claimId"], first.json["claimId"]);
}

#[tokio::test]
async fn a_claim_status_inquiry_gets_the_payers_277() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::CLAIMS_READ]);
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
async fn a_payer_that_times_out_is_a_504_for_eligibility_and_a_claim_that_waits_then_lands() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &ALL);
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

    // A batch exchange is given three times as long (9 s).
    stack.fault(json!({ "mode": "hang", "ms": 12000 }), 1).await;
    let reply = stack
        .post(
            "/ach/submitClaim",
            &token,
            &fixture("claims/professional-subscriber.json"),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.json);
    assert_eq!(reply.json["state"], "waiting-for-payer", "{}", reply.json);
    let id = reply.json["claimId"]
        .as_str()
        .expect("a claim id")
        .to_string();
    // The submissions queue hands it to the worker after the first retry delay (2 s locally).
    let record = claim_reaching(
        &stack,
        &token,
        &id,
        "accepted-by-payer",
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(
        states(&record),
        [
            "received",
            "waiting-for-payer",
            "submitted",
            "accepted-by-payer"
        ]
    );
}

#[tokio::test]
async fn a_payer_that_fails_or_answers_garbage_is_a_clear_5xx() {
    let stack = Stack::from_env();
    let token = stack.token("clinic-e2e", &[scope::ELIGIBILITY_READ]);
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

#[tokio::test]
async fn every_route_refuses_no_token_and_the_wrong_scope_and_serves_the_right_one() {
    let stack = Stack::from_env();
    let routes: [(&str, &str, Option<Value>, &str, u16); 4] = [
        (
            "POST",
            "/ach/queryEligibility",
            Some(fixture("eligibility/inquiry-subscriber.json")),
            scope::ELIGIBILITY_READ,
            200,
        ),
        (
            "POST",
            "/ach/submitClaim",
            Some(fixture("claims/professional-subscriber.json")),
            scope::CLAIMS_WRITE,
            202,
        ),
        (
            "GET",
            "/ach/claims/clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f",
            None,
            scope::CLAIMS_READ,
            404,
        ),
        (
            "POST",
            "/ach/claimStatus",
            Some(fixture("status/inquiry-subscriber.json")),
            scope::CLAIMS_READ,
            200,
        ),
    ];
    for (method, path, request, needed, served) in routes {
        let payload = request.as_ref().and_then(body);
        let none = stack.call(method, path, None, &[], payload.clone()).await;
        assert_eq!(none.status, 401, "{path} without a token");
        assert!(none.json["reason"].is_string(), "{path}: {}", none.json);
        let forged = stack
            .call(method, path, Some("e30.e30.c2ln"), &[], payload.clone())
            .await;
        assert_eq!(forged.status, 401, "{path} with a forged token");
        let others: Vec<&str> = ALL.into_iter().filter(|s| *s != needed).collect();
        let wrong = stack
            .call(
                method,
                path,
                Some(&stack.token("clinic-e2e", &others)),
                &[],
                payload.clone(),
            )
            .await;
        assert_eq!(wrong.status, 403, "{path} with the wrong scopes");
        assert!(
            wrong.json["reason"]
                .as_str()
                .is_some_and(|r| r.contains(needed)),
            "{path}: {}",
            wrong.json
        );
        let right = stack
            .call(
                method,
                path,
                Some(&stack.token("clinic-e2e", &[needed])),
                &[],
                payload,
            )
            .await;
        assert_eq!(
            right.status, served,
            "{path} with the right scope: {}",
            right.json
        );
    }
    let nowhere = stack.call("GET", "/ach/nowhere", None, &[], None).await;
    assert_eq!(nowhere.status, 404);
}
