//! Production adapters of the core's ports: the payer gateway here, CAQH CORE connectivity
//! 2.2.0 (SOAP 1.2 over HTTPS), real-time for 270/276 and batch for 837 with the batch's 999
//! and 277CA fetched by results retrieval; DynamoDB, S3 and SQS in [`aws`].

pub mod aws;
pub mod endpoints;

use std::collections::BTreeMap;
use std::time::Duration;

use hms_connectivity::{CoreMessage, Credentials, MessageKind, error_code, payload_type};
use hms_service::ports::{GatewayError, PayerGateway, RealTime};
use serde::{Deserialize, Serialize};

/// Where and how to reach one payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// The CORE endpoint (`https://…`; `http://127.0.0.1…` for the local simulator).
    pub url: String,
    /// The payer's CORE `ReceiverID`.
    pub receiver_id: String,
    /// WS-Security user name, when the payer asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// How long to wait for a real-time answer (CAQH CORE allows the payer 20 s).
    #[serde(default = "real_time_ms")]
    pub timeout_ms: u64,
}

fn real_time_ms() -> u64 {
    20_000
}

/// Every payer's endpoint: configuration (the Lambdas read it from `PAYER_ENDPOINTS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoints {
    /// Our CORE `SenderID`.
    pub sender_id: String,
    /// The endpoint of payers not listed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Endpoint>,
    /// Payer id → endpoint.
    #[serde(default)]
    pub payers: BTreeMap<String, Endpoint>,
}

impl Endpoints {
    /// Every payer at one endpoint, as we are `HMSACH` to it: the local stack's simulated
    /// payer, and the tests'.
    pub fn single(url: String, timeout_ms: u64) -> Self {
        Self {
            sender_id: "HMSACH".into(),
            default: Some(Endpoint {
                url,
                receiver_id: "842610001".into(),
                username: None,
                password: None,
                timeout_ms,
            }),
            payers: BTreeMap::new(),
        }
    }
}

/// Longest text of a payer's own (a SOAP fault's reason) repeated in our errors and logs.
const PAYER_TEXT: usize = 160;

