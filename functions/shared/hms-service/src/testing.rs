//! In-memory adapters of the ports, with the production adapters' semantics (conditional
//! writes, key checks): for unit and integration tests, and as the reference the AWS adapters
//! are tested against. Behind the `testing` feature, so no function links them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::lifecycle::{ClaimEvent, ClaimId, ClaimRecord, ClaimState, IdempotencyBinding};
use crate::ports::{
    ClaimStore, Clock, ControlNumberHold, CreateError, GatewayError, InterchangeKey, ObjectStore,
    ObjectStoreError, Page, PayerClaimKey, PayerGateway, PaymentFilter, Queue, QueueError,
    RealTime, RemittanceStore, StoreError, Topic, check_key,
};
use crate::remittance::records::{
    ClaimPaymentRecord, ExceptionId, PaymentId, PaymentRecord, PostingId, RemittanceException,
};
use crate::service::{Clearinghouse, Timing};
use crate::tenancy::OrganizationId;
use crate::tenancy::Organizations;

/// The use cases over `ports` with the local stack's payer connections and organizations
/// (`infra/local/organizations.json`) and the default deadlines: what tests and benchmarks run.
pub fn local<P>(ports: P) -> Clearinghouse<P> {
    Clearinghouse {
        ports,
        connections: hms_domain::partner::Connections::local(),
        organizations: local_organizations(),
        timing: Timing::default(),
    }
}

/// The ports in memory, but for the payer, the rules and the clock a test brings.
pub type InMemory<G, R, C> =
    crate::ports::Adapters<InMemoryClaimStore, InMemoryObjectStore, InMemoryQueue, G, R, C>;

/// The use cases as [`local`] sets them up, over `gateway`, `rules` and `clock` with the
/// store, the objects and the queue in memory.
pub fn in_memory<G, R, C>(gateway: G, rules: R, clock: C) -> Clearinghouse<InMemory<G, R, C>> {
    local(crate::ports::Adapters {
        store: InMemoryClaimStore::new(),
        objects: InMemoryObjectStore::new(),
        queue: InMemoryQueue::new(),
        gateway,
        rules,
        clock,
    })
}

/// The local stack's organizations: `clinic-a` owns the fixtures' providers, `clinic-b` none
/// of them.
pub fn local_organizations() -> Organizations {
    serde_json::from_str(include_str!("../../../../infra/local/organizations.json"))
        .unwrap_or_default()
}

/// A lock a test that panicked while holding leaves as it was.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

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
        locked(&self.objects)
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

    async fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        check_key(key)?;
        Ok(self.objects().get(key).map(|bytes| {
            let end = usize::try_from(range.end)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let start = usize::try_from(range.start).unwrap_or(usize::MAX).min(end);
            bytes.get(start..end).unwrap_or_default().to_vec()
        }))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.objects().insert(key.to_string(), bytes);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        check_key(key)?;
        self.objects().remove(key);
        Ok(())
    }

    async fn download(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<u64>, ObjectStoreError> {
        check_key(key)?;
        let Some(bytes) = self.objects().get(key).cloned() else {
            return Ok(None);
        };
        std::fs::write(path, &bytes).map_err(|e| crate::ports::file_failed(key, &e))?;
        Ok(Some(bytes.len() as u64))
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), ObjectStoreError> {
        check_key(from)?;
        check_key(to)?;
        let mut objects = self.objects();
        let bytes = objects
            .get(from)
            .cloned()
            .ok_or_else(|| ObjectStoreError::Unavailable {
                key: from.to_string(),
                message: "no such object".into(),
            })?;
        objects.insert(to.to_string(), bytes);
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
        let mut now = locked(&self.0);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *locked(&self.0)
    }
}

/// Claims, keys, holds and sequences in memory, with the store's conditional semantics and
/// its change stream: for unit tests, and the reference the DynamoDB adapter is tested
/// against.
#[derive(Debug, Default)]
pub struct InMemoryClaimStore {
    inner: Mutex<MemoryClaims>,
}

