//! How the core reaches the world: traits (ports) with an adapter per environment, so that the
//! same domain code runs over S3 in production, over a directory on a developer's machine, and
//! over memory in unit tests. Adapters that need AWS live outside this crate; the ones here
//! need nothing but the standard library.
//!
//! The ports are `async` because their production adapters are network calls made from a
//! Lambda's async runtime; the in-memory and directory adapters answer at once.

use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::lifecycle::{ClaimId, ClaimRecord, ClaimState, IdempotencyBinding};
use crate::remittance::records::{
    ClaimPaymentRecord, ExceptionId, PaymentId, PaymentRecord, PostingId, RemittanceException,
};
use crate::tenancy::OrganizationId;
use hms_domain::claims::Claim;
use hms_domain::outcome::Issue;

/// Why an object could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectStoreError {
    /// The key is not one an object store can hold safely: empty, absolute, or with `..`
    /// or empty segments (which a directory adapter would resolve outside its root).
    #[error("object key {key:?} is not valid: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store did not answer, or refused.
    #[error("object store failed on {key:?}: {message}")]
    Unavailable {
        /// The key.
        key: String,
        /// What the store said.
        message: String,
    },
}

/// Blobs by key: raw X12 as received, payer rule-set components, remittance files. S3 in
/// production (keys are object keys within one bucket).
pub trait ObjectStore: Send + Sync {
    /// The object under `key`, or `None` when there is none.
    fn get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ObjectStoreError>> + Send;

    /// Bytes `range` of the object under `key` (fewer when it ends sooner), or `None` when
    /// there is none: one payment of a payer's file read back without the whole file.
    fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, ObjectStoreError>> + Send;

    /// Stores `bytes` under `key`, replacing what was there.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), ObjectStoreError>> + Send;

    /// Removes the object under `key`; none there is no error (a versioned bucket keeps what
    /// it held).
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), ObjectStoreError>> + Send;

    /// Writes the object under `key` into the file `path`, a piece at a time (a payer's file
    /// may be larger than a function's memory); its size, or `None` when there is none.
    fn download(
        &self,
        key: &str,
        path: &Path,
    ) -> impl Future<Output = Result<Option<u64>, ObjectStoreError>> + Send;

    /// Copies the object under `from` to `to` within the store (never through memory).
    fn copy(
        &self,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<(), ObjectStoreError>> + Send;
}

/// The file `path` as an object store's error about `key`.
pub fn file_failed(key: &str, e: &std::io::Error) -> ObjectStoreError {
    ObjectStoreError::Unavailable {
        key: key.to_string(),
        message: e.to_string(),
    }
}

/// Checks that `key` is a relative, `/`-separated key without `..` or empty segments.
pub fn check_key(key: &str) -> Result<(), ObjectStoreError> {
    let invalid = |reason| {
        Err(ObjectStoreError::InvalidKey {
            key: key.to_string(),
            reason,
        })
    };
    if key.is_empty() {
        return invalid("it is empty");
    }
    if key.starts_with('/') || key.contains('\\') {
        return invalid("it must be relative and use '/' between segments");
    }
    if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return invalid("it has an empty, '.' or '..' segment");
    }
    Ok(())
}

/// Objects as files under a directory (a key's segments are its path): the local stack's and
/// the CLI's object store.
#[derive(Debug, Clone)]
pub struct DirectoryObjectStore {
    root: PathBuf,
}

impl DirectoryObjectStore {
    /// The store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where `key` lives on disk.
    fn path(&self, key: &str) -> Result<PathBuf, ObjectStoreError> {
        check_key(key)?;
        let path = self.root.join(Path::new(key));
        // check_key leaves only normal segments; say so should that ever change.
        debug_assert!(
            path.strip_prefix(&self.root)
                .is_ok_and(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
        );
        Ok(path)
    }
}

impl ObjectStore for DirectoryObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: e.to_string(),
            }),
        }
    }

    async fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        use std::io::{Read as _, Seek as _};
        let path = self.path(key)?;
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_failed(key, &e)),
        };
        file.seek(std::io::SeekFrom::Start(range.start))
            .map_err(|e| file_failed(key, &e))?;
        let mut bytes = vec![];
        file.take(range.end.saturating_sub(range.start))
            .read_to_end(&mut bytes)
            .map_err(|e| file_failed(key, &e))?;
        Ok(Some(bytes))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        let path = self.path(key)?;
        let failed = |e: std::io::Error| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        // Written aside and renamed: a reader sees the old object or the new one, never half.
        let partial = path.with_extension("partial~");
        std::fs::write(&partial, &bytes).map_err(failed)?;
        std::fs::rename(&partial, &path).map_err(failed)
    }

    async fn download(&self, key: &str, path: &Path) -> Result<Option<u64>, ObjectStoreError> {
        let from = self.path(key)?;
        match std::fs::copy(&from, path) {
            Ok(size) => Ok(Some(size)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(file_failed(key, &e)),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), ObjectStoreError> {
        let source = self.path(from)?;
        let target = self.path(to)?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| file_failed(to, &e))?;
        }
        std::fs::copy(&source, &target)
            .map(|_| ())
            .map_err(|e| file_failed(from, &e))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ObjectStoreError::Unavailable {
                key: key.to_string(),
                message: e.to_string(),
            }),
        }
    }
}

