//! `hms webhooks listen`: a webhook receiver for a developer's machine, as `stripe listen` is
//! for Stripe's. It takes `POST`s on 127.0.0.1, verifies each one as the Standard Webhooks
//! specification says (the signature over `id.timestamp.body` by the endpoint's secret, the
//! timestamp within five minutes), prints the events that verify and refuses the rest with
//! 401 and the reason. Given the API and an administrator's token instead of a secret, it
//! subscribes itself for the run (the local stage allows `http://127.0.0.1` endpoints) and
//! deletes that subscription when it ends, so an integrator sees the events of their
//! organization's claims arrive as their own endpoint (`POST /records/ach/callback`) would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use clap::Subcommand;
use hms_webhooks::signing::SigningSecret;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The largest message taken: ours are a few kilobytes.
const MAX_MESSAGE: usize = 256 * 1024;

/// What `hms webhooks` does.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Receive webhook events on `127.0.0.1:PORT`, verify each signature (Standard Webhooks)
    /// and print the event: a line each (time, type, message id, data), or its JSON with
    /// `--json`. With `--secret` (or `HMS_WEBHOOK_SECRET`) it verifies with that endpoint's
    /// secret; without one it subscribes itself through the API (`--api`/`HMS_API_URL`,
    /// `--token`/`HMS_TOKEN`, an admin's) for the run and removes the subscription at the
    /// end. Ends on Ctrl-C, SIGTERM or after `--max-events`.
    Listen {
        /// The port on 127.0.0.1.
        #[arg(long)]
        port: u16,
        /// The path events are posted to.
        #[arg(long, default_value = "/records/ach/callback")]
        path: String,
        /// The endpoint's signing secret (`whsec_…`).
        #[arg(long)]
        secret: Option<String>,
        /// An event type to subscribe to (repeat it; `*` for all, the default).
        #[arg(long = "event")]
        events: Vec<String>,
        /// The API's base URL, to subscribe (default: `HMS_API_URL`).
        #[arg(long)]
        api: Option<String>,
        /// An admin's bearer token, to subscribe (default: `HMS_TOKEN`).
        #[arg(long)]
        token: Option<String>,
        /// Print each verified message as a line of JSON: its id, attempt, when it was
        /// received and its body.
        #[arg(long)]
        json: bool,
        /// Answer 503 to the first N attempts of each message, to watch the retries.
        #[arg(long, default_value_t = 0)]
        fail_first: u32,
        /// End after this many verified events.
        #[arg(long)]
        max_events: Option<usize>,
    },
}

/// What one listener has seen.
#[derive(Debug, Default)]
struct Seen {
    /// Attempts per message id.
    attempts: HashMap<String, u32>,
    /// Events verified and printed.
    printed: usize,
}

#[derive(Debug)]
struct Listener {
    secret: SigningSecret,
    path: String,
    json: bool,
    fail_first: u32,
    max_events: Option<usize>,
    seen: Mutex<Seen>,
    done: tokio::sync::Notify,
}

