//! Real-time inquiries (CAQH CORE: one request, one answer within seconds): eligibility
//! (270 → 271) and claim status (276 → 277), each for a provider the caller's organization
//! owns.

use hms_domain::claim_status::{StatusInquiry, StatusResponse, inquiry_276, read_277};
use hms_domain::eligibility::{
    EligibilityInquiry, EligibilityResponse, Rejection, inquiry_270, read_271,
};
use hms_domain::outcome::IssueType;
use hms_domain::partner::{Envelope, TradingPartner};
use hms_domain::request::problem;

use crate::ports::{GatewayError, PayerGateway, Ports, RealTime};
use crate::service::{Clearinghouse, ServiceError, UnreadableAnswer, catalog};
use crate::tenancy::OrganizationId;

impl<P: Ports> Clearinghouse<P> {
    /// `POST /ach/queryEligibility`: the inquiry → 270 → the payer → 271. A payer that only
    /// rejects (AAA) is [`ServiceError::Rejected`], with its reasons.
    pub async fn query_eligibility(
        &self,
        organization: &OrganizationId,
        inquiry: &EligibilityInquiry,
    ) -> Result<Vec<EligibilityResponse>, ServiceError> {
        self.organizations.check_npi(
            organization,
            "inquiring provider",
            inquiry.provider.npi.as_str(),
        )?;
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
        organization: &OrganizationId,
        inquiry: &StatusInquiry,
    ) -> Result<Vec<StatusResponse>, ServiceError> {
        self.organizations
            .check_npi(organization, "provider", inquiry.provider.npi.as_str())?;
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
