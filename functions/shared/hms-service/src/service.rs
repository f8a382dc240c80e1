//! The use cases the Lambda functions serve, over the ports: submit a claim (scrub → payer
//! rules → 837 → payer, every move stored), retry one that could not reach the payer, look a
//! claim up, ask a payer about eligibility (270 → 271) and claim status (276 → 277). The
//! functions only parse their events and map these answers to HTTP; everything a request can
//! get wrong is answered here, with a status and a FHIR `OperationOutcome` that says why.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::lifecycle::{
    ClaimEvent, ClaimId, ClaimKind, ClaimRecord, ClaimState, IdempotencyEntry, StoredAnswer,
};
use crate::ports::{
    ClaimStore, Clock, GatewayError, ObjectStore, PayerGateway, Queue, RealTime, RuleEngine,
    StoreError, Topic,
};
use hms_domain::claim_status::{StatusInquiry, StatusResponse, inquiry_276, read_277};
use hms_domain::claims::fhir::{
    fhirpath_of, institutional_from_fhir, professional_from_fhir, receiver_of,
};
use hms_domain::claims::model::{InstitutionalClaim, ProfessionalClaim};
use hms_domain::eligibility::{
    EligibilityInquiry, EligibilityResponse, Rejection, inquiry_270, read_271,
};
use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use hms_domain::partner::{Connections, ControlNumbers, Envelope, TradingPartner};

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

/// Why a request failed, and the HTTP status that says so.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// The body is not JSON at all.
    #[error("the request body is not JSON")]
    Malformed(OperationOutcome),
    /// The body is JSON but not a valid request; the outcome says where.
    #[error("the request is not valid")]
    Invalid(OperationOutcome),
    /// No claim with that id.
    #[error("no claim {0}")]
    NotFound(String),
    /// The `Idempotency-Key` was used for another body, or its request is still running.
    #[error("{0}")]
    Conflict(String),
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
    #[error("the payer's answer could not be read: {0}")]
    PayerAnswerUnreadable(String),
    /// Our own storage failed; the request may be retried.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// A stored claim could not be read back or written: a defect, reported, never hidden.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::Invalid(_) | Self::Rejected { .. } => 422,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::PayerTimeout(_) => 504,
            Self::PayerFailed(_) | Self::PayerAnswerUnreadable(_) => 502,
            Self::Storage(StoreError::Conflict { .. }) => 409,
            Self::Storage(_) | Self::Internal(_) => 503,
        }
    }

    /// The answer's body: an `OperationOutcome` (with the payer's rejections beside it for a
    /// rejected inquiry).
    pub fn body(&self) -> Value {
        let issue = |code: IssueType, id: &str, text: String| {
            OperationOutcome::new(vec![Issue {
                severity: IssueSeverity::Error,
                code,
                diagnostics: Some(id.into()),
                details: Details { text },
                expression: vec![],
            }])
        };
        let outcome = match self {
            Self::Malformed(outcome) | Self::Invalid(outcome) => outcome.clone(),
            Self::NotFound(_) => issue(IssueType::NotSupported, "not-found", self.to_string()),
            Self::Conflict(_) | Self::Storage(StoreError::Conflict { .. }) => {
                issue(IssueType::BusinessRule, "conflict", self.to_string())
            }
            Self::Rejected {
                rejections,
                responses,
            } => {
                let issues = rejections
                    .iter()
                    .map(|r| Issue {
                        severity: IssueSeverity::Error,
                        code: IssueType::BusinessRule,
                        diagnostics: Some(format!("aaa-{}", r.reason_code)),
                        details: Details {
                            text: format!(
                                "the payer rejected the inquiry: {} ({}); {}",
                                r.reason.as_deref().unwrap_or("no description"),
                                r.reason_code,
                                r.follow_up.as_deref().unwrap_or("no follow-up given"),
                            ),
                        },
                        expression: vec![],
                    })
                    .collect();
                let mut body = serde_json::to_value(OperationOutcome::new(issues))
                    .unwrap_or_else(|_| json!({}));
                body["rejections"] = serde_json::to_value(rejections).unwrap_or_default();
                body["responses"] = serde_json::to_value(responses).unwrap_or_default();
                return body;
            }
            Self::PayerTimeout(_) => issue(IssueType::Exception, "payer-timeout", self.to_string()),
            Self::PayerFailed(_) => issue(IssueType::Exception, "payer-failed", self.to_string()),
            Self::PayerAnswerUnreadable(_) => {
                issue(IssueType::Exception, "payer-answer", self.to_string())
            }
            Self::Storage(_) => issue(IssueType::Exception, "storage", self.to_string()),
            Self::Internal(_) => issue(IssueType::Exception, "internal", self.to_string()),
        };
        serde_json::to_value(outcome).unwrap_or_else(|_| json!({}))
    }
}

