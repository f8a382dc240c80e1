//! Handing a claim to its payer (the submission worker) and following it to the payer's
//! acknowledgments.
//!
//! Exactly once: before any payer call a worker moves the claim to `sending` by a
//! conditional write on its version. That move is the lock: a duplicate delivery, a second
//! worker or the sweep reads a newer version and cannot take it. A worker that dies while
//! sending leaves the claim `sending` until its lease ends; the next taker resends the same
//! 837 under the same CORE `PayloadID`, so the payer sees a resend, not a second claim.

use hms_domain::outcome::{Issue, OperationOutcome};

use crate::acknowledgments::judge_acknowledgments;
use crate::lifecycle::{ClaimRecord, ClaimState};
use crate::ports::{ClaimStore, ObjectStore, PayerGateway, Ports};
use crate::service::{Clearinghouse, ServiceError, SubmissionMessage, after};

/// What a worker made of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The payer has the 837 (and the claim is where its acknowledgments put it).
    Sent(ClaimState),
    /// The payer could not be reached; the claim waits for the retry queued.
    Retrying,
    /// Every attempt failed, or the payer cannot take it: an operator's turn.
    DeadLettered,
    /// Another worker holds the claim: this message changes nothing.
    Busy,
    /// The claim is past sending (a duplicate or stale message), or unknown.
    NotNeeded(Option<ClaimState>),
}

impl<P: Ports> Clearinghouse<P> {
    /// The submissions queue's consumer: takes the claim (the conditional move to
    /// `sending`), hands its stored 837 to the payer, and stores what came of it. Safe to
    /// run twice at once on one message, and to die anywhere.
    pub async fn deliver(&self, message: &SubmissionMessage) -> Result<Delivery, ServiceError> {
        let Some(mut record) = self.ports.store().get(&message.claim_id).await? else {
            tracing::warn!(claim_id = %message.claim_id, "a submission for an unknown claim");
            return Ok(Delivery::NotNeeded(None));
        };
        let span = tracing::info_span!("deliver", claim_id = %record.id, organization = %record.organization);
        let _entered = span.enter();
        let now = self.now();
        if let Some(left) = self.not_takeable(&record) {
            return Ok(left);
        }
        if record.state == ClaimState::Sending {
            tracing::warn!("the worker that held the claim did not finish; taking it over");
        }
        let Some(identity) = record.submission.clone() else {
            return Err(ServiceError::Internal(format!(
                "claim {} is {} without an 837",
                record.id, record.state
            )));
        };
        record.submit_attempts += 1;
        let attempt = record.submit_attempts;
        let retry = self.timing.retry;
        if attempt > retry.max_attempts {
            return self
                .dead_letter(record, format!("gave up after {} attempts", attempt - 1))
                .await;
        }
        record.transition(
            ClaimState::Sending,
            now,
            Some(after(now, self.timing.send_lease)),
            Some(format!("attempt {attempt} of {}", retry.max_attempts)),
        )?;
        // The lock: whoever stored the version first sends; everyone else reads a newer one.
        if self.save_or_reread(&mut record).await?.is_some() {
            return Ok(Delivery::Busy);
        }
        let x12 = self
            .ports
            .objects()
            .get(&identity.x12_key)
            .await?
            .ok_or_else(|| {
                ServiceError::Internal(format!("the 837 of claim {} is missing", record.id))
            })?;
        let sent = self
            .ports
            .gateway()
            .submit_batch(&record.payer_id, &x12, &identity.payload_id)
            .await;
        let now = self.now();
        match sent {
            Ok(()) => {
                tracing::info!(
                    interchange_control_number = identity.interchange_control_number,
                    attempt,
                    "837 handed to the payer"
                );
                record.transition(
                    ClaimState::Submitted,
                    now,
                    Some(now),
                    Some(format!("the payer has the 837 (attempt {attempt})")),
                )?;
                self.save(&mut record).await?;
                // The payer may have acknowledged at once; if not, the sweep polls.
                let record = self.poll_acknowledgments(record).await?;
                Ok(Delivery::Sent(record.state))
            }
            Err(e) if e.is_transient() && attempt < retry.max_attempts => {
                let delay = retry.delay_after(attempt);
                tracing::warn!(error = %e, attempt, ?delay, "the payer could not be reached; the claim waits for a retry");
                record.transition(
                    ClaimState::WaitingForPayer,
                    now,
                    Some(after(after(now, delay), self.timing.pickup_grace)),
                    Some(format!(
                        "{e}; attempt {attempt} of {}, next in {} s",
                        retry.max_attempts,
                        delay.as_secs()
                    )),
                )?;
                self.save(&mut record).await?;
                // Stored first: should the queue fail, the sweep queues it by its due time.
                if let Err(e) = self.enqueue(&record.id, delay).await {
                    tracing::warn!(error = %e, "the retry was not queued; the sweep will queue it");
                }
                Ok(Delivery::Retrying)
            }
            Err(e) => {
                self.dead_letter(record, format!("{e}; gave up after attempt {attempt}"))
                    .await
            }
        }
    }

