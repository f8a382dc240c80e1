//! The webhook functions' glue: the `/ach/webhooks` routes (role `admin`, the caller's
//! organization only), the fan-out of the claim-events queue, and the deliverer of the
//! deliveries queue. Each parses its event, calls the use case, and maps the result.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use tracing::Instrument;

use hms_adapters::aws::{DynamoClaimStore, SqsQueue};
use hms_adapters::endpoints::HttpEndpoints;
use hms_service::ports::{Clock, Queue, SystemClock, Topic};
use hms_webhooks::event::WebhookEvent;
use hms_webhooks::policy::UrlPolicy;
use hms_webhooks::ports::{DeliveryFilter, EndpointClient, WebhookStore};
use hms_webhooks::records::{DeliveryMessage, DeliveryStatus};
use hms_webhooks::service::{
    Attempted, DeliverySweep, NewSubscription, Replay, SubscriptionChange, WebhookError, Webhooks,
};

use crate::http::{json_answer, ok};
use crate::routes::{access_start, authorize_request, body, logged, request_id};
use crate::{StartError, auth, setting};

/// The webhook service over the AWS adapters.
pub type AwsWebhooks = Webhooks<DynamoClaimStore, SqsQueue, HttpEndpoints, SystemClock>;

/// The largest webhook request body read (a URL, a list of types, a description).
pub const MAX_WEBHOOK_BYTES: usize = 16 * 1024;

/// What the webhook functions run on.
#[derive(Debug)]
pub struct WebhookApp<W = AwsWebhooks> {
    /// The use cases.
    pub webhooks: W,
    /// How callers are checked.
    pub verifier: auth::Verifier,
}

impl WebhookApp<AwsWebhooks> {
    /// The app from the function's environment: `CLAIMS_TABLE`, `WEBHOOK_DELIVERIES_QUEUE_URL`,
    /// `STAGE` (`local` lets endpoints be `http://127.0.0.1`), and the token settings.
    pub async fn from_env() -> Result<Self, StartError> {
        let aws = crate::aws_config().await;
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            HashMap::from([(
                Topic::WebhookDeliveries,
                setting("WEBHOOK_DELIVERIES_QUEUE_URL")?,
            )]),
        );
        let policy = if std::env::var("STAGE").is_ok_and(|s| s == "local") {
            UrlPolicy::LOCAL
        } else {
            UrlPolicy::DEPLOYED
        };
        Ok(Self {
            webhooks: Webhooks {
                store: DynamoClaimStore::new(
                    aws_sdk_dynamodb::Client::new(&aws),
                    setting("CLAIMS_TABLE")?,
                ),
                queue,
                endpoints: HttpEndpoints::new(policy).map_err(StartError)?,
                clock: SystemClock,
                policy,
                retry_waits: retry_waits()?,
            },
            verifier: auth::Verifier::from_env().map_err(|e| StartError(e.to_string()))?,
        })
    }
}

/// The waits between a delivery's attempts: the schedule, or `WEBHOOK_RETRY_WAITS_SECONDS`
/// (comma-separated; the local stack shortens them so that a retry is seen in seconds).
fn retry_waits() -> Result<Vec<std::time::Duration>, StartError> {
    match std::env::var("WEBHOOK_RETRY_WAITS_SECONDS") {
        Ok(text) if !text.trim().is_empty() => text
            .split(',')
            .map(|n| {
                n.trim()
                    .parse::<u64>()
                    .map(std::time::Duration::from_secs)
                    .map_err(|_| {
                        StartError(format!(
                            "WEBHOOK_RETRY_WAITS_SECONDS is whole seconds separated by commas: {text:?}"
                        ))
                    })
            })
            .collect(),
        _ => Ok(hms_webhooks::records::RETRY_WAITS.to_vec()),
    }
}

