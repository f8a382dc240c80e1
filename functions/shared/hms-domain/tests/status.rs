//! Claim status: JSON inquiry → 276 (clean by our validator; linuxforhealth parses it in CI),
//! and 277 → per-claim statuses, over the TR3 examples in the shared samples.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::samples;

use chrono::NaiveDate;
use hms_domain::claim_status::{StatusInquiry, inquiry_276, read_277};
use hms_domain::claims::Claim;
use hms_domain::outcome::OperationOutcome;
use hms_domain::partner::{ControlNumbers, Envelope, TradingPartner};
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;
use rust_decimal::Decimal;

fn inquiry(name: &str) -> StatusInquiry {
    let path = format!(
        "{}/tests/fixtures/status/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(inquiry: &StatusInquiry) -> String {
    let partner = TradingPartner::test_to("ABCINS");
    let envelope = Envelope::new(
        3,
        NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap(),
    );
    String::from_utf8(inquiry_276(inquiry, &partner, &envelope).unwrap()).unwrap()
}

#[test]
fn inquiries_write_clean_276s() {
    let catalog = Catalog::embedded().unwrap();
    for name in ["inquiry-subscriber.json", "inquiry-dependent.json"] {
        let text = write(&inquiry(name));
        let report = validate_bytes(text.as_bytes(), catalog);
        let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}\n{text}");
    }
    let text = write(&inquiry("inquiry-subscriber.json"));
    assert!(text.contains(
        "HL*4*3*22*0~\nDMG*D8*19301210*M~\nNM1*IL*1*SMITH*FRED****MI*123456789A~\nTRN*1*ABCXYZ1~\nREF*EJ*SM123456~\nAMT*T3*8513.88~\nDTP*472*RD8*20260831-20260906~"
    ));
    let text = write(&inquiry("inquiry-dependent.json"));
    assert!(text.contains(
        "HL*5*4*23~\nDMG*D8*20151101*M~\nNM1*QC*1*MANN*JOSEPH~\nTRN*1*ABCXYZ3~\nREF*1K*051681010827~\nREF*EJ*MA345678~\nAMT*T3*150~\nDTP*472*D8*20260501~"
    ));
}

#[test]
fn statuses_are_read_per_claim_with_their_meaning() {
    let catalog = Catalog::embedded().unwrap();
    let path = samples().join("277_005010X212/claim-level-status.277");
    let responses = read_277(&std::fs::read(path).unwrap(), catalog).unwrap();
    let r = &responses[0];
    assert_eq!(r.guide.as_deref(), Some("005010X212"));
    let source = r.source.as_ref().unwrap();
    assert_eq!(
        (source.entity.as_str(), source.id.as_deref()),
        ("PR", Some("12345"))
    );
    assert_eq!(
        r.receiver.as_ref().and_then(|p| p.id.as_deref()),
        Some("X67E")
    );
    let verdicts: Vec<(&str, &str)> = r
        .claims
        .iter()
        .map(|c| (c.trace_number.as_str(), c.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("ABCXYZ1", "pending"),
            ("ABCXYZ2", "finalized"),
            ("ABCXYC3", "finalized")
        ]
    );
    let first = &r.claims[0];
    assert_eq!(first.patient_control_number.as_deref(), Some("SM123456"));
    assert_eq!(
        first.payer_claim_control_number.as_deref(),
        Some("05347006051")
    );
    assert_eq!(
        first.statuses[0].category.as_deref(),
        Some("Pending/Provider Requested Information")
    );
    assert_eq!(first.statuses[0].status_code.as_deref(), Some("317"));
    assert_eq!(first.service_to, NaiveDate::from_ymd_opt(2005, 9, 6));
    let third = &r.claims[2];
    assert_eq!(third.statuses[0].entity_code.as_deref(), Some("QC"));
    // A dependent's claim: the patient under the subscriber, under the second provider.
    let id =
        |p: &Option<hms_domain::claim_status::StatusParty>| p.as_ref().and_then(|p| p.id.clone());
    assert_eq!(id(&third.subscriber).as_deref(), Some("345678901"));
    assert_eq!(
        third.patient.as_ref().map(|p| p.entity.as_str()),
        Some("QC")
    );
    assert_eq!(id(&third.provider).as_deref(), Some("166666666"));
    assert_eq!(id(&first.provider).as_deref(), Some("1666666661"));
    assert_eq!(
        third.lines[0].service_from,
        NaiveDate::from_ymd_opt(2005, 5, 1)
    );
    assert_eq!(third.lines[0].code, "99203");
    assert_eq!(third.lines[0].paid, Some(Decimal::ZERO));
    assert_eq!(third.lines[0].statuses[0].category_code, "F2");
}

