//! Posting payers' 835s: each claim payment matched to the claim it pays, the claim moved to
//! paid or denied with the money recorded, exceptions for what cannot be settled alone, and
//! exactly once: the same file twice, the same payment in two files, and a run that dies
//! between any two port calls and runs again all post each claim payment once.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod support;

use hms_domain::remittance::balance::Disposition;
use hms_service::lifecycle::{ClaimId, ClaimState};
use hms_service::ports::{NoRules, PaymentFilter, RemittanceStore};
use hms_service::remittance::records::{ExceptionReason, PostingStatus};
use hms_service::remittance::{FileOutcome, Mode, PaymentReport, Start};
use hms_service::testing::Crash;
use pollster::block_on;
use rust_decimal::Decimal;
use support::*;

fn money(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The fixture claim sent with patient control number `pcn`, through the payer's
/// acknowledgments (accepted): its id.
fn accepted_claim(ch: &Test<NoRules>, pcn: &str) -> ClaimId {
    let answer = submit(ch, &with_control_number(&professional(), pcn), None);
    drain(ch);
    let id = answer.id();
    assert_eq!(record(ch, &id).state, ClaimState::AcceptedByPayer);
    id
}

/// One CLP of a test 835 and its lines: the claim's 140.00 (two lines of 100 and 40) paid,
/// denied or reversed.
#[derive(Clone, Copy)]
enum Pays {
    /// 100 paid, 20 contractual, 20 deductible: CLP04 100, CLP05 20.
    InPart,
    /// Nothing paid, the whole charge adjusted away (CO 50, not medically necessary).
    Denied,
    /// The payment `InPart` taken back.
    Reversal,
    /// 120 paid, 20 contractual: a correction after a reversal.
    Corrected,
}

/// A service line: charge, paid, and its CAS (group*reason*amount).
type Line = (&'static str, &'static str, Vec<&'static str>);

/// The segments of a claim payment for `pcn`, payer claim number `icn`.
fn clp(pcn: &str, icn: &str, pays: Pays) -> Vec<String> {
    let (status, sign, lines): (&str, &str, [Line; 2]) = match pays {
        Pays::InPart => (
            "1",
            "",
            [
                ("100.00", "70.00", vec!["CO*45*10.00", "PR*1*20.00"]),
                ("40.00", "30.00", vec!["CO*45*10.00"]),
            ],
        ),
        Pays::Denied => (
            "4",
            "",
            [
                ("100.00", "0.00", vec!["CO*50*100.00"]),
                ("40.00", "0.00", vec!["CO*50*40.00"]),
            ],
        ),
        Pays::Reversal => (
            "22",
            "-",
            [
                ("100.00", "70.00", vec!["CO*45*10.00", "PR*1*20.00"]),
                ("40.00", "30.00", vec!["CO*45*10.00"]),
            ],
        ),
        Pays::Corrected => (
            "1",
            "",
            [
                ("100.00", "90.00", vec!["CO*45*10.00"]),
                ("40.00", "30.00", vec!["CO*45*10.00"]),
            ],
        ),
    };
    let neg = |amount: &str| {
        if sign == "-" && amount != "0.00" {
            format!("-{amount}")
        } else {
            amount.to_string()
        }
    };
    let charge: Decimal = lines.iter().map(|(c, _, _)| money(c)).sum();
    let paid: Decimal = lines.iter().map(|(_, p, _)| money(p)).sum();
    let patient: Decimal = lines
        .iter()
        .flat_map(|(_, _, cas)| cas)
        .filter(|c| c.starts_with("PR"))
        .map(|c| money(c.rsplit('*').next().unwrap()))
        .sum();
    let mut out = vec![format!(
        "CLP*{pcn}*{status}*{}*{}*{}*12*{icn}*11*1",
        neg(&format!("{charge:.2}")),
        neg(&format!("{paid:.2}")),
        neg(&format!("{patient:.2}")),
    )];
    out.push("NM1*QC*1*SMITH*JANE****MI*JS00111223333".into());
    for (k, (charge, paid, cas)) in lines.iter().enumerate() {
        let code = if k == 0 { "99213" } else { "87070" };
        out.push(format!("SVC*HC:{code}*{}*{}**1", neg(charge), neg(paid)));
        out.push("DTM*472*20261101".into());
        for c in cas {
            let (group_reason, amount) = c.rsplit_once('*').unwrap();
            out.push(format!("CAS*{group_reason}*{}", neg(amount)));
        }
    }
    out
}

/// An 835 from the payer of the fixture claims (REF*2U 999996666) to clinic-a's NPI, traced
/// `trace`, paying `claims`, with `plb` provider-level adjustments (reason, amount).
fn remittance(trace: &str, claims: &[Vec<String>], plb: &[(&str, &str)]) -> Vec<u8> {
    let paid: Decimal = claims
        .iter()
        .map(|c| money(c[0].split('*').nth(4).unwrap()))
        .sum();
    let adjusted: Decimal = plb.iter().map(|(_, a)| money(a)).sum();
    let total = paid - adjusted;
    let mut body = vec![
        "ST*835*0001".to_string(),
        format!(
            "BPR*I*{total:.2}*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*021000021*DA*987654321*20261121"
        ),
        format!("TRN*1*{trace}*1512345678"),
        "DTM*405*20261120".into(),
        "N1*PR*KEY INSURANCE COMPANY".into(),
        "N3*100 PAYER WAY".into(),
        "N4*HARTFORD*CT*061030001".into(),
        "REF*2U*999996666".into(),
        "PER*BL*PROVIDER SERVICES*TE*8005550100".into(),
        "N1*PE*BEN KILDARE SERVICE*XX*1912301953".into(),
        "REF*TJ*587654321".into(),
        "LX*1".into(),
    ];
    for c in claims {
        body.extend(c.iter().cloned());
    }
    if !plb.is_empty() {
        let mut segment = "PLB*1912301953*20261231".to_string();
        for (reason, amount) in plb {
            segment.push_str(&format!("*{reason}*{amount}"));
        }
        body.push(segment);
    }
    body.push(format!("SE*{}*0001", body.len() + 1));
    let mut text = vec![
        "ISA*00*          *00*          *ZZ*KEYINS         *ZZ*HMSACH         *261121*0930*^*00501*000000801*0*T*:".to_string(),
        "GS*HP*KEYINS*HMSACH*20261121*0930*801*X*005010X221A1".into(),
    ];
    text.extend(body);
    text.push("GE*1*801".into());
    text.push("IEA*1*000000801".into());
    (text.join("~\n") + "~\n").into_bytes()
}

fn post(ch: &Test<NoRules>, key: &str, file: &[u8]) -> Vec<PaymentReport> {
    match block_on(ch.post_file(key, file, Mode::Post)).unwrap() {
        FileOutcome::Posted { payments, .. } => payments,
        other => panic!("not posted: {other:?}"),
    }
}

#[test]
fn the_test_835s_are_valid_by_pyx12s_rules_as_our_validator_holds_them() {
    let file = remittance(
        "EFT1",
        &[
            clp("A1", "ICN1", Pays::InPart),
            clp("A2", "ICN2", Pays::Denied),
        ],
        &[("L6", "-2.50")],
    );
    let report =
        hms_x12::validate::validate_bytes(&file, hms_x12::spec::Catalog::embedded().unwrap());
    assert!(!report.has_errors(), "{:#?}", report.findings);
}

#[test]
fn a_payment_moves_its_claims_to_paid_and_denied_with_the_money_recorded() {
    let ch = clearinghouse(NoRules);
    let paid = accepted_claim(&ch, "A1");
    let denied = accepted_claim(&ch, "A2");
    let file = remittance(
        "EFT1",
        &[
            clp("A1", "ICN1", Pays::InPart),
            clp("A2", "ICN2", Pays::Denied),
            clp("NOSUCH", "ICN3", Pays::InPart),
        ],
        &[("L6", "-2.50")],
    );
    let reports = post(&ch, "inbound/keyins/eft1.835", &file);
    let r = &reports[0];
    assert_eq!(r.start, Start::New);
    assert_eq!((r.paid, r.denied, r.held_back), (1, 1, 1), "{r:#?}");
    assert!(r.balanced);
    assert_eq!(r.organization, Some(clinic()));
    assert_eq!(r.amount, money("202.50"));

    let claim = record(&ch, &paid);
    assert_eq!(claim.state, ClaimState::Paid);
    let balance = claim.balance().unwrap();
    assert_eq!(
        (
            balance.billed,
            balance.paid,
            balance.adjusted,
            balance.patient_responsibility
        ),
        (
            money("140.00"),
            money("100.00"),
            money("20.00"),
            money("20.00")
        )
    );
    assert_eq!(balance.outstanding, Decimal::ZERO);
    let posted = &claim.payments[0];
    assert_eq!(posted.trace_number, "EFT1");
    assert_eq!(posted.services.len(), 2);
    assert_eq!(posted.services[0].adjustments[1].group_code, "PR");
    assert!(
        posted.services[0].adjustments[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("Charge exceeds fee schedule")
    );
    let moved = claim.history.last().unwrap();
    assert_eq!(moved.payment.as_ref().unwrap().paid, money("100.00"));
    assert_eq!(record(&ch, &denied).state, ClaimState::Denied);

    // The unmatched claim payment is an exception naming ids and amounts only.
    let exceptions = ch.ports.store.inner.all_exceptions();
    assert_eq!(exceptions.len(), 1, "{exceptions:#?}");
    let e = &exceptions[0];
    assert_eq!(e.reason, ExceptionReason::UnmatchedClaimPayment);
    assert_eq!(e.claim_payment, Some(2));
    assert_eq!(e.organization, Some(clinic()));
    let said = serde_json::to_string(e).unwrap();
    for phi in ["NOSUCH", "SMITH", "JS00111223333"] {
        assert!(!said.contains(phi), "{phi} in {said}");
    }
    // Events: the claims' moves carry their money, and no PHI.
    let events = ch.ports.store.inner.events();
    let paid_event = events
        .iter()
        .find(|e| e.claim_id == paid && e.state == ClaimState::Paid)
        .unwrap();
    assert_eq!(
        paid_event.payment.as_ref().unwrap().patient_responsibility,
        money("20.00")
    );
    let json = serde_json::to_string(&events).unwrap();
    assert!(!json.contains("SMITH") && !json.contains("A1\""), "{json}");

    // The payment is listed for its organization, and for no other.
    let page = block_on(ch.ports.store.inner.payments(
        &clinic(),
        &PaymentFilter::default(),
        None,
        10,
    ))
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, PostingStatus::Posted);
    assert_eq!(page.items[0].provider_adjustments[0].reason_code, "L6");
    let theirs = block_on(ch.ports.store.inner.payments(
        &other_clinic(),
        &PaymentFilter::default(),
        None,
        10,
    ))
    .unwrap();
    assert!(theirs.items.is_empty());
}

#[test]
fn the_same_file_twice_or_the_same_payment_in_another_file_posts_once() {
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    let file = remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    post(&ch, "inbound/keyins/a.835", &file);
    let again = post(&ch, "inbound/keyins/a.835", &file);
    assert_eq!(again[0].start, Start::Duplicate);
    let elsewhere = post(&ch, "inbound/keyins/b.835", &file);
    assert_eq!(elsewhere[0].start, Start::Duplicate);
    assert_eq!((elsewhere[0].paid, elsewhere[0].held_back), (0, 0));
    let claim = record(&ch, &id);
    assert_eq!(claim.payments.len(), 1);
    assert_eq!(claim.state, ClaimState::Paid);
    let payment = &ch.ports.store.inner.all_payments()[0];
    assert_eq!(payment.duplicate_count, 2);
    assert_eq!(payment.duplicates[1].source.key, "inbound/keyins/b.835");
    assert!(ch.ports.store.inner.all_exceptions().is_empty());

    // A second payment (another trace) for a claim already paid is a possible duplicate
    // payment: held back, the claim as it was.
    let second = remittance("EFT2", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    let report = post(&ch, "inbound/keyins/c.835", &second);
    assert_eq!(report[0].held_back, 1);
    let exceptions = ch.ports.store.inner.all_exceptions();
    assert_eq!(
        exceptions[0].reason,
        ExceptionReason::PossibleDuplicatePayment
    );
    assert_eq!(exceptions[0].claim_id, Some(id.clone()));
    assert_eq!(record(&ch, &id).payments.len(), 1);
}

#[test]
fn a_reversal_undoes_the_payment_and_the_correction_posts_again_keeping_the_history() {
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    post(
        &ch,
        "inbound/keyins/1.835",
        &remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]),
    );
    // Later: the payer takes the payment back and pays again, in one 835, and keeps 5.00
    // of interest owed as a PLB (a negative amount adds to the payment).
    let report = post(
        &ch,
        "inbound/keyins/2.835",
        &remittance(
            "EFT2",
            &[
                clp("A1", "ICN1", Pays::Reversal),
                clp("A1", "ICN1", Pays::Corrected),
            ],
            &[("L6", "-5.00")],
        ),
    );
    assert_eq!((report[0].reversed, report[0].paid), (1, 1), "{report:#?}");
    let claim = record(&ch, &id);
    let states: Vec<ClaimState> = claim.history.iter().map(|h| h.state).collect();
    assert_eq!(
        states[states.len() - 3..],
        [
            ClaimState::Paid,
            ClaimState::PaymentReversed,
            ClaimState::Paid
        ]
    );
    assert_eq!(claim.payments.len(), 3);
    assert_eq!(
        claim.payments[0].reversed_by.as_ref(),
        Some(&claim.payments[1].posting)
    );
    assert_eq!(claim.payments[1].disposition, Disposition::Reversal);
    let balance = claim.balance().unwrap();
    assert_eq!(
        (
            balance.paid,
            balance.patient_responsibility,
            balance.adjusted,
            balance.outstanding
        ),
        (
            money("120.00"),
            Decimal::ZERO,
            money("20.00"),
            Decimal::ZERO
        )
    );
    assert!(
        ch.ports.store.inner.all_exceptions().is_empty(),
        "{:#?}",
        ch.ports.store.inner.all_exceptions()
    );
    let payment = ch
        .ports
        .store
        .inner
        .all_payments()
        .into_iter()
        .find(|p| p.key.trace_number == "EFT2")
        .unwrap();
    // −100 reversed, 120 paid, 5 of interest: 25 moves.
    assert_eq!(payment.amount, money("25.00"));
    assert!(payment.balanced);
}

#[test]
fn what_cannot_be_posted_alone_is_an_exception_with_a_stable_reason() {
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    // A reversal of a claim never paid; a claim payment that does not balance; a claim
    // billed at another amount than we sent.
    let mut unbalanced = clp("A1", "ICN1", Pays::InPart);
    unbalanced[0] = unbalanced[0].replace("*140.00*100.00*", "*150.00*100.00*");
    let file = remittance(
        "EFT1",
        &[clp("A1", "ICN1", Pays::Reversal), unbalanced],
        &[("L6", "-1.00")],
    );
    // The payment's own total is off by a cent too.
    let file = String::from_utf8(file)
        .unwrap()
        .replace("BPR*I*1.00*", "BPR*I*1.01*")
        .into_bytes();
    let report = post(&ch, "inbound/keyins/x.835", &file);
    assert!(!report[0].balanced);
    let reasons: Vec<ExceptionReason> = ch
        .ports
        .store
        .inner
        .all_exceptions()
        .iter()
        .map(|e| e.reason)
        .collect();
    assert_eq!(
        reasons,
        [
            ExceptionReason::ReversalWithoutPayment,
            ExceptionReason::OutOfBalance,
            ExceptionReason::BilledAmountDiffers,
            ExceptionReason::OutOfBalance,
        ]
    );
    // The unbalanced, misbilled payment is still the payer's word: posted.
    assert_eq!(record(&ch, &id).state, ClaimState::Paid);

    // A payee no organization owns: every claim payment is held back, one exception says so.
    let ch = clearinghouse(NoRules);
    let file = String::from_utf8(remittance("EFT9", &[clp("A1", "ICN1", Pays::InPart)], &[]))
        .unwrap()
        .replace("*XX*1912301953", "*XX*1999999992")
        .replace("REF*TJ*587654321", "REF*TJ*999999999")
        .into_bytes();
    let report = post(&ch, "inbound/keyins/y.835", &file);
    assert_eq!(
        (report[0].organization.as_ref(), report[0].held_back),
        (None, 1)
    );
    let exceptions = ch.ports.store.inner.all_exceptions();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].reason, ExceptionReason::UnknownPayee);
    assert_eq!(exceptions[0].organization, None);
}

