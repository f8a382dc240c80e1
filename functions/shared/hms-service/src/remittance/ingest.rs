//! The drop zone: what payers (and clearinghouses upstream of us) deliver as files. Each
//! object written under `inbound/` is announced (S3 → SQS → the ingest function, so that a
//! failure retries and never drops a file) and taken in here: an 835 is posted; a 999, 277CA
//! or TA1 moves the claims it answers, as results retrieval would; a file that fails
//! structurally, or is not something we take from the drop zone, is moved to
//! `rejected/` with its findings beside it and nothing of it is posted. The file itself stays
//! where it was dropped otherwise (the bucket is versioned and retained): a payment's source
//! names it, and its transaction set is read back from it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{FileOutcome, Mode};
use crate::acknowledgments::by_file::{MAX_ACKNOWLEDGMENT_BYTES, holds_ta1};
use crate::ports::{ObjectStore, Ports, Queue, Topic};
use crate::service::{Clearinghouse, ServiceError};

/// Where payers drop files.
pub const INBOUND: &str = "inbound/";

/// Where a file that cannot be taken in is moved, with `{name}.findings.json` beside it.
pub const REJECTED: &str = "rejected/";

/// The largest file taken in. An 835 of 100,000 claim payments is some 60 MB; a file past
/// this is rejected unread rather than let exhaust the function.
pub const MAX_DROP_BYTES: usize = 256 * 1024 * 1024;

/// What became of one dropped object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ingest", rename_all = "kebab-case")]
pub enum Ingested {
    /// Not ours to take: outside `inbound/`, or gone by the time it was read (a later event
    /// says what replaced it).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Taken in: what posting it did, or why it was rejected (and moved to `rejected/`).
    File {
        /// The object's key.
        key: String,
        /// What became of it.
        #[serde(flatten)]
        outcome: FileOutcome,
    },
}

/// The event that says a file was rejected (`remittance.rejected`): the file's key and why;
/// no organization owns a file nobody could read, so operators are its audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedFile {
    /// `remittance.rejected`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Where it was dropped.
    pub key: String,
    /// Where it was moved.
    pub moved_to: String,
    /// Why.
    pub reason: String,
}

/// A dropped file's local copy, removed when dropped.
struct LocalCopy {
    path: std::path::PathBuf,
}

impl LocalCopy {
    fn new() -> Self {
        Self {
            path: std::env::temp_dir().join(format!("hms-drop-{}", uuid::Uuid::now_v7().simple())),
        }
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The first 64 KiB of the file at `path`: enough to find its first ST.
fn read_head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// The transaction set identifier (ST01) of the first set in `bytes`, if it has one.
fn first_set(bytes: &[u8]) -> Option<String> {
    hms_x12::Tokenizer::new(bytes)
        .take(10_000)
        .flatten()
        .find(|s| s.id() == b"ST")
        .map(|s| String::from_utf8_lossy(s.value(1)).trim().to_string())
}

impl<P: Ports> Clearinghouse<P> {
    /// Takes in the acknowledgments of the file at `path` (read whole: they are small).
    async fn acknowledge_local(
        &self,
        key: &str,
        path: &std::path::Path,
        size: u64,
    ) -> Result<FileOutcome, ServiceError> {
        if size > MAX_ACKNOWLEDGMENT_BYTES as u64 {
            return Ok(FileOutcome::Rejected {
                reason: format!(
                    "the file is {size} bytes; acknowledgment files of at most {MAX_ACKNOWLEDGMENT_BYTES} are taken in"
                ),
                findings: vec![],
            });
        }
        let bytes = std::fs::read(path)
            .map_err(|e| ServiceError::Objects(crate::ports::file_failed(key, &e)))?;
        self.acknowledge_file(key, &bytes).await
    }

    /// Takes in the object `key` of the drop zone `drops` (the S3 event names it).
    /// Delivered twice, it does the same again: a payment posts once, a rejected file is
    /// moved once.
    pub async fn ingest_drop<D: ObjectStore>(
        &self,
        drops: &D,
        key: &str,
    ) -> Result<Ingested, ServiceError> {
        let Some(name) = key.strip_prefix(INBOUND).filter(|n| !n.is_empty()) else {
            return Ok(Ingested::Ignored {
                reason: format!("{key} is not under {INBOUND}"),
            });
        };
        // The file goes to local disk a piece at a time and is read from there in passes:
        // memory holds a segment and a claim payment, whatever the file's size.
        let local = LocalCopy::new();
        let Some(size) = drops.download(key, &local.path).await? else {
            return Ok(Ingested::Ignored {
                reason: format!("{key} is gone"),
            });
        };
        let outcome = if size > MAX_DROP_BYTES as u64 {
            FileOutcome::Rejected {
                reason: format!("the file is {size} bytes; at most {MAX_DROP_BYTES} are taken in"),
                findings: vec![],
            }
        } else {
            let head = read_head(&local.path)
                .map_err(|e| ServiceError::Objects(crate::ports::file_failed(key, &e)))?;
            match first_set(&head).as_deref() {
                Some("835") => {
                    self.post_stream(key, || std::fs::File::open(&local.path), Mode::Post)
                        .await?
                }
                Some("999" | "277") => self.acknowledge_local(key, &local.path, size).await?,
                None if holds_ta1(&head) => self.acknowledge_local(key, &local.path, size).await?,
                Some(other) => FileOutcome::Rejected {
                    reason: format!(
                        "the file holds a {other} transaction set; the drop zone takes 835 remittances and 999, 277CA and TA1 acknowledgments"
                    ),
                    findings: vec![],
                },
                None => FileOutcome::Rejected {
                    reason: "the file holds no X12 transaction set".into(),
                    findings: vec![],
                },
            }
        };
        drop(local);
        if let FileOutcome::Rejected { reason, findings } = &outcome {
            let moved_to = format!("{REJECTED}{name}");
            let report = serde_json::to_vec_pretty(&serde_json::json!({
                "key": key,
                "reason": reason,
                "findings": findings,
            }))
            .map_err(|e| ServiceError::Internal(format!("a rejection report: {e}")))?;
            // Copied, its findings written, then removed from inbound/: a run that dies in
            // between is delivered again and does the same.
            drops.copy(key, &moved_to).await?;
            drops
                .put(&format!("{moved_to}.findings.json"), report)
                .await?;
            let event = RejectedFile {
                event_type: "remittance.rejected".into(),
                key: key.to_string(),
                moved_to: moved_to.clone(),
                reason: reason.clone(),
            };
            let body = serde_json::to_vec(&event)
                .map_err(|e| ServiceError::Internal(format!("a rejection event: {e}")))?;
            self.ports
                .queue()
                .send(Topic::ClaimEvents, body, Duration::ZERO)
                .await?;
            drops.delete(key).await?;
            tracing::warn!(key, moved_to, reason = %reason, "dropped file rejected");
        }
        Ok(Ingested::File {
            key: key.to_string(),
            outcome,
        })
    }
}