#[test]
fn every_shared_277_reads() {
    let catalog = Catalog::embedded().unwrap();
    let dirs = [samples().join("277_005010X212"), samples().join("demo")];
    let mut read = 0;
    for path in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
        .map(|e| e.path())
    {
        if path.extension().is_none_or(|e| e != "277") {
            continue;
        }
        let responses = read_277(&std::fs::read(&path).unwrap(), catalog).unwrap();
        let r = &responses[0];
        assert!(
            !r.claims.is_empty() || !r.batch_statuses.is_empty(),
            "{}",
            path.display()
        );
        read += 1;
    }
    assert!(read >= 4, "{read}");
}

/// The 277CA of `claims`, each with the scrubber's outcome, as the clearinghouse sends it back
/// (control number `control`), as bytes and text, and the findings of our validator on it.
fn acknowledge(
    claims: &[(Claim, OperationOutcome)],
    today: NaiveDate,
    control: u32,
) -> (Vec<u8>, String, Vec<String>) {
    use hms_domain::claims::ack_277ca::{InformationSource, Reviewed, claim_acknowledgment};
    let batch: Vec<Reviewed<'_>> = claims
        .iter()
        .map(|(claim, outcome)| Reviewed { claim, outcome })
        .collect();
    let partner = TradingPartner::test_to("TGJ23");
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: control,
            group: control,
            transaction: 1,
        },
        created: today.and_hms_opt(12, 0, 0).unwrap(),
    };
    let source = InformationSource {
        name: "HMS-ACH".into(),
        id: "HMSACH".into(),
    };
    let reference = format!("BATCH{control}");
    let x12 =
        claim_acknowledgment(&batch, &source, &reference, today, &partner, &envelope).unwrap();
    let errors = validate_bytes(&x12, Catalog::embedded().unwrap())
        .errors()
        .map(|f| f.to_string())
        .collect();
    let text = String::from_utf8(x12.clone()).unwrap();
    (x12, text, errors)
}

#[test]
fn claim_acknowledgment_of_institutional_claims_names_their_statement_period() {
    use hms_domain::request::parse_json;
    let catalog = Catalog::embedded().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let dir = format!("{}/tests/fixtures/claims", env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| {
        parse_json::<hms_domain::claims::InstitutionalClaim>(
            &std::fs::read(format!("{dir}/{name}")).unwrap(),
        )
        .unwrap()
    };
    let inpatient = read("institutional-inpatient.json");
    let mut outpatient = read("institutional-outpatient.json");
    outpatient.claim.total_charge = "1.00".parse().unwrap();
    let claims = [inpatient, outpatient];
    let reviewed: Vec<_> = claims
        .iter()
        .map(|c| (Claim::from(c.clone()), Claim::from(c.clone()).scrub(today)))
        .collect();
    let (x12, text, errors) = acknowledge(&reviewed, today, 78);
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    let inpatient = &claims[0].claim;
    let period = format!(
        "DTP*472*RD8*{}-{}~",
        inpatient.statement_from.format("%Y%m%d"),
        inpatient.statement_to.format("%Y%m%d")
    );
    assert!(text.contains(&period), "{period} in\n{text}");
    let responses = read_277(&x12, catalog).unwrap();
    let verdicts: Vec<(&str, &str)> = responses[0]
        .claims
        .iter()
        .map(|c| (c.trace_number.as_str(), c.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (inpatient.patient_control_number.as_str(), "accepted"),
            (claims[1].claim.patient_control_number.as_str(), "rejected"),
        ]
    );
}

#[test]
fn claim_acknowledgment_accepts_and_rejects_and_reads_back() {
    use hms_domain::request::parse_json;
    let catalog = Catalog::embedded().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let dir = format!("{}/tests/fixtures/claims", env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| {
        parse_json::<hms_domain::claims::ProfessionalClaim>(
            &std::fs::read(format!("{dir}/{name}")).unwrap(),
        )
        .unwrap()
    };
    let good = read("professional-subscriber.json");
    let dependent = read("professional-dependent.json");
    let mut bad = read("professional-drug-ndc.json");
    bad.claim.total_charge = "1.00".parse().unwrap();
    let claims = [good, dependent, bad];
    let reviewed: Vec<_> = claims
        .iter()
        .map(|c| (Claim::from(c.clone()), Claim::from(c.clone()).scrub(today)))
        .collect();
    let (x12, text, errors) = acknowledge(&reviewed, today, 77);
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    assert!(
        text.contains("QTY*90*2~\nQTY*AA*1~\nAMT*YU*240~\nAMT*YY*1~"),
        "{text}"
    );
    let responses = read_277(&x12, catalog).unwrap();
    let verdicts: Vec<(&str, &str)> = responses[0]
        .claims
        .iter()
        .map(|c| (c.trace_number.as_str(), c.verdict.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("26463774", "accepted"),
            ("26463774", "accepted"),
            ("26463776", "rejected")
        ]
    );
    let rejected = &responses[0].claims[2].statuses[0];
    assert!(
        rejected
            .message
            .as_deref()
            .unwrap()
            .contains("/claim/totalCharge"),
        "{rejected:?}"
    );
}