#[test]
fn a_dry_run_says_what_would_post_and_writes_nothing() {
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    let file = remittance(
        "EFT1",
        &[
            clp("A1", "ICN1", Pays::InPart),
            clp("ZZ", "ICN2", Pays::Denied),
        ],
        &[],
    );
    let before = record(&ch, &id);
    let FileOutcome::Posted { payments, .. } =
        block_on(ch.post_file("inbound/k/a.835", &file, Mode::DryRun)).unwrap()
    else {
        panic!("rejected")
    };
    let r = &payments[0];
    assert_eq!((r.paid, r.held_back), (1, 1));
    assert_eq!(r.claims[0].claim_id, Some(id.clone()));
    assert_eq!(r.claims[0].state, Some(ClaimState::Paid));
    assert_eq!(
        r.claims[1].exceptions,
        [ExceptionReason::UnmatchedClaimPayment]
    );
    assert_eq!(record(&ch, &id), before);
    assert!(ch.ports.store.inner.all_payments().is_empty());
    assert!(ch.ports.store.inner.all_exceptions().is_empty());
}

#[test]
fn a_file_that_fails_structurally_is_rejected_and_nothing_of_it_posts() {
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    let file = remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    // The SE's count is wrong, and a required segment (the payer's PER) is gone.
    let broken = String::from_utf8(file)
        .unwrap()
        .replace("PER*BL*PROVIDER SERVICES*TE*8005550100~\n", "");
    let outcome =
        block_on(ch.post_file("inbound/k/bad.835", broken.as_bytes(), Mode::Post)).unwrap();
    let FileOutcome::Rejected { reason, findings } = outcome else {
        panic!("posted: {outcome:?}")
    };
    assert!(reason.contains("fails structurally"), "{reason}");
    assert!(
        findings
            .iter()
            .any(|f| f.code.starts_with("IK502") || f.code.starts_with("IK304")),
        "{findings:?}"
    );
    assert_eq!(record(&ch, &id).state, ClaimState::AcceptedByPayer);
    assert!(ch.ports.store.inner.all_payments().is_empty());
    // Not X12 at all.
    let outcome = block_on(ch.post_file("inbound/k/x.835", b"%PDF-1.7", Mode::Post)).unwrap();
    assert!(
        matches!(outcome, FileOutcome::Rejected { .. }),
        "{outcome:?}"
    );
}