#[derive(Debug, Default)]
struct MemoryClaims {
    /// Shared with the change log: a write copies the record once.
    claims: BTreeMap<String, std::sync::Arc<ClaimRecord>>,
    keys: BTreeMap<String, IdempotencyBinding>,
    /// Hold key → (holder, released).
    holds: BTreeMap<String, (ClaimId, bool)>,
    sequences: BTreeMap<String, u32>,
    /// Interchange key → the claim sent in it.
    interchanges: BTreeMap<String, ClaimId>,
    /// Every stored change, as a change stream carries it: the copy before (none when
    /// created) and after.
    changes: Vec<(
        Option<std::sync::Arc<ClaimRecord>>,
        std::sync::Arc<ClaimRecord>,
    )>,
    payments: BTreeMap<PaymentId, PaymentRecord>,
    claim_payments: BTreeMap<(PaymentId, usize), ClaimPaymentRecord>,
    /// Raised in order: exception id → record, and the order they were raised in.
    exceptions: BTreeMap<ExceptionId, RemittanceException>,
    raised: Vec<ExceptionId>,
    payer_claims: BTreeMap<String, ClaimId>,
}

impl InMemoryClaimStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, MemoryClaims> {
        locked(&self.inner)
    }

    /// Every claim, in id order.
    pub fn all(&self) -> Vec<ClaimRecord> {
        self.inner()
            .claims
            .values()
            .map(|r| ClaimRecord::clone(r))
            .collect()
    }

    /// Every payment, in id order.
    pub fn all_payments(&self) -> Vec<PaymentRecord> {
        self.inner().payments.values().cloned().collect()
    }

    /// Every exception, in the order raised.
    pub fn all_exceptions(&self) -> Vec<RemittanceException> {
        let inner = self.inner();
        inner
            .raised
            .iter()
            .filter_map(|id| inner.exceptions.get(id).cloned())
            .collect()
    }

    /// The claim events the change stream carried so far, in order.
    pub fn events(&self) -> Vec<ClaimEvent> {
        self.inner()
            .changes
            .iter()
            .flat_map(|(before, after)| ClaimEvent::between(before.as_deref(), after))
            .collect()
    }
}

impl ClaimStore for InMemoryClaimStore {
    async fn create(
        &self,
        record: &ClaimRecord,
        hold: Option<&ControlNumberHold>,
    ) -> Result<(), CreateError> {
        let mut inner = self.inner();
        if let Some(binding) = &record.idempotency
            && let Some(taken) = inner.keys.get(&binding.key)
        {
            return Err(CreateError::KeyTaken(taken.clone()));
        }
        if let Some(hold) = hold
            && let Some((holder, false)) = inner.holds.get(&hold.key())
        {
            return Err(CreateError::ControlNumberTaken(holder.clone()));
        }
        if inner.claims.contains_key(record.id.as_str()) {
            return Err(StoreError::Conflict {
                what: format!("claim {} exists", record.id),
            }
            .into());
        }
        if let Some(binding) = &record.idempotency {
            inner.keys.insert(binding.key.clone(), binding.clone());
        }
        if let Some(hold) = hold {
            inner.holds.insert(hold.key(), (record.id.clone(), false));
        }
        let stored = std::sync::Arc::new(record.clone());
        inner.claims.insert(
            record.id.as_str().to_string(),
            std::sync::Arc::clone(&stored),
        );
        inner.changes.push((None, stored));
        Ok(())
    }

    async fn binding(&self, key: &str) -> Result<Option<IdempotencyBinding>, StoreError> {
        Ok(self.inner().keys.get(key).cloned())
    }

    async fn get(&self, id: &ClaimId) -> Result<Option<ClaimRecord>, StoreError> {
        Ok(self
            .inner()
            .claims
            .get(id.as_str())
            .map(|r| ClaimRecord::clone(r)))
    }

