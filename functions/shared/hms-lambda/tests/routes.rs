//! The routes as a function serves them, over in-memory ports and the payer simulator on
//! 127.0.0.1: the authorization matrix (every route by every role, for its own organization and
//! another's, and without a valid token), idempotent submission, content negotiation, claim
//! lookup.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_adapters::{CoreGateway, Endpoints};
use hms_lambda::App;
use hms_lambda::auth::access::{Permission, ROUTES, RouteAccess};
use hms_lambda::auth::{ClaimNames, Role, TokenRequest, Verifier, mint};
use hms_lambda::webhooks::WebhookApp;
use hms_service::ports::{NoRules, SystemClock, Topic};
use hms_service::service::SubmissionMessage;
use hms_service::testing::InMemory;
use hms_service::testing::InMemoryQueue;
use hms_webhooks::policy::UrlPolicy;
use hms_webhooks::service::Webhooks;
use hms_webhooks::testing::{InMemoryWebhookStore, ScriptedEndpoints};
use lambda_http::{Body, Request};

const SECRET: &[u8] = b"the local stack's development secret";

type TestApp = App<InMemory<CoreGateway, NoRules, SystemClock>>;

fn core_fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/functions/shared/hms-domain/tests/fixtures/{name}",
        hms_test_support::workspace().display()
    ))
    .unwrap()
}

async fn app() -> TestApp {
    let config = hms_payer_sim::SimConfig::local().unwrap();
    let (_sim, url) = hms_payer_sim::http::start(config).await.unwrap();
    App {
        service: hms_service::testing::in_memory(
            CoreGateway::new(Endpoints::single(url, 5_000)).unwrap(),
            NoRules,
            SystemClock,
        ),
        verifier: Verifier::local(SECRET, "hms-ach-local", "hms-ach", ClaimNames::default()),
        drops: None,
    }
}

/// A token of `organization` with `roles`, valid for `hours`.
fn token_for(organization: &str, roles: &[Role], hours: i64) -> String {
    let request = TokenRequest {
        subject: "user-1",
        organization,
        roles,
        lifetime: chrono::TimeDelta::hours(hours),
    };
    mint(SECRET, "hms-ach-local", "hms-ach", &request).unwrap()
}

fn token(organization: &str, roles: &[Role]) -> String {
    token_for(organization, roles, 1)
}

/// The claim fixture with a patient control number of its own (an original's may reach its
/// payer once).
fn fresh_claim() -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut claim: serde_json::Value =
        serde_json::from_slice(&core_fixture("claims/professional-subscriber.json")).unwrap();
    claim["claim"]["patientControlNumber"] =
        format!("ROUTES{}", NEXT.fetch_add(1, Ordering::Relaxed)).into();
    serde_json::to_vec(&claim).unwrap()
}

/// Hands every queued claim to the payer, as the worker does.
async fn deliver_all(app: &TestApp) {
    for (body, _) in app.service.ports.queue.take(Topic::Submissions) {
        let message: SubmissionMessage = serde_json::from_slice(&body).unwrap();
        app.service.deliver(&message).await.unwrap();
    }
}

fn request(method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    builder.body(Body::Binary(body.to_vec())).unwrap()
}

fn json(response: &lambda_http::Response<Body>) -> serde_json::Value {
    match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        Body::Binary(b) => serde_json::from_slice(b).unwrap(),
        Body::Empty => serde_json::Value::Null,
        _ => serde_json::Value::Null,
    }
}

/// A webhook id no organization has.
const NO_WEBHOOK: &str = "whk_0123456789abcdef0123456789abcdef";

/// A request on `route`, about `claim` where it names one.
fn exemplar(route: &RouteAccess, claim: &str) -> (&'static str, String, Vec<u8>) {
    if route.permission == Permission::ManageWebhooks {
        let path = route.path.replace("{id}", NO_WEBHOOK);
        let body: &[u8] = match (route.method, route.path) {
            ("POST", "/ach/webhooks") => {
                br#"{"url": "https://ehr.example.com/records/ach/callback", "events": ["*"]}"#
            }
            ("PATCH", _) => br#"{"description": "billing"}"#,
            (_, path) if path.ends_with("/replay") => br#"{"since": "2026-12-01T00:00:00Z"}"#,
            _ => b"",
        };
        return (route.method, path, body.to_vec());
    }
    match route.permission {
        Permission::CheckEligibility => (
            "POST",
            "/ach/queryEligibility".into(),
            core_fixture("eligibility/inquiry-subscriber.json"),
        ),
        Permission::SubmitClaims => ("POST", "/ach/submitClaim".into(), fresh_claim()),
        Permission::ReadClaims => ("GET", format!("/ach/claims/{claim}"), vec![]),
        Permission::CheckClaimStatus => (
            "POST",
            "/ach/claimStatus".into(),
            core_fixture("status/inquiry-subscriber.json"),
        ),
        Permission::RedriveClaims => ("POST", format!("/ach/admin/claims/{claim}/redrive"), vec![]),
        Permission::ReadRemittances => (
            "POST",
            "/ach/fetchRemittance".into(),
            br#"{"limit": 5}"#.to_vec(),
        ),
        Permission::ReadPayments => ("GET", "/ach/remittances/exceptions".into(), vec![]),
        Permission::ResolveExceptions => (
            "POST",
            "/ach/remittances/exceptions/exc_0123456789abcdef0123456789abcdef/resolve".into(),
            br#"{"note": "paid by check"}"#.to_vec(),
        ),
        other => panic!("{other} has a route but no exemplar request here"),
    }
}