/// A payer's fault text as our errors and logs carry it: at most [`PAYER_TEXT`] characters,
/// control characters as spaces. A payer may put anything there, a member's name included;
/// the rest is cut, with its length said.
fn payer_text(text: &str) -> String {
    let length = text.chars().count();
    let mut shown: String = text
        .chars()
        .take(PAYER_TEXT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if length > PAYER_TEXT {
        shown.push_str(&format!("… ({length} characters)"));
    }
    shown
}

/// Whether `url` is `https://`, or `http://` to a loopback host.
fn secure_or_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// The body of a payer's answer, refused past [`hms_connectivity::MAX_ENVELOPE_BYTES`] as it
/// arrives (a declared length over it is refused before anything is read).
async fn read_bounded(
    mut response: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, GatewayError> {
    let limit = hms_connectivity::MAX_ENVELOPE_BYTES;
    let status = Some(response.status().as_u16());
    let too_large = || GatewayError::Malformed {
        message: format!("the answer is over {limit} bytes"),
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(GatewayError::Timeout { after: timeout }),
            Err(e) => {
                return Err(GatewayError::Unavailable {
                    status,
                    message: e.to_string(),
                });
            }
        }
    }
}

/// The CORE payer gateway.
#[derive(Debug, Clone)]
pub struct CoreGateway {
    client: reqwest::Client,
    endpoints: Endpoints,
}

impl CoreGateway {
    /// A gateway over `endpoints`. Every endpoint must be `https://`, but for a loopback
    /// address (the local stack's simulated payer): the WS-Security password and the claims
    /// travel in the body. Redirects are never followed, so neither is re-posted elsewhere.
    pub fn new(endpoints: Endpoints) -> Result<Self, GatewayError> {
        let all = endpoints.default.iter().chain(endpoints.payers.values());
        for endpoint in all {
            if !secure_or_loopback(&endpoint.url) {
                return Err(GatewayError::Unavailable {
                    status: None,
                    message: format!(
                        "the endpoint of receiver {} is not https:// (only a loopback address may use http://)",
                        endpoint.receiver_id
                    ),
                });
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GatewayError::Unavailable {
                status: None,
                message: format!("the HTTP client could not be set up: {e}"),
            })?;
        Ok(Self { client, endpoints })
    }

    fn endpoint(&self, payer_id: &str) -> Result<&Endpoint, GatewayError> {
        self.endpoints
            .payers
            .get(payer_id)
            .or(self.endpoints.default.as_ref())
            .ok_or_else(|| GatewayError::UnknownPayer {
                payer_id: payer_id.to_string(),
            })
    }

    /// Sends `message` to `endpoint` and reads the CORE answer.
    async fn exchange(
        &self,
        endpoint: &Endpoint,
        message: &CoreMessage,
        timeout: Duration,
    ) -> Result<CoreMessage, GatewayError> {
        let credentials = endpoint.username.as_ref().map(|u| Credentials {
            username: u.clone(),
            password: endpoint.password.clone().unwrap_or_default(),
        });
        let action = match message.kind {
            MessageKind::RealTimeRequest => "RealTimeTransaction",
            MessageKind::BatchSubmission => "BatchSubmitTransaction",
            _ => "BatchResultsRetrievalTransaction",
        };
        let sent = self
            .client
            .post(&endpoint.url)
            .timeout(timeout)
            .header(
                "content-type",
                format!("application/soap+xml; charset=utf-8; action=\"{action}\""),
            )
            .body(message.to_soap(credentials.as_ref()))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(GatewayError::Timeout { after: timeout }),
            Err(e) => {
                return Err(GatewayError::Unavailable {
                    status: None,
                    message: format!("{}: {e}", endpoint.url),
                });
            }
        };
        let status = response.status();
        if status.is_redirection() {
            return Err(GatewayError::Unavailable {
                status: Some(status.as_u16()),
                message: format!("HTTP {status}: a redirect, which is not followed"),
            });
        }
        let body = read_bounded(response, timeout).await?;
        if status.is_server_error() {
            let why = match hms_connectivity::parse(&body) {
                Err(hms_connectivity::EnvelopeError::Fault { code, reason }) => {
                    format!(
                        "HTTP {status}, SOAP fault {}: {}",
                        payer_text(&code),
                        payer_text(&reason)
                    )
                }
                _ => format!("HTTP {status}"),
            };
            return Err(GatewayError::Unavailable {
                status: Some(status.as_u16()),
                message: why,
            });
        }
        let answer = match hms_connectivity::parse(&body) {
            Ok(received) => received.message,
            Err(hms_connectivity::EnvelopeError::Fault { code, reason }) => {
                return Err(GatewayError::Unavailable {
                    status: Some(status.as_u16()),
                    message: format!("SOAP fault {}: {}", payer_text(&code), payer_text(&reason)),
                });
            }
            Err(e) => {
                return Err(GatewayError::Malformed {
                    message: format!("HTTP {status}: {e}"),
                });
            }
        };
        if answer.payload_id != message.payload_id {
            return Err(GatewayError::Malformed {
                message: format!(
                    "the answer is for payload {}, not {}",
                    answer.payload_id, message.payload_id
                ),
            });
        }
        Ok(answer)
    }
}

fn refused(answer: &CoreMessage) -> GatewayError {
    GatewayError::Unavailable {
        status: None,
        message: format!(
            "the payer answered {}: {}",
            answer.error_code.as_deref().unwrap_or("no ErrorCode"),
            answer.error_message.as_deref().unwrap_or("")
        ),
    }
}

impl PayerGateway for CoreGateway {
    async fn real_time(
        &self,
        payer_id: &str,
        exchange: RealTime,
        x12: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let endpoint = self.endpoint(payer_id)?;
        let (request_type, response_type) = match exchange {
            RealTime::Eligibility => (
                payload_type::ELIGIBILITY_REQUEST,
                payload_type::ELIGIBILITY_RESPONSE,
            ),
            RealTime::ClaimStatus => (payload_type::STATUS_REQUEST, payload_type::STATUS_RESPONSE),
        };
        let message = CoreMessage::request(
            MessageKind::RealTimeRequest,
            request_type,
            &self.endpoints.sender_id,
            &endpoint.receiver_id,
            Some(x12.to_vec()),
            chrono::Utc::now(),
        );
        let answer = self
            .exchange(
                endpoint,
                &message,
                Duration::from_millis(endpoint.timeout_ms),
            )
            .await?;
        if !answer.succeeded() {
            return Err(refused(&answer));
        }
        if answer.payload_type == payload_type::ACK_999_RESPONSE {
            return Err(GatewayError::Malformed {
                message: "the payer answered the request with a 999: it found the X12 invalid"
                    .into(),
            });
        }
        if answer.payload_type != response_type {
            return Err(GatewayError::Malformed {
                message: format!("expected {response_type}, got {}", answer.payload_type),
            });
        }
        answer.payload.ok_or_else(|| GatewayError::Malformed {
            message: "the answer has no payload".into(),
        })
    }

    async fn submit_batch(
        &self,
        payer_id: &str,
        x12: &[u8],
        payload_id: &str,
    ) -> Result<(), GatewayError> {
        let endpoint = self.endpoint(payer_id)?;
        let institutional = x12.windows(10).any(|w| w == b"005010X223");
        let kind = if institutional {
            payload_type::INSTITUTIONAL_CLAIM
        } else {
            payload_type::PROFESSIONAL_CLAIM
        };
        let mut submission = CoreMessage::request(
            MessageKind::BatchSubmission,
            kind,
            &self.endpoints.sender_id,
            &endpoint.receiver_id,
            Some(x12.to_vec()),
            chrono::Utc::now(),
        );
        // The claim's own payload id, the same on every resend: the payer can tell a resend.
        submission.payload_id = payload_id.to_string();
        let receipt = self
            .exchange(endpoint, &submission, batch_timeout(endpoint))
            .await?;
        if !receipt.succeeded() {
            return Err(refused(&receipt));
        }
        Ok(())
    }

    async fn retrieve_results(
        &self,
        payer_id: &str,
        payload_id: &str,
    ) -> Result<Vec<Vec<u8>>, GatewayError> {
        let endpoint = self.endpoint(payer_id)?;
        let timeout = Duration::from_millis(endpoint.timeout_ms);
        let mut acks = vec![];
        for wanted in [
            payload_type::ACK_999_REQUEST,
            payload_type::ACK_277CA_REQUEST,
        ] {
            let mut retrieval = CoreMessage::request(
                MessageKind::BatchResultsRetrievalRequest,
                wanted,
                &self.endpoints.sender_id,
                &endpoint.receiver_id,
                None,
                chrono::Utc::now(),
            );
            // Results are asked for by the submission's payload id.
            retrieval.payload_id = payload_id.to_string();
            let answer = self.exchange(endpoint, &retrieval, timeout).await?;
            if answer.succeeded() {
                // A 999, a 277CA, or a TA1 in the 999's place when the interchange was
                // rejected: the acknowledgments are read for what they are.
                acks.extend(answer.payload);
            } else if answer.error_code.as_deref() != Some(error_code::NO_RESULTS) {
                return Err(refused(&answer));
            }
        }
        Ok(acks)
    }
}

/// How long a batch submission may take: three times a real-time exchange.
pub fn batch_timeout(endpoint: &Endpoint) -> Duration {
    Duration::from_millis(endpoint.timeout_ms.saturating_mul(3))
}

#[cfg(test)]
mod tests {
    use super::payer_text;

    #[test]
    fn a_payers_fault_text_is_cut_and_loses_its_control_characters() {
        assert_eq!(payer_text("Timeout\r\nretry"), "Timeout  retry");
        let long = "x".repeat(10_000);
        let shown = payer_text(&long);
        assert!(
            shown.len() < 200 && shown.ends_with("(10000 characters)"),
            "{shown}"
        );
    }
}