    async fn update(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let stored = inner.claims.get(record.id.as_str()).cloned();
        if stored.as_ref().map(|r| r.version) != Some(record.version) {
            return Err(StoreError::Conflict {
                what: format!(
                    "claim {} is at version {:?}, not {}",
                    record.id,
                    stored.map(|r| r.version),
                    record.version
                ),
            });
        }
        let mut copy = record.clone();
        copy.version += 1;
        let copy = std::sync::Arc::new(copy);
        inner
            .claims
            .insert(record.id.as_str().to_string(), std::sync::Arc::clone(&copy));
        inner.changes.push((stored, copy));
        Ok(())
    }

    async fn holder(&self, hold: &ControlNumberHold) -> Result<Option<ClaimId>, StoreError> {
        Ok(self
            .inner()
            .holds
            .get(&hold.key())
            .map(|(id, _)| id.clone()))
    }

    async fn release(&self, hold: &ControlNumberHold, holder: &ClaimId) -> Result<(), StoreError> {
        if let Some((held_by, released)) = self.inner().holds.get_mut(&hold.key())
            && held_by == holder
        {
            *released = true;
        }
        Ok(())
    }

    async fn bind_interchange(
        &self,
        key: &InterchangeKey,
        claim: &ClaimId,
    ) -> Result<(), StoreError> {
        self.inner().interchanges.insert(key.key(), claim.clone());
        Ok(())
    }

    async fn interchange(&self, key: &InterchangeKey) -> Result<Option<ClaimId>, StoreError> {
        Ok(self.inner().interchanges.get(&key.key()).cloned())
    }

    async fn due(
        &self,
        state: ClaimState,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let mut due: Vec<ClaimRecord> = self
            .inner()
            .claims
            .values()
            .filter(|r| r.state == state && r.due_at.is_some_and(|d| d <= now))
            .map(|r| ClaimRecord::clone(r))
            .collect();
        due.sort_by_key(|r| r.due_at);
        due.truncate(limit);
        Ok(due)
    }

    async fn next_control_number(&self, sequence: &str) -> Result<u32, StoreError> {
        let mut inner = self.inner();
        let n = inner.sequences.entry(sequence.to_string()).or_insert(0);
        *n = if *n >= 999_999_999 { 1 } else { *n + 1 };
        Ok(*n)
    }
}

/// A page of `items` (sorted by `cursor`) after `after`, up to `limit`.
fn page<T>(
    items: Vec<T>,
    cursor: impl Fn(&T) -> String,
    after: Option<&str>,
    limit: usize,
) -> Page<T> {
    let mut items: Vec<T> = items
        .into_iter()
        .filter(|i| after.is_none_or(|a| cursor(i).as_str() > a))
        .collect();
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(&cursor)
    } else {
        None
    };
    Page { items, next }
}

impl RemittanceStore for InMemoryClaimStore {
    async fn begin_payment(
        &self,
        record: &PaymentRecord,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let mut inner = self.inner();
        if let Some(existing) = inner.payments.get(&record.id) {
            return Ok(Some(existing.clone()));
        }
        inner.payments.insert(record.id.clone(), record.clone());
        Ok(None)
    }

