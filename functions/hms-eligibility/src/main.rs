//! `POST /ach/queryEligibility`: our JSON inquiry or a FHIR `CoverageEligibilityRequest`, a
//! 270 to the payer, the benefits view or a FHIR `CoverageEligibilityResponse` back.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::serve::<hms_lambda::Eligibility>().await
}