/// An answer as HTTP gives it: the status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// Whether this is the stored answer of an earlier request with the same key and body.
    pub replayed: bool,
}

impl From<ServiceError> for Answer {
    fn from(e: ServiceError) -> Self {
        Self {
            status: e.status(),
            body: e.body(),
            replayed: false,
        }
    }
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

/// A claim as a request carries it: our JSON or FHIR, professional or institutional.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// An 837P claim.
    Professional(ProfessionalClaim),
    /// An 837I claim.
    Institutional(InstitutionalClaim),
}

impl Intake {
    fn kind(&self) -> ClaimKind {
        match self {
            Self::Professional(_) => ClaimKind::Professional,
            Self::Institutional(_) => ClaimKind::Institutional,
        }
    }

    fn payer_id(&self) -> &str {
        match self {
            Self::Professional(c) => c.payer.id.as_str(),
            Self::Institutional(c) => c.payer.id.as_str(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Professional(c) => serde_json::to_value(c),
            Self::Institutional(c) => serde_json::to_value(c),
        }
        .unwrap_or_default()
    }
}

/// One outcome issue, for the failures of this module.
fn problem(code: IssueType, id: &str, text: impl Into<String>) -> OperationOutcome {
    OperationOutcome::new(vec![Issue {
        severity: IssueSeverity::Error,
        code,
        diagnostics: Some(id.into()),
        details: Details { text: text.into() },
        expression: vec![],
    }])
}

/// A request body as JSON, or the 400 that says it is not.
fn json_body(body: &[u8]) -> Result<Value, ServiceError> {
    serde_json::from_slice(body).map_err(|e| {
        ServiceError::Malformed(problem(
            IssueType::Structure,
            "not-json",
            format!("the body is not JSON: {e}"),
        ))
    })
}

/// Whether a claim (our JSON or a FHIR `Claim`) is institutional: a FHIR `Claim` of type
/// `institutional`, or our JSON whose header carries a type of bill.
pub fn is_institutional(claim: &Value) -> bool {
    if claim["resourceType"] == "Claim" {
        return claim["type"]["coding"]
            .as_array()
            .is_some_and(|codes| codes.iter().any(|c| c["code"] == "institutional"));
    }
    claim.pointer("/claim/facilityType").is_some()
}

/// Reads one claim from a request body: a FHIR `Claim` (professional or institutional by its
/// `type`) or our JSON (institutional when its header carries a type of bill). Returns whether
/// it was FHIR, so that findings can point with FHIRPath.
pub fn read_claim(body: &[u8], connections: &Connections) -> Result<(Intake, bool), ServiceError> {
    let value = json_body(body)?;
    let institutional = is_institutional(&value);
    if value["resourceType"] == "Claim" {
        let receiver = receiver_of(&value);
        let claim = if institutional {
            institutional_from_fhir(&value, &connections.submitter, &receiver)
                .map(Intake::Institutional)
        } else {
            professional_from_fhir(&value, &connections.submitter, &receiver)
                .map(Intake::Professional)
        };
        return claim.map(|c| (c, true)).map_err(ServiceError::Invalid);
    }
    if value.get("resourceType").is_some() {
        return Err(ServiceError::Invalid(problem(
            IssueType::NotSupported,
            "resource-type",
            format!(
                "a {} cannot be submitted as a claim: send a FHIR Claim or our JSON claim",
                value["resourceType"]
            ),
        )));
    }
    let claim = if institutional {
        hms_domain::claims::scrub::parse_institutional(body).map(Intake::Institutional)
    } else {
        hms_domain::claims::scrub::parse_professional(body).map(Intake::Professional)
    };
    claim.map(|c| (c, false)).map_err(ServiceError::Invalid)
}

/// The ports a clearinghouse runs over, and its configuration.
#[derive(Debug)]
pub struct Clearinghouse<S, O, Q, G, R, C> {
    /// Claims, keys, sequences.
    pub store: S,
    /// The X12 we send.
    pub objects: O,
    /// Retries, dead letters, events.
    pub queue: Q,
    /// The payers.
    pub gateway: G,
    /// Payer rules.
    pub rules: R,
    /// The time.
    pub clock: C,
    /// Payer connections.
    pub connections: Connections,
    /// Retries.
    pub retry: RetryPolicy,
}

impl<S, O, Q, G, R, C> Clearinghouse<S, O, Q, G, R, C>
where
    S: ClaimStore,
    O: ObjectStore,
    Q: Queue,
    G: PayerGateway,
    R: RuleEngine,
    C: Clock,
{
    /// `POST /ach/submitClaim`. With `idempotency_key` (already scoped to the caller), a retry
    /// with the same body gets the first answer again, and one with another body a 409.
    pub async fn submit_claim(&self, body: &[u8], idempotency_key: Option<&str>) -> Answer {
        let Some(key) = idempotency_key else {
            return self.submit_new(body).await;
        };
        let entry = IdempotencyEntry {
            key: key.to_string(),
            body_sha256: sha256_hex(body),
            at: self.clock.now(),
            answer: None,
        };
        match self.store.remember(&entry).await {
            Err(e) => return ServiceError::from(e).into(),
            Ok(None) => {}
            Ok(Some(earlier)) if earlier.body_sha256 != entry.body_sha256 => {
                return ServiceError::Conflict(
                    "this Idempotency-Key was used with another request body".into(),
                )
                .into();
            }
            Ok(Some(earlier)) => match earlier.answer {
                Some(answer) => {
                    return Answer {
                        status: answer.status,
                        body: serde_json::from_str(&answer.body).unwrap_or_default(),
                        replayed: true,
                    };
                }
                None if self.clock.now() - earlier.at < ABANDONED_KEY => {
                    return ServiceError::Conflict(
                        "a request with this Idempotency-Key is still being processed; retry later"
                            .into(),
                    )
                    .into();
                }
                // Its request died before answering: this one takes the key over.
                None => {}
            },
        }
        let answer = self.submit_new(body).await;
        let stored = StoredAnswer {
            status: answer.status,
            body: answer.body.to_string(),
        };
        if let Err(e) = self.store.answer(key, &stored).await {
            // The claim itself is stored; only the replay of this answer is lost.
            tracing::warn!(error = %e, "the answer of an idempotent request was not stored");
        }
        answer
    }

    async fn submit_new(&self, body: &[u8]) -> Answer {
        match self.submit(body).await {
            Ok(answer) => answer,
            Err(e) => e.into(),
        }
    }

    async fn submit(&self, body: &[u8]) -> Result<Answer, ServiceError> {
        let (intake, fhir) = read_claim(body, &self.connections)?;
        let now = self.clock.now();
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            intake.kind(),
            intake.payer_id().to_string(),
            intake.to_json(),
            now,
        );
        self.store.create(&record).await?;
        let span = tracing::info_span!("claim", claim_id = %record.id);
        let _entered = span.enter();
        tracing::info!(kind = ?record.kind, payer_id = %record.payer_id, "claim received");

        // The scrubber, then the payer's rules.
        let today = now.date_naive();
        let (scrubbed, verdict) = match &intake {
            Intake::Professional(c) => {
                let outcome = hms_domain::claims::scrub::scrub_professional(c, today);
                let verdict = (!outcome.has_errors()).then(|| {
                    let v = self.rules.professional(c);
                    (Intake::Professional(v.claim), v.issues, v.held)
                });
                (outcome, verdict)
            }
            Intake::Institutional(c) => {
                let outcome = hms_domain::claims::scrub::scrub_institutional(c, today);
                let verdict = (!outcome.has_errors()).then(|| {
                    let v = self.rules.institutional(c);
                    (Intake::Institutional(v.claim), v.issues, v.held)
                });
                (outcome, verdict)
            }
        };
        let mut issues: Vec<Issue> = scrubbed
            .issue
            .into_iter()
            .filter(|i| i.diagnostics.as_deref() != Some("all-ok"))
            .collect();
        let Some((claim, rule_issues, held)) = verdict else {
            let errors = issues
                .iter()
                .filter(|i| i.severity <= IssueSeverity::Error)
                .count();
            return self
                .refuse(
                    record,
                    ClaimState::RejectedByScrubber,
                    format!("the scrubber found {errors} error(s)"),
                    issues,
                    fhir,
                )
                .await;
        };
        issues.extend(rule_issues);
        if held {
            return self
                .refuse(
                    record,
                    ClaimState::HeldByRules,
                    "the payer's rule set holds the claim".into(),
                    issues,
                    fhir,
                )
                .await;
        }
        record.claim = claim.to_json();

        // The 837, kept before it is sent: a retry sends the same bytes, the same ISA13.
        let partner = self.connections.partner_for(claim.payer_id());
        let envelope = self.envelope(&partner).await?;
        let control = envelope.control.interchange;
        let written = match &claim {
            Intake::Professional(c) => {
                hms_domain::claims::professional_837::professional_837(c, &partner, &envelope)
            }
            Intake::Institutional(c) => {
                hms_domain::claims::institutional_837::institutional_837(c, &partner, &envelope)
            }
        };
        let x12 = match written {
            Ok(x12) => x12,
            Err(e) => {
                issues.push(Issue {
                    severity: IssueSeverity::Error,
                    code: IssueType::Value,
                    diagnostics: Some("write-837".into()),
                    details: Details {
                        text: format!("the claim cannot be written as an 837: {e}"),
                    },
                    expression: vec![],
                });
                return self
                    .refuse(
                        record,
                        ClaimState::RejectedByScrubber,
                        "the claim cannot be written as an 837".into(),
                        issues,
                        fhir,
                    )
                    .await;
            }
        };
        let key = format!("claims/{}/{control:09}.837", record.id);
        self.objects
            .put(&key, x12.clone())
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        record.x12_key = Some(key);
        record.interchange_control_number = Some(control);
        record.outcome = Some(OperationOutcome::new(located(issues, fhir)));
        let record = self.deliver(record, &x12).await?;
        Ok(Answer {
            status: 202,
            body: claim_answer(&record),
            replayed: false,
        })
    }

