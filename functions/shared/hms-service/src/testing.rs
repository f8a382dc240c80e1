//! In-memory adapters of the ports, with the production adapters' semantics (conditional
//! writes, key checks): for unit and integration tests, and as the reference the AWS adapters
//! are tested against. Behind the `testing` feature, so no function links them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::lifecycle::{ClaimId, ClaimRecord, IdempotencyEntry, StoredAnswer};
use crate::ports::{
    ClaimStore, Clock, ObjectStore, ObjectStoreError, Queue, QueueError, StoreError, Topic,
    check_key,
};

/// Objects in memory, for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryObjectStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl InMemoryObjectStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A test that panicked while holding the lock leaves the map as it was.
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The keys held, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects().keys().cloned().collect()
    }
}

impl ObjectStore for InMemoryObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        check_key(key)?;
        Ok(self.objects().get(key).cloned())
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.objects().insert(key.to_string(), bytes);
        Ok(())
    }
}

/// A clock that says what a test tells it.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves it on by `by`.
    pub fn advance(&self, by: chrono::TimeDelta) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Claims, keys and sequences in memory, with the store's conditional semantics: for unit
/// tests, and the reference the DynamoDB adapter is tested against.
#[derive(Debug, Default)]
pub struct InMemoryClaimStore {
    inner: Mutex<MemoryClaims>,
}

#[derive(Debug, Default)]
struct MemoryClaims {
    claims: BTreeMap<String, ClaimRecord>,
    keys: BTreeMap<String, IdempotencyEntry>,
    sequences: BTreeMap<String, u32>,
}

impl InMemoryClaimStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, MemoryClaims> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ClaimStore for InMemoryClaimStore {
    async fn create(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let mut inner = self.inner();
        if inner.claims.contains_key(record.id.as_str()) {
            return Err(StoreError::Conflict {
                what: format!("claim {} exists", record.id),
            });
        }
        inner
            .claims
            .insert(record.id.as_str().to_string(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &ClaimId) -> Result<Option<ClaimRecord>, StoreError> {
        Ok(self.inner().claims.get(id.as_str()).cloned())
    }

    async fn update(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let stored = inner.claims.get(record.id.as_str()).map(|r| r.version);
        if stored != Some(record.version) {
            return Err(StoreError::Conflict {
                what: format!(
                    "claim {} is at version {stored:?}, not {}",
                    record.id, record.version
                ),
            });
        }
        let mut copy = record.clone();
        copy.version += 1;
        inner.claims.insert(record.id.as_str().to_string(), copy);
        Ok(())
    }

    async fn remember(
        &self,
        entry: &IdempotencyEntry,
    ) -> Result<Option<IdempotencyEntry>, StoreError> {
        let mut inner = self.inner();
        if let Some(existing) = inner.keys.get(&entry.key) {
            return Ok(Some(existing.clone()));
        }
        inner.keys.insert(entry.key.clone(), entry.clone());
        Ok(None)
    }

    async fn answer(&self, key: &str, answer: &StoredAnswer) -> Result<(), StoreError> {
        let mut inner = self.inner();
        match inner.keys.get_mut(key) {
            Some(entry) => {
                entry.answer = Some(answer.clone());
                Ok(())
            }
            None => Err(StoreError::Conflict {
                what: "no request holds this idempotency key".into(),
            }),
        }
    }

    async fn next_control_number(&self, sequence: &str) -> Result<u32, StoreError> {
        let mut inner = self.inner();
        let n = inner.sequences.entry(sequence.to_string()).or_insert(0);
        *n = if *n >= 999_999_999 { 1 } else { *n + 1 };
        Ok(*n)
    }
}

/// Messages in memory, by topic, with their delays: for unit tests.
#[derive(Debug, Default)]
pub struct InMemoryQueue {
    sent: Mutex<Vec<(Topic, Vec<u8>, Duration)>>,
}

impl InMemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every message sent to `topic` so far, with its delay.
    pub fn take(&self, topic: Topic) -> Vec<(Vec<u8>, Duration)> {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (taken, kept): (Vec<_>, Vec<_>) = sent.drain(..).partition(|(t, _, _)| *t == topic);
        *sent = kept;
        taken.into_iter().map(|(_, b, d)| (b, d)).collect()
    }
}

impl Queue for InMemoryQueue {
    async fn send(&self, topic: Topic, body: Vec<u8>, delay: Duration) -> Result<(), QueueError> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((topic, body, delay));
        Ok(())
    }
}