/// The route's answer to a caller it lets in: for the organization that owns the claim and
/// the providers, and for another organization (which sees no such claim and owns none of
/// those providers).
fn served(route: &RouteAccess, own: bool) -> u16 {
    match (route.method, route.path) {
        // Each organization adds its own endpoint, and lists its own; no one has the webhook
        // named.
        ("POST", "/ach/webhooks") => return 201,
        ("GET", "/ach/webhooks") => return 200,
        (_, path) if path.starts_with("/ach/webhooks/") => return 404,
        _ => {}
    }
    match (route.permission, own) {
        (Permission::SubmitClaims, true) => 202,
        // The claim is not dead-lettered: there is nothing to redrive.
        (Permission::RedriveClaims, true) => 409,
        // No such exception, for either organization.
        (Permission::ResolveExceptions, _) => 404,
        // Each organization's own (empty) listing.
        (Permission::ReadRemittances | Permission::ReadPayments, _) => 200,
        (_, true) => 200,
        (Permission::ReadClaims | Permission::RedriveClaims, false) => 404,
        (_, false) => 403,
    }
}

type TestWebhooks =
    WebhookApp<Webhooks<InMemoryWebhookStore, InMemoryQueue, ScriptedEndpoints, SystemClock>>;

fn webhook_app() -> TestWebhooks {
    WebhookApp {
        webhooks: Webhooks {
            store: InMemoryWebhookStore::new(),
            queue: InMemoryQueue::new(),
            endpoints: ScriptedEndpoints::new(),
            clock: SystemClock,
            policy: UrlPolicy::DEPLOYED,
            retry_waits: hms_webhooks::records::RETRY_WAITS.to_vec(),
        },
        verifier: Verifier::local(SECRET, "hms-ach-local", "hms-ach", ClaimNames::default()),
    }
}

