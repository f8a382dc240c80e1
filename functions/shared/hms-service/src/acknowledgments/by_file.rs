//! A payer that answers by file rather than by CORE results retrieval: its TA1s, 999s and
//! 277CAs dropped into the drop zone move the claims they answer exactly as retrieval does
//! (the same judgments, the same moves, the same release of a rejected claim's number).
//!
//! A TA1 names the interchange it answers (TA101) and a 999 the group (AK102, which is our
//! ISA13); each is found through the binding the submission made before the claim recorded
//! it, and must match the interchange the claim says it was sent in. A 277CA names each claim
//! by its patient control number (TRN02), the billing provider (2100C) and the payer
//! (2100A): found as a payment is, through the claim's hold on its number. Delivered twice, a
//! file moves nothing the second time: a claim past waiting for its acknowledgments is left
//! as it is.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Judgment, ack_999_judgment, claim_277ca_judgment, ik3_named, named, ta1_judgment};
use crate::delivery::note;
use crate::lifecycle::{ClaimId, ClaimRecord, ClaimState};
use crate::ports::{ClaimStore, ControlNumberHold, InterchangeKey, Ports, sha256_hex};
use crate::remittance::{FileOutcome, structural_rejection};
use crate::service::{Clearinghouse, ServiceError, catalog};

/// The largest acknowledgment file taken in (read whole): a 277CA of 20,000 claims is some
/// 10 MB.
pub const MAX_ACKNOWLEDGMENT_BYTES: usize = 32 * 1024 * 1024;

/// How many moved claims a report lists (all are counted).
pub const MAX_LISTED: usize = 100;

/// What a file of acknowledgments did: counts, and the claims it moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgmentReport {
    /// Acknowledgments read: TA1s, groups a 999 answers, claims a 277CA answers.
    pub read: usize,
    /// Claims moved (accepted or rejected by the payer).
    pub moved: usize,
    /// The first [`MAX_LISTED`] of them, with where they went.
    pub claims: Vec<AcknowledgedClaim>,
    /// Acknowledgments that say nothing final (an accepting 999, a pending status), or
    /// answer a claim already past waiting for them (the file delivered again).
    pub unchanged: usize,
    /// Acknowledgments that answer no claim of ours.
    pub unmatched: usize,
    /// Acknowledgments of claims whose hand-over to the payer is still being recorded: the
    /// file is delivered again later and moves them then.
    pub later: usize,
}

/// One claim a file moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgedClaim {
    /// The claim.
    pub claim_id: ClaimId,
    /// Where it went.
    pub state: ClaimState,
}

/// A TA1's or a 999's answer to one of our interchanges.
struct InterchangeAnswer {
    key: InterchangeKey,
    judgment: Option<Judgment>,
}

/// What an acknowledgment made of a claim.
enum Applied {
    Moved(ClaimState),
    Unchanged,
    Unmatched,
    Later,
}

/// The answers to our interchanges the TA1s and 999s of `bytes` give, in file order, and
/// whether it holds a 277 (read by the claim-status reader). The sequence each answers is the
/// payer's envelope turned round: their sender is the receiver we sent to.
fn interchange_answers(bytes: &[u8]) -> (Vec<InterchangeAnswer>, bool) {
    let text =
        |s: &hms_x12::Segment<'_>, n: usize| String::from_utf8_lossy(s.value(n)).trim().to_string();
    let mut answers = vec![];
    let mut sequence = String::new();
    let mut in_999 = false;
    let mut holds_277 = false;
    let (mut group, mut code, mut in_error) = (None, None, vec![]);
    for segment in hms_x12::Tokenizer::new(bytes).flatten() {
        match segment.id() {
            b"ISA" => {
                sequence = format!(
                    "isa:{}:{}:{}:{}",
                    text(&segment, 7),
                    text(&segment, 8),
                    text(&segment, 5),
                    text(&segment, 6)
                );
            }
            b"TA1" => {
                if let Ok(control) = text(&segment, 1).parse::<u32>() {
                    answers.push(InterchangeAnswer {
                        key: InterchangeKey {
                            sequence: sequence.clone(),
                            control,
                        },
                        judgment: ta1_judgment(&text(&segment, 4), &text(&segment, 5)),
                    });
                }
            }
            b"ST" => {
                let set = text(&segment, 1);
                holds_277 |= set == "277";
                in_999 = set == "999";
                (group, code) = (None, None);
                in_error.clear();
            }
            b"AK1" if in_999 => group = text(&segment, 2).parse::<u32>().ok(),
            b"IK3" if in_999 => in_error.push(ik3_named(&segment)),
            b"AK9" if in_999 => code = Some(text(&segment, 1)),
            b"SE" if in_999 => {
                if let (Some(control), Some(code)) = (group, code.take()) {
                    answers.push(InterchangeAnswer {
                        key: InterchangeKey {
                            sequence: sequence.clone(),
                            control,
                        },
                        judgment: ack_999_judgment(&code, &named(&in_error)),
                    });
                }
                in_999 = false;
            }
            _ => {}
        }
    }
    (answers, holds_277)
}

/// Whether `bytes` holds a TA1 (an interchange that may hold no transaction set at all).
pub fn holds_ta1(bytes: &[u8]) -> bool {
    hms_x12::Tokenizer::new(bytes)
        .take(10_000)
        .flatten()
        .any(|s| s.id() == b"TA1")
}

impl AcknowledgmentReport {
    fn count(&mut self, claim: &ClaimId, applied: Applied) {
        match applied {
            Applied::Moved(state) => {
                self.moved += 1;
                if self.claims.len() < MAX_LISTED {
                    self.claims.push(AcknowledgedClaim {
                        claim_id: claim.clone(),
                        state,
                    });
                }
            }
            Applied::Unchanged => self.unchanged += 1,
            Applied::Unmatched => self.unmatched += 1,
            Applied::Later => self.later += 1,
        }
    }
}