    /// SQS's dead-letter queue's consumer: a claim whose message failed every delivery (the
    /// worker timed out or failed five times) is parked for an operator, so that its record
    /// says what its queue did. A claim a live worker holds, or one already past sending, is
    /// left alone.
    pub async fn message_dead_lettered(
        &self,
        message: &SubmissionMessage,
    ) -> Result<Delivery, ServiceError> {
        let Some(record) = self.ports.store().get(&message.claim_id).await? else {
            return Ok(Delivery::NotNeeded(None));
        };
        if let Some(left) = self.not_takeable(&record) {
            return Ok(left);
        }
        let attempts = record.submit_attempts;
        self.dead_letter(
            record,
            format!(
                "its queue message failed every delivery (SQS dead-lettered it) after {attempts} attempt(s)"
            ),
        )
        .await
    }

    /// Why a worker must leave `record` alone, if it must: a live worker holds it (its lease
    /// has not ended), or it is not waiting to be sent. A claim waiting for the payer, or one
    /// whose worker's lease ended, may be taken.
    fn not_takeable(&self, record: &ClaimRecord) -> Option<Delivery> {
        let lease_over = record.due_at.is_none_or(|due| due <= self.now());
        match record.state {
            ClaimState::WaitingForPayer => None,
            ClaimState::Sending if lease_over => None,
            ClaimState::Sending => Some(Delivery::Busy),
            state => Some(Delivery::NotNeeded(Some(state))),
        }
    }

    /// Parks a claim for an operator.
    async fn dead_letter(
        &self,
        mut record: ClaimRecord,
        reason: String,
    ) -> Result<Delivery, ServiceError> {
        tracing::error!(reason = %reason, "the claim is dead-lettered");
        record.transition(ClaimState::DeadLettered, self.now(), None, Some(reason))?;
        if self.save_or_reread(&mut record).await?.is_some() {
            return Ok(Delivery::Busy);
        }
        Ok(Delivery::DeadLettered)
    }

    /// Asks the payer for the claim's acknowledgments and moves it by what they say: accepted
    /// or rejected by the payer; still `submitted` with the next poll due while they say
    /// nothing final; `no-acknowledgment` once the schedule has run out. The acknowledgments
    /// are kept beside the 837.
    pub(crate) async fn poll_acknowledgments(
        &self,
        mut record: ClaimRecord,
    ) -> Result<ClaimRecord, ServiceError> {
        let Some(identity) = record.submission.clone() else {
            return Err(ServiceError::Internal(format!(
                "claim {} is {} without an 837",
                record.id, record.state
            )));
        };
        record.acknowledgment_polls += 1;
        let polls = record.acknowledgment_polls;
        let acks = match self
            .ports
            .gateway()
            .retrieve_results(&record.payer_id, &identity.payload_id)
            .await
        {
            Ok(acks) => acks,
            Err(e) => {
                tracing::warn!(error = %e, "the acknowledgments could not be retrieved");
                vec![]
            }
        };
        for (k, ack) in acks.iter().enumerate() {
            let key = format!(
                "claims/{}/{:09}.ack{k}",
                record.id, identity.interchange_control_number
            );
            self.ports.objects().put(&key, ack.clone()).await?;
        }
        let now = self.now();
        let submitted_at = record
            .history
            .iter()
            .rev()
            .find(|h| h.state == ClaimState::Submitted)
            .map_or(now, |h| h.at);
        if let Some((state, reason, issues)) = judge_acknowledgments(&acks) {
            note(&mut record, issues);
            record.transition(state, now, None, Some(reason))?;
        } else if now - submitted_at
            >= chrono::TimeDelta::from_std(self.timing.acknowledgments.give_up_after)
                .unwrap_or(chrono::TimeDelta::MAX)
        {
            if record.state == ClaimState::Submitted {
                record.transition(
                    ClaimState::NoAcknowledgment,
                    now,
                    None,
                    Some(format!(
                        "no 999 or 277CA after {polls} polls; ask the payer"
                    )),
                )?;
            }
        } else {
            record.due_at = Some(after(now, self.timing.acknowledgments.wait_after(polls)));
        }
        if let Some(current) = self.save_or_reread(&mut record).await? {
            return Ok(current);
        }
        if record.state.frees_patient_control_number() {
            self.release_hold(&record).await?;
        }
        Ok(record)
    }
}

/// Adds the payer's findings to the claim's, dropping the scrubber's all-clear.
pub(crate) fn note(record: &mut ClaimRecord, issues: Vec<Issue>) {
    let mut all: Vec<Issue> = record
        .outcome
        .take()
        .map(|o| o.issue)
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.diagnostics.as_deref() != Some("all-ok"))
        .collect();
    all.extend(issues);
    record.outcome = Some(OperationOutcome::new(all));
}
