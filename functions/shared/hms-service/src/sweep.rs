//! Nothing stays in an open state past its due time. A scheduled sweep (an EventBridge
//! schedule in AWS, the local stack's scheduler here) finds claims by state and due time and
//! drives each on: intake resumed for a claim left `received`, the claim queued again when
//! its message died (`waiting-for-payer`) or its worker did (`sending` past its lease), the
//! acknowledgments polled for a `submitted` one. An operator moves a dead-lettered claim back
//! into the queue (`redrive`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::lifecycle::{ClaimId, ClaimRecord, ClaimState};
use crate::ports::{ClaimStore, Ports};
use crate::service::{Clearinghouse, ServiceError, after};
use crate::tenancy::OrganizationId;

/// What one sweep did, by what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Claims whose intake was resumed.
    pub resumed: usize,
    /// Claims queued again for a worker.
    pub requeued: usize,
    /// Claims whose acknowledgments were asked for.
    pub polled: usize,
    /// Claims the sweep could not drive on this time (they stay due: the next sweep tries
    /// again).
    pub failed: usize,
    /// Whether a state had more due claims than the limit: the next sweep takes the rest.
    pub more: bool,
}

impl<P: Ports> Clearinghouse<P> {
    /// One sweep: up to `limit` due claims of each open state, driven on, until `budget` is
    /// spent (a claim is not started after it; what is left is the next sweep's, and the report
    /// says so). One claim's failure does not stop the others.
    pub async fn sweep(
        &self,
        limit: usize,
        budget: std::time::Duration,
    ) -> Result<SweepReport, ServiceError> {
        let started = std::time::Instant::now();
        let now = self.now();
        let mut report = SweepReport::default();
        for state in ClaimState::OPEN {
            let due = self.ports.store().due(state, now, limit).await?;
            report.more |= due.len() >= limit;
            for record in due {
                if started.elapsed() >= budget {
                    report.more = true;
                    break;
                }
                let id = record.id.clone();
                let (done, count) = match state {
                    ClaimState::Received => (self.resume_intake(record).await, &mut report.resumed),
                    ClaimState::WaitingForPayer | ClaimState::Sending => {
                        (self.requeue(record, now).await, &mut report.requeued)
                    }
                    _ => (self.poll_acknowledgments(record).await, &mut report.polled),
                };
                match done {
                    Ok(_) => *count += 1,
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(claim_id = %id, error = %e, "the sweep could not drive the claim on");
                    }
                }
            }
        }
        tracing::info!(?report, "sweep done");
        Ok(report)
    }

    /// Queues a claim whose message or worker died: a `sending` claim past its lease goes back
    /// to `waiting-for-payer` (its next taker resends the same identity).
    async fn requeue(
        &self,
        mut record: ClaimRecord,
        now: DateTime<Utc>,
    ) -> Result<ClaimRecord, ServiceError> {
        let due = Some(after(now, self.timing.pickup_grace));
        if record.state == ClaimState::Sending {
            record.transition(
                ClaimState::WaitingForPayer,
                now,
                due,
                Some("the worker that held it stopped before it finished; queued again".into()),
            )?;
        } else {
            record.due_at = due;
        }
        if let Some(current) = self.save_or_reread(&mut record).await? {
            return Ok(current);
        }
        self.enqueue(&record.id, std::time::Duration::ZERO).await?;
        Ok(record)
    }

    /// `POST /ach/admin/claims/{id}/redrive` (`hms claims redrive`): a dead-lettered claim of
    /// `organization` back into the queue, its attempts counted afresh (its 837 and identity
    /// stay: should the payer have it after all, it sees a resend); a claim left
    /// `no-acknowledgment` has its acknowledgments asked for again (a late one still moves it).
    pub async fn redrive(
        &self,
        organization: &OrganizationId,
        id: &ClaimId,
    ) -> Result<ClaimRecord, ServiceError> {
        let mut record = self.claim(organization, id).await?;
        match record.state {
            ClaimState::DeadLettered => {}
            ClaimState::NoAcknowledgment => return self.poll_acknowledgments(record).await,
            state => {
                return Err(ServiceError::NotApplicable {
                    claim: id.clone(),
                    state,
                    why: "only a dead-lettered claim is redriven, and a claim without acknowledgment polled again",
                });
            }
        }
        let now = self.now();
        record.submit_attempts = 0;
        record.transition(
            ClaimState::WaitingForPayer,
            now,
            Some(after(now, self.timing.pickup_grace)),
            Some("redriven by an operator".into()),
        )?;
        self.save(&mut record).await?;
        if let Err(e) = self.enqueue(&record.id, std::time::Duration::ZERO).await {
            tracing::warn!(error = %e, "the redriven claim was not queued; the sweep will queue it");
        }
        Ok(record)
    }
}
