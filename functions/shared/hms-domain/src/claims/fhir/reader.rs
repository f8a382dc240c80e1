//! Reading FHIR primitives and references with every problem collected, so that a Claim's
//! author learns all that must change in one answer. Each message says whether the element
//! is absent or present and malformed, and where (FHIRPath).
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics"
)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::claims::fhir::coding::{Pick, System, pick};
use crate::claims::fhir::resources::{Resolved, Resources};
use crate::outcome::{Details, Issue, IssueSeverity, IssueType};
use crate::partner::Connections;

/// The one currency an 837 carries.
pub const CURRENCY: &str = "USD";

/// Collects what one Claim gives and what is wrong with it.
#[derive(Debug)]
pub struct Reader<'a> {
    /// The Claim.
    pub claim: &'a Value,
    /// Every resource it may refer to.
    pub resources: &'a Resources<'a>,
    /// The payer directory and our own identity.
    pub connections: &'a Connections,
    /// Errors: the Claim cannot become an 837 until they are fixed.
    pub issues: Vec<Issue>,
    /// What the reader chose where FHIR left a choice (a default from the payer directory).
    pub notes: Vec<Issue>,
}

impl<'a> Reader<'a> {
    /// An error at `at`.
    pub fn error(&mut self, code: IssueType, id: &str, at: &str, text: String) {
        self.issues.push(Issue {
            severity: IssueSeverity::Error,
            code,
            diagnostics: Some(id.into()),
            details: Details { text },
            expression: vec![at.into()],
        });
    }

    /// A note of a choice the reader made at `at`.
    pub fn note(&mut self, id: &str, at: &str, text: String) {
        self.notes.push(Issue {
            severity: IssueSeverity::Information,
            code: IssueType::Value,
            diagnostics: Some(id.into()),
            details: Details { text },
            expression: vec![at.into()],
        });
    }

    /// `at` is absent and required: `why` says what the 837 needs it for.
    pub fn required(&mut self, id: &str, at: &str, why: &str) {
        let text = if why.is_empty() {
            format!("{at} is required")
        } else {
            format!("{at} is required: {why}")
        };
        self.error(IssueType::Required, id, at, text);
    }

