//! The intake path every claim takes before an 837 is written for it: the scrubber, then the
//! payer's rules. The service runs it for each claim submitted; the CLI runs it for a file of
//! claims. One path, so that what `hms translate` accepts is what the API accepts.

use chrono::NaiveDate;
use hms_domain::claims::{Batch, Claim};
use hms_domain::outcome::{Issue, IssueSeverity};

use crate::ports::RuleEngine;

/// What the intake path made of a batch of claims.
#[derive(Debug, Clone, PartialEq)]
pub enum Reviewed {
    /// Every claim passed: the claims to write (as the payers' rule sets left them), and the
    /// warnings and notes found on the way.
    Passed {
        /// The claims, in input order.
        claims: Vec<Claim>,
        /// Findings that do not stop a claim.
        issues: Vec<Issue>,
    },
    /// The scrubber found errors; no rule set ran.
    Scrubbed {
        /// Every finding; at least one is an error.
        issues: Vec<Issue>,
        /// How many are errors.
        errors: usize,
    },
    /// A payer's rule set holds a claim.
    Held {
        /// Every finding, the rule sets' with the scrubber's.
        issues: Vec<Issue>,
    },
}

/// Runs `batch` through the scrubber (`today` is the date service dates may not be after),
/// then, when no claim has an error, each claim through its payer's rule set. Findings point
/// into the input as [`Batch::locate`] says.
pub fn review(batch: Batch, today: NaiveDate, rules: &impl RuleEngine) -> Reviewed {
    let mut issues = batch.scrub(today).issue;
    let errors = issues
        .iter()
        .filter(|i| i.severity <= IssueSeverity::Error)
        .count();
    if errors > 0 {
        return Reviewed::Scrubbed { issues, errors };
    }
    let mut claims = Vec::with_capacity(batch.claims.len());
    let mut held = false;
    for (i, claim) in batch.claims.iter().enumerate() {
        let verdict = rules.review(claim);
        held |= verdict.held;
        let outcome = hms_domain::outcome::OperationOutcome::new(verdict.issues);
        issues.extend(batch.locate(i, outcome, true));
        claims.push(verdict.claim);
    }
    if held {
        Reviewed::Held { issues }
    } else {
        Reviewed::Passed { claims, issues }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ports::{NoRules, RuleVerdict};
    use hms_domain::claims::ClaimKind;
    use hms_domain::outcome::{Details, IssueType};
    use hms_domain::partner::Connections;

    fn batch(name: &str) -> Batch {
        let path = hms_test_support::fixtures().join("claims").join(name);
        let json = std::fs::read(path).unwrap();
        Batch::read(&json, None, &Connections::local().submitter).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    /// Holds every claim, saying so at `/claim`.
    struct HoldAll;
    impl RuleEngine for HoldAll {
        fn review(&self, claim: &Claim) -> RuleVerdict {
            RuleVerdict {
                claim: claim.clone(),
                issues: vec![Issue {
                    severity: IssueSeverity::Error,
                    code: IssueType::BusinessRule,
                    diagnostics: Some("held".into()),
                    details: Details {
                        text: "held".into(),
                    },
                    expression: vec!["/claim".into()],
                }],
                held: true,
            }
        }
    }

    #[test]
    fn clean_claims_of_either_kind_pass_and_a_rule_set_can_hold_them() {
        for name in [
            "professional-subscriber.json",
            "institutional-inpatient.json",
        ] {
            let Reviewed::Passed { claims, .. } = review(batch(name), today(), &NoRules) else {
                panic!("{name} did not pass");
            };
            assert_eq!(claims.len(), 1);
            let Reviewed::Held { issues } = review(batch(name), today(), &HoldAll) else {
                panic!("{name} was not held");
            };
            assert!(
                issues
                    .iter()
                    .any(|i| i.diagnostics.as_deref() == Some("held"))
            );
        }
        let kinds: Vec<ClaimKind> = batch("batch-professional.json")
            .claims
            .iter()
            .map(Claim::kind)
            .collect();
        assert!(kinds.len() > 1 && kinds.iter().all(|k| *k == ClaimKind::Professional));
    }

    #[test]
    fn a_scrubber_error_stops_the_batch_before_any_rule_set_and_names_the_claim() {
        let mut batch = batch("batch-professional.json");
        let Claim::Professional(second) = &mut batch.claims[1] else {
            panic!("not professional");
        };
        second.service_lines.clear();
        let Reviewed::Scrubbed { issues, errors } = review(batch, today(), &HoldAll) else {
            panic!("the batch was not stopped by the scrubber");
        };
        assert!(errors >= 1);
        assert!(
            issues
                .iter()
                .all(|i| i.diagnostics.as_deref() != Some("held"))
        );
        assert!(
            issues
                .iter()
                .any(|i| i.expression.iter().any(|e| e.starts_with("/1/"))),
            "{issues:?}"
        );
    }
}
