//! The `/ach/webhooks` routes: an administrator's endpoints, their secrets, deliveries,
//! tests and replays.

use std::sync::Arc;

use hms_lambda::webhooks::WebhookApp;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(WebhookApp::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(app.answer(request).await) }
    }))
    .await
}