    async fn payment(&self, id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.inner().payments.get(id).cloned())
    }

    async fn update_payment(&self, record: &PaymentRecord) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let stored = inner.payments.get(&record.id).map(|r| r.version);
        if stored != Some(record.version) {
            return Err(StoreError::Conflict {
                what: format!(
                    "payment {} is at version {stored:?}, not {}",
                    record.id, record.version
                ),
            });
        }
        let mut copy = record.clone();
        copy.version += 1;
        inner.payments.insert(record.id.clone(), copy);
        Ok(())
    }

    async fn payments(
        &self,
        organization: &OrganizationId,
        filter: &PaymentFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<PaymentRecord>, StoreError> {
        let mut found: Vec<PaymentRecord> = self
            .inner()
            .payments
            .values()
            .filter(|p| p.organization.as_ref() == Some(organization))
            .filter(|p| {
                filter
                    .payer_id
                    .as_ref()
                    .is_none_or(|x| &p.key.payer_id == x)
            })
            .filter(|p| {
                filter
                    .trace_number
                    .as_ref()
                    .is_none_or(|x| &p.key.trace_number == x)
            })
            .filter(|p| {
                filter
                    .paid_from
                    .is_none_or(|from| p.paid_on.is_some_and(|d| d >= from))
            })
            .filter(|p| {
                filter
                    .paid_to
                    .is_none_or(|to| p.paid_on.is_some_and(|d| d <= to))
            })
            .cloned()
            .collect();
        found.sort_by_key(PaymentRecord::cursor);
        Ok(page(found, PaymentRecord::cursor, after, limit))
    }

    async fn put_claim_payment(&self, record: &ClaimPaymentRecord) -> Result<(), StoreError> {
        self.inner().claim_payments.insert(
            (record.posting.payment.clone(), record.posting.index),
            record.clone(),
        );
        Ok(())
    }

    async fn claim_payment(
        &self,
        posting: &PostingId,
    ) -> Result<Option<ClaimPaymentRecord>, StoreError> {
        Ok(self
            .inner()
            .claim_payments
            .get(&(posting.payment.clone(), posting.index))
            .cloned())
    }

    async fn claim_payments(
        &self,
        payment: &PaymentId,
        from: usize,
        limit: usize,
    ) -> Result<Vec<ClaimPaymentRecord>, StoreError> {
        Ok(self
            .inner()
            .claim_payments
            .range((payment.clone(), from)..)
            .take_while(|((p, _), _)| p == payment)
            .take(limit)
            .map(|(_, r)| r.clone())
            .collect())
    }

    async fn raise(&self, exception: &RemittanceException) -> Result<bool, StoreError> {
        let mut inner = self.inner();
        if inner.exceptions.contains_key(&exception.id) {
            return Ok(false);
        }
        inner
            .exceptions
            .insert(exception.id.clone(), exception.clone());
        inner.raised.push(exception.id.clone());
        Ok(true)
    }

    async fn exception(&self, id: &ExceptionId) -> Result<Option<RemittanceException>, StoreError> {
        Ok(self.inner().exceptions.get(id).cloned())
    }

    async fn update_exception(&self, exception: &RemittanceException) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let stored = inner.exceptions.get(&exception.id).map(|e| e.version);
        if stored != Some(exception.version) {
            return Err(StoreError::Conflict {
                what: format!(
                    "exception {} is at version {stored:?}, not {}",
                    exception.id, exception.version
                ),
            });
        }
        let mut copy = exception.clone();
        copy.version += 1;
        inner.exceptions.insert(exception.id.clone(), copy);
        Ok(())
    }

    async fn exceptions(
        &self,
        organization: Option<&OrganizationId>,
        open_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RemittanceException>, StoreError> {
        let found: Vec<RemittanceException> = self
            .all_exceptions()
            .into_iter()
            .filter(|e| e.organization.as_ref() == organization)
            .filter(|e| !open_only || e.is_open())
            .collect();
        let mut found = found;
        found.sort_by_key(RemittanceException::cursor);
        Ok(page(found, RemittanceException::cursor, after, limit))
    }

    async fn bind_payer_claim(
        &self,
        key: &PayerClaimKey,
        claim: &ClaimId,
    ) -> Result<ClaimId, StoreError> {
        Ok(self
            .inner()
            .payer_claims
            .entry(key.key())
            .or_insert_with(|| claim.clone())
            .clone())
    }

    async fn payer_claim(&self, key: &PayerClaimKey) -> Result<Option<ClaimId>, StoreError> {
        Ok(self.inner().payer_claims.get(&key.key()).cloned())
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
        let mut sent = locked(&self.sent);
        let (taken, kept): (Vec<_>, Vec<_>) = sent.drain(..).partition(|(t, _, _)| *t == topic);
        *sent = kept;
        taken.into_iter().map(|(_, b, d)| (b, d)).collect()
    }
}

impl Queue for InMemoryQueue {
    async fn send(&self, topic: Topic, body: Vec<u8>, delay: Duration) -> Result<(), QueueError> {
        locked(&self.sent).push((topic, body, delay));
        Ok(())
    }
}

