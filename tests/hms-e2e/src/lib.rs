//! A client for the running local stack, so the end-to-end tests read as what a clinic's system
//! does: call a route with a token, read the answer. The stack's addresses and its development
//! key come from `eval "$(infra/stack.sh env)"`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::time::Duration;

/// Where the stack is and how to mint its tokens.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The HttpApi's base URL.
    pub api: String,
    /// The payer simulator's base URL (its admin routes inject faults).
    pub payer: String,
    /// The development key the functions check tokens against.
    secret: String,
    issuer: String,
    audience: String,
    http: reqwest::Client,
}

/// One answer: status, headers, and the body as JSON (`Null` when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub json: serde_json::Value,
}

impl Stack {
    /// The stack named by the environment; a clear panic when it is not set, since these tests
    /// mean nothing without it.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: start the stack (infra/stack.sh up) and \
                     eval \"$(infra/stack.sh env)\" before these tests"
                )
            })
        };
        Self {
            api: var("HMS_API_URL"),
            payer: var("HMS_PAYER_URL"),
            secret: var("HMS_LOCAL_JWT_SECRET"),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap_or_else(|e| panic!("HTTP client: {e}")),
        }
    }

    /// A token for `organization` with `roles`, as `hms token` mints it.
    pub fn token(&self, organization: &str, roles: &[hms_auth::Role]) -> String {
        self.token_for(organization, roles, chrono::TimeDelta::hours(1))
    }

    /// A token valid for `lifetime` (negative: already expired).
    pub fn token_for(
        &self,
        organization: &str,
        roles: &[hms_auth::Role],
        lifetime: chrono::TimeDelta,
    ) -> String {
        let request = hms_auth::TokenRequest {
            subject: "e2e-user",
            organization,
            roles,
            lifetime,
        };
        hms_auth::mint(
            self.secret.as_bytes(),
            &self.issuer,
            &self.audience,
            &request,
        )
        .unwrap_or_else(|e| panic!("minting a token: {e}"))
    }

    /// A billing token of the clinic that owns the fixtures' providers.
    pub fn billing(&self) -> String {
        self.token("clinic-a", &[hms_auth::Role::Billing])
    }

    /// What the simulator counted of claims sent to it again: (resends, duplicates).
    pub async fn duplicates(&self) -> (u64, u64) {
        let counts: serde_json::Value = self
            .http
            .get(format!("{}/admin/duplicates", self.payer))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the simulator did not answer: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("the simulator's counts: {e}"));
        (
            counts["resends"].as_u64().unwrap_or_default(),
            counts["duplicates"].as_u64().unwrap_or_default(),
        )
    }

    /// `method path` on the API with an optional bearer token, extra headers and a body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let method: reqwest::Method = method.parse().unwrap_or_else(|e| panic!("{method}: {e}"));
        let mut request = self.http.request(method, format!("{}{path}", self.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: the API did not answer: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{path}: reading the answer: {e}"));
        Reply {
            status,
            headers,
            json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        }
    }

    /// `POST path` with `request` as JSON and a bearer token: what most calls are.
    pub async fn post(&self, path: &str, token: &str, request: &serde_json::Value) -> Reply {
        self.call("POST", path, Some(token), &[], body(request))
            .await
    }

    /// `POST /ach/submitClaim` with `claim`.
    pub async fn submit(&self, token: &str, claim: &serde_json::Value) -> Reply {
        self.post("/ach/submitClaim", token, claim).await
    }

    /// The X12 the simulator received after it had received `before`, asserting our validator
    /// found it valid.
    pub async fn sent_since(&self, before: usize) -> serde_json::Value {
        let received = self.received().await;
        let sent = received
            .get(before)
            .unwrap_or_else(|| panic!("the payer received nothing after its {before}th X12"));
        assert_eq!(sent["valid"], true, "{}", sent["errors"]);
        sent.clone()
    }

    /// Tells the simulator to misbehave for its next `count` exchanges.
    pub async fn fault(&self, fault: serde_json::Value, count: u32) {
        let response = self
            .http
            .post(format!("{}/admin/faults", self.payer))
            .json(&serde_json::json!({ "fault": fault, "count": count }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the simulator did not answer: {e}"));
        assert!(
            response.status().is_success(),
            "the simulator refused the fault: {}",
            response.status()
        );
    }

    /// Waits for the stored claim `id` to reach `state` (asking as `token` every half
    /// second, for at most `within`), returning its record.
    pub async fn claim_reaching(
        &self,
        token: &str,
        id: &str,
        state: &str,
        within: std::time::Duration,
    ) -> serde_json::Value {
        let start = std::time::Instant::now();
        loop {
            let reply = self
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
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    /// The simulator pays what it accepted and has not paid: its 835s (`key`, `x12`, ...).
    pub async fn remit(&self) -> Vec<serde_json::Value> {
        self.simulator_files("/admin/remit").await
    }

    /// The acknowledgment files the simulator wrote for the payers it answers by file, taken
    /// (`key`, `x12`).
    pub async fn acknowledgment_files(&self) -> Vec<serde_json::Value> {
        self.simulator_files("/admin/acknowledgments").await
    }

    /// The files the simulator hands over at `path` (`POST`): a list of `key`, `x12`, ....
    async fn simulator_files(&self, path: &str) -> Vec<serde_json::Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.payer))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the simulator did not answer: {e}"));
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let list: serde_json::Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("the simulator's files at {path}: {e}"));
        list.as_array().cloned().unwrap_or_default()
    }

    /// Puts each of `files` (`key`, `x12`, as the simulator hands them over) into the drop
    /// zone, as the payer's uploads would be.
    pub async fn drop_files(&self, files: &[serde_json::Value]) {
        for file in files {
            let key = file["key"].as_str().unwrap_or_default();
            let x12 = file["x12"].as_str().unwrap_or_default();
            self.drop_file(key, x12.as_bytes().to_vec()).await;
        }
    }

    /// The drop zone's object `key` (LocalStack's S3, by path): its URL.
    fn drop_url(&self, key: &str) -> String {
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: eval \"$(infra/stack.sh env)\""))
        };
        format!(
            "{}/{}/{key}",
            var("AWS_ENDPOINT_URL").trim_end_matches('/'),
            var("HMS_DROP_BUCKET")
        )
    }

    /// Puts `bytes` into the drop zone under `key`, as a payer's SFTP upload would.
    pub async fn drop_file(&self, key: &str, bytes: Vec<u8>) {
        let response = self
            .http
            .put(self.drop_url(key))
            .body(bytes)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the drop zone did not answer: {e}"));
        assert!(
            response.status().is_success(),
            "{key}: {}",
            response.status()
        );
    }

    /// The drop zone's object `key`, if it is there.
    pub async fn dropped(&self, key: &str) -> Option<Vec<u8>> {
        let response = self
            .http
            .get(self.drop_url(key))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the drop zone did not answer: {e}"));
        if response.status().as_u16() == 404 {
            return None;
        }
        assert!(
            response.status().is_success(),
            "{key}: {}",
            response.status()
        );
        Some(
            response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default(),
        )
    }

    /// What the simulator has received: payload type, our validator's verdict, the X12.
    pub async fn received(&self) -> Vec<serde_json::Value> {
        let response = self
            .http
            .get(format!("{}/admin/received", self.payer))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the simulator did not answer: {e}"));
        let list: serde_json::Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("the simulator's received list: {e}"));
        list.as_array().cloned().unwrap_or_default()
    }
}

