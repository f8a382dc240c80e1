//! `POST /ach/submitClaim`: our JSON claim or a FHIR `Claim`, scrubbed, through the payer's
//! rules, written as an 837 and handed to the payer; 202 with the claim id and state, or 422
//! with the OperationOutcome. `Idempotency-Key` makes retries safe.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::serve::<hms_lambda::Submit>().await
}
