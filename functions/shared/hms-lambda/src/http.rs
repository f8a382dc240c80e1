//! The use cases' typed answers and errors said in HTTP: the one place that knows status codes
//! and the shape of an error body (a FHIR `OperationOutcome`, with the payer's rejections
//! beside it for a rejected inquiry).

use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use hms_domain::request::{RequestError, problem};
use hms_service::lifecycle::Submitted;
use hms_service::ports::StoreError;
use hms_service::service::{Replayable, ServiceError};
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

/// A JSON answer.
pub fn json_answer(status: u16, body: &Value, content_type: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// A value as a JSON answer (200 unless said otherwise).
pub fn ok(status: u16, body: &impl serde::Serialize, content_type: &str) -> Response<Body> {
    json_answer(
        status,
        &serde_json::to_value(body).unwrap_or_default(),
        content_type,
    )
}

/// A request that could not be read: 400 when it is not JSON, 422 when it is JSON but not a
/// valid request.
pub fn unreadable(e: &RequestError) -> Response<Body> {
    let status = match e {
        RequestError::NotJson(_) => 400,
        RequestError::Invalid(_) => 422,
    };
    ok(status, e.outcome(), "application/fhir+json")
}

/// A body over its route's limit: 413, with the limit, before the body is parsed.
pub fn too_large(size: usize, limit: usize) -> Response<Body> {
    let outcome = problem(
        IssueType::TooLong,
        "payload-too-large",
        format!("the body is {size} bytes; this route takes at most {limit}"),
    );
    ok(413, &outcome, "application/fhir+json")
}

/// A submitted claim: 202 when it is stored and on its way to the payer (the payer's verdict
/// comes later: `GET /ach/claims/{id}` and the claim events), 422 when the scrubber, the
/// payer's rules or the 837 writer stopped it; a replayed answer says so in a header.
pub fn submitted(answer: &Replayable<Submitted>) -> Response<Body> {
    let status = match answer.answer {
        Submitted::Accepted(_) => 202,
        Submitted::Refused(_) => 422,
    };
    let mut response = ok(status, answer.answer.claim(), "application/json");
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The HTTP status of a use case's failure.
pub fn status_of(e: &ServiceError) -> u16 {
    match e {
        ServiceError::Invalid(_) | ServiceError::Rejected { .. } => 422,
        ServiceError::NotFound(_) | ServiceError::NoSuch { .. } => 404,
        ServiceError::NotYourProvider(_) => 403,
        ServiceError::Conflict(_)
        | ServiceError::Duplicate { .. }
        | ServiceError::NotApplicable { .. }
        | ServiceError::Storage(StoreError::Conflict { .. }) => 409,
        ServiceError::PayerTimeout(_) => 504,
        ServiceError::PayerFailed(_) | ServiceError::PayerAnswerUnreadable(_) => 502,
        ServiceError::Storage(_)
        | ServiceError::Objects(_)
        | ServiceError::Queue(_)
        | ServiceError::Transition(_)
        | ServiceError::Guides(_)
        | ServiceError::Internal(_) => 503,
    }
}

/// A use case's failure: its status and `OperationOutcome` (with the payer's rejections and
/// whole answer beside it for a rejected inquiry).
pub fn failed(e: &ServiceError) -> Response<Body> {
    let issue = |code: IssueType, id: &str| {
        OperationOutcome::new(vec![Issue {
            severity: IssueSeverity::Error,
            code,
            diagnostics: Some(id.into()),
            details: Details {
                text: error_text(e),
            },
            expression: vec![],
        }])
    };
    let outcome = match e {
        ServiceError::Invalid(outcome) => outcome.clone(),
        ServiceError::NotFound(_) | ServiceError::NoSuch { .. } => {
            issue(IssueType::NotSupported, "not-found")
        }
        ServiceError::NotYourProvider(_) => issue(IssueType::Forbidden, "provider-not-owned"),
        ServiceError::Duplicate { first } => {
            let mut body = serde_json::to_value(issue(IssueType::Duplicate, "duplicate-claim"))
                .unwrap_or_else(|_| json!({}));
            if let Some(fields) = body.as_object_mut() {
                fields.insert("firstClaimId".into(), json!(first));
            }
            return json_answer(status_of(e), &body, "application/fhir+json");
        }
        ServiceError::NotApplicable { .. } => issue(IssueType::Conflict, "not-applicable"),
        ServiceError::Conflict(_) | ServiceError::Storage(StoreError::Conflict { .. }) => {
            issue(IssueType::Conflict, "conflict")
        }
        ServiceError::Rejected {
            rejections,
            responses,
        } => {
            let issues = rejections
                .iter()
                .map(|r| Issue {
                    severity: IssueSeverity::Error,
                    code: IssueType::BusinessRule,
                    diagnostics: Some(format!("aaa-{}", r.reason_code)),
                    details: Details {
                        text: format!(
                            "the payer rejected the inquiry: {} ({}); {}",
                            r.reason.as_deref().unwrap_or("no description"),
                            r.reason_code,
                            r.follow_up.as_deref().unwrap_or("no follow-up given"),
                        ),
                    },
                    expression: vec![],
                })
                .collect();
            let mut body =
                serde_json::to_value(OperationOutcome::new(issues)).unwrap_or_else(|_| json!({}));
            if let Some(fields) = body.as_object_mut() {
                let rejections = serde_json::to_value(rejections).unwrap_or_default();
                fields.insert("rejections".into(), rejections);
                fields.insert(
                    "responses".into(),
                    serde_json::to_value(responses).unwrap_or_default(),
                );
            }
            return json_answer(status_of(e), &body, "application/fhir+json");
        }
        ServiceError::PayerTimeout(_) => issue(IssueType::Exception, "payer-timeout"),
        ServiceError::PayerFailed(_) => issue(IssueType::Exception, "payer-failed"),
        ServiceError::PayerAnswerUnreadable(_) => issue(IssueType::Exception, "payer-answer"),
        ServiceError::Storage(_) | ServiceError::Objects(_) | ServiceError::Queue(_) => {
            issue(IssueType::Exception, "storage")
        }
        ServiceError::Transition(_) | ServiceError::Guides(_) | ServiceError::Internal(_) => {
            issue(IssueType::Exception, "internal")
        }
    };
    ok(status_of(e), &outcome, "application/fhir+json")
}

/// An error and its causes, as one line: what failed, then why.
fn error_text(e: &ServiceError) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use hms_service::ports::GatewayError;

    #[test]
    fn each_failure_has_its_status() {
        let timeout = GatewayError::Timeout {
            after: std::time::Duration::from_secs(20),
        };
        let cases = [
            (ServiceError::PayerTimeout(timeout.clone()), 504),
            (ServiceError::PayerFailed(timeout), 502),
            (ServiceError::Conflict("taken"), 409),
            (
                ServiceError::Storage(StoreError::Unavailable {
                    message: "down".into(),
                }),
                503,
            ),
            (ServiceError::Invalid(OperationOutcome::new(vec![])), 422),
        ];
        for (error, status) in cases {
            assert_eq!(failed(&error).status(), status, "{error}");
            assert_eq!(status_of(&error), status);
        }
    }
}