/// A fixture of the core crate's (the requests its own tests use), as JSON to edit.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/functions/shared/hms-domain/tests/fixtures/{name}",
        hms_test_support::workspace().display()
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `value` as a request body.
pub fn body(value: &serde_json::Value) -> Option<Vec<u8>> {
    Some(value.to_string().into_bytes())
}

/// `claim` (our JSON or a FHIR Claim) with a patient control number of its own: an original
/// claim's number may reach its payer once, and the tests submit the same fixtures again.
pub fn unique(mut claim: serde_json::Value) -> serde_json::Value {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let pcn = format!(
        "E2E{:010}{:03}",
        nanos.rem_euclid(10_000_000_000),
        NEXT.fetch_add(1, Ordering::Relaxed) % 1000
    );
    if claim["resourceType"] == "Claim" {
        claim["identifier"][0]["value"] = pcn.into();
    } else {
        claim["claim"]["patientControlNumber"] = pcn.into();
    }
    claim
}

/// The professional claim fixture with a patient control number of its own.
pub fn professional() -> serde_json::Value {
    unique(fixture("claims/professional-subscriber.json"))
}

/// `hms webhooks listen` (the binary `HMS_CLI` names) subscribed for `organization`'s
/// administrator on a free port of 127.0.0.1, printing each verified message as JSON: how
/// an integrator watches events, and how the tests and the latency bench receive them.
#[derive(Debug)]
pub struct Listener {
    child: std::process::Child,
    stderr: std::io::BufReader<std::process::ChildStderr>,
    /// The webhook it subscribed as (`whk_…`).
    pub webhook: String,
    /// Its first line: where it listens and as which webhook.
    pub banner: String,
    /// Its port.
    pub port: u16,
    /// Each message it printed (`id`, `attempt`, `receivedAt`, `message`), as it prints it.
    pub printed: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl Listener {
    /// Starts the listener with `token` (an administrator's) and the extra `args` (`--event`
    /// …), once it says it has subscribed.
    pub fn start(stack: &Stack, token: &str, args: &[&str]) -> Self {
        use std::io::BufRead;
        let hms = std::env::var("HMS_CLI")
            .unwrap_or_else(|_| panic!("HMS_CLI is not set: infra/test.sh e2e builds `hms`"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("a free port: {e}"))
            .port();
        let mut child = std::process::Command::new(hms)
            .args(["webhooks", "listen", "--port", &port.to_string(), "--json"])
            .args(["--api", &stack.api, "--token", token])
            .args(args)
            .env_remove("HMS_WEBHOOK_SECRET")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("hms webhooks listen: {e}"));
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            panic!("the listener's output is not piped");
        };
        let mut stderr = std::io::BufReader::new(stderr);
        let mut banner = String::new();
        stderr
            .read_line(&mut banner)
            .unwrap_or_else(|e| panic!("the listener's first line: {e}"));
        let webhook = banner
            .split_whitespace()
            .find(|w| w.starts_with("whk_"))
            .unwrap_or_else(|| panic!("the listener did not subscribe: {banner}"))
            .to_string();
        let (lines, printed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = lines.send(v);
                }
            }
        });
        Self {
            child,
            stderr,
            webhook,
            banner,
            port,
            printed,
        }
    }

    /// Stops it as Ctrl-C or a service manager would (SIGTERM): whether it ended well, and
    /// what it said on its way out.
    pub fn stop(mut self) -> (bool, String) {
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let ended = self.child.wait().is_ok_and(|s| s.success());
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stderr, &mut rest);
        (signalled && ended, rest)
    }
}
