//! `hms-payer-sim --listen 127.0.0.1:9400 --config payer.json [--keep DIR]`: a simulated payer
//! speaking CAQH CORE connectivity at `POST /core` (see the crate's documentation).

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
    hms_payer_sim::http::serve(listener, sim).await?;
    Ok(())
}
