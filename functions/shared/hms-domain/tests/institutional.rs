//! Institutional claims: our JSON → scrubber → 837I, clean by the engine's validator (and by
//! pyx12 in CI: `infra/check-claims.sh`).
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use chrono::NaiveDate;
use common::{claim_fixture as fixture, today};
use hms_domain::claims::{Claim, write_837};
use hms_domain::partner::{ControlNumbers, Envelope, TradingPartner, Usage};
use hms_domain::request::parse_json;
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;

fn write(name: &str) -> String {
    let claim = parse_json::<hms_domain::claims::InstitutionalClaim>(&fixture(name)).unwrap();
    let partner = TradingPartner {
        sender_qualifier: "ZZ".into(),
        sender_id: "HMSACH".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "MEDICARE".into(),
        application_sender: "HMSACH".into(),
        application_receiver: "00120".into(),
        usage: Usage::Production,
        ack_requested: true,
        submitter: None,
    };
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: 9,
            group: 9,
            transaction: 12,
        },
        created: today().and_hms_opt(17, 5, 0).unwrap(),
    };
    String::from_utf8(write_837(&[Claim::from(claim.clone())], &partner, &envelope).unwrap())
        .unwrap()
}

#[test]
fn fixture_claims_scrub_clean_and_write_valid_837i() {
    let catalog = Catalog::embedded().unwrap();
    for name in [
        "institutional-inpatient.json",
        "institutional-outpatient.json",
    ] {
        let claim = parse_json::<hms_domain::claims::InstitutionalClaim>(&fixture(name)).unwrap();
        let outcome = Claim::from(claim.clone()).scrub(today());
        assert!(!outcome.has_errors(), "{name}: {outcome:?}");
        let text = write(name);
        let report = validate_bytes(text.as_bytes(), catalog);
        let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{text}");
        assert!(text.contains("ST*837*0012*005010X223A2~"));
        assert!(text.contains("*1*P*:~"), "usage P and a TA1 requested");
    }
}

#[test]
fn inpatient_bill_carries_stay_diagnoses_and_procedures() {
    let text = write("institutional-inpatient.json");
    for expected in [
        "CLM*756048Q*14612.3***11:A:1**A*Y*Y~",
        "DTP*096*TM*1000~\nDTP*434*RD8*20261010-20261014~\nDTP*435*DT*202610101130~\nCL1*1*7*01~",
        "HI*ABK:I214~\nHI*ABJ:R079~\nHI*ABF:I10*ABF:E119~\nHI*BBR:027034Z:D8:20261011~",
        "HI*BH:11:D8:20261009~\nHI*BE:80:::4~\nHI*BG:09~",
        "NM1*71*1*JONES*JOHN*J***XX*1234567893~\nPRV*AT*PXC*207RC0000X~\nNM1*72*1*CUTTER*ANNE****XX*1234567893~",
        "SV2*0120**6000*DA*4~",
        "SV2*0450*HC:99285*1300*UN*1~\nDTP*472*D8*20261010~\nREF*6R*ER1~",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

#[test]
fn institutional_edits_point_at_each_problem() {
    let mut claim = parse_json::<hms_domain::claims::InstitutionalClaim>(&fixture(
        "institutional-inpatient.json",
    ))
    .unwrap();
    claim.claim.admission = None;
    claim.claim.patient_status = "99".into();
    claim.claim.statement_to = NaiveDate::from_ymd_opt(2026, 10, 9).unwrap();
    claim.service_lines[0].revenue_code = "120".into();
    claim.service_lines[3].service_date = Some(NaiveDate::from_ymd_opt(2026, 10, 20).unwrap());
    let outcome = Claim::from(claim.clone()).scrub(today());
    let found: Vec<(String, String)> = outcome
        .issue
        .iter()
        .map(|i| (i.diagnostics.clone().unwrap(), i.expression[0].clone()))
        .collect();
    for (id, at) in [
        ("admission-required", "/claim/admission"),
        ("patient-status", "/claim/patientStatus"),
        ("statement-period", "/claim/statementTo"),
        ("revenue-code", "/serviceLines/0/revenueCode"),
        ("service-outside-statement", "/serviceLines/3/serviceDate"),
        ("procedure-date", "/claim/principalProcedure/date"),
    ] {
        assert!(
            found.iter().any(|(i, a)| i == id && a == at),
            "{id} at {at} not in {found:?}"
        );
    }
    assert_eq!(found.len(), 6, "{found:?}");
}