async fn call_route(
    app: &TestApp,
    webhooks: &TestWebhooks,
    request: Request,
) -> lambda_http::Response<Body> {
    match request.uri().path() {
        path if path.starts_with("/ach/webhooks") => webhooks.answer(request).await,
        "/ach/queryEligibility" => app.eligibility(request).await,
        "/ach/submitClaim" => app.submit(request).await,
        path if path.contains("emittance") => app.remittance(request).await,
        _ => app.status(request).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_role_for_its_own_and_another_organization_and_without_a_valid_token()
{
    let app = app().await;
    let webhooks = webhook_app();
    let billing = token("clinic-a", &[Role::Billing]);
    let submitted = app
        .submit(request(
            "POST",
            "/ach/submitClaim",
            Some(&billing),
            &fresh_claim(),
        ))
        .await;
    assert_eq!(submitted.status(), 202, "{}", json(&submitted));
    let claim = json(&submitted)["claimId"].as_str().unwrap().to_string();
    deliver_all(&app).await;

    // The tokens that are no caller: none, expired, signed with another key, unsigned, without
    // an organization.
    let expired = token_for("clinic-a", &Role::ALL, -2);
    let other_key = {
        let request = TokenRequest {
            subject: "user-1",
            organization: "clinic-a",
            roles: &Role::ALL,
            lifetime: chrono::TimeDelta::hours(1),
        };
        mint(
            b"a key that is not the stack's at all!",
            "hms-ach-local",
            "hms-ach",
            &request,
        )
        .unwrap()
    };
    let (_, rest) = expired.split_once('.').unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIn0.{}", rest.split('.').next().unwrap());
    let no_org = token("", &Role::ALL);
    let invalid: [(&str, Option<&str>); 5] = [
        ("no token", None),
        ("an expired token", Some(&expired)),
        ("a forged token", Some(&other_key)),
        ("an unsigned token", Some(&unsigned)),
        ("a token without an organization", Some(&no_org)),
    ];

    let mut cells = 0;
    for route in ROUTES {
        let permission = route.permission;
        for (what, bad) in invalid {
            let (method, path, body) = exemplar(route, &claim);
            let answer = call_route(&app, &webhooks, request(method, &path, bad, &body)).await;
            assert_eq!(
                answer.status(),
                401,
                "{method} {path} with {what}: {}",
                json(&answer)
            );
            assert_eq!(json(&answer)["error"], "unauthorized");
            assert!(answer.headers().contains_key("www-authenticate"));
            cells += 1;
        }
        for role in Role::ALL {
            for (organization, own) in [("clinic-a", true), ("clinic-b", false)] {
                let (method, path, body) = exemplar(route, &claim);
                let caller = token(organization, &[role]);
                let answer = call_route(
                    &app,
                    &webhooks,
                    request(method, &path, Some(&caller), &body),
                )
                .await;
                let cell = format!("{method} {} as {role} of {organization}", route.path);
                if role.may(permission) {
                    assert_eq!(
                        answer.status(),
                        served(route, own),
                        "{cell}: {}",
                        json(&answer)
                    );
                } else {
                    assert_eq!(answer.status(), 403, "{cell}: {}", json(&answer));
                    let reason = json(&answer)["reason"].as_str().unwrap().to_string();
                    assert!(
                        reason.contains(&format!("{permission}")),
                        "{cell}: {reason}"
                    );
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, ROUTES.len() * (5 + Role::ALL.len() * 2));
    // A path that is no route is not found, whoever asks.
    let nowhere = app
        .status(request("GET", "/ach/nowhere", Some(&billing), b""))
        .await;
    assert_eq!(nowhere.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_submitted_twice_with_one_key_is_answered_once_and_can_be_looked_up() {
    let app = app().await;
    let writer = token("clinic-a", &[Role::Billing]);
    let body = fresh_claim();
    let keyed = |body: &[u8], key: &str| {
        let mut r = request("POST", "/ach/submitClaim", Some(&writer), body);
        r.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        r
    };
    let first = app.submit(keyed(&body, "order-17")).await;
    assert_eq!(first.status(), 202, "{}", json(&first));
    let again = app.submit(keyed(&body, "order-17")).await;
    assert_eq!(again.status(), 202);
    assert_eq!(json(&again), json(&first));
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let other = app.submit(keyed(&fresh_claim(), "order-17")).await;
    assert_eq!(other.status(), 409);
    let bad = app.submit(keyed(&body, &"k".repeat(300))).await;
    assert_eq!(bad.status(), 400);
    // The same original again, without the key: a duplicate, named.
    let twice = app
        .submit(request("POST", "/ach/submitClaim", Some(&writer), &body))
        .await;
    assert_eq!(twice.status(), 409);
    assert_eq!(json(&twice)["firstClaimId"], json(&first)["claimId"]);

    deliver_all(&app).await;
    let id = json(&first)["claimId"].as_str().unwrap().to_string();
    let looked = app
        .status(request(
            "GET",
            &format!("/ach/claims/{id}"),
            Some(&writer),
            b"",
        ))
        .await;
    assert_eq!(looked.status(), 200);
    let record = json(&looked);
    assert_eq!(record["state"], "accepted-by-payer");
    assert_eq!(record["history"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eligibility_answers_fhir_when_asked_and_a_rejection_is_a_422_with_its_meaning() {
    let app = app().await;
    let reader = token("clinic-a", &[Role::Billing]);
    let mut r = request(
        "POST",
        "/ach/queryEligibility",
        Some(&reader),
        &core_fixture("eligibility/inquiry-subscriber.json"),
    );
    r.headers_mut()
        .insert("accept", "application/fhir+json".parse().unwrap());
    let answer = app.eligibility(r).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/fhir+json");
    assert_eq!(json(&answer)["resourceType"], "Bundle");

    let mut unknown: serde_json::Value =
        serde_json::from_slice(&core_fixture("eligibility/inquiry-subscriber.json")).unwrap();
    unknown["subscriber"]["memberId"] = "NOBODY999".into();
    let answer = app
        .eligibility(request(
            "POST",
            "/ach/queryEligibility",
            Some(&reader),
            &serde_json::to_vec(&unknown).unwrap(),
        ))
        .await;
    assert_eq!(answer.status(), 422);
    assert!(
        json(&answer)
            .to_string()
            .contains("Subscriber/Insured Not Found")
    );
    let garbage = app
        .eligibility(request(
            "POST",
            "/ach/queryEligibility",
            Some(&reader),
            b"{{",
        ))
        .await;
    assert_eq!(garbage.status(), 400);
}

#[tokio::test]
async fn a_body_over_its_routes_limit_is_a_413_that_names_the_limit() {
    let app = app().await;
    let billing = token("clinic-a", &[Role::Billing]);
    let cases = [
        ("/ach/submitClaim", hms_lambda::routes::MAX_CLAIM_BYTES),
        (
            "/ach/queryEligibility",
            hms_lambda::routes::MAX_INQUIRY_BYTES,
        ),
        ("/ach/claimStatus", hms_lambda::routes::MAX_INQUIRY_BYTES),
    ];
    for (path, limit) in cases {
        // Sent whole, and declared by Content-Length (refused before the body is looked at).
        let big = vec![b' '; limit + 1];
        let answer = call_route(
            &app,
            &webhook_app(),
            request("POST", path, Some(&billing), &big),
        )
        .await;
        assert_eq!(answer.status(), 413, "{path}");
        let text = json(&answer)["issue"][0]["details"]["text"].to_string();
        assert!(text.contains(&format!("at most {limit}")), "{path}: {text}");
        let mut declared = request("POST", path, Some(&billing), b"{}");
        declared
            .headers_mut()
            .insert("content-length", (limit * 40).into());
        assert_eq!(
            call_route(&app, &webhook_app(), declared).await.status(),
            413,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_huge_value_is_described_in_the_answer_not_echoed() {
    let app = app().await;
    let billing = token("clinic-a", &[Role::Billing]);
    let mut claim: serde_json::Value = serde_json::from_slice(&fresh_claim()).unwrap();
    let huge = "Ä".repeat(50_000);
    // serde names an unknown enum variant by quoting it whole.
    claim["subscriber"]["gender"] = huge.clone().into();
    let body = serde_json::to_vec(&claim).unwrap();
    assert!(body.len() < hms_lambda::routes::MAX_CLAIM_BYTES);
    let answer = call_route(
        &app,
        &webhook_app(),
        request("POST", "/ach/submitClaim", Some(&billing), &body),
    )
    .await;
    assert_eq!(answer.status(), 422);
    let text = serde_json::to_string(&json(&answer)).unwrap();
    assert!(text.len() < 2_000, "{} bytes: {}", text.len(), &text[..500]);
    assert!(!text.contains(&"Ä".repeat(50)), "{text}");
}

#[tokio::test]
async fn every_call_writes_one_access_line_of_ids_and_numbers_and_no_phi() {
    let app = app().await;
    let captured = hms_test_support::CapturedLog::default();
    let _guard = tracing::subscriber::set_default(captured.subscriber());
    let billing = token("clinic-a", &[Role::Billing]);
    let claim = fresh_claim();
    let answer = call_route(
        &app,
        &webhook_app(),
        request("POST", "/ach/submitClaim", Some(&billing), &claim),
    )
    .await;
    assert_eq!(answer.status(), 202);
    let id = json(&answer)["claimId"].as_str().unwrap().to_string();
    let path = format!("/ach/claims/{id}");
    let looked = call_route(
        &app,
        &webhook_app(),
        request("GET", &path, Some(&billing), b""),
    )
    .await;
    assert_eq!(looked.status(), 200);
    let refused = call_route(&app, &webhook_app(), request("GET", &path, None, b"")).await;
    assert_eq!(refused.status(), 401);
    deliver_all(&app).await;

    let text = captured.text();
    let access: Vec<serde_json::Value> = captured
        .lines()
        .into_iter()
        .filter(|l| l["fields"]["message"] == "access")
        .collect();
    assert_eq!(access.len(), 3, "{text}");
    let (submitted, read, unauthorized) = (&access[0], &access[1], &access[2]);
    assert_eq!(submitted["fields"]["status"], 202);
    assert_eq!(submitted["span"]["claim_id"], id.as_str());
    assert_eq!(submitted["span"]["organization"], "clinic-a");
    assert_eq!(submitted["span"]["subject"], "user-1");
    assert_eq!(read["fields"]["path"], path.as_str());
    assert_eq!(read["fields"]["status"], 200);
    assert!(read["fields"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(unauthorized["fields"]["status"], 401);
    // Nothing of the claim's patient reached any line, access or otherwise.
    let claim: serde_json::Value = serde_json::from_slice(&claim).unwrap();
    for phi in [
        claim["subscriber"]["memberId"].as_str().unwrap(),
        claim["subscriber"]["name"]["last"].as_str().unwrap(),
        claim["subscriber"]["birthDate"].as_str().unwrap(),
        claim["claim"]["diagnoses"][0].as_str().unwrap_or("J20.9"),
    ] {
        assert!(!text.contains(phi), "{phi} was logged: {text}");
    }
    assert!(!text.contains(&billing), "the token was logged");
}
