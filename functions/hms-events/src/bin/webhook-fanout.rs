//! The claim-events queue's consumer: each claim or remittance event becomes one delivery per
//! endpoint of its organization that takes it, made once and queued. A message that fails
//! for a reason of ours is reported back and comes again; one that is no event is dropped and
//! said.

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
            let mut made = 0;
            for record in event.payload.records {
                let id = record.message_id.unwrap_or_default();
                match app.fan_out(&record.body.unwrap_or_default()).await {
                    Ok(n) => made += n,
                    Err(WebhookError::Invalid(reason)) => {
                        tracing::error!(message_id = %id, reason, "not an event; dropped");
                    }
                    Err(e) => {
                        tracing::warn!(message_id = %id, error = %e, "the event was not fanned out; it comes again");
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        response.batch_item_failures.push(failure);
                    }
                }
            }
            tracing::info!(deliveries = made, "events fanned out");
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