/// Posts `file` in a process that dies after `crash_at` port calls, then again (the queue's
/// redelivery) until it finishes; what the store holds after.
fn post_dying(crash_at: usize, second_file_key: &str) -> (Test<NoRules>, Vec<ClaimId>) {
    let crash = Crash::new();
    let ch = clearinghouse_in(NoRules, &crash);
    let ids: Vec<ClaimId> = ["A1", "A2", "A3"]
        .iter()
        .map(|pcn| accepted_claim(&ch, pcn))
        .collect();
    let file = remittance(
        "EFT1",
        &[
            clp("A1", "ICN1", Pays::InPart),
            clp("A2", "ICN2", Pays::Denied),
            clp("NOSUCH", "ICN3", Pays::InPart),
            clp("A3", "ICN4", Pays::InPart),
        ],
        &[],
    );
    crash.arm(crash_at);
    let first = block_on(ch.post_file("inbound/k/a.835", &file, Mode::Post));
    crash.revive();
    if first.is_err() {
        // The message comes back; the same file, or (a duplicate upload racing it) another
        // holding the same payment.
        let again = block_on(ch.post_file(second_file_key, &file, Mode::Post)).unwrap();
        assert!(matches!(again, FileOutcome::Posted { .. }));
    }
    (ch, ids)
}