/// Runs `command`.
pub fn run(command: WebhooksCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        WebhooksCommand::Listen {
            port,
            path,
            secret,
            events,
            api,
            token,
            json,
            fail_first,
            max_events,
        } => runtime.block_on(async move {
            if !path.starts_with('/') {
                anyhow::bail!("--path starts with /: {path:?}");
            }
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("listening on {address}"))?;
            let url = format!("http://{}{path}", listener.local_addr()?);
            let given = secret.or_else(|| std::env::var("HMS_WEBHOOK_SECRET").ok());
            let (secret, subscription) = match given.filter(|s| !s.is_empty()) {
                Some(secret) => (secret, None),
                None => {
                    let api = Api::new(
                        &setting(api, "HMS_API_URL", "api")?,
                        &setting(token, "HMS_TOKEN", "token")?,
                    )?;
                    let events = if events.is_empty() {
                        vec!["*".to_string()]
                    } else {
                        events
                    };
                    let (id, secret) = api.subscribe(&url, &events).await?;
                    (secret, Some((api, id)))
                }
            };
            let secret = SigningSecret::parse(&secret)
                .map_err(|e| anyhow::anyhow!("the signing secret: {e}"))?;
            let state = Arc::new(Listener {
                secret,
                path,
                json,
                fail_first,
                max_events,
                seen: Mutex::default(),
                done: tokio::sync::Notify::new(),
            });
            match &subscription {
                Some((_, id)) => eprintln!("listening on {url} as webhook {id}"),
                None => eprintln!("listening on {url}"),
            }
            let served = tokio::select! {
                served = serve(listener, Arc::clone(&state)) => served.map_err(anyhow::Error::from),
                () = state.done.notified() => Ok(()),
                () = ended() => Ok(()),
            };
            if let Some((api, id)) = &subscription {
                match api.unsubscribe(id).await {
                    Ok(()) => eprintln!("webhook {id} removed"),
                    Err(e) => eprintln!("webhook {id} was not removed: {e:#}"),
                }
            }
            served?;
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// A flag's value, else its environment variable's.
fn setting(given: Option<String>, var: &str, flag: &str) -> anyhow::Result<String> {
    given
        .or_else(|| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("give --secret, or --{flag} (or set {var}) to subscribe this listener")
        })
}

/// Ctrl-C or SIGTERM.
async fn ended() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The API, as the listener's administrator.
#[derive(Debug)]
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
        })
    }

    /// Subscribes `url` to `events`: the webhook's id and secret.
    async fn subscribe(&self, url: &str, events: &[String]) -> anyhow::Result<(String, String)> {
        let request = serde_json::json!({
            "url": url,
            "events": events,
            "description": "hms webhooks listen",
        });
        let response = self
            .http
            .post(format!("{}/ach/webhooks", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&request)?)
            .send()
            .await
            .with_context(|| format!("subscribing at {}", self.base))?;
        let status = response.status();
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap_or_default()).unwrap_or_default();
        if !status.is_success() {
            let reason = body
                .pointer("/reason")
                .and_then(|r| r.as_str())
                .unwrap_or("no reason given");
            anyhow::bail!("the API refused the subscription ({status}): {reason}");
        }
        let field = |name: &str| {
            body.get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("the API's answer has no {name}"))
        };
        Ok((field("id")?, field("secret")?))
    }

    /// Removes the webhook `id`.
    async fn unsubscribe(&self, id: &str) -> anyhow::Result<()> {
        let response = self
            .http
            .delete(format!("{}/ach/webhooks/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the API answered {}",
            response.status()
        );
        Ok(())
    }
}

/// Serves `state` on `listener` until the process ends.
async fn serve(listener: TcpListener, state: Arc<Listener>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| receive(Arc::clone(&state), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(status: u16, text: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(text.to_string())))
        .unwrap_or_default()
}

/// One POST: verified, printed, answered.
async fn receive(
    state: Arc<Listener>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if request.uri().path() != state.path {
        return Ok(answer(404, "events are posted to another path"));
    }
    if request.method() != hyper::Method::POST {
        return Ok(answer(405, "events are POSTed"));
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let body = match Limited::new(request.into_body(), MAX_MESSAGE)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(answer(413, "the message is over 256 KiB")),
    };
    let shown_id: String = id.chars().take(64).collect();
    let now = chrono::Utc::now();
    if let Err(e) = state
        .secret
        .verify(&id, &timestamp, &signature, &body, now.timestamp())
    {
        eprintln!("refused {shown_id}: {e}");
        return Ok(answer(401, &format!("not verified: {e}")));
    }
    let attempt = {
        let mut seen = state.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let n = seen.attempts.entry(id.clone()).or_default();
        *n += 1;
        *n
    };
    if attempt <= state.fail_first {
        eprintln!("failing {shown_id} (attempt {attempt}) as asked");
        return Ok(answer(503, "failing as asked"));
    }
    let Ok(message) = serde_json::from_slice::<serde_json::Value>(&body) else {
        eprintln!("refused {shown_id}: the body is not JSON");
        return Ok(answer(400, "the body is not JSON"));
    };
    if attempt > state.fail_first + 1 {
        // Delivered before: a receiver dedupes by webhook-id.
        eprintln!("{shown_id} again (attempt {attempt}): already printed");
        return Ok(answer(204, ""));
    }
    if state.json {
        let line = serde_json::json!({
            "id": id,
            "attempt": attempt,
            "receivedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "message": message,
        });
        outln!("{line}");
    } else {
        let field = |name: &str| message.get(name).and_then(|v| v.as_str()).unwrap_or("?");
        outln!(
            "{}  {:<24} {id}  {}",
            field("timestamp"),
            field("type"),
            message.get("data").cloned().unwrap_or_default()
        );
    }
    let printed = {
        let mut seen = state.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.printed += 1;
        seen.printed
    };
    if state.max_events.is_some_and(|max| printed >= max) {
        state.done.notify_one();
    }
    Ok(answer(204, ""))
}
