//! Webhooks end to end on the local stack: a receiver on 127.0.0.1 (`receiver.py`) verifies
//! every message with the Standard Webhooks project's own Python implementation
//! (`standardwebhooks` from PyPI), not ours. The stack retries webhooks a second apart
//! (`HMS_WEBHOOK_RETRY_WAITS_SECONDS`).
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::time::{Duration, Instant};

use hms_auth::Role;
use hms_e2e::{Listener, Stack, professional};
use serde_json::{Value, json};

/// How long a webhook may take to arrive, retries included.
const TO_ARRIVE: Duration = Duration::from_secs(90);

/// The receiver, ended when dropped.
struct Receiver {
    child: std::process::Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts `receiver.py` on a free port of 127.0.0.1 and waits until it answers.
    async fn start() -> Self {
        let python = std::env::var("HMS_WEBHOOK_RECEIVER_PYTHON").unwrap_or_else(|_| {
            panic!(
                "HMS_WEBHOOK_RECEIVER_PYTHON is not set: infra/test.sh e2e installs the receiver"
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/receiver.py");
        let child = std::process::Command::new(python)
            .args([script, "--port", &port.to_string()])
            .spawn()
            .unwrap();
        let receiver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let start = Instant::now();
        while receiver
            .http
            .get(format!("{}/health", receiver.url))
            .send()
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the receiver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        receiver
    }

    /// An endpoint at `path` whose messages must verify with `secrets`, failing its first
    /// `fail_first` with `status`.
    async fn endpoint(&self, path: &str, secrets: &[&str], fail_first: u32, status: u16) {
        let answer = self
            .http
            .post(format!("{}/admin/endpoints", self.url))
            .json(&json!({ "path": path, "secrets": secrets, "failFirst": fail_first, "status": status }))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
    }

    async fn received(&self, path: &str) -> Vec<Value> {
        self.http
            .get(format!("{}/admin/received?path={path}", self.url))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// What `path` received once `done` holds of it.
    async fn until(&self, path: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.received(path).await;
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < TO_ARRIVE,
                "{path} did not receive {what} within {TO_ARRIVE:?}: {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Adds an endpoint for `organization`: its id and secret.
async fn subscribe(
    stack: &Stack,
    organization: &str,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let admin = stack.token(organization, &[Role::Admin]);
    let made = stack
        .post(
            "/ach/webhooks",
            &admin,
            &json!({ "url": url, "events": events, "description": "e2e" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    (
        made.json["id"].as_str().unwrap().to_string(),
        made.json["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_claims_life_reaches_its_organizations_endpoint_signed_in_order_and_no_other() {
    let stack = Stack::from_env();
    let receiver = Receiver::start().await;
    let (_, secret_a) = subscribe(&stack, "clinic-a", &format!("{}/a", receiver.url), &["*"]).await;
    let (_, secret_b) = subscribe(&stack, "clinic-b", &format!("{}/b", receiver.url), &["*"]).await;
    receiver.endpoint("/a", &[&secret_a], 0, 500).await;
    receiver.endpoint("/b", &[&secret_b], 0, 500).await;
    let billing = stack.billing();
    let submitted = stack.submit(&billing, &professional()).await;
    assert_eq!(submitted.status, 202, "{}", submitted.json);
    let claim = submitted.json["claimId"].as_str().unwrap().to_string();
    stack
        .claim_reaching(&billing, &claim, "accepted-by-payer", TO_ARRIVE)
        .await;
    // The payer pays by file.
    stack.drop_files(&stack.remit().await).await;
    let of_claim = |got: &[Value]| -> Vec<Value> {
        got.iter()
            .filter(|m| m["data"]["claimId"] == claim.as_str())
            .cloned()
            .collect()
    };
    let got = receiver
        .until("/a", "claim.accepted and claim.paid", |got| {
            let mine = of_claim(got);
            ["claim.accepted", "claim.paid"]
                .iter()
                .all(|t| mine.iter().any(|m| m["type"] == *t))
        })
        .await;
    let mine = of_claim(&got);
    for message in &mine {
        assert_eq!(message["verifiedWith"], json!([0]), "{message}");
        assert!(message["id"].as_str().unwrap().starts_with("msg_"));
        assert_eq!(
            message["data"]["links"]["claim"],
            format!("/ach/claims/{claim}")
        );
    }
    // In the claim's order: each carries its sequence, and accepted comes before paid.
    let sequence = |t: &str| {
        mine.iter()
            .find(|m| m["type"] == t)
            .and_then(|m| m["data"]["sequence"].as_u64())
            .unwrap()
    };
    assert!(sequence("claim.accepted") < sequence("claim.paid"));
    let paid = mine.iter().find(|m| m["type"] == "claim.paid").unwrap();
    assert!(paid["data"]["payment"]["paid"].as_str().is_some(), "{paid}");
    // Clinic B's endpoint takes everything of clinic B's, and nothing of this claim.
    assert!(of_claim(&receiver.received("/b").await).is_empty());
}

#[tokio::test]
async fn a_failing_receiver_gets_each_failure_again_then_nothing_and_one_down_past_the_schedule_is_replayed()
 {
    let stack = Stack::from_env();
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let receiver = Receiver::start().await;
    // Fails twice, then takes it: three attempts of one message, then no more.
    let (flaky, secret) = subscribe(
        &stack,
        "clinic-a",
        &format!("{}/flaky", receiver.url),
        &["remittance.exception"],
    )
    .await;
    receiver.endpoint("/flaky", &[&secret], 2, 503).await;
    let sent = stack
        .post(&format!("/ach/webhooks/{flaky}/test"), &admin, &json!({}))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.json);
    let got = receiver
        .until("/flaky", "a delivered test", |got| {
            got.iter().any(|m| m["status"] == 204)
        })
        .await;
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got.iter()
            .all(|m| m["id"] == got[0]["id"] && m["type"] == "webhook.test")
    );
    assert_eq!(
        got.iter()
            .map(|m| m["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [503, 503, 204]
    );
    // Down past the schedule: every attempt fails, the delivery ends in the dead letters.
    let (down, secret) = subscribe(
        &stack,
        "clinic-a",
        &format!("{}/down", receiver.url),
        &["remittance.exception"],
    )
    .await;
    receiver.endpoint("/down", &[&secret], 1000, 500).await;
    let sent = stack
        .post(&format!("/ach/webhooks/{down}/test"), &admin, &json!({}))
        .await;
    let message = sent.json["messageId"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let listed = stack
            .call(
                "GET",
                &format!("/ach/webhooks/{down}/deliveries?status=failed"),
                Some(&admin),
                &[],
                None,
            )
            .await;
        assert_eq!(listed.status, 200, "{}", listed.json);
        if listed.json["deliveries"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
        {
            assert_eq!(listed.json["deliveries"][0]["messageId"], message.as_str());
            assert_eq!(listed.json["deliveries"][0]["attemptCount"], 8);
            break;
        }
        assert!(
            start.elapsed() < TO_ARRIVE,
            "the delivery never failed: {}",
            listed.json
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The receiver is back; the replay delivers that message, under its id.
    receiver.endpoint("/down", &[&secret], 0, 500).await;
    let replayed = stack
        .post(
            &format!("/ach/webhooks/{down}/replay"),
            &admin,
            &json!({ "messageId": message }),
        )
        .await;
    assert_eq!(replayed.status, 202, "{}", replayed.json);
    let got = receiver
        .until("/down", "the replayed message", |got| {
            got.iter().any(|m| m["status"] == 204)
        })
        .await;
    assert!(got.iter().all(|m| m["id"] == message.as_str()));
}

#[tokio::test]
async fn after_a_rotation_messages_verify_with_both_secrets_and_endpoints_that_reach_inside_are_refused()
 {
    let stack = Stack::from_env();
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let receiver = Receiver::start().await;
    let (id, old) = subscribe(
        &stack,
        "clinic-a",
        &format!("{}/rotated", receiver.url),
        &["claim.paid"],
    )
    .await;
    let rotated = stack
        .post(
            &format!("/ach/webhooks/{id}/rotate-secret"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    let new = rotated.json["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    receiver.endpoint("/rotated", &[&old, &new], 0, 500).await;
    stack
        .post(&format!("/ach/webhooks/{id}/test"), &admin, &json!({}))
        .await;
    let got = receiver
        .until("/rotated", "a test", |got| !got.is_empty())
        .await;
    assert_eq!(got[0]["verifiedWith"], json!([0, 1]), "{got:#?}");
    // Another organization's administrator sees none of it.
    let other = stack.token("clinic-b", &[Role::Admin]);
    let theirs = stack
        .call(
            "GET",
            &format!("/ach/webhooks/{id}"),
            Some(&other),
            &[],
            None,
        )
        .await;
    assert_eq!(theirs.status, 404);
    // Endpoints inside: the metadata service, private ranges, names only this network knows.
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "https://192.168.1.10/hook",
        "https://localhost/hook",
        "https://[::ffff:169.254.169.254]/",
    ] {
        let refused = stack
            .post(
                "/ach/webhooks",
                &admin,
                &json!({ "url": url, "events": ["*"] }),
            )
            .await;
        assert_eq!(refused.status, 422, "{url}: {}", refused.json);
    }
}

/// `hms webhooks listen` as an integrator runs it on their machine: it subscribes itself with
/// an administrator's token, prints the organization's claim events as they come (verified
/// with the secret it was given), and removes its subscription when it is stopped.
#[tokio::test]
async fn hms_webhooks_listen_subscribes_itself_prints_a_claims_events_and_removes_itself() {
    let stack = Stack::from_env();
    let admin = stack.token("clinic-a", &[Role::Admin]);
    let listener = Listener::start(&stack, &admin, &["--event", "claim.accepted"]);
    let webhook = listener.webhook.clone();
    assert!(
        listener
            .banner
            .contains(&format!("127.0.0.1:{}/records/ach/callback", listener.port)),
        "{}",
        listener.banner
    );
    let billing = stack.billing();
    let submitted = stack.submit(&billing, &professional()).await;
    assert_eq!(submitted.status, 202, "{}", submitted.json);
    let claim = submitted.json["claimId"].as_str().unwrap().to_string();
    let start = Instant::now();
    let accepted = loop {
        let left = TO_ARRIVE.saturating_sub(start.elapsed());
        let got = listener
            .printed
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the listener printed no claim.accepted for {claim}"));
        if got["message"]["data"]["claimId"] == claim.as_str() {
            break got;
        }
    };
    assert_eq!(accepted["message"]["type"], "claim.accepted");
    assert!(accepted["id"].as_str().unwrap().starts_with("msg_"));
    // Stopped as Ctrl-C or a service manager stops it: it removes its subscription.
    let (ended, rest) = listener.stop();
    assert!(ended, "{rest}");
    assert!(
        rest.contains(&format!("webhook {webhook} removed")),
        "{rest}"
    );
    let gone = stack
        .call(
            "GET",
            &format!("/ach/webhooks/{webhook}"),
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, 404, "{}", gone.json);
}