impl<P: Ports> Clearinghouse<P> {
    /// Takes in a file of acknowledgments (TA1s, 999s, 277CAs) dropped as `key`: validated
    /// (a file that fails structurally is rejected and moves nothing), then each answer moves
    /// the claim it is for.
    pub async fn acknowledge_file(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<FileOutcome, ServiceError> {
        let catalog = catalog()?;
        let validated = hms_x12::validate::validate_bytes(bytes, catalog);
        if let Some((reason, findings)) = structural_rejection(&validated) {
            return Ok(FileOutcome::Rejected { reason, findings });
        }
        let warnings = validated.findings.len() + validated.suppressed;
        drop(validated);
        let (answers, holds_277) = interchange_answers(bytes);
        // Read whole before anything moves: a file that cannot be read moves nothing.
        let responses = if holds_277 {
            match hms_domain::claim_status::read_277(bytes, catalog) {
                Ok(responses) => responses,
                Err(e) => {
                    return Ok(FileOutcome::Rejected {
                        reason: format!("the file cannot be read as 277CA acknowledgments: {e}"),
                        findings: vec![],
                    });
                }
            }
        } else {
            vec![]
        };
        let mut report = AcknowledgmentReport::default();
        for answer in answers {
            report.read += 1;
            let Some(id) = self.ports.store().interchange(&answer.key).await? else {
                report.unmatched += 1;
                continue;
            };
            let control = answer.key.control;
            let sent_in_it = |r: &ClaimRecord| {
                r.submission
                    .as_ref()
                    .is_some_and(|s| s.interchange_control_number == control)
            };
            let applied = self
                .acknowledge(&id, sent_in_it, answer.judgment.as_ref(), key)
                .await?;
            report.count(&id, applied);
        }
        for response in &responses {
            let payer = response
                .source
                .as_ref()
                .and_then(|s| s.id.as_deref())
                .map(str::trim)
                .unwrap_or_default();
            let payer_id = self
                .connections
                .payer(payer)
                .map_or_else(|| payer.to_string(), |p| p.id.clone());
            for claim in &response.claims {
                report.read += 1;
                let npi = claim
                    .provider
                    .as_ref()
                    .filter(|p| p.id_qualifier.as_deref() == Some("XX"))
                    .and_then(|p| p.id.as_deref());
                let Some(organization) = self.organizations.payee(npi, None) else {
                    report.unmatched += 1;
                    continue;
                };
                let hold = ControlNumberHold {
                    organization,
                    payer_id: payer_id.clone(),
                    digest: sha256_hex(claim.trace_number.trim().as_bytes()),
                };
                let Some(id) = self.ports.store().holder(&hold).await? else {
                    report.unmatched += 1;
                    continue;
                };
                // The number may have passed to a corrected claim since: the charge the
                // payer answers about must be the one we sent, when it says.
                let charge: Option<Decimal> = claim.statuses.iter().find_map(|s| s.total_charge);
                let same_claim = |r: &ClaimRecord| {
                    r.organization == hold.organization
                        && r.submission.is_some()
                        && charge.is_none_or(|c| r.billed.is_none_or(|b| b == c))
                };
                let judgment = claim_277ca_judgment(claim);
                let applied = self
                    .acknowledge(&id, same_claim, judgment.as_ref(), key)
                    .await?;
                report.count(&id, applied);
            }
        }
        tracing::info!(
            key,
            read = report.read,
            moved = report.moved,
            unchanged = report.unchanged,
            unmatched = report.unmatched,
            later = report.later,
            "acknowledgments taken in"
        );
        Ok(FileOutcome::Acknowledged {
            acknowledgments: report,
            warnings,
        })
    }

    /// Moves claim `id` as `judgment` says, when `answers` says the acknowledgment is for it
    /// and it waits for its acknowledgments; a conflicting write reads it again and decides
    /// again.
    async fn acknowledge(
        &self,
        id: &ClaimId,
        answers: impl Fn(&ClaimRecord) -> bool,
        judgment: Option<&Judgment>,
        key: &str,
    ) -> Result<Applied, ServiceError> {
        let Some(mut record) = self.ports.store().get(id).await? else {
            return Ok(Applied::Unmatched);
        };
        // Each turn reads a newer version; another process cannot move a claim forever.
        for _ in 0..16 {
            if !answers(&record) {
                return Ok(Applied::Unmatched);
            }
            let Some((state, reason, issues)) = judgment.cloned() else {
                return Ok(Applied::Unchanged);
            };
            match record.state {
                ClaimState::Submitted | ClaimState::NoAcknowledgment => {}
                // The payer answered before the hand-over was recorded (the worker that sent
                // it is still at it, or died): the file comes again once it is.
                ClaimState::Sending | ClaimState::WaitingForPayer => return Ok(Applied::Later),
                _ => return Ok(Applied::Unchanged),
            }
            let span = tracing::info_span!("acknowledge", claim_id = %record.id, organization = %record.organization);
            let _entered = span.enter();
            note(&mut record, issues);
            record.transition(
                state,
                self.now(),
                None,
                Some(format!("{reason}, dropped as {key}")),
            )?;
            match self.save_or_reread(&mut record).await? {
                None => {
                    if record.state.frees_patient_control_number() {
                        self.release_hold(&record).await?;
                    }
                    return Ok(Applied::Moved(state));
                }
                Some(current) => record = current,
            }
        }
        Err(ServiceError::Internal(format!(
            "claim {id} kept changing while its acknowledgment was taken in"
        )))
    }
}
