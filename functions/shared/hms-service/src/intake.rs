//! The intake path every claim takes before an 837 is written for it: the scrubber, then the
//! payer's rules. The service runs it for each claim submitted; the CLI runs it for a file of
//! claims. One path, so that what `hms translate` accepts is what the API accepts.

use chrono::NaiveDate;
use hms_domain::claims::scrub::Profile;
use hms_domain::claims::{Batch, Claim};
use hms_domain::outcome::{Issue, IssueSeverity, IssueType};

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
/// into the input as [`Batch::locate`] says. A batch too large to hold takes the same two
/// phases a claim at a time: [`scrub_claim`] over every claim, then [`rules_claim`].
pub fn review(batch: Batch, today: NaiveDate, rules: &impl RuleEngine) -> Reviewed {
    let mut issues = vec![];
    let mut errors = 0;
    for (i, claim) in batch.claims.iter().enumerate() {
        errors += scrub_claim(&batch, i, claim, today, &mut issues);
    }
    if errors > 0 {
        return Reviewed::Scrubbed { issues, errors };
    }
    let mut claims = Vec::with_capacity(batch.claims.len());
    let mut held = false;
    for (i, claim) in batch.claims.iter().enumerate() {
        let (changed, passed) = rules_claim(&batch, i, claim, today, rules, &mut issues);
        held |= !passed;
        claims.push(changed.unwrap_or_else(|| claim.clone()));
    }
    if held {
        Reviewed::Held { issues }
    } else {
        Reviewed::Passed { claims, issues }
    }
}

/// The first phase of intake for claim `i` of `batch`: the scrubber's findings, located,
/// added to `issues`. Returns how many are errors (a batch with any goes no further).
pub fn scrub_claim(
    batch: &Batch,
    i: usize,
    claim: &Claim,
    today: NaiveDate,
    issues: &mut Vec<Issue>,
) -> usize {
    let found = batch.scrub_claim(i, claim, today, &Profile::default());
    let errors = found
        .iter()
        .filter(|i| i.severity <= IssueSeverity::Error)
        .count();
    issues.extend(found);
    errors
}

/// The second phase for claim `i` of a batch that scrubbed clean: its payer's rule set, and
/// the scrubber again on what the rule set made of it. Returns what the rule set changed the
/// claim into (`None`: it goes as it came) and whether it may be sent (false: held); the
/// findings, located, are added to `issues`.
pub fn rules_claim(
    batch: &Batch,
    i: usize,
    claim: &Claim,
    today: NaiveDate,
    rules: &impl RuleEngine,
    issues: &mut Vec<Issue>,
) -> (Option<Claim>, bool) {
    let mut verdict = rules.review(claim);
    let changed = match verdict.claim.take() {
        Some(changed) if !verdict.held && changed != *claim => {
            verdict.held = !recheck(claim, &changed, today, &mut verdict.issues);
            Some(changed)
        }
        _ => None,
    };
    let outcome = hms_domain::outcome::OperationOutcome::new(verdict.issues);
    issues.extend(batch.locate(i, outcome, true));
    (changed, !verdict.held)
}

/// Whether the claim a payer's rule set made of `original` may be sent: it goes to the same
/// payer (whose rules ran) and passes the scrubber again (totals equal to the lines, the TR3's
/// limits, codes, dates). What it fails is added to `issues`, marked as after the rule set.
fn recheck(
    original: &Claim,
    transformed: &Claim,
    today: NaiveDate,
    issues: &mut Vec<Issue>,
) -> bool {
    let mut passes = true;
    if transformed.payer_id() != original.payer_id() {
        issues.push(Issue::error(
            IssueType::Exception,
            "rules-changed-payer",
            format!(
                "the payer's rule set changed the payer id from {} to {}: a claim goes only to the payer whose rules ran",
                original.payer_id(),
                transformed.payer_id()
            ),
        ));
        passes = false;
    }
    let again = hms_domain::claims::scrub::scrub(transformed, today, &Profile::default());
    for mut issue in again.issue {
        if issue.severity <= IssueSeverity::Error {
            issue.details.text = format!(
                "after the payer's rule set changed the claim: {}",
                issue.details.text
            );
            issues.push(issue);
            passes = false;
        }
    }
    passes
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
        Batch::read(&json, None, &Connections::local()).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    /// Holds every claim, saying so at `/claim`.
    struct HoldAll;
    impl RuleEngine for HoldAll {
        fn review(&self, _claim: &Claim) -> RuleVerdict {
            RuleVerdict {
                claim: None,
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

    /// A rule set that passes each claim changed by `change`.
    struct Changing(fn(&mut Claim));
    impl RuleEngine for Changing {
        fn review(&self, claim: &Claim) -> RuleVerdict {
            let mut changed = claim.clone();
            (self.0)(&mut changed);
            RuleVerdict {
                claim: Some(changed),
                issues: vec![],
                held: false,
            }
        }
    }

    fn professional(claim: &mut Claim) -> &mut hms_domain::claims::model::ProfessionalClaim {
        match claim {
            Claim::Professional(c) => c,
            Claim::Institutional(_) => panic!("not professional"),
        }
    }

    #[test]
    fn what_a_rule_set_changes_is_checked_again_before_it_may_be_sent() {
        type Case = (&'static str, fn(&mut Claim), &'static str);
        let cases: [Case; 3] = [
            (
                "a new payer",
                |c| {
                    professional(c).payer.id = hms_domain::ids::PayerId::parse("OTHER").unwrap();
                },
                "rules-changed-payer",
            ),
            (
                "a total unlike its lines",
                |c| professional(c).claim.total_charge += rust_decimal::Decimal::ONE,
                "charge-total",
            ),
            (
                "60 lines",
                |c| {
                    let p = professional(c);
                    let line = p.service_lines[0].clone();
                    p.service_lines = vec![line; 60];
                    p.claim.total_charge = p.service_lines.iter().map(|l| l.charge).sum();
                },
                "line-count",
            ),
        ];
        for (what, change, id) in cases {
            let Reviewed::Held { issues } = review(
                batch("professional-subscriber.json"),
                today(),
                &Changing(change),
            ) else {
                panic!("{what}: the changed claim was not held");
            };
            let found = issues.iter().find(|i| i.diagnostics.as_deref() == Some(id));
            assert!(found.is_some(), "{what}: {issues:?}");
        }
        // A change that breaks nothing passes.
        let Reviewed::Passed { claims, .. } = review(
            batch("professional-subscriber.json"),
            today(),
            &Changing(|c| professional(c).claim.prior_authorization = Some("PA123".into())),
        ) else {
            panic!("a harmless change was held");
        };
        assert_eq!(claims.len(), 1);
    }
}