    /// Stores a claim the scrubber or the rules stopped, and answers 422 with why.
    async fn refuse(
        &self,
        mut record: ClaimRecord,
        state: ClaimState,
        reason: String,
        issues: Vec<Issue>,
        fhir: bool,
    ) -> Result<Answer, ServiceError> {
        record.outcome = Some(OperationOutcome::new(located(issues, fhir)));
        let event = record
            .transition(state, self.clock.now(), Some(reason))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.save(&mut record).await?;
        self.announce(&event).await;
        Ok(Answer {
            status: 422,
            body: claim_answer(&record),
            replayed: false,
        })
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
        let sent = self.gateway.submit_batch(&record.payer_id, x12).await;
        let mut events = vec![];
        let mut move_to = |record: &mut ClaimRecord, state, reason: String| {
            record
                .transition(state, self.clock.now(), Some(reason))
                .map(|e| events.push(e))
                .map_err(|e| ServiceError::Internal(e.to_string()))
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
                    if let Err(e) = self.objects.put(&key, ack.clone()).await {
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
                self.queue
                    .send(
                        Topic::Submissions,
                        serde_json::to_vec(&message).unwrap_or_default(),
                        delay,
                    )
                    .await
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
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
            self.queue
                .send(
                    Topic::SubmissionsDeadLetter,
                    serde_json::to_vec(&message).unwrap_or_default(),
                    Duration::ZERO,
                )
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
        }
        for event in &events {
            self.announce(event).await;
        }
        Ok(record)
    }

    /// The submissions queue's consumer: tries a waiting claim again. A message about a claim
    /// that is no longer waiting (a duplicate delivery) changes nothing.
    pub async fn retry_submission(&self, message: &[u8]) -> Result<ClaimRecord, ServiceError> {
        let retry: SubmissionRetry = serde_json::from_slice(message).map_err(|e| {
            ServiceError::Invalid(problem(
                IssueType::Structure,
                "retry-message",
                format!("not a submission retry: {e}"),
            ))
        })?;
        let record = self.claim(retry.claim_id.as_str()).await?;
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
        let x12 = self
            .objects
            .get(&key)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .ok_or_else(|| {
                ServiceError::Internal(format!("the 837 of claim {} is missing", record.id))
            })?;
        self.deliver(record, &x12).await
    }

    /// `GET /ach/claims/{id}`.
    pub async fn claim(&self, id: &str) -> Result<ClaimRecord, ServiceError> {
        let id = ClaimId::parse(id).map_err(|e| ServiceError::NotFound(e.to_string()))?;
        self.store
            .get(&id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(id.to_string()))
    }

    /// Writes `record` over the stored copy it was read as, and moves its version on.
    async fn save(&self, record: &mut ClaimRecord) -> Result<(), ServiceError> {
        self.store.update(record).await?;
        record.version += 1;
        Ok(())
    }

    async fn announce(&self, event: &ClaimEvent) {
        let body = serde_json::to_vec(event).unwrap_or_default();
        if let Err(e) = self
            .queue
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
            .store
            .next_control_number(&Connections::sequence(partner))
            .await?;
        Ok(Envelope {
            control: ControlNumbers {
                interchange: control,
                group: control,
                transaction: 1,
            },
            created: self.clock.now().naive_utc(),
        })
    }

    /// `POST /ach/queryEligibility`: our JSON inquiry or a FHIR `CoverageEligibilityRequest`
    /// (the second value says which, for the answer's format) → 270 → the payer → 271.
    pub async fn query_eligibility(
        &self,
        body: &[u8],
    ) -> Result<(Vec<EligibilityResponse>, bool), ServiceError> {
        let value = json_body(body)?;
        let fhir = value["resourceType"] == "CoverageEligibilityRequest";
        let inquiry: EligibilityInquiry = if fhir {
            hms_domain::eligibility::fhir::inquiry_from_fhir(&value)
        } else {
            hms_domain::claims::scrub::parse_json(body)
        }
        .map_err(ServiceError::Invalid)?;
        let reply = self
            .inquire(
                inquiry.payer.id.as_str(),
                RealTime::Eligibility,
                "write-270",
                |partner, envelope| inquiry_270(&inquiry, partner, envelope),
            )
            .await?;
        let catalog = catalog()?;
        let responses = read_271(&reply, catalog)
            .map_err(|e| ServiceError::PayerAnswerUnreadable(e.to_string()))?;
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
        Ok((responses, fhir))
    }

    /// `POST /ach/claimStatus`: our JSON status inquiry → 276 → the payer → 277.
    pub async fn claim_status(&self, body: &[u8]) -> Result<Vec<StatusResponse>, ServiceError> {
        json_body(body)?;
        let inquiry: StatusInquiry =
            hms_domain::claims::scrub::parse_json(body).map_err(ServiceError::Invalid)?;
        let reply = self
            .inquire(
                inquiry.payer.id.as_str(),
                RealTime::ClaimStatus,
                "write-276",
                |partner, envelope| inquiry_276(&inquiry, partner, envelope),
            )
            .await?;
        read_277(&reply, catalog()?).map_err(|e| ServiceError::PayerAnswerUnreadable(e.to_string()))
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
        let reply = self.gateway.real_time(payer_id, kind, x12).await;
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
    hms_x12::spec::Catalog::embedded()
        .map_err(|e| ServiceError::Internal(format!("built-in guides are defective: {e}")))
}

/// Issues with FHIRPath instead of JSON pointers, for FHIR input.
fn located(mut issues: Vec<Issue>, fhir: bool) -> Vec<Issue> {
    if fhir {
        for issue in &mut issues {
            for e in &mut issue.expression {
                *e = fhirpath_of(e);
            }
        }
    }
    issues
}

/// The body of a claim answer: id, state, history, and the findings.
pub fn claim_answer(record: &ClaimRecord) -> Value {
    json!({
        "claimId": record.id,
        "kind": record.kind,
        "payerId": record.payer_id,
        "state": record.state,
        "history": record.history,
        "interchangeControlNumber": record.interchange_control_number,
        "outcome": record.outcome,
    })
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
                    severity: if claim.verdict == "rejected" {
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
            let state = match claim.verdict.as_ref() {
                "rejected" => ClaimState::RejectedByPayer,
                "accepted" => ClaimState::AcceptedByPayer,
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

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
