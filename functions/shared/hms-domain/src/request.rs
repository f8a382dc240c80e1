//! Reading what callers send: a body that is not JSON, or JSON that is not a valid request,
//! is refused with an `OperationOutcome` that says where; a request is our JSON or FHIR, and
//! the answer speaks the same language unless the caller asks otherwise.

use serde_json::Value;

use crate::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};

/// Which language a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Our documented JSON.
    Json,
    /// FHIR R4: findings point with FHIRPath, not JSON pointers.
    Fhir,
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON at all.
    #[error("the request body is not JSON")]
    NotJson(OperationOutcome),
    /// The body is JSON but not a valid request; the outcome says where.
    #[error("the request is not valid")]
    Invalid(OperationOutcome),
}

impl RequestError {
    /// What is wrong, issue by issue.
    pub fn outcome(&self) -> &OperationOutcome {
        match self {
            Self::NotJson(outcome) | Self::Invalid(outcome) => outcome,
        }
    }
}

/// A request body as JSON, or why it is not.
pub fn json_body(body: &[u8]) -> Result<Value, RequestError> {
    serde_json::from_slice(body).map_err(|e| {
        RequestError::NotJson(problem(
            IssueType::Structure,
            "not-json",
            format!("the body is not JSON: {e}"),
        ))
    })
}

/// One error issue with its stable id (`diagnostics`) and no location.
pub fn problem(code: IssueType, id: &str, text: impl Into<String>) -> OperationOutcome {
    OperationOutcome::new(vec![Issue::error(code, id, text)])
}

/// Parses any of our JSON request types; a request that does not parse is one issue, pointing
/// where parsing stopped.
pub fn parse_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, OperationOutcome> {
    // Most input reads: tracking the path costs as much as the parse, so it is paid only for
    // input that does not, read again to say where it failed.
    if let Ok(value) = serde_json::from_slice(json) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        OperationOutcome::new(vec![Issue {
            severity: IssueSeverity::Error,
            code: IssueType::Structure,
            diagnostics: Some("parse".into()),
            details: Details {
                text: e.inner().to_string(),
            },
            expression: vec![pointer],
        }])
    })
}

/// A serde path (`claim.diagnoses[2]`) as a JSON pointer (`/claim/diagnoses/2`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_json_says_so() {
        let Err(RequestError::NotJson(outcome)) = json_body(b"{not json") else {
            panic!("not JSON was read");
        };
        assert_eq!(outcome.issue[0].diagnostics.as_deref(), Some("not-json"));
        assert!(json_body(b"{}").is_ok());
    }
}
