//! The deliveries' sweep, on a schedule (EventBridge in AWS, the local stack's scheduler
//! here): a pending delivery long past its due time lost its queue message (the deliverer
//! kept failing and SQS moved it to the dead-letter queue, or a run died between storing and
//! queueing), so it is queued again. Nothing waits forever for a message that will not come.

use std::sync::Arc;

use hms_lambda::webhooks::WebhookApp;
use lambda_runtime::LambdaEvent;

/// Overdue deliveries queued per run; the rest wait for the next run (it says so).
const PER_RUN: usize = 1_000;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(WebhookApp::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: LambdaEvent<serde_json::Value>| {
            let app = Arc::clone(&app);
            async move {
                let report = app.sweep(PER_RUN).await?;
                Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
            }
        },
    ))
    .await
}
