//! The claims table's change stream → claim and remittance events on the claim-events queue. A batch that
//! cannot be announced fails whole; the stream delivers it again, so no stored move goes
//! unannounced.

use std::sync::Arc;

use hms_lambda::stream::{StreamEvent, claim_changes, remittance_events};
use lambda_runtime::LambdaEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    let app: Arc<hms_lambda::App> = Arc::new(hms_lambda::App::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<StreamEvent>| {
            let app = Arc::clone(&app);
            async move {
                let changes = claim_changes(&event.payload)?;
                let remittance = remittance_events(&event.payload)?;
                let announced = app.service.announce(&changes).await?
                    + app.service.announce_remittance(&remittance).await?;
                tracing::info!(
                    changes = changes.len(),
                    announced,
                    "claim and remittance events queued"
                );
                Ok::<_, lambda_runtime::Error>(serde_json::json!({ "announced": announced }))
            }
        },
    ))
    .await
}
