//! The routes as a function serves them, over in-memory ports and the payer simulator on
//! 127.0.0.1: the authorization matrix (each route without a token, with the wrong scope, with
//! the right one), idempotent submission, content negotiation, claim lookup.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_adapters::{CoreGateway, Endpoints};
use hms_domain::partner::Connections;
use hms_lambda::App;
use hms_lambda::auth::{Verifier, mint, scope};
use hms_service::ports::{Adapters, NoRules, SystemClock};
use hms_service::service::{Clearinghouse, RetryPolicy};
use hms_service::testing::{InMemoryClaimStore, InMemoryObjectStore, InMemoryQueue};
use lambda_http::{Body, Request};

const SECRET: &[u8] = b"the local stack's development secret";

type TestApp = App<
    Adapters<
        InMemoryClaimStore,
        InMemoryObjectStore,
        InMemoryQueue,
        CoreGateway,
        NoRules,
        SystemClock,
    >,
>;

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
        service: Clearinghouse {
            ports: Adapters {
                store: InMemoryClaimStore::new(),
                objects: InMemoryObjectStore::new(),
                queue: InMemoryQueue::new(),
                gateway: CoreGateway::new(Endpoints::single(url, 5_000)).unwrap(),
                rules: NoRules,
                clock: SystemClock,
            },
            connections: Connections::local(),
            retry: RetryPolicy::default(),
        },
        verifier: Verifier::local(SECRET, "hms-ach-local", "hms-ach"),
    }
}

fn token(subject: &str, scopes: &[&str]) -> String {
    mint(
        SECRET,
        "hms-ach-local",
        "hms-ach",
        subject,
        scopes,
        chrono::TimeDelta::hours(1),
    )
    .unwrap()
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

async fn call(app: &TestApp, route: &str, request: Request) -> lambda_http::Response<Body> {
    match route {
        "eligibility" => app.eligibility(request).await,
        "submit" => app.submit(request).await,
        _ => app.status(request).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_no_token_401_and_the_wrong_scope_403_and_serves_the_right_one() {
    let app = app().await;
    let routes: [(&str, &str, &str, Vec<u8>, &str); 4] = [
        (
            "eligibility",
            "POST",
            "/ach/queryEligibility",
            core_fixture("eligibility/inquiry-subscriber.json"),
            scope::ELIGIBILITY_READ,
        ),
        (
            "submit",
            "POST",
            "/ach/submitClaim",
            core_fixture("claims/professional-subscriber.json"),
            scope::CLAIMS_WRITE,
        ),
        (
            "status",
            "GET",
            "/ach/claims/clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f",
            vec![],
            scope::CLAIMS_READ,
        ),
        (
            "status",
            "POST",
            "/ach/claimStatus",
            core_fixture("status/inquiry-subscriber.json"),
            scope::CLAIMS_READ,
        ),
    ];
    for (route, method, path, body, needed) in routes {
        let none = call(&app, route, request(method, path, None, &body)).await;
        assert_eq!(none.status(), 401, "{path} without a token");
        assert_eq!(json(&none)["error"], "unauthorized");
        assert!(none.headers().contains_key("www-authenticate"));
        let forged = call(
            &app,
            route,
            request(method, path, Some("not.a.token"), &body),
        )
        .await;
        assert_eq!(forged.status(), 401, "{path} with a forged token");
        let others: Vec<&str> = [
            scope::ELIGIBILITY_READ,
            scope::CLAIMS_WRITE,
            scope::CLAIMS_READ,
        ]
        .into_iter()
        .filter(|s| *s != needed)
        .collect();
        let wrong = call(
            &app,
            route,
            request(method, path, Some(&token("clinic-1", &others)), &body),
        )
        .await;
        assert_eq!(wrong.status(), 403, "{path} with the wrong scopes");
        assert!(json(&wrong)["reason"].as_str().unwrap().contains(needed));
        let right = call(
            &app,
            route,
            request(method, path, Some(&token("clinic-1", &[needed])), &body),
        )
        .await;
        assert!(
            ![401, 403].contains(&right.status().as_u16()),
            "{path} with the right scope: {}",
            right.status()
        );
        // The unknown claim id is a 404 with a reason; the rest succeed.
        let expected = if path.starts_with("/ach/claims/") {
            404
        } else if route == "submit" {
            202
        } else {
            200
        };
        assert_eq!(
            right.status().as_u16(),
            expected,
            "{path}: {}",
            json(&right)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_submitted_twice_with_one_key_is_answered_once_and_can_be_looked_up() {
    let app = app().await;
    let writer = token("clinic-1", &[scope::CLAIMS_WRITE, scope::CLAIMS_READ]);
    let body = core_fixture("claims/professional-subscriber.json");
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
    let other = app
        .submit(keyed(
            &core_fixture("claims/professional-dependent.json"),
            "order-17",
        ))
        .await;
    assert_eq!(other.status(), 409);
    let bad = app.submit(keyed(&body, &"k".repeat(300))).await;
    assert_eq!(bad.status(), 400);

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
    assert_eq!(record["history"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eligibility_answers_fhir_when_asked_and_a_rejection_is_a_422_with_its_meaning() {
    let app = app().await;
    let reader = token("clinic-1", &[scope::ELIGIBILITY_READ]);
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
