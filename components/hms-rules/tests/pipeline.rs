//! The domain claim through a rule set: the conversion to the contract's records and back loses
//! nothing, a rule set's error holds the claim with its finding, and a rule set that misbehaves
//! holds the claim with the reason, naming the component.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_domain::claims::Claim;
use hms_domain::claims::model::{InstitutionalClaim, ProfessionalClaim};
use hms_domain::outcome::IssueSeverity;
use hms_domain::request::parse_json;
use hms_rules::convert::{RuleClaim, apply, to_wit};
use hms_rules::host::{Limits, RuleHost, types};
use hms_rules::pipeline::run;
use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component, one_finding};

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/functions/shared/hms-domain/tests/fixtures/claims/{name}",
        hms_test_support::workspace().display()
    );
    std::fs::read(path).unwrap()
}

fn fixture(name: &str) -> ProfessionalClaim {
    parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture_bytes(name)).unwrap()
}

fn institutional(name: &str) -> InstitutionalClaim {
    parse_json::<hms_domain::claims::InstitutionalClaim>(&fixture_bytes(name)).unwrap()
}

#[test]
fn an_institutional_claim_survives_the_contract_and_back_unchanged() {
    for name in [
        "institutional-inpatient.json",
        "institutional-outpatient.json",
    ] {
        let claim = institutional(name);
        let wit = claim.to_wit().unwrap();
        assert!(matches!(wit, types::Claim::Institutional(_)), "{name}");
        assert_eq!(claim.apply(&wit).unwrap(), claim, "{name}");
    }
}

#[test]
fn an_institutional_rule_sets_changes_land_and_what_it_cannot_carry_stays() {
    let claim = institutional("institutional-outpatient.json");
    let types::Claim::Institutional(mut wit) = claim.to_wit().unwrap() else {
        panic!("institutional")
    };
    wit.prior_authorization = Some("PA12345678".into());
    wit.lines[1].modifiers.push("59".into());
    wit.facility_type = "14".into();
    let changed = claim
        .apply(&types::Claim::Institutional(wit.clone()))
        .unwrap();
    assert_eq!(
        changed.claim.prior_authorization.as_deref(),
        Some("PA12345678")
    );
    assert_eq!(changed.claim.facility_type, "14");
    assert_eq!(changed.service_lines[1].modifiers, ["59"]);
    // Not in the contract, so kept: value codes, occurrences, line control numbers.
    assert_eq!(changed.claim.values, claim.claim.values);
    assert_eq!(changed.claim.occurrences, claim.claim.occurrences);
    assert_eq!(
        changed.service_lines[1].line_control_number,
        claim.service_lines[1].line_control_number
    );

    // A rule set cannot turn the bill into a professional claim, nor invent a patient.
    let professional = to_wit(&fixture("professional-subscriber.json")).unwrap();
    let err = claim.apply(&professional).unwrap_err();
    assert!(err.message.contains("into a professional one"), "{err}");
    let dependent = fixture("professional-dependent.json");
    let types::Claim::Professional(p) = to_wit(&dependent).unwrap() else {
        panic!("professional")
    };
    wit.patient = p.patient;
    let err = claim.apply(&types::Claim::Institutional(wit)).unwrap_err();
    assert_eq!(err.path, "/patient");
}

#[test]
fn an_institutional_claim_is_held_by_an_error_finding() {
    let host = RuleHost::new(Limits::default()).unwrap();
    let bytes = component(hms_rules::WIT, "rule-set", DESCRIBE, &one_finding(0), "");
    let rules = host.load("prior-auth-rules", &bytes).unwrap();
    let claim = institutional("institutional-inpatient.json");
    let outcome = run(&host, &rules, &claim);
    assert!(outcome.held);
    assert_eq!(outcome.claim, claim);
    assert_eq!(
        outcome.issues[0].diagnostics.as_deref(),
        Some("prior-auth-required")
    );
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

#[test]
fn the_rule_engine_port_runs_the_payers_rule_set_and_passes_claims_of_other_payers() {
    use hms_rules::pipeline::RegistryRules;
    use hms_rules::registry::Registry;
    use hms_service::ports::RuleEngine;
    let dir = std::env::temp_dir().join(format!("hms-rule-engine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let refusing = hms_rules::testing::component_serving("999996666", &one_finding(0));
    std::fs::write(dir.join("refusing.wasm"), &refusing).unwrap();
    std::fs::write(
        dir.join("rules.json"),
        format!(
            r#"{{ "ruleSets": [ {{ "component": "refusing.wasm", "sha256": "{}", "payerIds": ["999996666"] }} ] }}"#,
            hms_rules::sha256_hex(&refusing)
        ),
    )
    .unwrap();
    let host = RuleHost::new(Limits::default()).unwrap();
    let registry = Registry::open(&host, &dir, None).unwrap();
    let engine = RegistryRules { host, registry };

    let claim = fixture("professional-subscriber.json");
    assert_eq!(claim.payer.id.as_str(), "999996666");
    let verdict = engine.review(&Claim::from(claim));
    assert!(verdict.held);
    assert!(
        verdict.issues[0]
            .details
            .text
            .starts_with("test-rules 1.0.0 (refusing.wasm): "),
        "{}",
        verdict.issues[0].details.text
    );
    let other = institutional("institutional-outpatient.json");
    // Its payer has no rule set: it goes as it came.
    let verdict = engine.review(&Claim::from(other));
    assert!(!verdict.held);
    assert_eq!(verdict.claim, None);
    let _ = std::fs::remove_dir_all(dir);
}

/// A date the contract cannot carry (a year before 0, which a JSON date may say) is refused
/// where it stands instead of reaching a rule set as another date (found by the
/// `rules_convert` fuzz target: `-2026-11-02` came back `0000-11-02`).
#[test]
fn a_date_the_contract_cannot_carry_is_refused_where_it_stands() {
    let mut claim = fixture("professional-subscriber.json");
    claim.service_lines[0].service_date = chrono::NaiveDate::from_ymd_opt(-2026, 11, 2).unwrap();
    let err = to_wit(&claim).unwrap_err().to_string();
    assert!(err.contains("/serviceLines/0/serviceDate"), "{err}");
    let mut claim = institutional("institutional-inpatient.json");
    claim.claim.statement_to = chrono::NaiveDate::from_ymd_opt(-1, 1, 1).unwrap();
    let err = claim.to_wit().unwrap_err().to_string();
    assert!(err.contains("/claim/statementTo"), "{err}");
}
