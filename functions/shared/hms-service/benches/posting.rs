//! Posting throughput: one 835 payment of 10,000 claim payments posted to 10,000 accepted
//! claims over the in-memory ports (matched by patient control number, balanced, written onto
//! each claim with its move, stored with its result, checkpointed), in claim payments per
//! second. The claims and the payment are made outside the measured time.
//! Run: `cargo bench -p hms-service --bench posting`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark: a failure is a broken setup

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hms_domain::claims::{Claim, ClaimKind};
use hms_domain::remittance::{
    Adjustment, Balance, ClaimPayment, Party, PartyId, Payment, Remittance, ServicePayment,
};
use hms_service::lifecycle::{ClaimId, ClaimRecord, ClaimState};
use hms_service::ports::{ClaimStore, ControlNumberHold, NoRules};
use hms_service::remittance::Mode;
use hms_service::remittance::records::Source;
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{InMemoryPayer, ManualClock, in_memory};
use pollster::block_on;
use rust_decimal::Decimal;

/// The allocator the remittance functions ship with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLAIMS: usize = 10_000;

fn money(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn adjustment(group: &str, reason: &str, amount: &str) -> Adjustment {
    Adjustment {
        group_code: group.into(),
        group: "".into(),
        reason_code: reason.into(),
        reason: None,
        amount: money(amount),
        quantity: None,
    }
}

fn line(code: &str, charge: &str, paid: &str, cas: Vec<Adjustment>) -> ServicePayment {
    ServicePayment {
        code_qualifier: "HC".into(),
        procedure_code: code.into(),
        modifiers: vec![],
        charge: money(charge),
        paid: money(paid),
        units: Some(Decimal::ONE),
        service_date: None,
        service_date_end: None,
        line_control_number: None,
        adjustments: cas,
        remarks: vec![],
    }
}

/// A clearinghouse holding `n` accepted claims, and an 835 payment of each.
fn setup(n: usize) -> (impl Fn() -> usize, Remittance) {
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap();
    let ch = in_memory(InMemoryPayer::new(), NoRules, ManualClock::new(at));
    let org = OrganizationId::parse("clinic-a").unwrap();
    let fixture =
        std::fs::read(hms_test_support::fixtures().join("claims/professional-subscriber.json"))
            .unwrap();
    let template: serde_json::Value = serde_json::from_slice(&fixture).unwrap();
    let mut claims = Vec::with_capacity(n);
    for i in 0..n {
        let pcn = format!("BENCH{i:08}");
        let mut json = template.clone();
        json["claim"]["patientControlNumber"] = pcn.clone().into();
        let claim =
            Claim::from_json(&serde_json::to_vec(&json).unwrap(), ClaimKind::Professional).unwrap();
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            org.clone(),
            &claim,
            hms_domain::request::Format::Json,
            at,
            at,
        );
        record.state = ClaimState::AcceptedByPayer;
        record.due_at = None;
        let hold = ControlNumberHold::of(&org, &claim);
        block_on(ch.ports.store.create(&record, Some(&hold))).unwrap();
        claims.push(ClaimPayment {
            header_number: Some("1".into()),
            patient_control_number: pcn.into(),
            status_code: "1".into(),
            status: "".into(),
            charge: money("140.00"),
            paid: money("100.00"),
            patient_responsibility: Some(money("20.00")),
            claim_filing_indicator: "12".into(),
            payer_claim_control_number: Some(format!("ICN{i:010}").into()),
            facility_code: Some("11".into()),
            inpatient: false,
            patient: None,
            adjustments: vec![],
            services: vec![
                line(
                    "99213",
                    "100.00",
                    "70.00",
                    vec![
                        adjustment("CO", "45", "10.00"),
                        adjustment("PR", "1", "20.00"),
                    ],
                ),
                line(
                    "87880",
                    "40.00",
                    "30.00",
                    vec![adjustment("CO", "45", "10.00")],
                ),
            ],
        });
    }
    let total = money("100.00") * Decimal::from(n);
    let remittance = Remittance {
        payment: Payment {
            handling_code: "I".into(),
            amount: total,
            credit_debit: "C".into(),
            method: "CHK".into(),
            date: None,
            trace_number: "BENCH1".into(),
            originator: Some("1512345678".into()),
        },
        payer: Party {
            name: "KEY INSURANCE COMPANY".into(),
            id: None,
            references: vec![PartyId {
                qualifier: "2U".into(),
                value: "999996666".into(),
            }],
            address: None,
            contacts: vec![],
        },
        payee: Party {
            name: "CLINIC".into(),
            id: Some(PartyId {
                qualifier: "XX".into(),
                value: "1912301953".into(),
            }),
            references: vec![],
            address: None,
            contacts: vec![],
        },
        claims,
        provider_adjustments: vec![],
        balance: Balance {
            claims_paid: total,
            provider_adjustments: Decimal::ZERO,
            expected_payment: total,
            balanced: true,
        },
    };
    let r = remittance.clone();
    let post = move || {
        let source = Source {
            key: "inbound/bench.835".into(),
            set: 0,
            envelope: None,
            transaction: None,
        };
        block_on(async {
            let mut run = ch.begin_payment(&r, source, Mode::Post).await.unwrap();
            for claim in &r.claims {
                ch.post_claim(&mut run, claim.clone()).await.unwrap();
            }
            let report = ch.finish_payment(run, &r).await.unwrap();
            report.paid
        })
    };
    (post, remittance)
}

fn posting(c: &mut Criterion) {
    let mut group = c.benchmark_group("remittance");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CLAIMS as u64));
    group.bench_function("post 10k claim payments (in-memory ports)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (post, _) = setup(CLAIMS);
                let started = Instant::now();
                let paid = post();
                total += started.elapsed();
                assert_eq!(paid, CLAIMS);
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, posting);
criterion_main!(benches);
