//! `GET /ach/claims/{id}` (a claim's state and history, from our store) and
//! `POST /ach/claimStatus` (a 276 to the payer, its 277 back as status JSON).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hms_lambda::serve::<hms_lambda::Status>().await
}