#[test]
fn a_run_that_dies_between_any_two_port_calls_resumes_without_posting_twice() {
    let mut deaths = 0;
    for crash_at in 1..60 {
        for key in ["inbound/k/a.835", "inbound/k/b.835"] {
            let (ch, ids) = post_dying(crash_at, key);
            if ch.ports.store.crash.calls() < crash_at {
                continue;
            }
            deaths += 1;
            let claims: Vec<_> = ids.iter().map(|id| record(&ch, id)).collect();
            let states: Vec<ClaimState> = claims.iter().map(|c| c.state).collect();
            assert_eq!(
                states,
                [ClaimState::Paid, ClaimState::Denied, ClaimState::Paid],
                "crash at {crash_at}"
            );
            for c in &claims {
                assert_eq!(c.payments.len(), 1, "crash at {crash_at}: {:?}", c.payments);
                let moves = c.history.iter().filter(|h| h.payment.is_some()).count();
                assert_eq!(moves, 1, "crash at {crash_at}");
            }
            let payments = ch.ports.store.inner.all_payments();
            assert_eq!(payments.len(), 1);
            assert_eq!(
                payments[0].status,
                PostingStatus::Posted,
                "crash at {crash_at}"
            );
            assert_eq!(payments[0].claim_payments, 4);
            let exceptions = ch.ports.store.inner.all_exceptions();
            assert_eq!(exceptions.len(), 1, "crash at {crash_at}: {exceptions:#?}");
            let stored =
                block_on(ch.ports.store.inner.claim_payments(&payments[0].id, 0, 10)).unwrap();
            assert_eq!(stored.len(), 4, "crash at {crash_at}");
        }
    }
    assert!(deaths > 20, "only {deaths} schedules died mid-run");
}

