//! Eligibility: JSON inquiry → 270 (clean by our validator; linuxforhealth parses it in CI), and
//! 271 → the benefits view, over the TR3 examples in the shared samples.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::samples;

use chrono::NaiveDate;
use hms_domain::eligibility::{EligibilityInquiry, inquiry_270, read_271};
use hms_domain::partner::{Envelope, TradingPartner};
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;
use rust_decimal::Decimal;

fn inquiry(name: &str) -> EligibilityInquiry {
    let path = format!(
        "{}/tests/fixtures/eligibility/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(inquiry: &EligibilityInquiry) -> String {
    let partner = TradingPartner::test_to("ABCCO");
    let envelope = Envelope::new(
        5,
        NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap(),
    );
    String::from_utf8(inquiry_270(inquiry, &partner, &envelope).unwrap()).unwrap()
}

#[test]
fn inquiries_write_clean_270s() {
    let catalog = Catalog::embedded().unwrap();
    for name in ["inquiry-subscriber.json", "inquiry-dependent.json"] {
        let text = write(&inquiry(name));
        let report = validate_bytes(text.as_bytes(), catalog);
        let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{text}");
    }
    let subscriber = write(&inquiry("inquiry-subscriber.json"));
    assert!(subscriber.contains(
        "HL*3*2*22*0~\nTRN*1*93175-012547*9HMSACH000~\nNM1*IL*1*SMITH*ROBERT****MI*11122333301~\nDMG*D8*19430519*M~\nDTP*291*D8*20261120~\nEQ*30^98^UC~"
    ));
    let dependent = write(&inquiry("inquiry-dependent.json"));
    assert!(dependent.contains("NM1*1P*1*KILDARE*BEN****XX*1234567893~"));
    assert!(dependent.contains(
        "HL*3*2*22*1~\nNM1*IL*1*SMITH*ROBERT****MI*11122333301~\nHL*4*3*23*0~\nTRN*1*TRACE-0002*9HMSACH000~\nNM1*03*1*SMITH*MARY~\nDMG*D8*20150211*F~\nEQ*30~"
    ));
}

#[test]
fn benefits_are_grouped_by_plan_and_service_type() {
    let catalog = Catalog::embedded().unwrap();
    let path = samples().join("271_005010X279A1/subscriber-health-benefit-check.271");
    let responses = read_271(&std::fs::read(path).unwrap(), catalog).unwrap();
    let r = &responses[0];
    assert_eq!(r.payer.as_deref(), Some("ABC COMPANY"));
    let m = &r.members[0];
    assert_eq!(
        (m.level.as_ref(), m.last_name.as_str()),
        ("subscriber", "SMITH")
    );
    assert_eq!(m.member_id.as_deref(), Some("123456789"));
    assert_eq!(m.trace_numbers, ["93175-012547"]);
    assert_eq!(m.dates[0].qualifier, "346");
    let plan = &m.plans[0];
    assert_eq!(plan.plan.as_deref(), Some("GOLD 123 PLAN"));
    let coverage = plan
        .service_types
        .iter()
        .find(|s| s.code.as_deref() == Some("30"))
        .unwrap();
    assert_eq!(
        coverage.name.as_deref(),
        Some("Health Benefit Plan Coverage")
    );
    assert_eq!(
        coverage.benefits[0].kind.as_deref(),
        Some("Active Coverage")
    );
    let office = plan
        .service_types
        .iter()
        .find(|s| s.code.as_deref() == Some("98"))
        .unwrap();
    assert_eq!(
        office.name.as_deref(),
        Some("Professional (Physician) Visit - Office")
    );
    let copays: Vec<_> = office
        .benefits
        .iter()
        .filter(|b| b.kind.as_deref() == Some("Co-Payment"))
        .map(|b| (b.in_network, b.amount, b.time_period.as_deref()))
        .collect();
    assert_eq!(
        copays,
        [
            (Some(true), Some(Decimal::new(1000, 2)), Some("Visit")),
            (Some(false), Some(Decimal::new(3000, 2)), Some("Visit")),
        ]
    );
}

#[test]
fn every_shared_271_reads() {
    let catalog = Catalog::embedded().unwrap();
    let dirs = [samples().join("271_005010X279A1"), samples().join("demo")];
    let mut read = 0;
    for path in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
        .map(|e| e.path())
    {
        if path.extension().is_none_or(|e| e != "271") {
            continue;
        }
        let responses = read_271(&std::fs::read(&path).unwrap(), catalog).unwrap();
        assert!(!responses[0].members.is_empty(), "{}", path.display());
        read += 1;
    }
    assert!(read >= 3, "{read}");
}

#[test]
fn fhir_request_becomes_a_270_and_271_a_fhir_response() {
    let path = format!(
        "{}/tests/fixtures/fhir/coverage-eligibility-request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let request: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let inquiry = hms_domain::eligibility::fhir::inquiry_from_fhir(&request).unwrap();
    assert_eq!(inquiry.trace_number, "TRACE-FHIR-1");
    assert_eq!(inquiry.service_types, ["30", "98"]);
    assert!(inquiry.dependent.is_some());
    let text = write(&inquiry);
    let report = validate_bytes(text.as_bytes(), Catalog::embedded().unwrap());
    assert!(!report.has_errors(), "{text}");
    assert!(
        text.contains("NM1*03*1*SMITH*MARY~\nDMG*D8*20150211*F~\nDTP*291*D8*20261120~\nEQ*30^98~")
    );

    // A missing NPI says where.
    let mut bad = request.clone();
    bad["contained"][4]["identifier"] = serde_json::json!([]);
    let outcome = hms_domain::eligibility::fhir::inquiry_from_fhir(&bad).unwrap_err();
    assert_eq!(
        outcome.issue[0].expression,
        ["CoverageEligibilityRequest.provider.identifier"]
    );

    let catalog = Catalog::embedded().unwrap();
    let path = samples().join("271_005010X279A1/subscriber-health-benefit-check.271");
    let responses = read_271(&std::fs::read(path).unwrap(), catalog).unwrap();
    let bundle = hms_domain::eligibility::fhir::responses_to_fhir(
        &responses,
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
    );
    let r = &bundle["entry"][0]["resource"];
    assert_eq!(r["resourceType"], "CoverageEligibilityResponse");
    assert_eq!(r["outcome"], "complete");
    assert_eq!(r["insurance"][0]["inforce"], true);
    let items = r["insurance"][0]["item"].as_array().unwrap();
    let copay_in = items
        .iter()
        .find(|i| {
            i["category"]["coding"][0]["code"] == "98"
                && i["network"]["coding"][0]["code"] == "in"
                && i["benefit"][0]["type"]["coding"][0]["code"] == "copay"
        })
        .unwrap();
    assert_eq!(
        serde_json::to_string(&copay_in["benefit"][0]["allowedMoney"]).unwrap(),
        r#"{"currency":"USD","value":10.00}"#
    );
}
