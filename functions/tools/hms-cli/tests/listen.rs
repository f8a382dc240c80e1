//! `hms webhooks listen` as a developer runs it: messages signed with the endpoint's secret
//! are printed once each, anything else is refused with the reason, and `--fail-first` makes
//! the sender retry.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use hms_webhooks::signing::SigningSecret;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Starts the listener with `args`; its port, once it says it listens, and the process.
fn listen(args: &[&str]) -> (u16, std::process::Child) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hms"))
        .args(["webhooks", "listen", "--port", &port.to_string()])
        .args(args)
        .env_remove("HMS_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when it says so: the first line on stderr.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
    });
    (port, child)
}

/// Posts a message to the listener: its status.
async fn post(port: u16, path: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}{path}"))
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// The Standard Webhooks headers of `body` as message `id`, signed with `secret`.
fn signed(id: &str, body: &str, secret: &str) -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let secret = SigningSecret::parse(secret).unwrap();
    vec![
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", secret.sign(id, now, body.as_bytes())),
    ]
}

fn event(kind: &str, claim: &str) -> String {
    serde_json::json!({
        "type": kind,
        "timestamp": "2026-12-07T03:00:00Z",
        "data": { "claimId": claim, "state": "paid", "sequence": 4 },
    })
    .to_string()
}

#[tokio::test]
async fn verified_events_are_printed_once_and_the_rest_refused_with_a_reason() {
    let (port, child) = listen(&["--secret", SECRET, "--json", "--max-events", "2"]);
    let path = "/records/ach/callback";
    let paid = event("claim.paid", "clm_1");
    // Unsigned, signed by another secret, stale, tampered: 401; elsewhere: 404.
    assert_eq!(post(port, path, &[], &paid).await, 401);
    let other = SigningSecret::generate().unwrap().to_text();
    assert_eq!(
        post(port, path, &signed("msg_a", &paid, &other), &paid).await,
        401
    );
    let mut stale = signed("msg_a", &paid, SECRET);
    stale[1].1 = (chrono::Utc::now().timestamp() - 3600).to_string();
    assert_eq!(post(port, path, &stale, &paid).await, 401);
    let headers = signed("msg_a", &paid, SECRET);
    assert_eq!(
        post(port, path, &headers, &paid.replace("paid", "denied")).await,
        401
    );
    assert_eq!(post(port, "/elsewhere", &headers, &paid).await, 404);
    // Verified: printed; the same message again is taken and not printed twice.
    assert_eq!(post(port, path, &headers, &paid).await, 204);
    assert_eq!(post(port, path, &headers, &paid).await, 204);
    let denied = event("claim.denied", "clm_2");
    assert_eq!(
        post(port, path, &signed("msg_b", &denied, SECRET), &denied).await,
        204
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], "msg_a");
    assert_eq!(lines[0]["message"]["type"], "claim.paid");
    assert_eq!(lines[1]["message"]["data"]["claimId"], "clm_2");
}

#[tokio::test]
async fn fail_first_makes_the_sender_retry_before_the_event_is_printed() {
    let (port, child) = listen(&["--secret", SECRET, "--fail-first", "2", "--max-events", "1"]);
    let path = "/records/ach/callback";
    let accepted = event("claim.accepted", "clm_3");
    let headers = signed("msg_c", &accepted, SECRET);
    assert_eq!(post(port, path, &headers, &accepted).await, 503);
    assert_eq!(post(port, path, &headers, &accepted).await, 503);
    assert_eq!(post(port, path, &headers, &accepted).await, 204);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("claim.accepted") && text.contains("msg_c") && text.contains("clm_3"));
}

#[test]
fn without_a_secret_or_an_api_it_says_what_to_give() {
    let out = Command::new(env!("CARGO_BIN_EXE_hms"))
        .args(["webhooks", "listen", "--port", "0"])
        .env_remove("HMS_WEBHOOK_SECRET")
        .env_remove("HMS_API_URL")
        .env_remove("HMS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--secret") && err.contains("HMS_API_URL"),
        "{err}"
    );
}
