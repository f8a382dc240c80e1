//! The sweep, on a schedule (EventBridge in AWS, the local stack's scheduler here): claims
//! past their due time in an open state are driven on (intake resumed, queued again,
//! acknowledgments polled). It runs the payer rules, since a resumed intake needs them.

use std::sync::Arc;

use lambda_runtime::LambdaEvent;

/// Due claims taken per state per run; the rest wait for the next run (it says so).
const PER_STATE: usize = 500;

/// How long a run starts claims: the function's timeout (600 s in template.yaml) less the
/// longest one claim may take (an acknowledgment poll of a hanging payer: two 20 s
/// retrievals) and a margin.
const BUDGET: std::time::Duration = std::time::Duration::from_secs(480);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hms_lambda::init_tracing();
    let app =
        Arc::new(hms_lambda::App::<hms_lambda::AwsPorts<hms_lambda::Rules>>::from_env().await?);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: LambdaEvent<serde_json::Value>| {
            let app = Arc::clone(&app);
            async move {
                let report = app.service.sweep(PER_STATE, BUDGET).await?;
                Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
            }
        },
    ))
    .await
}