/// A process that can die: shared by the [`Crashing`] adapters of one test, it counts their
/// calls and, once armed, lets the `at`-th call take effect and fails every call after it,
/// as if the process ended between two lines. A new process (a redelivery, the next sweep)
/// is [`Crash::revive`]d.
#[derive(Debug, Default)]
pub struct Crash {
    state: Mutex<CrashState>,
}

#[derive(Debug, Default)]
struct CrashState {
    calls: usize,
    at: Option<usize>,
    dead: bool,
}

impl Crash {
    /// A process that does not die until armed.
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CrashState> {
        locked(&self.state)
    }

    /// Dies after the `at`-th call from now (1 for the next) has taken effect.
    pub fn arm(&self, at: usize) {
        let mut state = self.state();
        state.at = Some(state.calls + at);
    }

    /// A new process: alive, unarmed.
    pub fn revive(&self) {
        let mut state = self.state();
        state.dead = false;
        state.at = None;
    }

    /// Whether the process has died.
    pub fn is_dead(&self) -> bool {
        self.state().dead
    }

    /// Calls counted so far.
    pub fn calls(&self) -> usize {
        self.state().calls
    }

    /// `Err` when the process is dead (the call never happens).
    fn enter(&self) -> Result<(), String> {
        if self.state().dead {
            Err("the process died".into())
        } else {
            Ok(())
        }
    }

    /// Counts a call that took effect; the process dies when it was the armed one.
    fn leave(&self) {
        let mut state = self.state();
        state.calls += 1;
        if state.at == Some(state.calls) {
            state.dead = true;
        }
    }
}

/// An adapter whose calls die with the process [`Crash`] says: for fault-injection tests.
#[derive(Debug)]
pub struct Crashing<T> {
    /// The adapter.
    pub inner: T,
    /// The process it runs in.
    pub crash: std::sync::Arc<Crash>,
}

impl<T> Crashing<T> {
    /// `inner`, dying with `crash`.
    pub fn new(inner: T, crash: &std::sync::Arc<Crash>) -> Self {
        Self {
            inner,
            crash: std::sync::Arc::clone(crash),
        }
    }
}

/// A future that is pending once: a point where another task may run, so that two
/// deliveries polled in turn interleave at every port call.
#[derive(Debug, Default)]
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Runs `call` in the crashing process: refused when it is dead, counted when it took effect.
/// Each call first yields, so that concurrent tasks interleave between any two calls.
macro_rules! in_process {
    ($self:ident, $dead:expr, $call:expr) => {{
        YieldOnce::default().await;
        if let Err(why) = $self.crash.enter() {
            return Err($dead(why));
        }
        let result = $call.await;
        $self.crash.leave();
        result
    }};
}

impl<T> Crashing<T> {
    /// Runs `call` in the crashing process, as this crate's adapters do: for the ports of
    /// other crates (`dead` makes their error for a call the dead process never made).
    pub async fn within<R, E>(
        &self,
        dead: impl FnOnce(String) -> E,
        call: impl std::future::Future<Output = Result<R, E>>,
    ) -> Result<R, E> {
        in_process!(self, dead, call)
    }
}

impl<T: ClaimStore> ClaimStore for Crashing<T> {
    async fn create(
        &self,
        record: &ClaimRecord,
        hold: Option<&ControlNumberHold>,
    ) -> Result<(), CreateError> {
        let dead = |message| CreateError::Store(StoreError::Unavailable { message });
        in_process!(self, dead, self.inner.create(record, hold))
    }
    async fn binding(&self, key: &str) -> Result<Option<IdempotencyBinding>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.binding(key))
    }
    async fn get(&self, id: &ClaimId) -> Result<Option<ClaimRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.get(id))
    }
    async fn update(&self, record: &ClaimRecord) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.update(record))
    }
    async fn holder(&self, hold: &ControlNumberHold) -> Result<Option<ClaimId>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.holder(hold))
    }
    async fn release(&self, hold: &ControlNumberHold, holder: &ClaimId) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.release(hold, holder))
    }
    async fn due(
        &self,
        state: ClaimState,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.due(state, now, limit))
    }
    async fn next_control_number(&self, sequence: &str) -> Result<u32, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.next_control_number(sequence))
    }
    async fn bind_interchange(
        &self,
        key: &InterchangeKey,
        claim: &ClaimId,
    ) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.bind_interchange(key, claim))
    }
    async fn interchange(&self, key: &InterchangeKey) -> Result<Option<ClaimId>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.interchange(key))
    }
}

