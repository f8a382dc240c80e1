//! The use cases the Lambda functions serve, over the ports: submit a claim (the intake path
//! → 837 → payer, every move stored), retry one that could not reach the payer, look a claim
//! up, ask a payer about eligibility (270 → 271) and claim status (276 → 277). They take typed
//! requests and give typed answers and errors; the functions read their events into the
//! requests and say the answers in HTTP.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hms_domain::claim_status::{StatusError, StatusInquiry, StatusResponse, Verdict};
use hms_domain::claim_status::{inquiry_276, read_277};
use hms_domain::claims::{Batch, Claim};
use hms_domain::eligibility::{
    EligibilityError, EligibilityInquiry, EligibilityResponse, Rejection, inquiry_270, read_271,
};
use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use hms_domain::request::{Format, problem};
use serde::{Deserialize, Serialize};

use crate::intake::{Reviewed, review};
use crate::lifecycle::{
    ClaimEvent, ClaimId, ClaimRecord, ClaimState, ClaimView, IdempotencyEntry, Submitted,
    TransitionError,
};
use crate::ports::{
    ClaimStore, Clock, GatewayError, ObjectStore, ObjectStoreError, PayerGateway, Ports, Queue,
    QueueError, RealTime, StoreError, Topic,
};

/// How often and how patiently a claim that cannot reach the payer is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; after the last the claim is dead-lettered.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles it.
    pub first_delay: Duration,
    /// The longest wait (SQS delays messages by at most 15 minutes).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(900),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// An `Idempotency-Key` whose request never answered (its function died) may be taken over
/// after this long.
const ABANDONED_KEY: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a use case failed. Typed, with its cause; the Lambda glue says it in HTTP.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// The request cannot be carried out as asked (an inquiry that cannot be written as X12);
    /// the outcome says why.
    #[error("the request is not valid")]
    Invalid(OperationOutcome),
    /// No claim with that id.
    #[error("no claim {0}")]
    NotFound(ClaimId),
    /// The `Idempotency-Key` was used for another claim, or its request is still running.
    #[error("{0}")]
    Conflict(&'static str),
    /// The payer rejected the eligibility inquiry (AAA).
    #[error("the payer rejected the inquiry")]
    Rejected {
        /// The rejections, with their meanings.
        rejections: Vec<Rejection>,
        /// The whole answer.
        responses: Vec<EligibilityResponse>,
    },
    /// The payer did not answer in time.
    #[error(transparent)]
    PayerTimeout(GatewayError),
    /// The payer's endpoint failed or answered nonsense.
    #[error(transparent)]
    PayerFailed(GatewayError),
    /// The payer's X12 could not be read.
    #[error("the payer's answer could not be read")]
    PayerAnswerUnreadable(#[from] UnreadableAnswer),
    /// Our own storage failed; the request may be retried.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// Our object store failed; the request may be retried.
    #[error(transparent)]
    Objects(#[from] ObjectStoreError),
    /// Our queue failed; the request may be retried.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A claim was asked to make a move its state does not allow: a defect, reported, never
    /// hidden.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The built-in implementation guides could not be loaded: a defect of the build.
    #[error("the built-in implementation guides are defective")]
    Guides(#[source] &'static hms_x12::spec::SpecError),
    /// A stored claim could not be read back: a defect, reported, never hidden.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Whether the same request may succeed later (our storage or queue was down), as opposed
    /// to failing the same way every time.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Storage(StoreError::Unavailable { .. })
                | Self::Objects(_)
                | Self::Queue(_)
                | Self::Internal(_)
                | Self::Transition(_)
                | Self::Guides(_)
        )
    }
}

/// Why a payer's answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnreadableAnswer {
    /// A 271 that is not one.
    #[error(transparent)]
    Eligibility(#[from] EligibilityError),
    /// A 277 that is not one.
    #[error(transparent)]
    Status(#[from] StatusError),
}

/// A use case's answer, and whether it is the stored answer of an earlier request with the
/// same `Idempotency-Key` and claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayable<T> {
    /// The answer.
    pub answer: T,
    /// Whether it was replayed.
    pub replayed: bool,
}

/// The message the submissions queue carries for a claim waiting for its payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmissionRetry {
    /// The claim.
    pub claim_id: ClaimId,
    /// The attempt this message asks for (2 for the first retry).
    pub attempt: u32,
}

