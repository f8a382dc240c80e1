//! A rule set in the style of a Medicare Part B contractor (payer ids made up for the example):
//!
//! - `validate-claim`: the claim filing indicator must be `MB`; an office or outpatient
//!   evaluation-and-management visit (99202-99215) is one unit; a line may not carry both `GA`
//!   (a waiver of liability is on file) and `GZ` (one is not); a telehealth place of service
//!   (02, 10) without modifier 95 or 93 gets a note.
//! - `transform-claim`: pricing modifiers (26, TC, 50, ...) go first on each line, where the
//!   fee schedule reads them.

wit_bindgen::generate!({
    path: "../../wit/payer-rules.wit",
    world: "rule-set",
});

use exports::hms::payer_rules::rules::Guest;
use hms::payer_rules::types::{Claim, Finding, RuleSetInfo, Severity};

/// Modifiers that change the price, which the fee schedule expects before informational ones.
const PRICING: &[&str] = &[
    "26", "TC", "50", "52", "53", "54", "55", "62", "66", "80", "81", "82", "AS", "QK", "QY", "QX",
];

struct MedicareB;

fn finding(severity: Severity, code: &str, message: String, path: String) -> Finding {
    Finding {
        severity,
        code: code.into(),
        message,
        path,
    }
}

fn is_office_visit(code: &str) -> bool {
    code.len() == 5
        && code.starts_with("992")
        && code[3..].parse::<u8>().is_ok_and(|n| (2..=15).contains(&n) && n != 10)
}

impl Guest for MedicareB {
    fn describe() -> RuleSetInfo {
        RuleSetInfo {
            name: "medicare-b-rules".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            payer_ids: vec!["MCRB1".into(), "MCRB2".into()],
        }
    }

    fn validate_claim(claim: Claim) -> Vec<Finding> {
        let Claim::Professional(claim) = claim else {
            return vec![];
        };
        let mut findings = vec![];
        if claim.subscriber.claim_filing_indicator != "MB" {
            findings.push(finding(
                Severity::Error,
                "medicare-filing-indicator",
                format!(
                    "Medicare Part B claims are filed with indicator MB, not {:?}",
                    claim.subscriber.claim_filing_indicator
                ),
                "/subscriber/claimFilingIndicator".into(),
            ));
        }
        for (k, line) in claim.lines.iter().enumerate() {
            let one_unit = line.units.mantissa == 10i64.pow(u32::from(line.units.scale));
            if is_office_visit(&line.procedure_code) && !one_unit {
                findings.push(finding(
                    Severity::Error,
                    "em-units",
                    format!(
                        "an evaluation-and-management visit ({}) is billed as one unit",
                        line.procedure_code
                    ),
                    format!("/serviceLines/{k}/units"),
                ));
            }
            let has = |m: &str| line.modifiers.iter().any(|x| x == m);
            if has("GA") && has("GZ") {
                findings.push(finding(
                    Severity::Error,
                    "abn-modifiers",
                    "GA (waiver of liability on file) and GZ (none on file) cannot both apply".into(),
                    format!("/serviceLines/{k}/modifiers"),
                ));
            }
            let place = line
                .place_of_service
                .as_deref()
                .unwrap_or(&claim.place_of_service);
            if matches!(place, "02" | "10") && !has("95") && !has("93") {
                findings.push(finding(
                    Severity::Information,
                    "telehealth-modifier",
                    "a telehealth visit usually carries modifier 95 (video) or 93 (audio only)".into(),
                    format!("/serviceLines/{k}/modifiers"),
                ));
            }
        }
        findings
    }

    fn transform_claim(claim: Claim) -> Result<Claim, Vec<Finding>> {
        let Claim::Professional(mut claim) = claim else {
            return Ok(claim);
        };
        for line in &mut claim.lines {
            // Stable: pricing modifiers first, each group in the order sent.
            line.modifiers
                .sort_by_key(|m| !PRICING.contains(&m.as_str()));
        }
        Ok(Claim::Professional(claim))
    }
}

export!(MedicareB);