/// Why the claim store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A record already exists where a new one was to be created, or changed since it was read
    /// (optimistic concurrency): the caller reads it again.
    #[error("conflict: {what}")]
    Conflict {
        /// What conflicted.
        what: String,
    },
    /// The store did not answer, or refused.
    #[error("claim store failed: {message}")]
    Unavailable {
        /// What the store said.
        message: String,
    },
}

/// A claim's hold on its patient control number (CLM01) at its payer, for its organization:
/// two originals with one number to one payer are one claim sent twice. Stored by a digest
/// of the number (an account number is PHI), so the key says nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlNumberHold {
    /// The organization.
    pub organization: OrganizationId,
    /// The payer.
    pub payer_id: String,
    /// The sha256 of the patient control number, lower-case hex.
    pub digest: String,
}

impl ControlNumberHold {
    /// The hold an original `claim` of `organization` takes.
    pub fn of(organization: &OrganizationId, claim: &Claim) -> Self {
        Self {
            organization: organization.clone(),
            payer_id: claim.payer_id().to_string(),
            digest: sha256_hex(claim.patient_control_number().as_str().as_bytes()),
        }
    }

    /// The hold as one key.
    pub fn key(&self) -> String {
        format!("{}#{}#{}", self.organization, self.payer_id, self.digest)
    }
}

/// The interchange an 837 was sent in, as the payer's TA1 and 999 name it: the control
/// number sequence of the trading partner (see `Connections::sequence`) and ISA13 (which GS06
/// equals). A payer that answers by file rather than by CORE retrieval is matched by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeKey {
    /// `isa:{our qualifier}:{our id}:{their qualifier}:{their id}`.
    pub sequence: String,
    /// ISA13 of our 837 (TA101 of their TA1, AK102 of their 999).
    pub control: u32,
}

impl InterchangeKey {
    /// The key as one string.
    pub fn key(&self) -> String {
        format!("{}#{:09}", self.sequence, self.control)
    }
}

/// Lower-case hex of the sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    // A nibble is 0 to 15: its digit is always there.
    let digit = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
    let digest = sha2::Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(digit(b >> 4));
        hex.push(digit(b & 0x0f));
    }
    hex
}

