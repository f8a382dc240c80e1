//! The drop zone's queue consumer: each message is an S3 event notification naming files
//! dropped under `inbound/`; each file is taken in (an 835 posted, a 999, 277CA or TA1 moving
//! the claims it answers, anything else moved to `rejected/`). A file that fails for a reason of ours (storage, the queue) is reported as a
//! batch item failure, so SQS delivers it again and its posting resumes; after the queue's
//! retries it waits in the dead-letter queue, and the file in the drop zone.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hms_lambda::drops::created_keys;
use hms_service::remittance::FileOutcome;
use hms_service::remittance::ingest::Ingested;
use lambda_runtime::LambdaEvent;

/// An allocator that keeps a long posting run's many small records from fragmenting memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    let app: Arc<hms_lambda::App> = Arc::new(hms_lambda::App::from_env().await?);
    let Some(drops) = app.drops.clone() else {
        return Err(lambda_runtime::Error::from(
            "cannot start: the environment variable DROP_BUCKET is not set",
        ));
    };
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<SqsEvent>| {
        let app = Arc::clone(&app);
        let drops = drops.clone();
        async move {
            let mut response = SqsBatchResponse::default();
            // One file at a time: a file may be large, and the function's memory is sized
            // for one.
            for record in event.payload.records {
                let id = record.message_id.unwrap_or_default();
                let body = record.body.unwrap_or_default();
                let keys = match created_keys(&body) {
                    Ok(keys) => keys,
                    Err(e) => {
                        // Redelivering it would not make it readable: dropped, and said.
                        tracing::error!(message_id = %id, error = %e, "not a drop notification");
                        continue;
                    }
                };
                for key in keys {
                    match app.service.ingest_drop(&drops, &key).await {
                        Ok(Ingested::File { outcome: FileOutcome::Posted { payments, .. }, .. }) => {
                            for p in payments {
                                tracing::info!(message_id = %id, key, payment_id = %p.payment_id, start = ?p.start, claim_payments = p.claim_payments, paid = p.paid, denied = p.denied, reversed = p.reversed, held_back = p.held_back, exceptions = p.exceptions.len(), "payment taken in");
                            }
                        }
                        Ok(Ingested::File { outcome: outcome @ FileOutcome::Acknowledged { .. }, .. }) => {
                            if let FileOutcome::Acknowledged { acknowledgments: a, .. } = &outcome {
                                tracing::info!(message_id = %id, key, read = a.read, moved = a.moved, unchanged = a.unchanged, unmatched = a.unmatched, later = a.later, "acknowledgments taken in");
                            }
                            if outcome.wants_redelivery() {
                                // Claims still being handed over: SQS delivers the file again
                                // after the queue's visibility timeout, when they are recorded.
                                let mut failure = BatchItemFailure::default();
                                failure.item_identifier = id.clone();
                                response.batch_item_failures.push(failure);
                                break;
                            }
                        }
                        Ok(Ingested::File { outcome: FileOutcome::Rejected { reason, .. }, .. }) => {
                            tracing::warn!(message_id = %id, key, reason, "dropped file rejected");
                        }
                        Ok(Ingested::Ignored { reason }) => {
                            tracing::info!(message_id = %id, key, reason, "dropped file passed over");
                        }
                        Err(e) => {
                            tracing::warn!(message_id = %id, key, error = %e, "a dropped file failed; SQS delivers it again");
                            let mut failure = BatchItemFailure::default();
                            failure.item_identifier = id.clone();
                            response.batch_item_failures.push(failure);
                            break;
                        }
                    }
                }
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
