//! `hms-payer-sim --listen 127.0.0.1:9400 --config payer.json [--keep DIR] [--drop-url URL
//! --pay-every SECONDS]`: a simulated payer speaking CAQH CORE connectivity at `POST /core`
//! (see the crate's documentation), which pays the claims it accepted into a drop zone, and
//! drops its acknowledgments there for the payers it answers by file.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "A simulated payer speaking CAQH CORE connectivity 2.2.0")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9400")]
    listen: String,
    /// The payer's configuration (members, claim rules, latency, credentials).
    #[arg(long)]
    config: PathBuf,
    /// A directory to keep every X12 received in.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// The drop zone its 835s are put into (`PUT {url}/{key}`: a bucket of the local stack's
    /// LocalStack, addressed by path, on 127.0.0.1).
    #[arg(long)]
    drop_url: Option<String>,
    /// How often it pays what it accepted, in seconds (with `--drop-url`).
    #[arg(long, default_value_t = 5)]
    pay_every: u64,
}

/// Every `every`, puts the acknowledgment files it answers by file and the 835s of what it
/// accepted into the drop zone at `url`; a file that could not be put is tried again at the
/// next turn, never lost.
async fn pay_into(sim: Arc<hms_payer_sim::Simulator>, url: String, every: std::time::Duration) {
    let client = reqwest::Client::new();
    // (key, X12, what it is)
    let mut pending: Vec<(String, String, String)> = vec![];
    loop {
        tokio::time::sleep(every).await;
        for file in sim.acknowledgment_files() {
            pending.push((file.key, file.x12, "acknowledgment".into()));
        }
        match sim.remit() {
            Ok(written) => pending.extend(written.into_iter().map(|f| {
                let what = format!("835 of {} claim payments", f.claim_payments);
                (f.key, f.x12, what)
            })),
            Err(e) => tracing::error!(error = %e, "the simulator could not pay"),
        }
        let mut left = vec![];
        for (key, x12, what) in pending.drain(..) {
            let target = format!("{}/{key}", url.trim_end_matches('/'));
            let put = client
                .put(&target)
                .header("content-type", "application/edi-x12")
                .body(x12.clone())
                .send()
                .await;
            match put {
                Ok(r) if r.status().is_success() => {
                    tracing::info!(key, what, "file dropped");
                }
                Ok(r) => {
                    tracing::warn!(key, status = %r.status(), "the drop zone refused a file; tried again later");
                    left.push((key, x12, what));
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "the drop zone is not reachable; tried again later");
                    left.push((key, x12, what));
                }
            }
        }
        pending = left;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().with_target(false).init();
    let args = Args::parse();
    let config: hms_payer_sim::SimConfig = serde_json::from_slice(
        &std::fs::read(&args.config).with_context(|| args.config.display().to_string())?,
    )
    .with_context(|| {
        format!(
            "{}: not a payer simulator configuration",
            args.config.display()
        )
    })?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, payer_id = %config.payer_id, "payer simulator ready");
    let sim = Arc::new(hms_payer_sim::Simulator::new(config, args.keep));
    if let Some(url) = args.drop_url {
        let every = std::time::Duration::from_secs(args.pay_every.max(1));
        tokio::spawn(pay_into(Arc::clone(&sim), url, every));
    }
    hms_payer_sim::http::serve(listener, sim).await?;
    Ok(())
}
