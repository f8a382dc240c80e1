//! A commercial payer's rule set (payer ids 60054 and 62308, made up for the example): advanced
//! imaging needs a prior-authorization number, and the payer wants every line to carry its
//! place of service.
//!
//! - `validate-claim`: an error for each advanced-imaging line (MRI, CT, PET) of a professional
//!   or an institutional claim when the claim has no prior-authorization number; a warning when the number does not look like the payer's
//!   (`PA` and eight digits).
//! - `transform-claim`: copies a professional claim's place of service onto lines that have
//!   none; institutional claims pass as they are.

wit_bindgen::generate!({
    path: "../../wit/payer-rules.wit",
    world: "rule-set",
});

use exports::hms::payer_rules::rules::Guest;
use hms::payer_rules::types::{Claim, Finding, RuleSetInfo, Severity};

/// CPT codes this payer authorizes in advance: MRI of the brain, spine and knee; CT of the
/// abdomen and pelvis with contrast; PET imaging.
const NEEDS_AUTHORIZATION: &[&str] = &["70551", "70553", "72148", "73721", "74177", "78815"];

struct PriorAuthRules;

fn looks_like_ours(number: &str) -> bool {
    number.len() == 10
        && number.starts_with("PA")
        && number[2..].bytes().all(|b| b.is_ascii_digit())
}

impl Guest for PriorAuthRules {
    fn describe() -> RuleSetInfo {
        RuleSetInfo {
            name: "prior-auth-rules".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            payer_ids: vec!["60054".into(), "62308".into()],
        }
    }

    fn validate_claim(claim: Claim) -> Vec<Finding> {
        // The procedure codes of the lines, professional or institutional (an outpatient
        // facility bills the imaging under a revenue code with its CPT code).
        let (authorization, procedures): (_, Vec<Option<String>>) = match claim {
            Claim::Professional(c) => (
                c.prior_authorization,
                c.lines.into_iter().map(|l| Some(l.procedure_code)).collect(),
            ),
            Claim::Institutional(c) => (
                c.prior_authorization,
                c.lines.into_iter().map(|l| l.procedure_code).collect(),
            ),
        };
        let mut findings = vec![];
        match &authorization {
            None => {
                for (k, code) in procedures.iter().enumerate() {
                    let Some(code) = code else { continue };
                    if NEEDS_AUTHORIZATION.contains(&code.as_str()) {
                        findings.push(Finding {
                            severity: Severity::Error,
                            code: "prior-auth-required".into(),
                            message: format!(
                                "CPT {code} on line {} needs a prior-authorization number from this payer",
                                k + 1
                            ),
                            path: "/claim/priorAuthorization".into(),
                        });
                    }
                }
            }
            Some(number) if !looks_like_ours(number) => findings.push(Finding {
                severity: Severity::Warning,
                code: "prior-auth-format".into(),
                message: format!(
                    "{number:?} does not look like this payer's authorization numbers (PA and eight digits)"
                ),
                path: "/claim/priorAuthorization".into(),
            }),
            Some(_) => {}
        }
        findings
    }

    fn transform_claim(claim: Claim) -> Result<Claim, Vec<Finding>> {
        let Claim::Professional(mut claim) = claim else {
            return Ok(claim);
        };
        for line in &mut claim.lines {
            if line.place_of_service.is_none() {
                line.place_of_service = Some(claim.place_of_service.clone());
            }
        }
        Ok(Claim::Professional(claim))
    }
}

export!(PriorAuthRules);