/// Why a claim was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// Its `Idempotency-Key` is bound to a claim already (a concurrent request won).
    #[error("the idempotency key is bound to claim {}", .0.claim_id)]
    KeyTaken(IdempotencyBinding),
    /// Its patient control number is held by another original claim at the payer.
    #[error("claim {0} already carries this patient control number to this payer")]
    ControlNumberTaken(ClaimId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Claims and their histories, idempotency keys, patient-control-number holds and
/// control-number sequences: DynamoDB in production. Every write is conditional, so two
/// Lambdas racing on one claim cannot both win, and every change to a claim reaches the
/// change stream (the outbox of claim events).
pub trait ClaimStore: Send + Sync {
    /// Stores a new claim in one atomic write with its idempotency key (`record.idempotency`)
    /// and its patient-control-number `hold`: all three or none.
    fn create(
        &self,
        record: &ClaimRecord,
        hold: Option<&ControlNumberHold>,
    ) -> impl Future<Output = Result<(), CreateError>> + Send;

    /// The claim `key` (organization-scoped) is bound to, if any.
    fn binding(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<IdempotencyBinding>, StoreError>> + Send;

    /// The claim with `id`, if any (of any organization: the use cases check).
    fn get(
        &self,
        id: &ClaimId,
    ) -> impl Future<Output = Result<Option<ClaimRecord>, StoreError>> + Send;

    /// Replaces the stored claim with `record` when the stored version is `record.version`
    /// (the copy was read fresh); the stored copy's version becomes one more. `Conflict`
    /// otherwise: someone else wrote it since.
    fn update(&self, record: &ClaimRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The claim holding `hold`, released or not: the claim a payer's payment for that
    /// patient control number is for.
    fn holder(
        &self,
        hold: &ControlNumberHold,
    ) -> impl Future<Output = Result<Option<ClaimId>, StoreError>> + Send;

    /// Lets go of `hold` when `holder` holds it (the claim never reached adjudication), so a
    /// corrected original may take it.
    fn release(
        &self,
        hold: &ControlNumberHold,
        holder: &ClaimId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` claims in `state` whose due time is at or before `now`, earliest first:
    /// what the sweep drives on (an index on state and due time).
    fn due(
        &self,
        state: ClaimState,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ClaimRecord>, StoreError>> + Send;

    /// The next number of `sequence` (1 to 999,999,999, then 1 again): interchange control
    /// numbers per trading partner.
    fn next_control_number(
        &self,
        sequence: &str,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// Binds the interchange `key` an 837 is about to be sent in to `claim`, so that the
    /// payer's TA1 or 999 dropped as a file finds it. Bound before the claim records its
    /// submission: a crash in between leaves a binding whose claim says another interchange,
    /// which the reader checks.
    fn bind_interchange(
        &self,
        key: &InterchangeKey,
        claim: &ClaimId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The claim the interchange `key` was bound to, if any.
    fn interchange(
        &self,
        key: &InterchangeKey,
    ) -> impl Future<Output = Result<Option<ClaimId>, StoreError>> + Send;
}

/// One page of a listing and where the next begins.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Where the next page begins (pass it back as `after`); `None` on the last page.
    pub next: Option<String>,
}

/// Which payments a listing takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// Only this payer's.
    pub payer_id: Option<String>,
    /// Only the payment with this trace number (TRN02).
    pub trace_number: Option<String>,
    /// Only those paid on or after this date (BPR16).
    pub paid_from: Option<chrono::NaiveDate>,
    /// Only those paid on or before this date.
    pub paid_to: Option<chrono::NaiveDate>,
}

/// Payments, their claim payments, exceptions, and the payer claim numbers that find a claim
/// again: DynamoDB in production (the claims table; see the AWS adapter). Creation is
/// conditional and identities are derived from the payer's data, so a run that resumes, or a
/// second delivery, finds what the first wrote.
pub trait RemittanceStore: Send + Sync {
    /// Stores `record` unless a payment with its id exists; the stored one when it does.
    fn begin_payment(
        &self,
        record: &PaymentRecord,
    ) -> impl Future<Output = Result<Option<PaymentRecord>, StoreError>> + Send;

    /// The payment with `id`, if any (of any organization: the use cases check).
    fn payment(
        &self,
        id: &PaymentId,
    ) -> impl Future<Output = Result<Option<PaymentRecord>, StoreError>> + Send;

    /// Replaces the stored payment when its version is `record.version` (`Conflict`
    /// otherwise); the stored version becomes one more.
    fn update_payment(
        &self,
        record: &PaymentRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `organization`'s payments that pass `filter`, newest first, up to `limit` after the
    /// cursor `after`.
    fn payments(
        &self,
        organization: &OrganizationId,
        filter: &PaymentFilter,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Page<PaymentRecord>, StoreError>> + Send;

    /// Stores (or stores again, the same) one claim payment of a payment with its result.
    fn put_claim_payment(
        &self,
        record: &ClaimPaymentRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The claim payment `posting`, if stored.
    fn claim_payment(
        &self,
        posting: &PostingId,
    ) -> impl Future<Output = Result<Option<ClaimPaymentRecord>, StoreError>> + Send;

    /// A payment's claim payments in file order, up to `limit` from index `from`.
    fn claim_payments(
        &self,
        payment: &PaymentId,
        from: usize,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ClaimPaymentRecord>, StoreError>> + Send;

    /// Stores `exception` unless one with its id exists; whether it was stored.
    fn raise(
        &self,
        exception: &RemittanceException,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The exception with `id`, if any.
    fn exception(
        &self,
        id: &ExceptionId,
    ) -> impl Future<Output = Result<Option<RemittanceException>, StoreError>> + Send;

    /// Replaces the stored exception when its version is `exception.version`.
    fn update_exception(
        &self,
        exception: &RemittanceException,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `organization`'s exceptions (those of no organization when `None`), open ones only
    /// when `open_only`, oldest first, up to `limit` after the cursor `after`.
    fn exceptions(
        &self,
        organization: Option<&OrganizationId>,
        open_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Page<RemittanceException>, StoreError>> + Send;

    /// Binds a payer's claim number (CLP07) to `claim` unless it is bound already; the claim
    /// it is bound to.
    fn bind_payer_claim(
        &self,
        key: &PayerClaimKey,
        claim: &ClaimId,
    ) -> impl Future<Output = Result<ClaimId, StoreError>> + Send;

    /// The claim a payer's claim number is bound to, if any.
    fn payer_claim(
        &self,
        key: &PayerClaimKey,
    ) -> impl Future<Output = Result<Option<ClaimId>, StoreError>> + Send;
}

/// A payer's claim number (CLP07) within an organization and payer: how a later adjustment
/// finds the claim the first payment was posted to. Stored by digest, like a patient control
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerClaimKey {
    /// The organization.
    pub organization: OrganizationId,
    /// The payer.
    pub payer_id: String,
    /// The sha256 of the payer's claim number, lower-case hex.
    pub digest: String,
}

impl PayerClaimKey {
    /// The key of `number` at `payer_id` for `organization`.
    pub fn of(organization: &OrganizationId, payer_id: &str, number: &str) -> Self {
        Self {
            organization: organization.clone(),
            payer_id: payer_id.to_string(),
            digest: sha256_hex(number.as_bytes()),
        }
    }

    /// The key as one string.
    pub fn key(&self) -> String {
        format!("{}#{}#{}", self.organization, self.payer_id, self.digest)
    }
}

/// The queues the core writes to; each adapter maps them to its own (SQS queue URLs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Claims waiting for the payer: taken by the submission worker.
    Submissions,
    /// Claim state changes from the change stream, for the webhook fan-out.
    ClaimEvents,
    /// Webhook deliveries' next attempts, for the deliverer.
    WebhookDeliveries,
}

/// Why a message could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue {topic:?} failed: {message}")]
pub struct QueueError {
    /// The queue.
    pub topic: Topic,
    /// What it said.
    pub message: String,
}

/// Messages between functions: SQS in production.
pub trait Queue: Send + Sync {
    /// Sends `body` to `topic`, delivered no sooner than `delay` (SQS allows up to 15 minutes).
    fn send(
        &self,
        topic: Topic,
        body: Vec<u8>,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The real-time exchanges CAQH CORE defines (one request, one answer within seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RealTime {
    /// 270 → 271.
    Eligibility,
    /// 276 → 277.
    ClaimStatus,
}

/// Why an exchange with a payer failed. Every variant is something to retry or report, never
/// a reason to lose the claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer in time.
    #[error("the payer did not answer within {after:?}")]
    Timeout {
        /// How long we waited.
        after: Duration,
    },
    /// The payer's endpoint failed (a 5xx, a refused connection, a SOAP fault).
    #[error("the payer's endpoint failed: {message}")]
    Unavailable {
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// What it said.
        message: String,
    },
    /// The answer was not what the protocol promises (not a CORE envelope, not X12).
    #[error("the payer's answer is malformed: {message}")]
    Malformed {
        /// What is wrong with it.
        message: String,
    },
    /// No connection is configured for the payer.
    #[error("no connection is configured for payer {payer_id}")]
    UnknownPayer {
        /// The payer id.
        payer_id: String,
    },
}

impl GatewayError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Unavailable { .. })
    }
}

/// The payer side: CAQH CORE connectivity over HTTPS in production, the payer simulator
/// locally.
pub trait PayerGateway: Send + Sync {
    /// Sends a 270 or 276 to `payer_id` and waits for its 271 or 277.
    fn real_time(
        &self,
        payer_id: &str,
        exchange: RealTime,
        x12: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, GatewayError>> + Send;

    /// Hands an 837 batch to `payer_id` under CORE `payload_id` (the same on every resend of
    /// one claim, so the payer can tell a resend): `Ok` once the payer has it.
    fn submit_batch(
        &self,
        payer_id: &str,
        x12: &[u8],
        payload_id: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;

    /// The acknowledgments (TA1, 999, 277CA) the payer has for the batch `payload_id` so far;
    /// none while it has none.
    fn retrieve_results(
        &self,
        payer_id: &str,
        payload_id: &str,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, GatewayError>> + Send;
}

/// What a payer's rule set made of a claim (see `hms-rules`, the WebAssembly adapter).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleVerdict {
    /// What the rule set made of the claim when it passed it; `None` when the claim is to
    /// go as it came (its payer has no rule set, or the rule set held it), so that most
    /// claims are neither copied nor compared with a copy.
    pub claim: Option<Claim>,
    /// The rule set's findings, and why the claim is held when it is.
    pub issues: Vec<Issue>,
    /// Whether the claim must not be sent.
    pub held: bool,
}

/// Payer rules, run between the scrubber and the 837 writer. Synchronous: a rule set is
/// sandboxed CPU work with its own budget, never I/O.
pub trait RuleEngine: Send + Sync {
    /// A claim through its payer's rule set (one that names no rule set passes as it is).
    fn review(&self, claim: &Claim) -> RuleVerdict;
}

/// No payer rules: every claim passes as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRules;

impl RuleEngine for NoRules {
    fn review(&self, _claim: &Claim) -> RuleVerdict {
        RuleVerdict {
            claim: None,
            issues: vec![],
            held: false,
        }
    }
}

/// The time, so that tests can set it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Everything a clearinghouse reaches the world through, as one bundle: the use cases are
/// generic over one `Ports`, and each environment names its adapters once ([`Adapters`]).
pub trait Ports: Send + Sync {
    /// Claims, keys, sequences, payments.
    type Store: ClaimStore + RemittanceStore;
    /// The X12 we send and receive.
    type Objects: ObjectStore;
    /// Retries, dead letters, events.
    type Queue: Queue;
    /// The payers.
    type Gateway: PayerGateway;
    /// Payer rules.
    type Rules: RuleEngine;
    /// The time.
    type Clock: Clock;

    /// Claims, keys, sequences.
    fn store(&self) -> &Self::Store;
    /// The X12 we send and receive.
    fn objects(&self) -> &Self::Objects;
    /// Retries, dead letters, events.
    fn queue(&self) -> &Self::Queue;
    /// The payers.
    fn gateway(&self) -> &Self::Gateway;
    /// Payer rules.
    fn rules(&self) -> &Self::Rules;
    /// The time.
    fn clock(&self) -> &Self::Clock;
}

/// One adapter per port: AWS in the functions, memory in tests, the simulator in between.
#[derive(Debug)]
pub struct Adapters<S, O, Q, G, R, C> {
    /// Claims, keys, sequences.
    pub store: S,
    /// The X12 we send and receive.
    pub objects: O,
    /// Retries, dead letters, events.
    pub queue: Q,
    /// The payers.
    pub gateway: G,
    /// Payer rules.
    pub rules: R,
    /// The time.
    pub clock: C,
}

impl<S, O, Q, G, R, C> Ports for Adapters<S, O, Q, G, R, C>
where
    S: ClaimStore + RemittanceStore,
    O: ObjectStore,
    Q: Queue,
    G: PayerGateway,
    R: RuleEngine,
    C: Clock,
{
    type Store = S;
    type Objects = O;
    type Queue = Q;
    type Gateway = G;
    type Rules = R;
    type Clock = C;

    fn store(&self) -> &S {
        &self.store
    }
    fn objects(&self) -> &O {
        &self.objects
    }
    fn queue(&self) -> &Q {
        &self.queue
    }
    fn gateway(&self) -> &G {
        &self.gateway
    }
    fn rules(&self) -> &R {
        &self.rules
    }
    fn clock(&self) -> &C {
        &self.clock
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::testing::InMemoryObjectStore;
    use pollster::block_on as ready;

    #[test]
    fn digests_are_lower_case_hex_of_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex(b"").len(), 64);
    }

    #[test]
    fn keys_that_could_escape_or_mean_two_things_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "..",
        ] {
            assert!(
                matches!(check_key(bad), Err(ObjectStoreError::InvalidKey { .. })),
                "{bad:?}"
            );
        }
        for good in [
            "rules.json",
            "rules/prior-auth.wasm",
            "inbound/2026/12/02/x.835",
        ] {
            assert_eq!(check_key(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn memory_and_directory_stores_keep_what_is_put_and_say_none_for_what_is_not() {
        let dir = std::env::temp_dir().join(format!("hms-objects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let on_disk = DirectoryObjectStore::new(&dir);
        let in_memory = InMemoryObjectStore::new();
        fn exercise(store: &impl ObjectStore) {
            assert_eq!(ready(store.get("rules/a.wasm")).unwrap(), None);
            ready(store.put("rules/a.wasm", b"one".to_vec())).unwrap();
            ready(store.put("rules/a.wasm", b"two".to_vec())).unwrap();
            assert_eq!(
                ready(store.get("rules/a.wasm")).unwrap().as_deref(),
                Some(&b"two"[..])
            );
            assert!(ready(store.put("../x", vec![])).is_err());
        }
        exercise(&on_disk);
        exercise(&in_memory);
        assert_eq!(in_memory.keys(), ["rules/a.wasm"]);
        assert!(!dir.join("x").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