    /// A non-empty string at `value`; absent is `None` without an issue.
    pub fn optional_string(&mut self, value: &Value, at: &str) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::String(_) => {
                self.error(
                    IssueType::Value,
                    "fhir-string",
                    at,
                    format!("{at} is empty"),
                );
                None
            }
            _ => {
                self.error(
                    IssueType::Structure,
                    "fhir-string",
                    at,
                    format!("{at} must be a string"),
                );
                None
            }
        }
    }

    /// A non-empty string at `value`, required.
    pub fn string(&mut self, value: &Value, at: &str) -> Option<String> {
        if value.is_null() {
            self.required("fhir-required", at, "");
            return None;
        }
        self.optional_string(value, at)
    }

    /// The resource `reference` (in `from`) leads to, required; `kinds` are the resource types
    /// the element may refer to.
    pub fn resource(
        &mut self,
        reference: &'a Value,
        from: &'a Value,
        at: &str,
        kinds: &[&str],
    ) -> Option<&'a Value> {
        match self.resources.resolve(reference, from, self.claim) {
            Ok(Resolved::Found(found)) => {
                let kind = found["resourceType"].as_str().unwrap_or_default();
                if kinds.contains(&kind) {
                    Some(found)
                } else {
                    self.error(
                        IssueType::Structure,
                        "fhir-reference",
                        at,
                        format!(
                            "{at} refers to a {kind}; it must refer to a {}",
                            kinds.join(" or ")
                        ),
                    );
                    None
                }
            }
            Ok(Resolved::Logical(identifier)) => {
                self.error(
                    IssueType::NotFound,
                    "fhir-reference",
                    at,
                    format!(
                        "{at} names a {} only by identifier ({}); send the resource in the Bundle or contained",
                        kinds.join(" or "),
                        identifier["system"].as_str().unwrap_or("no system")
                    ),
                );
                None
            }
            Err(unresolved) => {
                let code = match unresolved {
                    crate::claims::fhir::resources::Unresolved::Absent => IssueType::Required,
                    _ => IssueType::NotFound,
                };
                self.error(code, "fhir-reference", at, unresolved.explain(at));
                None
            }
        }
    }

    /// A date at `value`: a FHIR `date`, or the date part of a `dateTime` (as written, in its
    /// own time zone: a service date is the provider's local date). Required.
    pub fn date(&mut self, value: &Value, at: &str) -> Option<NaiveDate> {
        if value.is_null() {
            self.required("fhir-required", at, "");
            return None;
        }
        self.optional_date(value, at)
    }

    /// A date at `value`, when present.
    pub fn optional_date(&mut self, value: &Value, at: &str) -> Option<NaiveDate> {
        let text = match value {
            Value::Null => return None,
            Value::String(text) => text.as_str(),
            _ => {
                self.error(
                    IssueType::Structure,
                    "fhir-date",
                    at,
                    format!("{at} must be a date string"),
                );
                return None;
            }
        };
        match date_of(text) {
            Ok(date) => Some(date),
            Err(why) => {
                self.error(IssueType::Value, "fhir-date", at, format!("{at} {why}"));
                None
            }
        }
    }

    /// A decimal at `value` (a JSON number, or a string of one), when present.
    pub fn optional_decimal(&mut self, value: &Value, at: &str) -> Option<Decimal> {
        let parsed = match value {
            Value::Null => return None,
            Value::Number(n) => decimal_of(&n.to_string()),
            Value::String(s) => decimal_of(s),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                IssueType::Value,
                "fhir-decimal",
                at,
                format!("{at} must be a decimal number"),
            );
        }
        parsed
    }

    /// An amount of money at `money` (a FHIR `Money`), when present: in US dollars, to the
    /// cent. Binary floating point noise a JSON writer left (`135.57000000000002`) is rounded
    /// off; a real fraction of a cent is an error.
    pub fn optional_money(&mut self, money: &Value, at: &str) -> Option<Decimal> {
        if money.is_null() {
            return None;
        }
        if let Some(currency) = money["currency"].as_str()
            && currency != CURRENCY
        {
            self.error(
                IssueType::NotSupported,
                "currency",
                &format!("{at}.currency"),
                format!("{at} is in {currency:?}: an 837 carries US dollars only (currency USD)"),
            );
            return None;
        }
        if money["value"].is_null() {
            self.required("fhir-required", &format!("{at}.value"), "");
            return None;
        }
        let value = self.optional_decimal(&money["value"], &format!("{at}.value"))?;
        let cents = value.round_dp(2);
        if (value - cents).abs() < Decimal::new(1, 6) {
            Some(cents)
        } else {
            self.error(
                IssueType::Value,
                "money-cents",
                &format!("{at}.value"),
                format!("{at}.value {value} has a fraction of a cent"),
            );
            None
        }
    }

    /// The code `concept` gives for an element of `systems` (see [`pick`]), required;
    /// `what` names the element's vocabulary in messages.
    pub fn code(
        &mut self,
        concept: &Value,
        at: &str,
        systems: &[System],
        shape: fn(&str) -> bool,
        what: &str,
    ) -> Option<(String, Option<System>)> {
        match pick(concept, systems, shape) {
            Pick::Code(code, system) => Some((code, system)),
            Pick::Absent => {
                self.required("fhir-required", at, &format!("it needs a {what} coding"));
                None
            }
            Pick::Other(seen) => {
                let wanted: Vec<&str> = systems
                    .iter()
                    .filter_map(|s| s.uris.first().copied())
                    .collect();
                self.error(
                    IssueType::CodeInvalid,
                    "code-system",
                    at,
                    format!(
                        "{at} has no {what} coding (found {}); add one with system {}",
                        seen.join(", "),
                        wanted.join(" or ")
                    ),
                );
                None
            }
        }
    }
}

/// The date of a FHIR `date` or `dateTime`.
pub fn date_of(text: &str) -> Result<NaiveDate, &'static str> {
    let (day, time) = match text.split_once('T') {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    if day.chars().count() < 10 {
        return Err("must be a full date (YYYY-MM-DD), not only a year or month");
    }
    if time.is_some_and(|t| !t.chars().next().is_some_and(|c| c.is_ascii_digit())) {
        return Err("must be a date (YYYY-MM-DD) or a dateTime");
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| "must be a date (YYYY-MM-DD) or a dateTime")
}

/// A decimal from JSON text, in plain or scientific notation.
fn decimal_of(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_time_gives_its_date_and_partial_dates_are_refused() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 2);
        assert_eq!(date_of("2026-11-02").ok(), day);
        assert_eq!(date_of("2026-11-02T10:15:00-05:00").ok(), day);
        assert!(date_of("2026-11").unwrap_err().contains("full date"));
        assert!(date_of("2026-13-02").is_err());
        assert!(date_of("2026-11-02Tx").is_err());
    }

    #[test]
    fn scientific_and_plain_decimals_are_read() {
        assert_eq!(decimal_of("1.5e2"), Some(Decimal::new(150, 0)));
        assert_eq!(decimal_of("135.57"), Some(Decimal::new(13557, 2)));
        assert_eq!(decimal_of("x"), None);
    }
}