#[test]
fn finance_reads_its_payments_by_claim_trace_or_page_and_never_anothers() {
    use hms_service::remittance::finance::RemittanceQuery;
    let ch = clearinghouse(NoRules);
    let a1 = accepted_claim(&ch, "A1");
    accepted_claim(&ch, "A2");
    post(
        &ch,
        "inbound/k/1.835",
        &remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]),
    );
    ch.ports.clock.advance(chrono::TimeDelta::minutes(5));
    post(
        &ch,
        "inbound/k/2.835",
        &remittance("EFT2", &[clp("A2", "ICN2", Pays::Denied)], &[]),
    );
    let fetch = |org: hms_service::tenancy::OrganizationId, query: RemittanceQuery| {
        block_on(ch.fetch_remittance(&org, &query))
    };
    // Newest first, one a page, with a cursor to the next.
    let first = fetch(
        clinic(),
        RemittanceQuery {
            limit: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(first.payments[0].payment.key.trace_number, "EFT2");
    let second = fetch(
        clinic(),
        RemittanceQuery {
            limit: Some(1),
            cursor: first.next.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(second.payments[0].payment.key.trace_number, "EFT1");
    assert_eq!(second.next, None);
    assert_eq!(second.payments[0].claim_payments.len(), 1);
    // By claim: its payments, and of them only its claim payments.
    let by_claim = fetch(
        clinic(),
        RemittanceQuery {
            claim_id: Some(a1.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_claim.payments.len(), 1);
    assert_eq!(
        by_claim.payments[0].claim_payments[0]
            .claim_payment
            .patient_control_number,
        "A1"
    );
    // By trace number; by a paid date range that holds neither.
    let traced = fetch(
        clinic(),
        RemittanceQuery {
            trace_number: Some("EFT2".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(traced.payments.len(), 1);
    let none = fetch(
        clinic(),
        RemittanceQuery {
            paid_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(none.payments.is_empty());
    // Another organization sees nothing, and cannot reach the claim or the payment.
    assert!(
        fetch(other_clinic(), RemittanceQuery::default())
            .unwrap()
            .payments
            .is_empty()
    );
    assert!(
        fetch(
            other_clinic(),
            RemittanceQuery {
                claim_id: Some(a1),
                ..Default::default()
            }
        )
        .is_err()
    );
    let payment_id = first.payments[0].payment.id.clone();
    assert!(matches!(
        fetch(
            other_clinic(),
            RemittanceQuery {
                payment_id: Some(payment_id),
                ..Default::default()
            }
        ),
        Err(hms_service::service::ServiceError::NoSuch {
            what: "payment",
            ..
        })
    ));
    assert!(
        fetch(
            clinic(),
            RemittanceQuery {
                limit: Some(0),
                ..Default::default()
            }
        )
        .is_err()
    );
    // The page as FHIR: one ExplanationOfBenefit a claim payment.
    let bundle = hms_domain::remittance::fhir::remittance_bundle(
        &[first.payments[0].to_remittance()],
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
    );
    assert_eq!(
        bundle["entry"][0]["resource"]["resourceType"],
        "ExplanationOfBenefit"
    );
}

#[test]
fn an_unmatched_payment_linked_by_hand_posts_to_the_claim_and_resolves_its_exception() {
    use hms_service::remittance::finance::Resolve;
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    // The payer sent the claim back under a number we never sent.
    post(
        &ch,
        "inbound/k/1.835",
        &remittance("EFT1", &[clp("A1-TYPO", "ICN1", Pays::InPart)], &[]),
    );
    let page = block_on(ch.remittance_exceptions(&clinic(), false, None, 10)).unwrap();
    assert_eq!(page.exceptions.len(), 1);
    let exception = page.exceptions[0].clone();
    assert_eq!(exception.reason, ExceptionReason::UnmatchedClaimPayment);
    // Another organization cannot see or resolve it.
    assert!(
        block_on(ch.remittance_exceptions(&other_clinic(), false, None, 10))
            .unwrap()
            .exceptions
            .is_empty()
    );
    let resolve = Resolve {
        note: "payer keyed the account number wrong; confirmed by phone".into(),
        claim_id: Some(id.clone()),
    };
    assert!(
        block_on(ch.resolve_exception(&other_clinic(), &exception.id, &resolve, None)).is_err()
    );
    let blank = Resolve {
        note: " ".into(),
        claim_id: None,
    };
    assert!(block_on(ch.resolve_exception(&clinic(), &exception.id, &blank, None)).is_err());

    let resolved =
        block_on(ch.resolve_exception(&clinic(), &exception.id, &resolve, Some("fin-user-1")))
            .unwrap();
    assert_eq!(
        resolved.resolution.as_ref().unwrap().linked_claim,
        Some(id.clone())
    );
    let claim = record(&ch, &id);
    assert_eq!(claim.state, ClaimState::Paid);
    assert_eq!(claim.payments.len(), 1);
    let moved = claim.history.last().unwrap();
    assert!(
        moved
            .reason
            .as_deref()
            .unwrap()
            .contains(exception.id.as_str()),
        "{moved:?}"
    );
    // Resolved once: again is a conflict; the open list is empty, the full list holds it.
    assert!(block_on(ch.resolve_exception(&clinic(), &exception.id, &resolve, None)).is_err());
    assert!(
        block_on(ch.remittance_exceptions(&clinic(), false, None, 10))
            .unwrap()
            .exceptions
            .is_empty()
    );
    assert_eq!(
        block_on(ch.remittance_exceptions(&clinic(), true, None, 10))
            .unwrap()
            .exceptions
            .len(),
        1
    );
    // The payer's claim number now finds the claim: its next adjustment matches.
    let report = post(
        &ch,
        "inbound/k/2.835",
        &remittance("EFT2", &[clp("A1-TYPO", "ICN1", Pays::Reversal)], &[]),
    );
    assert_eq!(report[0].reversed, 1, "{report:#?}");
    assert_eq!(record(&ch, &id).state, ClaimState::PaymentReversed);
}

#[test]
fn the_drop_zone_posts_an_835_and_quarantines_what_it_cannot_take() {
    use hms_service::ports::{ObjectStore, Topic};
    use hms_service::remittance::ingest::Ingested;
    use hms_service::testing::InMemoryObjectStore;
    let ch = clearinghouse(NoRules);
    let id = accepted_claim(&ch, "A1");
    let drops = InMemoryObjectStore::new();
    let good = remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    block_on(drops.put("inbound/keyins/good.835", good)).unwrap();
    let done = block_on(ch.ingest_drop(&drops, "inbound/keyins/good.835")).unwrap();
    assert!(
        matches!(
            &done,
            Ingested::File {
                outcome: FileOutcome::Posted { .. },
                ..
            }
        ),
        "{done:?}"
    );
    assert_eq!(record(&ch, &id).state, ClaimState::Paid);

    // A file cut short, an 837, and nothing X12: each moved to rejected/ with its findings,
    // announced, and nothing posted.
    ch.ports.queue.inner.take(Topic::ClaimEvents);
    let cut = remittance("EFT2", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    let cut = cut[..cut.len() / 2].to_vec();
    for (name, bytes) in [
        ("cut.835", cut),
        // An 837 is nothing a payer drops.
        (
            "claim.837",
            ch.ports.gateway.inner.received().pop().unwrap(),
        ),
        ("photo.jpg", b"\xff\xd8\xff\xe0 not x12".to_vec()),
    ] {
        let key = format!("inbound/keyins/{name}");
        block_on(drops.put(&key, bytes.clone())).unwrap();
        let done = block_on(ch.ingest_drop(&drops, &key)).unwrap();
        assert!(
            matches!(
                &done,
                Ingested::File {
                    outcome: FileOutcome::Rejected { .. },
                    ..
                }
            ),
            "{name}: {done:?}"
        );
        assert_eq!(block_on(drops.get(&key)).unwrap(), None, "{name}");
        let moved = format!("rejected/keyins/{name}");
        assert_eq!(block_on(drops.get(&moved)).unwrap(), Some(bytes), "{name}");
        let findings = block_on(drops.get(&format!("{moved}.findings.json")))
            .unwrap()
            .unwrap();
        let findings: serde_json::Value = serde_json::from_slice(&findings).unwrap();
        assert!(
            findings["reason"].as_str().unwrap().len() > 10,
            "{findings}"
        );
        // Delivered again (the queue's redelivery): the file is gone, nothing happens.
        assert!(matches!(
            block_on(ch.ingest_drop(&drops, &key)).unwrap(),
            Ingested::Ignored { .. }
        ));
    }
    let events = ch.ports.queue.inner.take(Topic::ClaimEvents);
    assert_eq!(events.len(), 3);
    let event: serde_json::Value = serde_json::from_slice(&events[0].0).unwrap();
    assert_eq!(event["type"], "remittance.rejected");
    assert_eq!(ch.ports.store.inner.all_payments().len(), 1);
    assert_eq!(record(&ch, &id).payments.len(), 1);
    // Outside inbound/: not ours.
    assert!(matches!(
        block_on(ch.ingest_drop(&drops, "rejected/keyins/cut.835")).unwrap(),
        Ingested::Ignored { .. }
    ));
}

#[test]
fn a_payment_gives_back_its_transaction_set_as_the_payer_sent_it() {
    let ch = clearinghouse(NoRules);
    accepted_claim(&ch, "A1");
    let one = remittance("EFT1", &[clp("A1", "ICN1", Pays::InPart)], &[]);
    let two = String::from_utf8(remittance(
        "EFT2",
        &[clp("A1", "ICN1", Pays::Reversal)],
        &[],
    ))
    .unwrap()
    .replace("000000801", "000000802")
    .replace("*801*", "*802*")
    .replace("GE*1*801", "GE*1*802")
    .into_bytes();
    // Two interchanges in one file: each payment's set comes back under its own headers.
    let mut file = one.clone();
    file.extend_from_slice(&two);
    post(&ch, "inbound/k/both.835", &file);
    let payments = ch.ports.store.inner.all_payments();
    assert_eq!(payments.len(), 2);
    // Read back by ranges from the drop zone, as fetchRemittance does: the same bytes; a file
    // replaced by a shorter one gives nothing rather than another payment's bytes.
    let drops = hms_service::testing::InMemoryObjectStore::new();
    block_on(hms_service::ports::ObjectStore::put(
        &drops,
        "inbound/k/both.835",
        file.clone(),
    ))
    .unwrap();
    for payment in &payments {
        let ranged =
            block_on(hms_service::remittance::source_x12(&drops, &payment.source)).unwrap();
        assert_eq!(
            ranged,
            hms_service::remittance::transaction_x12(&file, &payment.source)
        );
    }
    block_on(hms_service::ports::ObjectStore::put(
        &drops,
        "inbound/k/both.835",
        one.clone(),
    ))
    .unwrap();
    let last = payments.iter().max_by_key(|p| p.source.set).unwrap();
    assert_eq!(
        block_on(hms_service::remittance::source_x12(&drops, &last.source)).unwrap(),
        None
    );
    for payment in payments {
        let x12 = hms_service::remittance::transaction_x12(&file, &payment.source).unwrap();
        let text = String::from_utf8(x12.clone()).unwrap();
        assert!(
            text.contains(&format!("TRN*1*{}*", payment.key.trace_number)),
            "{text}"
        );
        assert_eq!(text.matches("ST*835").count(), 1);
        let report =
            hms_x12::validate::validate_bytes(&x12, hms_x12::spec::Catalog::embedded().unwrap());
        assert!(!report.has_errors(), "{:#?}", report.findings);
    }
}