impl<T: RemittanceStore> RemittanceStore for Crashing<T> {
    async fn begin_payment(
        &self,
        record: &PaymentRecord,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.begin_payment(record))
    }
    async fn payment(&self, id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.payment(id))
    }
    async fn update_payment(&self, record: &PaymentRecord) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.update_payment(record))
    }
    async fn payments(
        &self,
        organization: &OrganizationId,
        filter: &PaymentFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<PaymentRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(
            self,
            dead,
            self.inner.payments(organization, filter, after, limit)
        )
    }
    async fn put_claim_payment(&self, record: &ClaimPaymentRecord) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.put_claim_payment(record))
    }
    async fn claim_payment(
        &self,
        posting: &PostingId,
    ) -> Result<Option<ClaimPaymentRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.claim_payment(posting))
    }
    async fn claim_payments(
        &self,
        payment: &PaymentId,
        from: usize,
        limit: usize,
    ) -> Result<Vec<ClaimPaymentRecord>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.claim_payments(payment, from, limit))
    }
    async fn raise(&self, exception: &RemittanceException) -> Result<bool, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.raise(exception))
    }
    async fn exception(&self, id: &ExceptionId) -> Result<Option<RemittanceException>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.exception(id))
    }
    async fn update_exception(&self, exception: &RemittanceException) -> Result<(), StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.update_exception(exception))
    }
    async fn exceptions(
        &self,
        organization: Option<&OrganizationId>,
        open_only: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RemittanceException>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(
            self,
            dead,
            self.inner.exceptions(organization, open_only, after, limit)
        )
    }
    async fn bind_payer_claim(
        &self,
        key: &PayerClaimKey,
        claim: &ClaimId,
    ) -> Result<ClaimId, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.bind_payer_claim(key, claim))
    }
    async fn payer_claim(&self, key: &PayerClaimKey) -> Result<Option<ClaimId>, StoreError> {
        let dead = |message| StoreError::Unavailable { message };
        in_process!(self, dead, self.inner.payer_claim(key))
    }
}

impl<T: ObjectStore> ObjectStore for Crashing<T> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.get(key))
    }
    async fn get_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.get_range(key, range))
    }
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.put(key, bytes))
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.delete(key))
    }
    async fn download(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<u64>, ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: key.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.download(key, path))
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), ObjectStoreError> {
        let dead = |message| ObjectStoreError::Unavailable {
            key: from.to_string(),
            message,
        };
        in_process!(self, dead, self.inner.copy(from, to))
    }
}

impl<T: Queue> Queue for Crashing<T> {
    async fn send(&self, topic: Topic, body: Vec<u8>, delay: Duration) -> Result<(), QueueError> {
        let dead = |message| QueueError { topic, message };
        in_process!(self, dead, self.inner.send(topic, body, delay))
    }
}

impl<T: PayerGateway> PayerGateway for Crashing<T> {
    async fn real_time(
        &self,
        payer_id: &str,
        exchange: RealTime,
        x12: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let dead = |message| GatewayError::Unavailable {
            status: None,
            message,
        };
        in_process!(self, dead, self.inner.real_time(payer_id, exchange, x12))
    }
    async fn submit_batch(
        &self,
        payer_id: &str,
        x12: &[u8],
        payload_id: &str,
    ) -> Result<(), GatewayError> {
        let dead = |message| GatewayError::Unavailable {
            status: None,
            message,
        };
        in_process!(
            self,
            dead,
            self.inner.submit_batch(payer_id, x12, payload_id)
        )
    }
    async fn retrieve_results(
        &self,
        payer_id: &str,
        payload_id: &str,
    ) -> Result<Vec<Vec<u8>>, GatewayError> {
        let dead = |message| GatewayError::Unavailable {
            status: None,
            message,
        };
        in_process!(
            self,
            dead,
            self.inner.retrieve_results(payer_id, payload_id)
        )
    }
}

