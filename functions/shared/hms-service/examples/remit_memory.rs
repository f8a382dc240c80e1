//! Peak memory of posting a large 835 as the ingest function does it: the file read from local
//! disk in passes (validated, read through, posted claim payment by claim payment), over a
//! claim store that keeps what a remote database would (nothing in this process).
//!
//! `cargo run --release -p hms-service --example remit_memory -- write FILE MB` writes a
//! synthetic 835 of at least MB megabytes (in a process of its own, since making it takes
//! the memory of the whole file); `… -- post FILE` posts it and prints the claim payments, the
//! time, and the process's peak resident memory (VmHWM).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use hms_service::lifecycle::{ClaimId, ClaimRecord, ClaimState, IdempotencyBinding};
use hms_service::ports::{
    Adapters, ClaimStore, ControlNumberHold, CreateError, InterchangeKey, NoRules, Page,
    PayerClaimKey, PaymentFilter, RemittanceStore, StoreError, SystemClock,
};
use hms_service::remittance::records::{
    ClaimPaymentRecord, ExceptionId, PaymentId, PaymentRecord, PostingId, RemittanceException,
};
use hms_service::remittance::{FileOutcome, Mode};
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{InMemoryObjectStore, InMemoryPayer, InMemoryQueue};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A store whose records live elsewhere: it keeps the payments (a handful) and forgets the
/// rest, as a function's memory does when its store is DynamoDB.
#[derive(Debug, Default)]
struct Remote {
    payments: Mutex<BTreeMap<PaymentId, PaymentRecord>>,
}

impl ClaimStore for Remote {
    async fn create(
        &self,
        _: &ClaimRecord,
        _: Option<&ControlNumberHold>,
    ) -> Result<(), CreateError> {
        Ok(())
    }
    async fn binding(&self, _: &str) -> Result<Option<IdempotencyBinding>, StoreError> {
        Ok(None)
    }
    async fn get(&self, _: &ClaimId) -> Result<Option<ClaimRecord>, StoreError> {
        Ok(None)
    }
    async fn update(&self, _: &ClaimRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn holder(&self, _: &ControlNumberHold) -> Result<Option<ClaimId>, StoreError> {
        Ok(None)
    }
    async fn release(&self, _: &ControlNumberHold, _: &ClaimId) -> Result<(), StoreError> {
        Ok(())
    }
    async fn due(
        &self,
        _: ClaimState,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        Ok(vec![])
    }
    async fn next_control_number(&self, _: &str) -> Result<u32, StoreError> {
        Ok(1)
    }
    async fn bind_interchange(&self, _: &InterchangeKey, _: &ClaimId) -> Result<(), StoreError> {
        Ok(())
    }
    async fn interchange(&self, _: &InterchangeKey) -> Result<Option<ClaimId>, StoreError> {
        Ok(None)
    }
}

impl RemittanceStore for Remote {
    async fn begin_payment(
        &self,
        record: &PaymentRecord,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let mut payments = self.payments.lock().map_err(|_| StoreError::Unavailable {
            message: "poisoned".into(),
        })?;
        if let Some(existing) = payments.get(&record.id) {
            return Ok(Some(existing.clone()));
        }
        payments.insert(record.id.clone(), record.clone());
        Ok(None)
    }
    async fn payment(&self, id: &PaymentId) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.payments.lock().ok().and_then(|p| p.get(id).cloned()))
    }
    async fn update_payment(&self, record: &PaymentRecord) -> Result<(), StoreError> {
        let mut payments = self.payments.lock().map_err(|_| StoreError::Unavailable {
            message: "poisoned".into(),
        })?;
        let mut copy = record.clone();
        copy.version += 1;
        payments.insert(record.id.clone(), copy);
        Ok(())
    }
    async fn payments(
        &self,
        _: &OrganizationId,
        _: &PaymentFilter,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<PaymentRecord>, StoreError> {
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    async fn put_claim_payment(&self, _: &ClaimPaymentRecord) -> Result<(), StoreError> {
        Ok(())
    }
    async fn claim_payment(&self, _: &PostingId) -> Result<Option<ClaimPaymentRecord>, StoreError> {
        Ok(None)
    }
    async fn claim_payments(
        &self,
        _: &PaymentId,
        _: usize,
        _: usize,
    ) -> Result<Vec<ClaimPaymentRecord>, StoreError> {
        Ok(vec![])
    }
    async fn raise(&self, _: &RemittanceException) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn exception(&self, _: &ExceptionId) -> Result<Option<RemittanceException>, StoreError> {
        Ok(None)
    }
    async fn update_exception(&self, _: &RemittanceException) -> Result<(), StoreError> {
        Ok(())
    }
    async fn exceptions(
        &self,
        _: Option<&OrganizationId>,
        _: bool,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<RemittanceException>, StoreError> {
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    async fn bind_payer_claim(
        &self,
        _: &PayerClaimKey,
        claim: &ClaimId,
    ) -> Result<ClaimId, StoreError> {
        Ok(claim.clone())
    }
    async fn payer_claim(&self, _: &PayerClaimKey) -> Result<Option<ClaimId>, StoreError> {
        Ok(None)
    }
}

/// The process's peak resident memory, in KiB (VmHWM).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") => {
            let path = args
                .get(2)
                .ok_or_else(|| anyhow::anyhow!("write FILE MB"))?;
            let mb: usize = args.get(3).map_or(Ok(200), |m| m.parse())?;
            let bytes = hms_x12::synth::remittance_835(mb * 1_000_000)?;
            std::fs::write(path, &bytes)?;
            println!("wrote {} bytes to {path}", bytes.len());
        }
        Some("post") => {
            let path = args
                .get(2)
                .ok_or_else(|| anyhow::anyhow!("post FILE"))?
                .clone();
            let size = std::fs::metadata(&path)?.len();
            let before = peak_kib();
            let service = hms_service::service::Clearinghouse {
                ports: Adapters {
                    store: Remote::default(),
                    objects: InMemoryObjectStore::new(),
                    queue: InMemoryQueue::new(),
                    gateway: InMemoryPayer::new(),
                    rules: NoRules,
                    clock: SystemClock,
                },
                connections: hms_domain::partner::Connections::local(),
                organizations: hms_service::testing::local_organizations(),
                timing: hms_service::service::Timing::default(),
            };
            let started = std::time::Instant::now();
            let outcome = pollster::block_on(service.post_stream(
                "inbound/large.835",
                || std::fs::File::open(&path),
                Mode::Post,
            ))?;
            let took = started.elapsed();
            let claims: usize = match &outcome {
                FileOutcome::Posted { payments, .. } => {
                    payments.iter().map(|p| p.claim_payments).sum()
                }
                other => anyhow::bail!("not posted: {other:?}"),
            };
            println!(
                "posted {size} bytes: {claims} claim payments in {:.1} s; peak resident memory {} MiB (before posting {} MiB)",
                took.as_secs_f64(),
                peak_kib() / 1024,
                before / 1024
            );
        }
        _ => anyhow::bail!("remit_memory write FILE MB | post FILE"),
    }
    Ok(())
}
