//! `GET /ach/claims/{id}` (a claim's state and history, from our store) and
//! `POST /ach/claimStatus` (a 276 to the payer, its 277 back as status JSON).

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(hms_lambda::App::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(hms_lambda::routes::status(&app, request).await) }
    }))
    .await
}
