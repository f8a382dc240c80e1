//! What a payer's acknowledgments say of a claim: a TA1 that rejects the interchange, a 999
//! that rejects the transaction set, or a 277CA's verdict on the claim.

use hms_domain::claim_status::{ClaimStatus, Verdict, read_277};
use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType};

use crate::lifecycle::ClaimState;

pub mod by_file;

/// What an acknowledgment says of a claim: the state it moves to, why in words, and the
/// payer's findings.
pub type Judgment = (ClaimState, String, Vec<Issue>);

/// What the payer's acknowledgments say: a 999 that rejects the set, or a 277CA's verdict on
/// the claim; `None` while they say nothing final (no acknowledgment yet, or only an accepting
/// 999, the 277CA still to come).
pub fn judge_acknowledgments(acks: &[Vec<u8>]) -> Option<Judgment> {
    for ack in acks {
        if let Some((code, note)) = ta1_rejection(ack) {
            return ta1_judgment(&code, &note);
        }
    }
    let catalog = hms_x12::spec::Catalog::embedded().ok()?;
    for ack in acks {
        if let Some(code) = ak9_code(ack)
            && let Some(judgment) = ack_999_judgment(&code, &ik3_segments(ack))
        {
            return Some(judgment);
        }
    }
    for ack in acks {
        let Ok(responses) = read_277(ack, catalog) else {
            continue;
        };
        for response in responses {
            let Some(claim) = response.claims.first() else {
                continue;
            };
            if let Some(judgment) = claim_277ca_judgment(claim) {
                return Some(judgment);
            }
        }
    }
    None
}

/// What a TA1 with TA104 `code` and note TA105 `note` says of the claim sent in its
/// interchange: rejected (`R`), else nothing final.
pub fn ta1_judgment(code: &str, note: &str) -> Option<Judgment> {
    (code == "R").then(|| {
        (
            ClaimState::RejectedByPayer,
            format!("the payer's TA1 rejected the interchange (TA104 {code}, note {note})"),
            vec![Issue {
                severity: IssueSeverity::Error,
                code: IssueType::Structure,
                diagnostics: Some(format!("payer-ta1-{note}")),
                details: Details {
                    text: format!(
                        "the payer's TA1 rejected the interchange: {} (TA105 {note})",
                        ta1_note(note)
                    ),
                },
                expression: vec![],
            }],
        )
    })
}

/// What a 999 whose AK9-01 is `code` says of the claim sent in the group it acknowledges:
/// rejected unless accepted (`A`, or `E` accepted with errors), when it says nothing final
/// (the 277CA is to come). `segments` names the segments its IK3s found in error.
pub fn ack_999_judgment(code: &str, segments: &str) -> Option<Judgment> {
    (!matches!(code, "A" | "E")).then(|| {
        (
            ClaimState::RejectedByPayer,
            format!("the payer's 999 rejected the 837 (AK9*{code})"),
            vec![Issue {
                severity: IssueSeverity::Error,
                code: IssueType::Structure,
                diagnostics: Some(format!("payer-999-{code}")),
                details: Details {
                    text: format!(
                        "the payer's 999 rejected the 837 (AK9*{code}); segments in error: {segments}"
                    ),
                },
                expression: vec![],
            }],
        )
    })
}

