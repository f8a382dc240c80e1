//! A claim through its payer's rule set: the rule set's `validate-claim`, then, when it finds
//! no error, its `transform-claim`. Findings join the scrubber's as `OperationOutcome` issues;
//! a claim that fails, or whose rule set misbehaves, is held with the reason, never lost and
//! never sent as it was.

use hms_domain::claims::Claim;
use hms_domain::outcome::{Issue, IssueType};
use hms_service::ports::RuleVerdict;

use crate::convert::{self, RuleClaim};
use crate::host::{LoadedRules, RuleHost, types};

/// What a rule set made of a claim: the claim (transformed when the rule set passed it), the
/// findings, and whether it is held.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome<C> {
    /// The claim to write.
    pub claim: C,
    /// The rule set's findings, and why the claim is held when it is.
    pub issues: Vec<Issue>,
    /// Whether the claim must not be sent.
    pub held: bool,
}

fn held<C: Clone>(claim: &C, mut issues: Vec<Issue>, why: Issue) -> RuleOutcome<C> {
    issues.push(why);
    RuleOutcome {
        claim: claim.clone(),
        issues,
        held: true,
    }
}

fn failure(id: &str, text: String) -> Issue {
    Issue::error(IssueType::Exception, id, text)
}

/// Runs `rules` on `claim`, professional or institutional.
pub fn run<C: RuleClaim>(host: &RuleHost, rules: &LoadedRules, claim: &C) -> RuleOutcome<C> {
    let label = rules.label().to_string();
    let wit = match claim.to_wit() {
        Ok(wit) => wit,
        Err(e) => return held(claim, vec![], failure("rules-input", e.to_string())),
    };
    let findings = match host.validate(rules, &wit) {
        Ok((findings, _fuel)) => findings,
        Err(e) => return held(claim, vec![], failure("rules-failed", e.to_string())),
    };
    let issues = convert::issues(&label, &findings);
    if findings
        .iter()
        .any(|f| f.severity == types::Severity::Error)
    {
        return RuleOutcome {
            claim: claim.clone(),
            issues,
            held: true,
        };
    }
    match host.transform(rules, &wit) {
        Ok(Ok(changed)) => match claim.apply(&changed) {
            Ok(transformed) => RuleOutcome {
                claim: transformed,
                issues,
                held: false,
            },
            Err(e) => held(
                claim,
                issues,
                failure("rules-output", format!("{label}: {e}")),
            ),
        },
        Ok(Err(refused)) => {
            let mut issues = issues;
            issues.extend(convert::issues(&label, &refused));
            RuleOutcome {
                claim: claim.clone(),
                issues,
                held: true,
            }
        }
        Err(e) => held(claim, issues, failure("rules-failed", e.to_string())),
    }
}

/// The payer-rules port over a registry: each claim through the rule set of its payer, or as
/// it is when its payer has none. What the claim pipeline of the Lambdas holds.
#[derive(Debug)]
pub struct RegistryRules {
    /// The host the registry's rule sets were loaded by.
    pub host: RuleHost,
    /// Payer id → rule set.
    pub registry: crate::registry::Registry,
}

impl hms_service::ports::RuleEngine for RegistryRules {
    fn review(&self, claim: &Claim) -> RuleVerdict {
        let Some(rules) = self.registry.for_payer(RuleClaim::payer_id(claim)) else {
            // Its payer has no rule set: it goes as it came, not copied.
            return RuleVerdict {
                claim: None,
                issues: vec![],
                held: false,
            };
        };
        let span = tracing::info_span!("payer_rules", rule_set = %rules.label());
        let _entered = span.enter();
        let RuleOutcome {
            claim,
            issues,
            held,
        } = run(&self.host, &rules, claim);
        RuleVerdict {
            claim: (!held).then_some(claim),
            issues,
            held,
        }
    }
}