/// The use cases over one bundle of ports, with the payer connections and the retry policy.
#[derive(Debug)]
pub struct Clearinghouse<P> {
    /// Where it reaches the world.
    pub ports: P,
    /// Payer connections.
    pub connections: Connections,
    /// Retries.
    pub retry: RetryPolicy,
}

impl<P: Ports> Clearinghouse<P> {
    /// Now, by the clock port: the only time the use cases know.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock().now()
    }

    /// `POST /ach/submitClaim`: the claim (read in `format`) through the intake path, written
    /// as an 837 and handed to the payer. With `idempotency_key` (already scoped to the
    /// caller), the same claim again gets the first answer, and another claim a conflict.
    pub async fn submit_claim(
        &self,
        claim: Claim,
        format: Format,
        idempotency_key: Option<&str>,
    ) -> Result<Replayable<Submitted>, ServiceError> {
        let fresh = |answer| Replayable {
            answer,
            replayed: false,
        };
        let Some(key) = idempotency_key else {
            return self.submit(claim, format).await.map(fresh);
        };
        let entry = IdempotencyEntry {
            key: key.to_string(),
            body_sha256: fingerprint(&claim, format),
            at: self.now(),
            answer: None,
        };
        match self.ports.store().remember(&entry).await? {
            None => {}
            Some(earlier) if earlier.body_sha256 != entry.body_sha256 => {
                return Err(ServiceError::Conflict(
                    "this Idempotency-Key was used with another request body",
                ));
            }
            Some(earlier) => match earlier.answer {
                Some(answer) => {
                    return Ok(Replayable {
                        answer,
                        replayed: true,
                    });
                }
                None if self.now() - earlier.at < ABANDONED_KEY => {
                    return Err(ServiceError::Conflict(
                        "a request with this Idempotency-Key is still being processed; retry later",
                    ));
                }
                // Its request died before answering: this one takes the key over.
                None => {}
            },
        }
        let submitted = self.submit(claim, format).await?;
        if let Err(e) = self.ports.store().answer(key, &submitted).await {
            // The claim itself is stored; only the replay of this answer is lost.
            tracing::warn!(error = %e, "the answer of an idempotent request was not stored");
        }
        Ok(fresh(submitted))
    }

    async fn submit(&self, claim: Claim, format: Format) -> Result<Submitted, ServiceError> {
        let now = self.now();
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            claim.kind(),
            claim.payer_id().to_string(),
            claim.to_json(),
            now,
        );
        self.ports.store().create(&record).await?;
        let span = tracing::info_span!("claim", claim_id = %record.id);
        let _entered = span.enter();
        tracing::info!(kind = ?record.kind, payer_id = %record.payer_id, "claim received");

        let batch = Batch {
            claims: vec![claim],
            format,
            batch: false,
        };
        let (claim, mut issues) = match review(batch, now.date_naive(), self.ports.rules()) {
            Reviewed::Passed { mut claims, issues } => match claims.pop() {
                Some(claim) => (claim, issues),
                None => {
                    return Err(ServiceError::Internal(
                        "the intake path lost the claim".into(),
                    ));
                }
            },
            Reviewed::Scrubbed { issues, errors } => {
                let reason = format!("the scrubber found {errors} error(s)");
                return self
                    .refuse(record, ClaimState::RejectedByScrubber, reason, issues)
                    .await;
            }
            Reviewed::Held { issues } => {
                let reason = "the payer's rule set holds the claim".to_string();
                return self
                    .refuse(record, ClaimState::HeldByRules, reason, issues)
                    .await;
            }
        };
        record.claim = claim.to_json();

        // The 837, kept before it is sent: a retry sends the same bytes, the same ISA13.
        let partner = self.connections.partner_for(claim.payer_id().as_str());
        let envelope = self.envelope(&partner).await?;
        let control = envelope.control.interchange;
        let x12 = match claim.to_837(&partner, &envelope) {
            Ok(x12) => x12,
            Err(e) => {
                issues.extend(
                    problem(
                        IssueType::Value,
                        "write-837",
                        format!("the claim cannot be written as an 837: {e}"),
                    )
                    .issue,
                );
                let reason = "the claim cannot be written as an 837".to_string();
                return self
                    .refuse(record, ClaimState::RejectedByScrubber, reason, issues)
                    .await;
            }
        };
        let key = format!("claims/{}/{control:09}.837", record.id);
        self.ports.objects().put(&key, x12.clone()).await?;
        record.x12_key = Some(key);
        record.interchange_control_number = Some(control);
        record.outcome = Some(OperationOutcome::new(issues));
        let record = self.deliver(record, &x12).await?;
        Ok(Submitted::Accepted(ClaimView::from(&record)))
    }

    /// Stores a claim the scrubber or the rules stopped, with why.
    async fn refuse(
        &self,
        mut record: ClaimRecord,
        state: ClaimState,
        reason: String,
        issues: Vec<Issue>,
    ) -> Result<Submitted, ServiceError> {
        record.outcome = Some(OperationOutcome::new(issues));
        let event = record.transition(state, self.now(), Some(reason))?;
        self.save(&mut record).await?;
        self.announce(&event).await;
        Ok(Submitted::Refused(ClaimView::from(&record)))
    }

    /// Hands the claim's 837 to the payer: submitted (and acknowledged, when the payer answers
    /// at once) on success; waiting for a retry, or dead-lettered after the last, on failure.
    async fn deliver(
        &self,
        mut record: ClaimRecord,
        x12: &[u8],
    ) -> Result<ClaimRecord, ServiceError> {
        record.submit_attempts += 1;
        let attempt = record.submit_attempts;
        let icn = record.interchange_control_number;
        let sent = self
            .ports
            .gateway()
            .submit_batch(&record.payer_id, x12)
            .await;
        let mut events = vec![];
        let mut move_to = |record: &mut ClaimRecord, state, reason: String| {
            record
                .transition(state, self.now(), Some(reason))
                .map(|e| events.push(e))
                .map_err(ServiceError::from)
        };
        let mut dead_letter = false;
        match sent {
            Ok(acks) => {
                tracing::info!(
                    interchange_control_number = icn,
                    attempt,
                    "837 handed to the payer"
                );
                move_to(
                    &mut record,
                    ClaimState::Submitted,
                    format!("the payer has the 837 (attempt {attempt})"),
                )?;
                if let Some((state, reason, issues)) = judge_acknowledgments(&acks) {
                    if let Some(outcome) = &mut record.outcome {
                        let mut all: Vec<Issue> = outcome
                            .issue
                            .drain(..)
                            .filter(|i| i.diagnostics.as_deref() != Some("all-ok"))
                            .collect();
                        all.extend(issues);
                        *outcome = OperationOutcome::new(all);
                    }
                    move_to(&mut record, state, reason)?;
                }
                for (k, ack) in acks.iter().enumerate() {
                    let key = format!("claims/{}/{:09}.ack{k}", record.id, icn.unwrap_or_default());
                    if let Err(e) = self.ports.objects().put(&key, ack.clone()).await {
                        tracing::warn!(error = %e, "an acknowledgment was not kept");
                    }
                }
            }
            Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                let delay = self.retry.delay_after(attempt);
                tracing::warn!(error = %e, attempt, ?delay, "the payer could not be reached; the claim waits for a retry");
                move_to(
                    &mut record,
                    ClaimState::WaitingForPayer,
                    format!(
                        "{e}; attempt {attempt} of {}, next in {} s",
                        self.retry.max_attempts,
                        delay.as_secs()
                    ),
                )?;
                let message = SubmissionRetry {
                    claim_id: record.id.clone(),
                    attempt: attempt + 1,
                };
                self.save(&mut record).await?;
                // Stored as waiting first: should the queue fail, the claim says where it is
                // and the caller's retry (or an operator) finds it.
                self.ports
                    .queue()
                    .send(
                        Topic::Submissions,
                        serde_json::to_vec(&message).unwrap_or_default(),
                        delay,
                    )
                    .await?;
                for event in &events {
                    self.announce(event).await;
                }
                return Ok(record);
            }
            Err(e) => {
                tracing::error!(error = %e, attempt, "the claim is dead-lettered");
                if record.state != ClaimState::WaitingForPayer {
                    move_to(&mut record, ClaimState::WaitingForPayer, e.to_string())?;
                }
                move_to(
                    &mut record,
                    ClaimState::DeadLettered,
                    format!("{e}; gave up after attempt {attempt}"),
                )?;
                dead_letter = true;
            }
        }
        self.save(&mut record).await?;
        if dead_letter {
            let message = SubmissionRetry {
                claim_id: record.id.clone(),
                attempt: attempt + 1,
            };
            self.ports
                .queue()
                .send(
                    Topic::SubmissionsDeadLetter,
                    serde_json::to_vec(&message).unwrap_or_default(),
                    Duration::ZERO,
                )
                .await?;
        }
        for event in &events {
            self.announce(event).await;
        }
        Ok(record)
    }

    /// The submissions queue's consumer: tries a waiting claim again. A message about a claim
    /// that is no longer waiting (a duplicate delivery) changes nothing.
    pub async fn retry_submission(
        &self,
        retry: &SubmissionRetry,
    ) -> Result<ClaimRecord, ServiceError> {
        let record = self.claim(&retry.claim_id).await?;
        let span = tracing::info_span!("claim", claim_id = %record.id);
        let _entered = span.enter();
        if record.state != ClaimState::WaitingForPayer
            || record.submit_attempts.saturating_add(1) != retry.attempt
        {
            tracing::info!(state = %record.state, attempt = retry.attempt, "retry not needed");
            return Ok(record);
        }
        let key = record
            .x12_key
            .clone()
            .ok_or_else(|| ServiceError::Internal(format!("claim {} has no 837", record.id)))?;
        let x12 = self.ports.objects().get(&key).await?.ok_or_else(|| {
            ServiceError::Internal(format!("the 837 of claim {} is missing", record.id))
        })?;
        self.deliver(record, &x12).await
    }

    /// `GET /ach/claims/{id}`.
    pub async fn claim(&self, id: &ClaimId) -> Result<ClaimRecord, ServiceError> {
        self.ports
            .store()
            .get(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(id.clone()))
    }

    /// Writes `record` over the stored copy it was read as, and moves its version on.
    async fn save(&self, record: &mut ClaimRecord) -> Result<(), ServiceError> {
        self.ports.store().update(record).await?;
        record.version += 1;
        Ok(())
    }

    async fn announce(&self, event: &ClaimEvent) {
        let body = serde_json::to_vec(event).unwrap_or_default();
        if let Err(e) = self
            .ports
            .queue()
            .send(Topic::ClaimEvents, body, Duration::ZERO)
            .await
        {
            // The claim's state is stored; the event can be rebuilt from its history.
            tracing::warn!(error = %e, "a claim event was not queued");
        }
    }

    /// The envelope of the next interchange to `partner`.
    async fn envelope(&self, partner: &TradingPartner) -> Result<Envelope, ServiceError> {
        let control = self
            .ports
            .store()
            .next_control_number(&Connections::sequence(partner))
            .await?;
        Ok(Envelope::new(control, self.now().naive_utc()))
    }

    /// `POST /ach/queryEligibility`: the inquiry → 270 → the payer → 271. A payer that only
    /// rejects (AAA) is [`ServiceError::Rejected`], with its reasons.
    pub async fn query_eligibility(
        &self,
        inquiry: &EligibilityInquiry,
    ) -> Result<Vec<EligibilityResponse>, ServiceError> {
        let reply = self
            .inquire(
                inquiry.payer.id.as_str(),
                RealTime::Eligibility,
                "write-270",
                |partner, envelope| inquiry_270(inquiry, partner, envelope),
            )
            .await?;
        let catalog = catalog()?;
        let responses = read_271(&reply, catalog).map_err(UnreadableAnswer::from)?;
        let rejections: Vec<Rejection> = responses
            .iter()
            .flat_map(|r| {
                r.errors
                    .iter()
                    .chain(r.members.iter().flat_map(|m| m.errors.iter()))
            })
            .cloned()
            .collect();
        let benefits = responses
            .iter()
            .any(|r| r.members.iter().any(|m| !m.plans.is_empty()));
        if !rejections.is_empty() && !benefits {
            return Err(ServiceError::Rejected {
                rejections,
                responses,
            });
        }
        Ok(responses)
    }

    /// `POST /ach/claimStatus`: our JSON status inquiry → 276 → the payer → 277.
    pub async fn claim_status(
        &self,
        inquiry: &StatusInquiry,
    ) -> Result<Vec<StatusResponse>, ServiceError> {
        let reply = self
            .inquire(
                inquiry.payer.id.as_str(),
                RealTime::ClaimStatus,
                "write-276",
                |partner, envelope| inquiry_276(inquiry, partner, envelope),
            )
            .await?;
        Ok(read_277(&reply, catalog()?).map_err(UnreadableAnswer::from)?)
    }

    /// An inquiry to `payer_id`: written by `write` to the payer's partner with the next
    /// envelope (a failure is the request's fault, `write_id`), sent, and its answer's X12.
    async fn inquire(
        &self,
        payer_id: &str,
        kind: RealTime,
        write_id: &str,
        write: impl FnOnce(
            &TradingPartner,
            &Envelope,
        ) -> Result<Vec<u8>, hms_domain::write::TranslateError>,
    ) -> Result<Vec<u8>, ServiceError> {
        let partner = self.connections.partner_for(payer_id);
        let envelope = self.envelope(&partner).await?;
        let x12 = write(&partner, &envelope).map_err(|e| {
            ServiceError::Invalid(problem(IssueType::Value, write_id, e.to_string()))
        })?;
        self.exchange(payer_id, kind, &x12, envelope).await
    }

    /// One real-time exchange, timed and logged with its control number (as CAQH CORE asks).
    async fn exchange(
        &self,
        payer_id: &str,
        kind: RealTime,
        x12: &[u8],
        envelope: Envelope,
    ) -> Result<Vec<u8>, ServiceError> {
        let started = std::time::Instant::now();
        let reply = self.ports.gateway().real_time(payer_id, kind, x12).await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let icn = envelope.control.interchange;
        match reply {
            Ok(reply) => {
                tracing::info!(
                    ?kind,
                    payer_id,
                    interchange_control_number = icn,
                    elapsed_ms,
                    "payer answered"
                );
                Ok(reply)
            }
            Err(e) => {
                tracing::warn!(?kind, payer_id, interchange_control_number = icn, elapsed_ms, error = %e, "payer exchange failed");
                Err(match e {
                    GatewayError::Timeout { .. } => ServiceError::PayerTimeout(e),
                    e => ServiceError::PayerFailed(e),
                })
            }
        }
    }
}

