//! The routes as HTTP: each checks the caller (a verified token naming its organization and
//! roles, against the permission `hms_auth::access::ROUTES` gives the route), runs its use
//! case for the caller's organization, and answers JSON (or FHIR), with a specific status and
//! reason for everything that goes wrong.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use tracing::Instrument;

use hms_domain::request::Format;
use hms_service::lifecycle::{ClaimId, ClaimView};
use hms_service::ports::Ports;
use hms_service::remittance::finance::{RemittancePage, RemittanceQuery, Resolve};
use hms_service::remittance::records::ExceptionId;
use hms_service::tenancy::OrganizationId;

use crate::App;
use crate::auth::{AuthError, access};
use crate::http::{failed, json_answer, ok, submitted, too_large, unreadable};

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

pub(crate) fn request_id(request: &Request) -> String {
    request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

/// The largest inquiry body read (a 270 or 276 inquiry as JSON or FHIR is a few KB).
pub const MAX_INQUIRY_BYTES: usize = 64 * 1024;

/// The largest remittance query or exception resolution read (a few hundred bytes).
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The largest claim body read: an 837I's most lines (999) as compact FHIR are about 260 KB,
/// pretty-printed somewhat more; a professional claim of 50 lines about 20 KB. (What is kept
/// of a claim is bounded again when it is stored: `hms_service::submission::
/// MAX_RECEIVED_RECORD_BYTES`.) API Gateway takes 10 MB and Lambda 6 MB; this is ours, and
/// answered first.
pub const MAX_CLAIM_BYTES: usize = 512 * 1024;

/// The body, or the 413 that refuses it: a declared `Content-Length` over `limit` is refused
/// before the body is looked at, and so is a body over it.
pub(crate) fn body(request: &Request, limit: usize) -> Result<&[u8], Box<Response<Body>>> {
    let declared = request
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|&n| n > limit) {
        return Err(Box::new(too_large(size, limit)));
    }
    let bytes: &[u8] = match request.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > limit {
        return Err(Box::new(too_large(bytes.len(), limit)));
    }
    Ok(bytes)
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

/// What an access log line needs from the request, and when it came.
pub(crate) fn access_start(request: &Request) -> (String, String, std::time::Instant) {
    (
        request.method().to_string(),
        request.uri().path().to_string(),
        std::time::Instant::now(),
    )
}

/// `response`, once its access log line is written: who (the token's subject), for which
/// organization, which route, which claim, the status and how long it took. Ids and numbers
/// only: the path holds a claim id at most, never a query or a body.
pub(crate) fn logged(
    response: Response<Body>,
    span: &tracing::Span,
    (method, path, started): &(String, String, std::time::Instant),
) -> Response<Body> {
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(target: "access", method, path, status, latency_ms, "access");
    });
    response
}

/// The caller of `request`: its organization and subject, once its token verifies with
/// `verifier` and one of its roles holds what the route takes (`hms_auth::access::ROUTES`);
/// a path that is no route is not found. The current span records both.
pub(crate) fn authorize_request(
    verifier: &crate::auth::Verifier,
    request: &Request,
) -> Result<(OrganizationId, String), Box<Response<Body>>> {
    let method = request.method().as_str();
    let path = request.uri().path();
    let Some(permission) = access::permission_for(method, path) else {
        return Err(Box::new(json_answer(
            404,
            &json!({ "error": "not-found", "reason": format!("no route {method} {path}") }),
            "application/json",
        )));
    };
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let caller = verifier
        .caller(authorizer_claims(request).as_ref(), header)
        .and_then(|caller| caller.require(permission).map(|()| caller))
        .map_err(|e| Box::new(refused(&e)))?;
    let organization = OrganizationId::parse(&caller.organization)
        .map_err(|e| refused(&AuthError::Invalid(format!("the organization claim: {e}"))))?;
    let span = tracing::Span::current();
    span.record("organization", organization.as_str());
    span.record("subject", caller.subject.as_str());
    Ok((organization, caller.subject))
}

/// The longest `Idempotency-Key` taken.
const MAX_KEY: usize = 255;

/// The routes, each over the app's ports.
impl<P: Ports> App<P> {
    /// The caller's organization, once its token verifies and one of its roles holds what
    /// the route takes (`hms_auth::access::ROUTES`); a path that is no route is not found.
    fn authorize(&self, request: &Request) -> Result<OrganizationId, Box<Response<Body>>> {
        self.authorize_caller(request)
            .map(|(organization, _)| organization)
    }

    /// The caller's organization and subject, as [`Self::authorize`] checks them.
    fn authorize_caller(
        &self,
        request: &Request,
    ) -> Result<(OrganizationId, String), Box<Response<Body>>> {
        authorize_request(&self.verifier, request)
    }

