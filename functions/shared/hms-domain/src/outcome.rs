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
    /// A reference leads to nothing the request holds.
    NotFound,
    /// The caller may not do this (a provider its organization does not own).
    Forbidden,
    /// The content repeats what was already taken (an original claim sent again).
    Duplicate,
    /// The request conflicts with the resource's state (an idempotency key reused, a claim
    /// that is not where the operation needs it).
    Conflict,
    /// The request is larger than what is processed (a body over its limit).
    TooLong,
    /// Processing would take too much (more issues, findings or lines than are answered).
    TooCostly,
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

/// The most issues an outcome lists; past it, one more issue says how many were left out. A
/// caller fixes the first hundreds before the rest matter, and an outcome is stored with its
/// claim (a DynamoDB item holds 400 KB).
pub const MAX_ISSUES: usize = 200;

/// The longest issue text, in characters.
pub const MAX_TEXT: usize = 600;

/// The longest quoted value an issue text repeats, in characters: longer ones are shown as
/// their start and their length.
pub const MAX_QUOTED: usize = 40;

/// `text` with every double-quoted value longer than [`MAX_QUOTED`] characters cut to its start
/// and its length, and the whole cut at [`MAX_TEXT`] characters. A caller's value is described
/// (where, how long) rather than echoed whole: a 50 MB string is not answered back, nor stored.
pub fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT * 4));
    let mut rest = text;
    // serde quotes a value with `"` (a string) or a backtick (an unknown variant or field).
    while let Some(open) = rest.find(['"', '`']) {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let mut chars = from.chars();
        let quote = chars.next().unwrap_or('"');
        let inner = chars.as_str();
        // The closing quote: the next one not escaped by a backslash.
        let mut close = None;
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                c if c == quote && !escaped => {
                    close = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let (value, after) = match close {
            Some(i) => (
                inner.get(..i).unwrap_or_default(),
                inner.get(i + quote.len_utf8()..).unwrap_or_default(),
            ),
            None => (inner, ""),
        };
        let length = value.chars().count();
        out.push(quote);
        if length > MAX_QUOTED {
            out.extend(value.chars().take(MAX_QUOTED / 2));
            out.push('…');
            out.push(quote);
            out.push_str(&format!(" ({length} characters)"));
        } else {
            out.push_str(value);
            if close.is_some() {
                out.push(quote);
            }
        }
        rest = after;
        if out.len() > MAX_TEXT * 4 {
            rest = "";
            break;
        }
    }
    out.push_str(rest);
    if out.chars().count() > MAX_TEXT {
        let mut cut: String = out.chars().take(MAX_TEXT).collect();
        cut.push_str("… (cut)");
        return cut;
    }
    out
}

impl OperationOutcome {
    /// An outcome listing `issues` (an empty list becomes FHIR's "all OK" information issue),
    /// most severe first, at most [`MAX_ISSUES`] of them, each text [`bounded`].
    pub fn new(mut issues: Vec<Issue>) -> Self {
        issues.sort_by_key(|i| i.severity);
        if issues.len() > MAX_ISSUES {
            let left_out = issues.len() - MAX_ISSUES + 1;
            issues.truncate(MAX_ISSUES - 1);
            issues.push(Issue::error(
                IssueType::TooCostly,
                "too-many-issues",
                format!("{left_out} more issues are not listed (at most {MAX_ISSUES} are)"),
            ));
        }
        for issue in &mut issues {
            if issue.details.text.len() > MAX_QUOTED {
                issue.details.text = bounded(&issue.details.text);
            }
            issue.expression.truncate(4);
            for place in &mut issue.expression {
                if place.chars().count() > 200 {
                    *place = place.chars().take(200).collect();
                }
            }
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_long_quoted_value_is_described_not_echoed() {
        let value = "é".repeat(50_000_000 / 2);
        let text = format!("invalid type: string \"{value}\", expected a date");
        let shown = bounded(&text);
        assert!(shown.len() < 200, "{}", shown.len());
        assert!(shown.contains("(25000000 characters)"), "{shown}");
        assert!(shown.ends_with(", expected a date"), "{shown}");
    }

    #[test]
    fn short_values_escapes_and_unclosed_quotes_are_kept_whole() {
        assert_eq!(
            bounded(r#""A0427" is not a code"#),
            r#""A0427" is not a code"#
        );
        assert_eq!(bounded(r#"a "b\"c" d"#), r#"a "b\"c" d"#);
        let open = format!("starts \"{}", "x".repeat(100));
        assert!(bounded(&open).contains("(100 characters)"));
    }

    #[test]
    fn an_outcome_lists_at_most_its_limit_and_says_how_many_more() {
        let issue = |n: usize| Issue::error(IssueType::Value, "x", format!("issue {n}"));
        let outcome = OperationOutcome::new((0..30_000).map(issue).collect());
        assert_eq!(outcome.issue.len(), MAX_ISSUES);
        let last = outcome.issue.last().unwrap();
        assert_eq!(last.diagnostics.as_deref(), Some("too-many-issues"));
        assert!(
            last.details.text.starts_with("29801 more issues"),
            "{}",
            last.details.text
        );
        assert!(serde_json::to_vec(&outcome).unwrap().len() < 64 * 1024);
    }
}
