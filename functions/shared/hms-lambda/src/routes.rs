//! The routes as HTTP: each checks the caller's scope, runs its use case, and answers JSON
//! (or FHIR), with a specific status and reason for everything that goes wrong.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use tracing::Instrument;

use hms_domain::request::Format;
use hms_service::lifecycle::{ClaimId, ClaimView};
use hms_service::ports::Ports;

use crate::App;
use crate::auth::{AuthError, scope};
use crate::http::{failed, json_answer, ok, submitted, unreadable};

fn refused(e: &AuthError) -> Response<Body> {
    let code = if e.status() == 401 {
        "unauthorized"
    } else {
        "forbidden"
    };
    let mut response = json_answer(
        e.status(),
        &json!({ "error": code, "reason": e.to_string() }),
        "application/json",
    );
    if e.status() == 401 {
        response.headers_mut().insert(
            "www-authenticate",
            lambda_http::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The authorizer's claims, when API Gateway ran one.
fn authorizer_claims(request: &Request) -> Option<HashMap<String, String>> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let jwt = ctx.authorizer.as_ref()?.jwt.as_ref()?;
            let mut claims = jwt.claims.clone();
            if !claims.contains_key("scope")
                && let Some(scopes) = &jwt.scopes
            {
                claims.insert("scope".into(), scopes.join(" "));
            }
            Some(claims)
        }
        _ => None,
    }
}

fn request_id(request: &Request) -> String {
    request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

fn body(request: &Request) -> &[u8] {
    match request.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Whether the caller wants FHIR back (`Accept: application/fhir+json`), else as it sent.
fn wants_fhir(request: &Request, sent: Format) -> bool {
    match request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
    {
        Some(accept) if accept.contains("application/fhir+json") => true,
        Some(accept) if accept.contains("application/json") => false,
        _ => sent == Format::Fhir,
    }
}

/// The longest `Idempotency-Key` taken.
const MAX_KEY: usize = 255;

/// The routes, each over the app's ports.
impl<P: Ports> App<P> {
    /// The caller, refused unless it has `needed`.
    fn authorize(
        &self,
        request: &Request,
        needed: &'static str,
    ) -> Result<crate::auth::Caller, AuthError> {
        let header = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let caller = self
            .verifier
            .caller(authorizer_claims(request).as_ref(), header)?;
        caller.require(needed)?;
        Ok(caller)
    }

    /// `POST /ach/queryEligibility`.
    pub async fn eligibility(&self, request: Request) -> Response<Body> {
        let span = tracing::info_span!("eligibility", request_id = %request_id(&request));
        async {
            if let Err(e) = self.authorize(&request, scope::ELIGIBILITY_READ) {
                return refused(&e);
            }
            let (inquiry, sent) = match hms_domain::eligibility::read_inquiry(body(&request)) {
                Ok(read) => read,
                Err(e) => return unreadable(&e),
            };
            match self.service.query_eligibility(&inquiry).await {
                Ok(responses) if wants_fhir(&request, sent) => json_answer(
                    200,
                    &hms_domain::eligibility::fhir::responses_to_fhir(
                        &responses,
                        self.service.now().date_naive(),
                    ),
                    "application/fhir+json",
                ),
                Ok(responses) => ok(200, &responses, "application/json"),
                Err(e) => failed(&e),
            }
        }
        .instrument(span)
        .await
    }

    /// `POST /ach/submitClaim`.
    pub async fn submit(&self, request: Request) -> Response<Body> {
        let span = tracing::info_span!("submit", request_id = %request_id(&request));
        async {
            let caller = match self.authorize(&request, scope::CLAIMS_WRITE) {
                Ok(caller) => caller,
                Err(e) => return refused(&e),
            };
            let key = match request.headers().get("idempotency-key") {
                None => None,
                Some(v) => match v.to_str() {
                    Ok(k) if !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()) => {
                        Some(format!("{}:{k}", caller.subject))
                    }
                    _ => {
                        return json_answer(
                            400,
                            &json!({ "error": "bad-idempotency-key", "reason": format!("an Idempotency-Key is 1 to {MAX_KEY} printable ASCII characters") }),
                            "application/json",
                        );
                    }
                },
            };
            let submitter = &self.service.connections.submitter;
            let (claim, format) = match hms_domain::claims::read_claim(body(&request), submitter) {
                Ok(read) => read,
                Err(e) => return unreadable(&e),
            };
            match self.service.submit_claim(claim, format, key.as_deref()).await {
                Ok(answer) => submitted(&answer),
                Err(e) => failed(&e),
            }
        }
        .instrument(span)
        .await
    }

    /// `GET /ach/claims/{id}` and `POST /ach/claimStatus`.
    pub async fn status(&self, request: Request) -> Response<Body> {
        let span = tracing::info_span!("status", request_id = %request_id(&request));
        async {
            if let Err(e) = self.authorize(&request, scope::CLAIMS_READ) {
                return refused(&e);
            }
            let path = request.uri().path().to_string();
            let method = request.method().as_str().to_string();
            if method == "POST" && path.ends_with("/ach/claimStatus") {
                let inquiry = match hms_domain::claim_status::read_inquiry(body(&request)) {
                    Ok(inquiry) => inquiry,
                    Err(e) => return unreadable(&e),
                };
                return match self.service.claim_status(&inquiry).await {
                    Ok(responses) => ok(200, &responses, "application/json"),
                    Err(e) => failed(&e),
                };
            }
            let id = request
                .path_parameters_ref()
                .and_then(|p| p.first("id").map(str::to_string))
                .or_else(|| {
                    path.split_once("/ach/claims/")
                        .map(|(_, id)| id.trim_end_matches('/').to_string())
                });
            match (method.as_str(), id) {
                ("GET", Some(id)) => match ClaimId::parse(&id) {
                    Ok(id) => match self.service.claim(&id).await {
                        Ok(record) => ok(200, &ClaimView::from(&record), "application/json"),
                        Err(e) => failed(&e),
                    },
                    Err(e) => json_answer(
                        404,
                        &json!({ "error": "not-found", "reason": format!("no claim {id}: {e}") }),
                        "application/json",
                    ),
                },
                _ => json_answer(
                    404,
                    &json!({ "error": "not-found", "reason": format!("no route {method} {path}") }),
                    "application/json",
                ),
            }
        }
        .instrument(span)
        .await
    }
}
