//! The submissions queue's consumer: each message names a claim to hand to its payer. The
//! messages of a batch are delivered concurrently, each within the payer deadlines the
//! template sizes the function's timeout for. A message that fails for a reason of ours
//! (storage, or the process) is reported as a batch item failure, so SQS delivers it again;
//! the claim's own record, not the message, says what is left to do. A message from the
//! dead-letter queue (its event source ends in `-dlq`) parks its claim for an operator.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hms_service::service::SubmissionMessage;
use lambda_runtime::LambdaEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    // It sends stored 837s: it runs no payer rules.
    let app: Arc<hms_lambda::App> = Arc::new(hms_lambda::App::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<SqsEvent>| {
        let app = Arc::clone(&app);
        async move {
            let mut deliveries = tokio::task::JoinSet::new();
            for record in event.payload.records {
                let app = Arc::clone(&app);
                deliveries.spawn(async move {
                    let dead_letter = record
                        .event_source_arn
                        .as_deref()
                        .is_some_and(|arn| arn.ends_with("-dlq"));
                    let id = record.message_id.unwrap_or_default();
                    let body = record.body.unwrap_or_default();
                    let message: SubmissionMessage = match serde_json::from_str(&body) {
                        Ok(message) => message,
                        Err(e) => {
                            // Redelivering it would not make it readable: dropped, and said.
                            tracing::error!(message_id = %id, error = %e, "not a submission message");
                            return None;
                        }
                    };
                    let done = if dead_letter {
                        app.service.message_dead_lettered(&message).await
                    } else {
                        app.service.deliver(&message).await
                    };
                    match done {
                        Ok(delivery) => {
                            tracing::info!(message_id = %id, claim_id = %message.claim_id, ?delivery, "delivered");
                            None
                        }
                        Err(e) => {
                            tracing::warn!(message_id = %id, claim_id = %message.claim_id, error = %e, "the delivery failed; SQS delivers it again");
                            Some(id)
                        }
                    }
                });
            }
            let mut response = SqsBatchResponse::default();
            while let Some(done) = deliveries.join_next().await {
                // A delivery that panicked is retried like one that failed; its id is lost
                // with it, so the whole batch is (the claim records make that harmless).
                let failed = match done {
                    Ok(failed) => failed,
                    Err(e) => {
                        tracing::error!(error = %e, "a delivery panicked");
                        return Err(lambda_runtime::Error::from("a delivery panicked"));
                    }
                };
                if let Some(id) = failed {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    response.batch_item_failures.push(failure);
                }
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
