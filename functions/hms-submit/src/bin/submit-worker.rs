//! The submissions queue's consumer: each message is a claim waiting for its payer, tried
//! again; a message that fails for a reason of ours (storage) is reported as a batch item
//! failure, so SQS redelivers it and, after its redrive count, dead-letters it.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hms_service::service::SubmissionRetry;
use lambda_runtime::LambdaEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    // It resends stored 837s: it runs no payer rules.
    let app: Arc<hms_lambda::App> = Arc::new(hms_lambda::App::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<SqsEvent>| {
        let app = Arc::clone(&app);
        async move {
            let mut failures = vec![];
            for record in event.payload.records {
                let id = record.message_id.clone().unwrap_or_default();
                let body = record.body.unwrap_or_default();
                let retry: SubmissionRetry = match serde_json::from_str(&body) {
                    Ok(retry) => retry,
                    Err(e) => {
                        // Redelivering it would not make it readable: it is dropped, and said.
                        tracing::error!(message_id = %id, error = %e, "not a submission retry");
                        continue;
                    }
                };
                if let Err(e) = app.service.retry_submission(&retry).await {
                    let retry = e.is_transient();
                    tracing::warn!(message_id = %id, error = %e, retry, "a submission retry failed");
                    if retry {
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        failures.push(failure);
                    }
                }
            }
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failures;
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}
