//! `hms remit`: an operator's hand on remittance. `post FILE --dry-run` says what an 835 would
//! post (which claim each payment matches, the exceptions, the balance) without writing
//! anything; `post FILE` puts the file into the drop zone under `operator/` and posts it, as
//! the ingest function would, exactly once (a payment already posted is recorded as a
//! duplicate). Both work on the stack the environment names (`eval "$(infra/stack.sh env)"`
//! for the local one): its claims table and drop bucket, with the organizations' and payer
//! directory's configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use hms_adapters::aws::{DynamoClaimStore, S3ObjectStore};
use hms_service::ports::{Adapters, NoRules, ObjectStore, SystemClock};
use hms_service::remittance::{FileOutcome, Mode};
use hms_service::service::{Clearinghouse, Timing};
use hms_service::testing::{InMemoryPayer, InMemoryQueue};

/// What `hms remit` does.
#[derive(Debug, Subcommand)]
pub enum RemitCommand {
    /// Post an 835 file (exit 0 when it posted or would post, 1 when it is rejected).
    Post {
        /// The 835.
        file: PathBuf,
        /// Say what it would post, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The organizations' provider identities (JSON; default: the local stack's).
        #[arg(long, default_value = "infra/local/organizations.json")]
        organizations: PathBuf,
        /// The payer connections and directory (JSON; default: the local stack's).
        #[arg(long, default_value = "infra/local/connections.json")]
        connections: PathBuf,
    },
}

/// `name`'s value, or why it is needed.
fn setting(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("{name} is not set: eval \"$(infra/stack.sh env)\" for the local stack")
        })
}

fn json_file<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs `command`.
pub fn run(command: RemitCommand) -> anyhow::Result<ExitCode> {
    let RemitCommand::Post {
        file,
        dry_run,
        organizations,
        connections,
    } = command;
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "remittance.835".into());
    let organizations = json_file(&organizations)?;
    let connections = json_file(&connections)?;
    let table = setting("HMS_CLAIMS_TABLE")?;
    let bucket = setting("HMS_DROP_BUCKET")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&aws)
                .force_path_style(true)
                .build(),
        );
        let drops = S3ObjectStore::new(s3, bucket);
        // Posting reaches only the claims table (and, for the key's sake, the drop zone): no
        // payer, queue or rules.
        let service = Clearinghouse {
            ports: Adapters {
                store: DynamoClaimStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
                objects: hms_service::testing::InMemoryObjectStore::new(),
                queue: InMemoryQueue::new(),
                gateway: InMemoryPayer::new(),
                rules: NoRules,
                clock: SystemClock,
            },
            connections,
            organizations,
            timing: Timing::default(),
        };
        let (key, mode) = if dry_run {
            (format!("operator/{name}"), Mode::DryRun)
        } else {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
            let key = format!("operator/{stamp}-{name}");
            drops.put(&key, bytes.clone()).await?;
            (key, Mode::Post)
        };
        let outcome = service.post_file(&key, &bytes, mode).await?;
        outln!("{}", serde_json::to_string_pretty(&outcome)?);
        Ok(match outcome {
            FileOutcome::Posted { .. } | FileOutcome::Acknowledged { .. } => ExitCode::SUCCESS,
            FileOutcome::Rejected { .. } => ExitCode::from(1),
        })
    })
}
