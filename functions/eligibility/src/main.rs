//! `POST /ach/queryEligibility`: our JSON inquiry or a FHIR `CoverageEligibilityRequest`, a
//! 270 to the payer, the benefits view or a FHIR `CoverageEligibilityResponse` back.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(hms_lambda::App::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = Arc::clone(&app);
        async move {
            Ok::<_, std::convert::Infallible>(hms_lambda::routes::eligibility(&app, request).await)
        }
    }))
    .await
}
