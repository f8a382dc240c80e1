//! The simulated payer pays what it accepted: 835s our validator passes (CI also has pyx12
//! check them: `infra/check-remits.sh`), whose amounts follow the configured rules and the
//! member's plan, and whose corrections come as a reversal and a new payment in the next run.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_connectivity::{CoreMessage, MessageKind, payload_type};
use hms_domain::remittance::read_835;
use hms_payer_sim::{SimConfig, Simulator};
use hms_x12::spec::Catalog;
use rust_decimal::Decimal;

fn claim(name: &str) -> hms_domain::claims::Claim {
    let path = hms_test_support::fixtures().join(format!("claims/{name}"));
    let (claim, _) = hms_domain::claims::read_claim(
        &std::fs::read(path).unwrap(),
        &hms_domain::partner::Connections::local(),
    )
    .unwrap();
    claim
}

/// Sends `claims` to `sim` as one 837 batch.
fn submit(sim: &Simulator, claims: &[hms_domain::claims::Claim]) {
    let partner = hms_domain::partner::TradingPartner::test_to("PAYER");
    let envelope = hms_domain::partner::Envelope::new(7, chrono::Utc::now().naive_utc());
    let x12 = hms_domain::claims::write_837(claims, &partner, &envelope).unwrap();
    let message = CoreMessage::request(
        MessageKind::BatchSubmission,
        if matches!(claims[0], hms_domain::claims::Claim::Institutional(_)) {
            payload_type::INSTITUTIONAL_CLAIM
        } else {
            payload_type::PROFESSIONAL_CLAIM
        },
        "HMSACH",
        "PAYER",
        Some(x12),
        chrono::Utc::now(),
    );
    let reply = sim.handle("POST", "/core", message.to_soap(None).as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn money(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn accepted_claims_are_paid_by_the_rules_in_valid_835s_and_corrections_follow() {
    let mut config = SimConfig::local().unwrap();
    config.payment_rules.deny_procedure_codes = vec!["87880".into()];
    config.payment_rules.correct_procedure_codes = vec!["99213".into()];
    config.payment_rules.interest = Some(money("1.25"));
    let sim = Simulator::new(config, None);
    // The subscriber fixture (member JS00111223333, copay 40): lines 99213 (100.00) and
    // 87880 (40.00); and the institutional outpatient claim, another payer's.
    submit(&sim, &[claim("professional-subscriber.json")]);
    submit(&sim, &[claim("institutional-outpatient.json")]);
    let catalog = Catalog::embedded().unwrap();
    let first = sim.remit().unwrap();
    assert_eq!(first.len(), 2, "one 835 per payer and payee");
    for file in &first {
        let report = hms_x12::validate::validate_bytes(file.x12.as_bytes(), catalog);
        assert!(!report.has_errors(), "{}: {:#?}", file.key, report.findings);
        assert!(file.key.starts_with("inbound/"), "{}", file.key);
    }
    let professional = first
        .iter()
        .find(|f| f.payer_id == "999996666")
        .expect("the professional claim's payer");
    let r = read_835(professional.x12.as_bytes(), catalog)
        .unwrap()
        .remove(0);
    assert!(r.balance.balanced, "{:?}", r.balance);
    assert_eq!(r.payer.identifier("2U"), Some("999996666"));
    assert_eq!(r.payee.identifier("XX"), Some("1912301953"));
    let c = &r.claims[0];
    assert_eq!(c.patient_control_number, "26463774");
    assert_eq!(c.status_code, "1");
    // 99213: 100 charged, 80 allowed (CO 45 20), copay 40 (PR 3), paid 40. 87880: denied
    // (CO 50 40).
    assert_eq!(c.services[0].paid, money("40.00"));
    assert_eq!(c.services[1].paid, Decimal::ZERO);
    assert_eq!(c.services[1].adjustments[0].reason_code, "50");
    assert_eq!(
        (c.paid, c.patient_responsibility),
        (money("40.00"), Some(money("40.00")))
    );
    assert!(hms_domain::remittance::balance::imbalances(&r).is_empty());
    // Interest: a negative PLB adds to the payment.
    assert_eq!(r.payment.amount, money("41.25"));
    // Nothing new to pay but the correction: the next run reverses and pays again.
    let second = sim.remit().unwrap();
    assert_eq!(second.len(), 1, "{second:#?}");
    let r = read_835(second[0].x12.as_bytes(), catalog)
        .unwrap()
        .remove(0);
    let statuses: Vec<&str> = r.claims.iter().map(|c| c.status_code.as_str()).collect();
    assert_eq!(statuses, ["22", "1"]);
    assert_eq!(r.claims[0].paid, money("-40.00"));
    assert_eq!(r.claims[1].paid, money("36.00"));
    assert_eq!(
        r.claims[0].payer_claim_control_number,
        r.claims[1].payer_claim_control_number
    );
    assert!(hms_domain::remittance::balance::imbalances(&r).is_empty());
    assert!(sim.remit().unwrap().is_empty(), "everything is paid");
    // For pyx12 (infra/check-remits.sh): the 835s into HMS_SIM_835_DIR when set.
    if let Ok(dir) = std::env::var("HMS_SIM_835_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        for (i, file) in first.iter().chain(&second).enumerate() {
            std::fs::write(format!("{dir}/sim-{i}.835"), &file.x12).unwrap();
        }
    }
}
