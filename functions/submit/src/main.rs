//! `POST /ach/submitClaim`: our JSON claim or a FHIR `Claim`, scrubbed, through the payer's
//! rules, written as an 837 and handed to the payer; 202 with the claim id and state, or 422
//! with the OperationOutcome. `Idempotency-Key` makes retries safe.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(hms_lambda::App::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(hms_lambda::routes::submit(&app, request).await) }
    }))
    .await
}
