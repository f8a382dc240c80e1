//! The domain claim through a rule set: the conversion to the contract's records and back loses
//! nothing, a rule set's error holds the claim with its finding, and a rule set that misbehaves
//! holds the claim with the reason, naming the component.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_core::claim::ProfessionalClaim;
use hms_core::outcome::IssueSeverity;
use hms_rules::convert::{apply, to_wit};
use hms_rules::host::{Limits, RuleHost, types};
use hms_rules::pipeline::run;
use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component, one_finding};

fn fixture(name: &str) -> ProfessionalClaim {
    let path = format!(
        "{}/../../functions/core/tests/fixtures/claims/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    hms_core::scrub::parse_professional(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_claim_survives_the_contract_and_back_unchanged() {
    for name in [
        "professional-subscriber.json",
        "professional-dependent.json",
        "professional-drug-ndc.json",
        "professional-cob-secondary.json",
        "professional-ambulance.json",
    ] {
        let claim = fixture(name);
        let wit = to_wit(&claim).unwrap();
        assert_eq!(apply(&claim, &wit).unwrap(), claim, "{name}");
    }
}

#[test]
fn a_rule_sets_changes_come_back_onto_the_claim_and_bad_ones_are_named() {
    let claim = fixture("professional-drug-ndc.json");
    let types::Claim::Professional(mut wit) = to_wit(&claim).unwrap() else {
        panic!("professional")
    };
    wit.prior_authorization = Some("PA-778899".into());
    wit.lines[0].modifiers.push("GT".into());
    let changed = apply(&claim, &types::Claim::Professional(wit.clone())).unwrap();
    assert_eq!(
        changed.claim.prior_authorization.as_deref(),
        Some("PA-778899")
    );
    assert!(
        changed.service_lines[0]
            .modifiers
            .contains(&"GT".to_string())
    );
    // What the contract does not carry stays: the NDC of the drug line.
    assert_eq!(changed.service_lines[1].drug, claim.service_lines[1].drug);

    wit.billing_provider.npi = Some("12345".into());
    let err = apply(&claim, &types::Claim::Professional(wit)).unwrap_err();
    assert_eq!(err.path, "/billingProvider/npi");
}

#[test]
fn an_error_finding_holds_the_claim_and_joins_the_outcome() {
    let host = RuleHost::new(Limits::default()).unwrap();
    let bytes = component(hms_rules::WIT, "rule-set", DESCRIBE, &one_finding(0), "");
    let rules = host.load("prior-auth-rules", &bytes).unwrap();
    let claim = fixture("professional-subscriber.json");
    let outcome = run(&host, &rules, &claim);
    assert!(outcome.held);
    assert_eq!(outcome.claim, claim);
    assert_eq!(outcome.issues.len(), 1);
    let issue = &outcome.issues[0];
    assert_eq!(issue.severity, IssueSeverity::Error);
    assert_eq!(issue.diagnostics.as_deref(), Some("prior-auth-required"));
    assert_eq!(
        issue.details.text,
        "prior-auth-rules: prior authorization required"
    );
    assert_eq!(issue.expression, ["/claim/priorAuthorization"]);
}

#[test]
fn a_misbehaving_rule_set_holds_the_claim_with_the_reason() {
    let host = RuleHost::new(Limits::default()).unwrap();
    // A warning passes validation; its transform traps.
    let bytes = component(hms_rules::WIT, "rule-set", DESCRIBE, &one_finding(1), "");
    let rules = host.load("trapping-transform", &bytes).unwrap();
    let claim = fixture("professional-subscriber.json");
    let outcome = run(&host, &rules, &claim);
    assert!(outcome.held);
    assert_eq!(outcome.claim, claim);
    let last = outcome.issues.last().unwrap();
    assert_eq!(last.diagnostics.as_deref(), Some("rules-failed"));
    assert!(
        last.details.text.starts_with("trapping-transform: trapped"),
        "{}",
        last.details.text
    );
    // The warning is kept beside the reason.
    assert_eq!(outcome.issues[0].severity, IssueSeverity::Warning);

    let looping = component(
        hms_rules::WIT,
        "rule-set",
        DESCRIBE,
        "(loop $l (br $l)) unreachable",
        "",
    );
    let rules = host.load("looping-rules", &looping).unwrap();
    let outcome = run(&host, &rules, &claim);
    assert!(outcome.held);
    assert!(
        outcome.issues[0]
            .details
            .text
            .contains("looping-rules: stopped after its budget of 11000000 instructions")
    );
    let _ = NO_FINDINGS;
}