/// What the in-memory payer does with the next 837 it is handed.
#[derive(Debug, Clone)]
pub enum PayerAnswer {
    /// Fails the exchange; the payer does not have the 837.
    Fail(GatewayError),
    /// Takes it, with a 999 (from our own validator) and a 277CA accepting the claim, or
    /// rejecting it when `reject`, ready for results retrieval.
    Acknowledge {
        /// Whether the 277CA rejects it.
        reject: bool,
    },
    /// Takes it and acknowledges nothing (yet: [`InMemoryPayer::acknowledge_later`]).
    Silent,
    /// Takes it and answers a TA1 that rejects the interchange.
    RejectInterchange,
}

/// A payer in memory, as the payer simulator behaves: it keeps every 837 it is handed by its
/// CORE payload id, tells a resend (the same payload id) from a duplicate (a patient control
/// number it holds under another identity), and serves acknowledgments by payload id.
#[derive(Debug, Default)]
pub struct InMemoryPayer {
    state: Mutex<PayerState>,
}

#[derive(Debug, Default)]
struct PayerState {
    next: std::collections::VecDeque<PayerAnswer>,
    real_time: std::collections::VecDeque<Result<Vec<u8>, GatewayError>>,
    /// Payload id → the 837 and its acknowledgments.
    batches: BTreeMap<String, (Vec<u8>, Vec<Vec<u8>>)>,
    /// Patient control number → the payload ids it came under.
    claims: BTreeMap<String, Vec<String>>,
    /// Payload ids it rejected (277CA or TA1).
    rejected: std::collections::BTreeSet<String>,
    resends: usize,
    duplicates: usize,
    received: Vec<Vec<u8>>,
}

impl InMemoryPayer {
    /// A payer that acknowledges and accepts everything until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PayerState> {
        locked(&self.state)
    }

    /// What it does with the next 837 (after those already told).
    pub fn then(&self, answer: PayerAnswer) -> &Self {
        self.state().next.push_back(answer);
        self
    }

    /// Its answer to the next real-time request.
    pub fn answer(&self, reply: Result<Vec<u8>, GatewayError>) {
        self.state().real_time.push_back(reply);
    }

    /// Acknowledges every batch it holds without acknowledgments: accepting, or rejecting.
    pub fn acknowledge_later(&self, reject: bool) {
        let mut state = self.state();
        for (x12, acks) in state.batches.values_mut() {
            if acks.is_empty() {
                *acks = acknowledgments(x12, reject);
            }
        }
    }

    /// Every X12 it was sent, in order (resends included).
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.state().received.clone()
    }

    /// Distinct 837 submissions it holds (by payload id).
    pub fn batches(&self) -> usize {
        self.state().batches.len()
    }

    /// Resends it recognised: an 837 again under a payload id it holds.
    pub fn resends(&self) -> usize {
        self.state().resends
    }

    /// Duplicates: a patient control number it holds (did not reject), again under a new
    /// identity. A payer would deny these, or pay twice.
    pub fn duplicates(&self) -> usize {
        self.state().duplicates
    }
}

/// A TA1 rejecting the interchange of `x12` (TA104 `R`, note 006: duplicate control number).
fn interchange_rejection(x12: &[u8]) -> Vec<u8> {
    let icn = hms_x12::Tokenizer::new(x12)
        .flatten()
        .find(|s| s.id() == b"ISA")
        .map(|s| String::from_utf8_lossy(s.value(13)).into_owned())
        .unwrap_or_default();
    format!(
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*HMSACH         *261202*1200*^*00501*000000001*0*T*:~TA1*{icn}*261202*1200*R*006~IEA*0*000000001~"
    )
    .into_bytes()
}