    /// `POST /ach/queryEligibility`.
    pub async fn eligibility(&self, request: Request) -> Response<Body> {
        let access = access_start(&request);
        let span = tracing::info_span!("eligibility", request_id = %request_id(&request), organization = tracing::field::Empty, subject = tracing::field::Empty, claim_id = tracing::field::Empty);
        let response = async {
            let organization = match self.authorize(&request) {
                Ok(organization) => organization,
                Err(refusal) => return *refusal,
            };
            let body = match body(&request, MAX_INQUIRY_BYTES) {
                Ok(body) => body,
                Err(refusal) => return *refusal,
            };
            let (inquiry, sent) = match hms_domain::eligibility::read_inquiry(body) {
                Ok(read) => read,
                Err(e) => return unreadable(&e),
            };
            match self
                .service
                .query_eligibility(&organization, &inquiry)
                .await
            {
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
        .instrument(span.clone())
        .await;
        logged(response, &span, &access)
    }

    /// `POST /ach/submitClaim`.
    pub async fn submit(&self, request: Request) -> Response<Body> {
        let access = access_start(&request);
        let span = tracing::info_span!("submit", request_id = %request_id(&request), organization = tracing::field::Empty, subject = tracing::field::Empty, claim_id = tracing::field::Empty);
        let response = async {
            let organization = match self.authorize(&request) {
                Ok(organization) => organization,
                Err(refusal) => return *refusal,
            };
            let key = match request.headers().get("idempotency-key") {
                None => None,
                Some(v) => match v.to_str() {
                    Ok(k) if !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic()) => {
                        Some(k.to_string())
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
            let body = match body(&request, MAX_CLAIM_BYTES) {
                Ok(body) => body,
                Err(refusal) => return *refusal,
            };
            let connections = &self.service.connections;
            let (claim, format, notes) = match hms_domain::claims::read_noted_claim(body, connections) {
                Ok(read) => read,
                Err(e) => return unreadable(&e),
            };
            match self
                .service
                .submit_noted_claim(&organization, claim, format, notes, key.as_deref())
                .await
            {
                Ok(answer) => {
                    let id = &answer.answer.claim().claim_id;
                    tracing::Span::current().record("claim_id", tracing::field::display(id));
                    submitted(&answer)
                }
                Err(e) => failed(&e),
            }
        }
        .instrument(span.clone())
        .await;
        logged(response, &span, &access)
    }

    /// `GET /ach/claims/{id}`, `POST /ach/claimStatus` and `POST
    /// /ach/admin/claims/{id}/redrive`.
    pub async fn status(&self, request: Request) -> Response<Body> {
        let access = access_start(&request);
        let span = tracing::info_span!("status", request_id = %request_id(&request), organization = tracing::field::Empty, subject = tracing::field::Empty, claim_id = tracing::field::Empty);
        let response = async {
            let organization = match self.authorize(&request) {
                Ok(organization) => organization,
                Err(refusal) => return *refusal,
            };
            let path = request.uri().path().to_string();
            if request.method() == "POST" && path.ends_with("/ach/claimStatus") {
                let body = match body(&request, MAX_INQUIRY_BYTES) {
                    Ok(body) => body,
                    Err(refusal) => return *refusal,
                };
                let inquiry = match hms_domain::claim_status::read_inquiry(body) {
                    Ok(inquiry) => inquiry,
                    Err(e) => return unreadable(&e),
                };
                return match self.service.claim_status(&organization, &inquiry).await {
                    Ok(responses) => ok(200, &responses, "application/json"),
                    Err(e) => failed(&e),
                };
            }
            // The claim id is the segment after /claims/ (authorize matched the route).
            let id = request
                .path_parameters_ref()
                .and_then(|p| p.first("id").map(str::to_string))
                .or_else(|| {
                    path.split_once("/claims/")
                        .and_then(|(_, rest)| rest.split('/').next().map(str::to_string))
                })
                .unwrap_or_default();
            let id = match ClaimId::parse(&id) {
                Ok(id) => {
                    tracing::Span::current().record("claim_id", tracing::field::display(&id));
                    id
                }
                Err(e) => {
                    return json_answer(
                        404,
                        &json!({ "error": "not-found", "reason": format!("no claim {id}: {e}") }),
                        "application/json",
                    );
                }
            };
            let answer = if path.ends_with("/redrive") {
                self.service.redrive(&organization, &id).await
            } else {
                self.service.claim(&organization, &id).await
            };
            match answer {
                Ok(record) => ok(200, &ClaimView::from(&record), "application/json"),
                Err(e) => failed(&e),
            }
        }
        .instrument(span.clone())
        .await;
        logged(response, &span, &access)
    }

    /// `POST /ach/fetchRemittance`, `GET /ach/remittances/exceptions` and `POST
    /// /ach/remittances/exceptions/{id}/resolve`.
    pub async fn remittance(&self, request: Request) -> Response<Body> {
        let access = access_start(&request);
        let span = tracing::info_span!("remittance", request_id = %request_id(&request), organization = tracing::field::Empty, subject = tracing::field::Empty, claim_id = tracing::field::Empty);
        let response = async {
            let (organization, subject) = match self.authorize_caller(&request) {
                Ok(caller) => caller,
                Err(refusal) => return *refusal,
            };
            let path = request.uri().path().to_string();
            if path.ends_with("/ach/fetchRemittance") {
                return self.fetch_remittance(&request, &organization).await;
            }
            if path.ends_with("/resolve") {
                let id = path
                    .split_once("/exceptions/")
                    .and_then(|(_, rest)| rest.split('/').next())
                    .unwrap_or_default();
                let id = match ExceptionId::parse(id) {
                    Ok(id) => id,
                    Err(e) => {
                        return json_answer(
                            404,
                            &json!({ "error": "not-found", "reason": e.to_string() }),
                            "application/json",
                        );
                    }
                };
                let body = match body(&request, MAX_QUERY_BYTES) {
                    Ok(body) => body,
                    Err(refusal) => return *refusal,
                };
                let resolve: Resolve = match hms_domain::request::parse_json(body) {
                    Ok(resolve) => resolve,
                    Err(outcome) => return ok(422, &outcome, "application/fhir+json"),
                };
                return match self
                    .service
                    .resolve_exception(&organization, &id, &resolve, Some(&subject))
                    .await
                {
                    Ok(exception) => ok(200, &exception, "application/json"),
                    Err(e) => failed(&e),
                };
            }
            let query = request.query_string_parameters_ref();
            let all = query.and_then(|q| q.first("status")) == Some("all");
            let cursor = query.and_then(|q| q.first("cursor")).map(str::to_string);
            let limit = match query.and_then(|q| q.first("limit")) {
                None => 20,
                Some(text) => match text.parse::<usize>() {
                    Ok(limit) => limit,
                    Err(_) => {
                        return json_answer(
                            400,
                            &json!({ "error": "bad-limit", "reason": "limit is a whole number from 1 to 100" }),
                            "application/json",
                        );
                    }
                },
            };
            match self
                .service
                .remittance_exceptions(&organization, all, cursor.as_deref(), limit)
                .await
            {
                Ok(page) => ok(200, &page, "application/json"),
                Err(e) => failed(&e),
            }
        }
        .instrument(span.clone())
        .await;
        logged(response, &span, &access)
    }

    /// `POST /ach/fetchRemittance`, as JSON, FHIR or the payer's X12 (by `Accept`).
    async fn fetch_remittance(
        &self,
        request: &Request,
        organization: &OrganizationId,
    ) -> Response<Body> {
        let body = match body(request, MAX_QUERY_BYTES) {
            Ok(body) => body,
            Err(refusal) => return *refusal,
        };
        let query: RemittanceQuery = if body.iter().all(u8::is_ascii_whitespace) {
            RemittanceQuery::default()
        } else {
            match hms_domain::request::parse_json(body) {
                Ok(query) => query,
                Err(outcome) => return ok(422, &outcome, "application/fhir+json"),
            }
        };
        let page = match self.service.fetch_remittance(organization, &query).await {
            Ok(page) => page,
            Err(e) => return failed(&e),
        };
        let accept = request
            .headers()
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if accept.contains("application/edi-x12") {
            return self.remittance_x12(&page).await;
        }
        if accept.contains("application/fhir+json") {
            let remittances: Vec<_> = page.payments.iter().map(|p| p.to_remittance()).collect();
            let mut bundle = hms_domain::remittance::fhir::remittance_bundle(
                &remittances,
                self.service.now().date_naive(),
            );
            if let (Some(next), Some(fields)) = (&page.next, bundle.as_object_mut()) {
                fields.insert(
                    "link".into(),
                    json!([{ "relation": "next", "url": format!("cursor:{next}") }]),
                );
            }
            return json_answer(200, &bundle, "application/fhir+json");
        }
        ok(200, &page, "application/json")
    }

    /// The page's payments as the payer sent them: each transaction set in its own
    /// interchange, read back from the drop zone.
    async fn remittance_x12(&self, page: &RemittancePage) -> Response<Body> {
        let Some(drops) = &self.drops else {
            return json_answer(
                406,
                &json!({ "error": "not-acceptable", "reason": "this function has no drop zone to read the payer's X12 from; ask for application/json or application/fhir+json" }),
                "application/json",
            );
        };
        let mut out = Vec::new();
        for view in &page.payments {
            let source = &view.payment.source;
            match hms_service::remittance::source_x12(drops, source).await {
                Ok(Some(x12)) => out.extend_from_slice(&x12),
                Ok(None) => {
                    return json_answer(
                        410,
                        &json!({ "error": "gone", "reason": format!("the file payment {} came in is no longer in the drop zone as it was", view.payment.id) }),
                        "application/json",
                    );
                }
                Err(e) => return failed(&e.into()),
            }
        }
        Response::builder()
            .status(200)
            .header("content-type", "application/edi-x12")
            .body(Body::Binary(out))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }
}