/// A webhook error as HTTP.
fn failed(e: &WebhookError) -> Response<Body> {
    let (status, code) = match e {
        WebhookError::Invalid(_) => (422, "invalid"),
        WebhookError::NotFound { .. } => (404, "not-found"),
        WebhookError::Storage(_) | WebhookError::Queue(_) => (503, "unavailable"),
        WebhookError::Signing(_) | WebhookError::Internal(_) => (500, "internal"),
    };
    if status >= 500 {
        tracing::error!(error = %e, "a webhook request failed");
    }
    json_answer(
        status,
        &json!({ "error": code, "reason": e.to_string() }),
        "application/json",
    )
}

/// A body that is not the JSON the route takes: 400 with serde's reason (which names the
/// field, never echoes a value).
fn unreadable(e: &serde_json::Error) -> Response<Body> {
    json_answer(
        400,
        &json!({ "error": "bad-request", "reason": format!("the body is not the JSON this route takes: {e}") }),
        "application/json",
    )
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response<Body>>> {
    serde_json::from_slice(bytes).map_err(|e| Box::new(unreadable(&e)))
}

impl<S: WebhookStore, Q: Queue, E: EndpointClient, C: Clock> WebhookApp<Webhooks<S, Q, E, C>> {
    /// Every `/ach/webhooks` route.
    pub async fn answer(&self, request: Request) -> Response<Body> {
        let access = access_start(&request);
        let span = tracing::info_span!("webhooks", request_id = %request_id(&request), organization = tracing::field::Empty, subject = tracing::field::Empty, webhook_id = tracing::field::Empty);
        let response = async {
            let (organization, _) = match authorize_request(&self.verifier, &request) {
                Ok(caller) => caller,
                Err(refusal) => return *refusal,
            };
            let bytes = match body(&request, MAX_WEBHOOK_BYTES) {
                Ok(b) => b,
                Err(refusal) => return *refusal,
            };
            let path = request.uri().path().trim_end_matches('/').to_string();
            let rest = path
                .split_once("/ach/webhooks")
                .map(|(_, rest)| rest.trim_start_matches('/'))
                .unwrap_or_default();
            let mut parts = rest.split('/');
            let id = parts.next().filter(|p| !p.is_empty());
            let action = parts.next();
            if let Some(id) = id {
                tracing::Span::current().record("webhook_id", id);
            }
            let w = &self.webhooks;
            let method = request.method().as_str();
            match (method, id, action) {
                ("POST", None, None) => match parse::<NewSubscription>(bytes) {
                    Ok(new) => match w.subscribe(&organization, new).await {
                        Ok(made) => ok(201, &made, "application/json"),
                        Err(e) => failed(&e),
                    },
                    Err(refusal) => *refusal,
                },
                ("GET", None, None) => match w.subscriptions(&organization).await {
                    Ok(list) => ok(200, &json!({ "webhooks": list }), "application/json"),
                    Err(e) => failed(&e),
                },
                ("GET", Some(id), None) => match w.subscription(&organization, id).await {
                    Ok(view) => ok(200, &view, "application/json"),
                    Err(e) => failed(&e),
                },
                ("PATCH", Some(id), None) => match parse::<SubscriptionChange>(bytes) {
                    Ok(change) => match w.change(&organization, id, change).await {
                        Ok(view) => ok(200, &view, "application/json"),
                        Err(e) => failed(&e),
                    },
                    Err(refusal) => *refusal,
                },
                ("DELETE", Some(id), None) => match w.unsubscribe(&organization, id).await {
                    Ok(()) => Response::builder()
                        .status(204)
                        .body(Body::Empty)
                        .unwrap_or_else(|_| Response::new(Body::Empty)),
                    Err(e) => failed(&e),
                },
                ("POST", Some(id), Some("rotate-secret")) => {
                    match w.rotate_secret(&organization, id).await {
                        Ok(rotated) => ok(200, &rotated, "application/json"),
                        Err(e) => failed(&e),
                    }
                }
                ("POST", Some(id), Some("test")) => match w.send_test(&organization, id).await {
                    Ok(message) => ok(202, &json!({ "messageId": message }), "application/json"),
                    Err(e) => failed(&e),
                },
                ("GET", Some(id), Some("deliveries")) => {
                    let query = request.query_string_parameters();
                    let status = match query.first("status") {
                        None => None,
                        Some("pending") => Some(DeliveryStatus::Pending),
                        Some("delivered") => Some(DeliveryStatus::Delivered),
                        Some("failed") => Some(DeliveryStatus::Failed),
                        Some(_) => {
                            return json_answer(
                                400,
                                &json!({ "error": "bad-request", "reason": "status is pending, delivered or failed" }),
                                "application/json",
                            );
                        }
                    };
                    let since = match query.first("since").map(chrono::DateTime::parse_from_rfc3339) {
                        None => None,
                        Some(Ok(at)) => Some(at.with_timezone(&chrono::Utc)),
                        Some(Err(_)) => {
                            return json_answer(
                                400,
                                &json!({ "error": "bad-request", "reason": "since is an RFC 3339 time" }),
                                "application/json",
                            );
                        }
                    };
                    let limit = match query.first("limit").map(str::parse::<usize>) {
                        None => 20,
                        Some(Ok(n)) => n,
                        Some(Err(_)) => {
                            return json_answer(
                                400,
                                &json!({ "error": "bad-request", "reason": "limit is a whole number" }),
                                "application/json",
                            );
                        }
                    };
                    let filter = DeliveryFilter {
                        event_type: query.first("eventType").map(str::to_string),
                        status,
                        since,
                    };
                    match w
                        .deliveries(&organization, id, &filter, query.first("cursor"), limit)
                        .await
                    {
                        Ok(page) => ok(
                            200,
                            &json!({ "deliveries": page.items.iter().map(delivery_view).collect::<Vec<_>>(), "next": page.next }),
                            "application/json",
                        ),
                        Err(e) => failed(&e),
                    }
                }
                ("POST", Some(id), Some("replay")) => match parse::<Replay>(bytes) {
                    Ok(replay) => match w.replay(&organization, id, &replay).await {
                        Ok(queued) => ok(202, &json!({ "queued": queued }), "application/json"),
                        Err(e) => failed(&e),
                    },
                    Err(refusal) => *refusal,
                },
                _ => json_answer(
                    404,
                    &json!({ "error": "not-found", "reason": format!("no route {method} {path}") }),
                    "application/json",
                ),
            }
        }
        .instrument(span.clone())
        .await;
        logged(response, &span, &access)
    }

    /// The fan-out: one message of the claim-events queue (a claim's move or a remittance
    /// event) made into its deliveries; how many were made.
    pub async fn fan_out(&self, body: &str) -> Result<usize, WebhookError> {
        let event = WebhookEvent::from_announcement(body.as_bytes(), self.webhooks.clock.now())
            .map_err(|e| WebhookError::Invalid(e.to_string()))?;
        match event {
            Some(event) => self.webhooks.fan_out(&event).await,
            None => Ok(0),
        }
    }

    /// The sweep: pending deliveries overdue by `WEBHOOK_OVERDUE_SECONDS` (default
    /// [`hms_webhooks::service::OVERDUE_AFTER`]) queued again, up to `limit`.
    pub async fn sweep(&self, limit: usize) -> Result<DeliverySweep, WebhookError> {
        let overdue_after = std::env::var("WEBHOOK_OVERDUE_SECONDS")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(
                hms_webhooks::service::OVERDUE_AFTER,
                std::time::Duration::from_secs,
            );
        self.webhooks.sweep(overdue_after, limit).await
    }

    /// The deliverer: one message of the deliveries queue, one attempt.
    pub async fn deliver(&self, body: &str) -> Result<Attempted, WebhookError> {
        let message: DeliveryMessage = serde_json::from_str(body)
            .map_err(|e| WebhookError::Invalid(format!("not a delivery message: {e}")))?;
        self.webhooks.attempt(&message).await
    }
}

/// A delivery as operators see it: its attempts and outcome, not its body.
fn delivery_view(d: &hms_webhooks::records::Delivery) -> serde_json::Value {
    json!({
        "messageId": d.id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "eventAt": d.event_at,
        "status": d.status,
        "attempts": d.attempts,
        "attemptCount": d.attempt_count,
        "nextAttemptAt": d.next_attempt_at,
    })
}