/// A 999 (from our own validator) and a 277CA accepting or rejecting every claim of `x12`.
pub fn acknowledgments(x12: &[u8], reject: bool) -> Vec<Vec<u8>> {
    use hms_domain::claims::ack_277ca;
    use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
    let Ok(catalog) = hms_x12::spec::Catalog::embedded() else {
        return vec![];
    };
    let report = hms_x12::validate::validate_bytes(x12, catalog);
    let options = hms_x12::ack::AckOptions {
        date: "20261202".into(),
        time: "1200".into(),
        control_number: 1,
    };
    let Ok(ack_999) = hms_x12::ack::ack_999(&report, &options) else {
        return vec![];
    };
    let Ok(claims) = hms_domain::claims::read_837::read_837(x12, catalog) else {
        return vec![ack_999];
    };
    let outcome = OperationOutcome::new(if reject {
        vec![Issue {
            severity: IssueSeverity::Error,
            code: IssueType::BusinessRule,
            diagnostics: Some("payer-edit".into()),
            details: Details {
                text: "member not on file for the date of service".into(),
            },
            expression: vec![],
        }]
    } else {
        vec![]
    });
    let batch: Vec<_> = claims
        .iter()
        .map(|claim| ack_277ca::Reviewed {
            claim,
            outcome: &outcome,
        })
        .collect();
    let created = chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap_or_default();
    let envelope = hms_domain::partner::Envelope::new(7, created);
    let partner = hms_domain::partner::Connections::local().default;
    // The payer the claims were sent to answers: a 277CA names it as the source.
    let source = claims.first().map_or_else(
        || ack_277ca::InformationSource {
            name: "PAYER".into(),
            id: "PAYER".into(),
        },
        |c| ack_277ca::InformationSource {
            name: c.parties().payer.name.clone(),
            id: c.payer_id().to_string(),
        },
    );
    match ack_277ca::claim_acknowledgment(
        &batch,
        &source,
        "0001",
        created.date(),
        &partner,
        &envelope,
    ) {
        Ok(ack_277) => vec![ack_999, ack_277],
        Err(_) => vec![ack_999],
    }
}

impl PayerGateway for InMemoryPayer {
    async fn real_time(
        &self,
        _payer_id: &str,
        _exchange: RealTime,
        x12: &[u8],
    ) -> Result<Vec<u8>, GatewayError> {
        let mut state = self.state();
        state.received.push(x12.to_vec());
        state
            .real_time
            .pop_front()
            .unwrap_or(Err(GatewayError::Unavailable {
                status: Some(500),
                message: "no answer scripted".into(),
            }))
    }

    async fn submit_batch(
        &self,
        _payer_id: &str,
        x12: &[u8],
        payload_id: &str,
    ) -> Result<(), GatewayError> {
        let mut state = self.state();
        state.received.push(x12.to_vec());
        let answer = state
            .next
            .pop_front()
            .unwrap_or(PayerAnswer::Acknowledge { reject: false });
        let (acks, rejected) = match answer {
            PayerAnswer::Fail(e) => return Err(e),
            PayerAnswer::Acknowledge { reject } => (acknowledgments(x12, reject), reject),
            PayerAnswer::Silent => (vec![], false),
            PayerAnswer::RejectInterchange => (vec![interchange_rejection(x12)], true),
        };
        if state.batches.contains_key(payload_id) {
            state.resends += 1;
            return Ok(());
        }
        let state = &mut *state;
        for pcn in hms_domain::claims::read_837::original_claim_numbers(x12) {
            let under = state.claims.entry(pcn).or_default();
            // A claim the payer rejected may come again, corrected, under its number.
            if under
                .iter()
                .any(|earlier| !state.rejected.contains(earlier))
            {
                state.duplicates += 1;
            }
            under.push(payload_id.to_string());
        }
        if rejected {
            state.rejected.insert(payload_id.to_string());
        }
        state
            .batches
            .insert(payload_id.to_string(), (x12.to_vec(), acks));
        Ok(())
    }

    async fn retrieve_results(
        &self,
        _payer_id: &str,
        payload_id: &str,
    ) -> Result<Vec<Vec<u8>>, GatewayError> {
        Ok(self
            .state()
            .batches
            .get(payload_id)
            .map(|(_, acks)| acks.clone())
            .unwrap_or_default())
    }
}