/// What a 277CA's status of one claim says: accepted into adjudication or rejected, with
/// each status as a finding; `None` when it is neither (pending, say).
pub fn claim_277ca_judgment(claim: &ClaimStatus) -> Option<Judgment> {
    let state = match claim.verdict {
        Verdict::Rejected => ClaimState::RejectedByPayer,
        Verdict::Accepted => ClaimState::AcceptedByPayer,
        _ => return None,
    };
    let issues: Vec<Issue> = claim
        .statuses
        .iter()
        .map(|s| Issue {
            severity: if claim.verdict == Verdict::Rejected {
                IssueSeverity::Error
            } else {
                IssueSeverity::Information
            },
            code: IssueType::BusinessRule,
            diagnostics: Some(format!(
                "payer-277ca-{}:{}",
                s.category_code,
                s.status_code.as_deref().unwrap_or("")
            )),
            details: Details {
                text: format!(
                    "{} ({}{}){}",
                    s.category.as_deref().unwrap_or("status"),
                    s.category_code,
                    s.status_code
                        .as_deref()
                        .map(|c| format!(":{c}"))
                        .unwrap_or_default(),
                    s.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            },
            expression: vec![],
        })
        .collect();
    Some((
        state,
        format!("the payer's 277CA: {}", claim.verdict),
        issues,
    ))
}

/// AK9-01 of a 999, if `x12` is one.
fn ak9_code(x12: &[u8]) -> Option<String> {
    hms_x12::Tokenizer::new(x12)
        .flatten()
        .find(|s| s.id() == b"AK9")
        .map(|s| String::from_utf8_lossy(s.value(1)).into_owned())
}

/// The segment ids a 999 names in its IK3s.
fn ik3_segments(x12: &[u8]) -> String {
    let ids: Vec<String> = hms_x12::Tokenizer::new(x12)
        .flatten()
        .filter(|s| s.id() == b"IK3")
        .map(|s| ik3_named(&s))
        .collect();
    named(&ids)
}

/// The segment an IK3 names, and where.
pub(crate) fn ik3_named(ik3: &hms_x12::Segment<'_>) -> String {
    format!(
        "{} (segment {})",
        String::from_utf8_lossy(ik3.value(1)),
        String::from_utf8_lossy(ik3.value(2))
    )
}

/// The segments named, or that none were.
pub(crate) fn named(ids: &[String]) -> String {
    if ids.is_empty() {
        "none named".into()
    } else {
        ids.join(", ")
    }
}

/// TA104 and TA105 of a TA1 that rejects its interchange (`R`), if `x12` holds one. An
/// accepting TA1 (`A`, or `E` accepted with errors) says nothing final.
fn ta1_rejection(x12: &[u8]) -> Option<(String, String)> {
    hms_x12::Tokenizer::new(x12)
        .flatten()
        .filter(|s| s.id() == b"TA1")
        .map(|s| {
            (
                String::from_utf8_lossy(s.value(4)).trim().to_string(),
                String::from_utf8_lossy(s.value(5)).trim().to_string(),
            )
        })
        .find(|(code, _)| code == "R")
}

/// What an interchange note code (TA105) means, as X12's code list says.
fn ta1_note(code: &str) -> &'static str {
    match code {
        "000" => "no error",
        "001" => "the interchange control numbers in the header and trailer do not match",
        "005" => "invalid interchange ID qualifier for the sender",
        "006" => "invalid interchange sender ID",
        "007" => "invalid interchange ID qualifier for the receiver",
        "008" => "invalid interchange receiver ID",
        "010" => "invalid authorization information qualifier value",
        "014" => "invalid interchange date value",
        "015" => "invalid interchange time value",
        "017" => "invalid interchange version ID value",
        "018" => "invalid interchange control number value",
        "020" => "invalid test indicator value",
        "021" => "invalid number of included groups value",
        "022" => "invalid control structure",
        "023" => "improper (premature) end-of-file (transmission)",
        "024" => "invalid interchange content (e.g. invalid GS segment)",
        "025" => "duplicate interchange control number",
        "026" => "invalid data element separator",
        "027" => "invalid component element separator",
        _ => "an interchange error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejecting_ta1_rejects_the_claim_and_an_accepting_one_says_nothing() {
        let ta1 = |code: &str| {
            format!(
                "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HMSACH         *261202*1200*^*00501*000000001*0*T*:~TA1*000000042*261202*1200*{code}*025~IEA*0*000000001~"
            )
            .into_bytes()
        };
        let (state, reason, issues) = judge_acknowledgments(&[ta1("R")]).expect("a verdict");
        assert_eq!(state, ClaimState::RejectedByPayer);
        assert!(reason.contains("TA104 R"), "{reason}");
        assert!(
            issues[0]
                .details
                .text
                .contains("duplicate interchange control number"),
            "{issues:?}"
        );
        assert_eq!(judge_acknowledgments(&[ta1("A")]), None);
        assert_eq!(judge_acknowledgments(&[]), None);
    }

    #[test]
    fn a_277ca_whose_dates_hold_multi_byte_text_is_judged_without_a_panic() {
        // Our own 277CA (the fuzz seed) with every DTP's date made format DT with '€' where
        // the eighth byte would be: once a panic in the worker, which failed the whole batch.
        let seed = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../fuzz/corpus/payer_x12/ack.277ca"
        );
        let ack = std::fs::read_to_string(seed).unwrap_or_default();
        assert!(ack.contains("DTP*472*D8*"), "the seed has a service date");
        let hostile: Vec<String> = ack
            .split('~')
            .map(
                |segment| match segment.split('*').collect::<Vec<_>>().as_slice() {
                    [id, qualifier, _, _] if id.trim() == "DTP" => {
                        format!("{id}*{qualifier}*DT*2024010\u{20ac}00")
                    }
                    _ => segment.to_string(),
                },
            )
            .collect();
        let hostile = hostile.join("~");
        assert!(hostile.contains('\u{20ac}'));
        // Whatever it makes of it, it answers.
        let _ = judge_acknowledgments(&[hostile.into_bytes()]);
    }
}
