//! `POST /ach/fetchRemittance` (payments with their claim payments, as JSON, FHIR or the
//! payer's X12), `GET /ach/remittances/exceptions` and `POST
//! /ach/remittances/exceptions/{id}/resolve`: finance staff's side of remittance.

/// An allocator that keeps a long posting run's many small records from fragmenting memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::serve::<hms_lambda::Remittance>().await
}
