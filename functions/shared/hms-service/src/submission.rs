//! Taking a claim in (`POST /ach/submitClaim`): checked against the caller's organization,
//! stored with its `Idempotency-Key` and its hold on the patient control number in one
//! conditional write, through the scrubber and the payer's rules, written as an 837 whose
//! identity (ISA13, CORE `PayloadID`) is stored before anything is sent, and queued for a
//! worker. The caller is answered without waiting for the payer.
//!
//! Every step is safe to die after: a claim left `received` is resumed by a replay of its
//! key or by the sweep; one left `waiting-for-payer` without its message is queued again by
//! the sweep.

use std::time::Duration;

use hms_domain::claims::{Batch, Claim};
use hms_domain::outcome::{Issue, IssueType, OperationOutcome};
use hms_domain::partner::Connections;
use hms_domain::request::{Format, problem};

use crate::intake::{Reviewed, review};
use crate::lifecycle::{
    ClaimId, ClaimRecord, ClaimState, IdempotencyBinding, SubmissionIdentity, Submitted,
};
use crate::ports::{
    ClaimStore, ControlNumberHold, CreateError, InterchangeKey, ObjectStore, Ports, Queue,
    StoreError, Topic, sha256_hex,
};
use crate::service::{Clearinghouse, Replayable, ServiceError, SubmissionMessage, after, catalog};
use crate::tenancy::OrganizationId;

/// The largest record a claim is received in, as JSON: a DynamoDB item holds 400 KB, and the
/// claim's outcome (at most 200 issues) and history need the rest.
pub const MAX_RECEIVED_RECORD_BYTES: usize = 240_000;

impl<P: Ports> Clearinghouse<P> {
    /// `POST /ach/submitClaim`: `claim` (read in `format`) for `organization`. With
    /// `idempotency_key`, the same request again reads the claim the key is bound to (and
    /// resumes it, should its intake have died), and another body under the key is a
    /// conflict. Never waits for the payer.
    pub async fn submit_claim(
        &self,
        organization: &OrganizationId,
        claim: Claim,
        format: Format,
        idempotency_key: Option<&str>,
    ) -> Result<Replayable<Submitted>, ServiceError> {
        self.submit_noted_claim(organization, claim, format, vec![], idempotency_key)
            .await
    }

