//! The deliveries queue's consumer: one attempt per message, recorded, the next queued by the
//! schedule. A message that fails for a reason of ours is reported back and comes again (a
//! duplicate finds the attempt recorded and does nothing).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hms_lambda::webhooks::WebhookApp;
use hms_webhooks::service::WebhookError;
use lambda_runtime::LambdaEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    let app = Arc::new(WebhookApp::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<SqsEvent>| {
        let app = Arc::clone(&app);
        async move {
            let mut response = SqsBatchResponse::default();
            // The messages of a batch are attempted at once: each waits on its own endpoint.
            let attempts = event.payload.records.into_iter().map(|record| {
                let app = Arc::clone(&app);
                async move {
                    let id = record.message_id.unwrap_or_default();
                    (id, app.deliver(&record.body.unwrap_or_default()).await)
                }
            });
            for (id, attempted) in futures_util::future::join_all(attempts).await {
                match attempted {
                    Ok(outcome) => tracing::debug!(message_id = %id, ?outcome, "attempted"),
                    Err(WebhookError::Invalid(reason)) => {
                        tracing::error!(message_id = %id, reason, "not a delivery message; dropped");
                    }
                    Err(e) => {
                        tracing::warn!(message_id = %id, error = %e, "the attempt failed on our side; it comes again");
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        response.batch_item_failures.push(failure);
                    }
                }
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
