//! FHIR R4 `OperationOutcome`: how every problem with a request is reported back, whether the
//! request came as FHIR or as our JSON.

use serde::{Deserialize, Serialize};

/// `OperationOutcome.issue.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueSeverity {
    /// The request cannot proceed.
    Fatal,
    /// The request is wrong; it is not sent on.
    Error,
    /// Probably wrong, or likely to be denied; it may still be sent.
    Warning,
    /// For information.
    Information,
}

/// `OperationOutcome.issue.code` (the FHIR IssueType value set, the codes we use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueType {
    /// Content is not valid in structure or syntax.
    Structure,
    /// A required element is missing.
    Required,
    /// A value is not valid (wrong shape or range).
    Value,
    /// A code is not one the element allows.
    CodeInvalid,
    /// A rule across elements fails (totals, dates, pointers).
    BusinessRule,
    /// The content is not supported.
    NotSupported,
    /// The caller may not do this (a provider its organization does not own).
    Forbidden,
    /// The content repeats what was already taken (an original claim sent again).
    Duplicate,
    /// The request conflicts with the resource's state (an idempotency key reused, a claim
    /// that is not where the operation needs it).
    Conflict,
    /// Processing failed for a reason other than the content (a payer rule set that ran out of
    /// its budget or trapped).
    Exception,
}

/// `OperationOutcome.issue.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// The human-readable message.
    pub text: String,
}

/// One problem: what kind, how bad, a message, and where in the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// How bad.
    pub severity: IssueSeverity,
    /// What kind.
    pub code: IssueType,
    /// A stable machine-readable id of the edit (`npi-check-digit`, `charge-total`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// The message.
    pub details: Details,
    /// Where: a JSON pointer into our JSON, or a FHIRPath into a FHIR resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

impl Issue {
    /// An error that names its kind, a stable id and what is wrong, at no place in particular
    /// (a limit the whole request broke, a failure of ours).
    pub fn error(code: IssueType, id: &str, text: impl Into<String>) -> Self {
        Self {
            severity: IssueSeverity::Error,
            code,
            diagnostics: Some(id.into()),
            details: Details { text: text.into() },
            expression: vec![],
        }
    }
}

/// A FHIR `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: String,
    /// The problems, most severe first.
    pub issue: Vec<Issue>,
}

impl OperationOutcome {
    /// An outcome listing `issues` (an empty list becomes FHIR's "all OK" information issue).
    pub fn new(mut issues: Vec<Issue>) -> Self {
        issues.sort_by_key(|i| i.severity);
        if issues.is_empty() {
            issues.push(Issue {
                severity: IssueSeverity::Information,
                code: IssueType::Value,
                diagnostics: Some("all-ok".into()),
                details: Details {
                    text: "no problems found".into(),
                },
                expression: vec![],
            });
        }
        Self {
            resource_type: "OperationOutcome".into(),
            issue: issues,
        }
    }

    /// Whether any issue is an error or fatal.
    pub fn has_errors(&self) -> bool {
        self.issue
            .iter()
            .any(|i| i.severity <= IssueSeverity::Error)
    }
}