fn catalog() -> Result<&'static hms_x12::spec::Catalog, ServiceError> {
    hms_x12::spec::Catalog::embedded().map_err(ServiceError::Guides)
}

/// What the payer's acknowledgments say: a 999 that rejects the set, or a 277CA's verdict on
/// the claim; `None` while they say nothing final (no acknowledgment yet, or only an accepting
/// 999, the 277CA still to come).
pub fn judge_acknowledgments(acks: &[Vec<u8>]) -> Option<(ClaimState, String, Vec<Issue>)> {
    let catalog = hms_x12::spec::Catalog::embedded().ok()?;
    for ack in acks {
        if let Some(code) = ak9_code(ack)
            && !matches!(code.as_str(), "A" | "E")
        {
            return Some((
                ClaimState::RejectedByPayer,
                format!("the payer's 999 rejected the 837 (AK9*{code})"),
                vec![Issue {
                    severity: IssueSeverity::Error,
                    code: IssueType::Structure,
                    diagnostics: Some(format!("payer-999-{code}")),
                    details: Details {
                        text: format!(
                            "the payer's 999 rejected the 837 (AK9*{code}); segments in error: {}",
                            ik3_segments(ack)
                        ),
                    },
                    expression: vec![],
                }],
            ));
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
            let state = match claim.verdict {
                Verdict::Rejected => ClaimState::RejectedByPayer,
                Verdict::Accepted => ClaimState::AcceptedByPayer,
                _ => continue,
            };
            return Some((
                state,
                format!("the payer's 277CA: {}", claim.verdict),
                issues,
            ));
        }
    }
    None
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
        .map(|s| {
            format!(
                "{} (segment {})",
                String::from_utf8_lossy(s.value(1)),
                String::from_utf8_lossy(s.value(2))
            )
        })
        .collect();
    if ids.is_empty() {
        "none named".into()
    } else {
        ids.join(", ")
    }
}

/// What makes two submissions under one `Idempotency-Key` the same request: the claim as
/// read (so that white space and key order do not count) and the language it came in.
fn fingerprint(claim: &Claim, format: Format) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(format!("{format:?}\n"));
    hash.update(claim.to_json().to_string());
    hash.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}