    /// [`submit_claim`](Self::submit_claim) for a claim whose reading made choices the caller
    /// should see (a FHIR claim's filing indicator taken from the payer directory): `notes`
    /// join the claim's outcome as information issues.
    pub async fn submit_noted_claim(
        &self,
        organization: &OrganizationId,
        claim: Claim,
        format: Format,
        notes: Vec<Issue>,
        idempotency_key: Option<&str>,
    ) -> Result<Replayable<Submitted>, ServiceError> {
        self.organizations
            .check_claim(organization, &claim, &self.connections.submitter.id)?;
        let fingerprint = fingerprint(&claim, format);
        let key = idempotency_key.map(|k| format!("{organization}:{k}"));
        if let Some(key) = &key
            && let Some(bound) = self.ports.store().binding(key).await?
        {
            return self.replay(organization, &bound, &fingerprint).await;
        }
        let now = self.now();
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            organization.clone(),
            &claim,
            format,
            now,
            after(now, self.timing.intake_grace),
        );
        // Kept with the claim until intake folds them into its outcome (so a resumed intake
        // has them too).
        record.outcome = (!notes.is_empty()).then(|| OperationOutcome::new(notes));
        record.idempotency = key.map(|key| IdempotencyBinding {
            key,
            body_sha256: fingerprint.clone(),
            claim_id: record.id.clone(),
        });
        // A claim is kept whole in one record (a DynamoDB item holds 400 KB): one that
        // leaves too little room for its outcome and history is refused before it is stored,
        // rather than failing to store and leaving the caller to retry for ever.
        let size = serde_json::to_vec(&record).map_or(usize::MAX, |json| json.len());
        if size > MAX_RECEIVED_RECORD_BYTES {
            return Err(ServiceError::Invalid(problem(
                IssueType::TooLong,
                "claim-too-large",
                format!(
                    "the claim takes {size} bytes to keep; at most {MAX_RECEIVED_RECORD_BYTES} are \
                     kept for a claim, the rest of its 400 KB record being for its outcome and \
                     history: send its lines as more than one claim"
                ),
            )));
        }
        let hold = (claim.frequency() == "1").then(|| ControlNumberHold::of(organization, &claim));
        match self.ports.store().create(&record, hold.as_ref()).await {
            Ok(()) => {}
            Err(CreateError::KeyTaken(bound)) => {
                return self.replay(organization, &bound, &fingerprint).await;
            }
            Err(CreateError::ControlNumberTaken(first)) => {
                return Err(ServiceError::Duplicate { first });
            }
            Err(CreateError::Store(e)) => return Err(e.into()),
        }
        tracing::info!(claim_id = %record.id, kind = ?record.kind, payer_id = %record.payer_id, "claim received");
        let record = self.intake(record, claim).await?;
        Ok(Replayable {
            answer: Submitted::of(&record),
            replayed: false,
        })
    }

    /// The answer to a request whose key is bound to a claim: the claim as it is now.
    async fn replay(
        &self,
        organization: &OrganizationId,
        bound: &IdempotencyBinding,
        fingerprint: &str,
    ) -> Result<Replayable<Submitted>, ServiceError> {
        if bound.body_sha256 != fingerprint {
            return Err(ServiceError::Conflict(
                "this Idempotency-Key was used with another request body",
            ));
        }
        let record = self.claim(organization, &bound.claim_id).await?;
        let record = if record.state == ClaimState::Received {
            self.resume_intake(record).await?
        } else {
            record
        };
        Ok(Replayable {
            answer: Submitted::of(&record),
            replayed: true,
        })
    }

    /// Takes a claim left `received` (its intake died) through intake again.
    pub(crate) async fn resume_intake(
        &self,
        record: ClaimRecord,
    ) -> Result<ClaimRecord, ServiceError> {
        let claim = Claim::from_value(serde_json::Value::clone(&record.claim), record.kind)
            .map_err(|e| {
                ServiceError::Internal(format!("claim {} is stored unreadable: {e}", record.id))
            })?;
        tracing::info!(claim_id = %record.id, "intake resumed");
        self.intake(record, claim).await
    }

    /// The scrubber, the payer's rules, the 837 and its identity, the queue. A claim someone
    /// else moved on meanwhile (a concurrent replay, the sweep) is answered as it is.
    async fn intake(
        &self,
        mut record: ClaimRecord,
        claim: Claim,
    ) -> Result<ClaimRecord, ServiceError> {
        let span = tracing::info_span!("intake", claim_id = %record.id, organization = %record.organization);
        let _entered = span.enter();
        let now = self.now();
        // The reader's notes, kept at receipt: information issues of the outcome.
        let notes = record.outcome.take().map(|o| o.issue).unwrap_or_default();
        let batch = Batch::one(claim, record.format);
        let (claim, mut issues) = match review(batch, now.date_naive(), self.ports.rules()) {
            Reviewed::Passed {
                mut claims,
                mut issues,
            } => match claims.pop() {
                Some(claim) => {
                    issues.extend(notes);
                    (claim, issues)
                }
                None => {
                    return Err(ServiceError::Internal(
                        "the intake path lost the claim".into(),
                    ));
                }
            },
            Reviewed::Scrubbed { mut issues, errors } => {
                issues.extend(notes);
                let reason = format!("the scrubber found {errors} error(s)");
                return self
                    .refuse(record, ClaimState::RejectedByScrubber, reason, issues)
                    .await;
            }
            Reviewed::Held { mut issues } => {
                issues.extend(notes);
                let reason = "the payer's rule set holds the claim".to_string();
                return self
                    .refuse(record, ClaimState::HeldByRules, reason, issues)
                    .await;
            }
        };
        record.claim = std::sync::Arc::new(claim.to_json());

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
        // Nothing leaves that our own validator finds wrong: the claim is held, said, kept.
        let report = hms_x12::validate::validate_bytes(&x12, catalog()?);
        if report.has_errors() {
            let first = report.errors().next().map(ToString::to_string);
            tracing::error!(
                interchange_control_number = control,
                "the 837 we wrote fails our validator"
            );
            issues.extend(
                problem(
                    IssueType::Exception,
                    "validate-837",
                    format!(
                        "the 837 written for the claim fails validation ({}); it was not sent",
                        first.unwrap_or_default()
                    ),
                )
                .issue,
            );
            let reason = "the 837 written for it fails validation".to_string();
            return self
                .refuse(record, ClaimState::RejectedByScrubber, reason, issues)
                .await;
        }
        let key = format!("claims/{}/{control:09}.837", record.id);
        self.ports.objects().put(&key, x12).await?;
        // Bound before the claim records it: a payer that answers by file finds the claim
        // by the interchange its TA1 or 999 names.
        let interchange = InterchangeKey {
            sequence: Connections::sequence(&partner),
            control,
        };
        self.ports
            .store()
            .bind_interchange(&interchange, &record.id)
            .await?;
        record.submission = Some(SubmissionIdentity {
            interchange_control_number: control,
            payload_id: uuid::Uuid::now_v7().to_string(),
            x12_key: key,
        });
        record.outcome = Some(OperationOutcome::new(issues));
        record.transition(
            ClaimState::WaitingForPayer,
            now,
            Some(after(now, self.timing.pickup_grace)),
            Some("through the scrubber and the payer's rules; queued for the payer".into()),
        )?;
        if let Some(current) = self.save_or_reread(&mut record).await? {
            return Ok(current);
        }
        // Stored first: should the queue fail, the sweep queues it by its due time.
        if let Err(e) = self.enqueue(&record.id, Duration::ZERO).await {
            tracing::warn!(error = %e, "the claim was not queued; the sweep will queue it");
        }
        Ok(record)
    }

    /// Stores a claim the scrubber, the rules or the writer stopped, with why, and lets go of
    /// its patient control number (it never reached the payer).
    async fn refuse(
        &self,
        mut record: ClaimRecord,
        state: ClaimState,
        reason: String,
        issues: Vec<Issue>,
    ) -> Result<ClaimRecord, ServiceError> {
        record.outcome = Some(OperationOutcome::new(issues));
        record.transition(state, self.now(), None, Some(reason))?;
        if let Some(current) = self.save_or_reread(&mut record).await? {
            return Ok(current);
        }
        self.release_hold(&record).await?;
        Ok(record)
    }

    /// Saves `record`; when someone else wrote it since it was read, the stored copy instead
    /// (`Some`), which this step must then leave alone.
    pub(crate) async fn save_or_reread(
        &self,
        record: &mut ClaimRecord,
    ) -> Result<Option<ClaimRecord>, ServiceError> {
        match self.save(record).await {
            Ok(()) => Ok(None),
            Err(ServiceError::Storage(StoreError::Conflict { .. })) => {
                let current = self.ports.store().get(&record.id).await?.ok_or_else(|| {
                    ServiceError::Internal(format!("claim {} vanished", record.id))
                })?;
                tracing::info!(claim_id = %record.id, state = %current.state, "another process moved the claim first");
                Ok(Some(current))
            }
            Err(e) => Err(e),
        }
    }

    /// Lets go of the patient control number of a claim the payer never took into
    /// adjudication.
    pub(crate) async fn release_hold(&self, record: &ClaimRecord) -> Result<(), ServiceError> {
        let Ok(claim) = Claim::from_value(serde_json::Value::clone(&record.claim), record.kind)
        else {
            return Ok(());
        };
        if claim.frequency() == "1" && record.state.frees_patient_control_number() {
            let hold = ControlNumberHold::of(&record.organization, &claim);
            self.ports.store().release(&hold, &record.id).await?;
        }
        Ok(())
    }

    /// Queues the claim for a worker, no sooner than `delay`.
    pub(crate) async fn enqueue(&self, id: &ClaimId, delay: Duration) -> Result<(), ServiceError> {
        let message = SubmissionMessage {
            claim_id: id.clone(),
        };
        let body = serde_json::to_vec(&message)
            .map_err(|e| ServiceError::Internal(format!("a queue message: {e}")))?;
        self.ports
            .queue()
            .send(Topic::Submissions, body, delay)
            .await?;
        Ok(())
    }
}

/// What makes two submissions under one `Idempotency-Key` the same request: the claim as
/// read (so that white space and key order do not count) and the language it came in.
fn fingerprint(claim: &Claim, format: Format) -> String {
    sha256_hex(format!("{format:?}\n{}", claim.to_json()).as_bytes())
}
