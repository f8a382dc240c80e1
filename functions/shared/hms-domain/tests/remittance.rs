//! 835 → the domain remittance, over every 835 among the shared samples and the synthetic one.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::{samples, today};

use hms_domain::remittance::{RemitError, read_835};
use hms_x12::spec::Catalog;
use rust_decimal::Decimal;

#[test]
fn shared_835s_read_or_say_which_element_is_wrong() {
    let catalog = Catalog::embedded().unwrap();
    let mut read = 0;
    let mut refused = vec![];
    let dirs = [samples().join("835_005010X221A1"), samples().join("demo")];
    for entry in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().flatten())
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "835") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match read_835(&std::fs::read(&path).unwrap(), catalog) {
            Ok(remits) => {
                read += 1;
                for r in remits {
                    assert!(!r.claims.is_empty(), "{name}");
                    // Every claim's paid amount plus its adjustments accounts for its charge
                    // (or the payer sent a reversal, which we keep as sent).
                    for c in &r.claims {
                        assert!(!c.patient_control_number.is_empty(), "{name}");
                        assert_ne!(c.status, "Unknown claim status code", "{name}");
                    }
                    assert_eq!(
                        r.balance.expected_payment,
                        r.balance.claims_paid - r.balance.provider_adjustments
                    );
                }
            }
            Err(RemitError::Value(e)) => refused.push((name, e.segment, e.element)),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert!(read >= 3, "read {read}, refused {refused:?}");
    // managed-care.835 carries BPR16 = 20002316, not a date (pyx12 says so too).
    assert!(
        refused
            .iter()
            .any(|(n, s, e)| n == "managed-care.835" && s == "BPR" && *e == 16),
        "{refused:?}"
    );
}

#[test]
fn synthetic_835_balances_to_the_cent() {
    let catalog = Catalog::embedded().unwrap();
    let input = hms_x12::synth::remittance_835(50_000).unwrap();
    let remits = read_835(&input, catalog).unwrap();
    let r = &remits[0];
    assert!(r.balance.balanced, "{:?}", r.balance);
    assert!(r.claims.len() > 10);
    let first = &r.claims[0];
    assert_eq!(first.status, "Processed as primary");
    assert_eq!(first.services.len(), 2);
    assert_eq!(first.services[0].procedure_code, "99214");
    assert_eq!(
        first.services[0].adjustments[0].group,
        "Contractual obligations"
    );
    assert_eq!(
        first.services[0].adjustments[0].amount,
        Decimal::new(4000, 2)
    );
    assert_eq!(first.services[1].modifiers, ["QW"]);
    let remarks: Vec<&str> = first.services[1]
        .remarks
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(remarks, ["N130"]);
    // Codes come with what they mean (CARC 45, RARC N130).
    assert!(
        first.services[1].remarks[0]
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Consult plan benefit documents"))
    );
    assert!(
        first.services[0].adjustments[0]
            .reason
            .as_deref()
            .is_some_and(|d| d.starts_with("Charge exceeds fee schedule"))
    );
}

#[test]
fn each_claim_payment_becomes_an_explanation_of_benefit() {
    let catalog = Catalog::embedded().unwrap();
    let input = std::fs::read(samples().join("demo/demo.835")).unwrap();
    let remits = read_835(&input, catalog).unwrap();
    let bundle = hms_domain::remittance::fhir::remittance_bundle(&remits, today());
    assert_eq!(bundle["resourceType"], "Bundle");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), remits[0].claims.len());
    let eob = &entries[0]["resource"];
    assert_eq!(eob["resourceType"], "ExplanationOfBenefit");
    for required in [
        "status",
        "type",
        "use",
        "patient",
        "created",
        "insurer",
        "provider",
        "outcome",
        "insurance",
    ] {
        assert!(!eob[required].is_null(), "{required}");
    }
    assert_eq!(eob["identifier"][0]["value"], "666123");
    assert_eq!(eob["type"]["coding"][0]["code"], "institutional");
    // Money keeps the 835's digits exactly.
    let text = serde_json::to_string(eob).unwrap();
    assert!(
        text.contains(r#""amount":{"currency":"USD","value":211366.97}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""amount":{"currency":"USD","value":138018.40}"#),
        "{text}"
    );
    // Claim-level adjustments carry their group and CARC.
    let adjudication = eob["adjudication"].as_array().unwrap();
    assert!(
        adjudication
            .iter()
            .any(|a| a["category"]["coding"][0]["code"] == "CO"
                && a["reason"]["coding"][0]["system"] == hms_domain::remittance::fhir::CARC_SYSTEM)
    );
}

#[test]
fn service_payments_become_items_with_adjudications_and_notes() {
    let catalog = Catalog::embedded().unwrap();
    let input = hms_x12::synth::remittance_835(20_000).unwrap();
    let remits = read_835(&input, catalog).unwrap();
    let bundle = hms_domain::remittance::fhir::remittance_bundle(&remits, today());
    let eob = &bundle["entry"][0]["resource"];
    assert_eq!(eob["type"]["coding"][0]["code"], "professional");
    let item = &eob["item"][1];
    assert_eq!(item["productOrService"]["coding"][0]["code"], "85025");
    assert_eq!(item["modifier"][0]["coding"][0]["code"], "QW");
    let categories: Vec<&str> = item["adjudication"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["category"]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(categories, ["submitted", "benefit", "CO", "PR"]);
    assert_eq!(item["noteNumber"][0], 1);
    assert_eq!(
        eob["processNote"][0]["text"],
        "remark code N130: Consult plan benefit documents/guidelines for information about restrictions for this service."
    );
    let co = &item["adjudication"][2]["reason"]["coding"][0];
    assert_eq!(co["code"], "45");
    assert!(
        co["display"]
            .as_str()
            .is_some_and(|d| d.starts_with("Charge exceeds fee schedule"))
    );
}

/// The fixture 835 of the CLI tests, changed by `edit`, read.
fn read_edited(
    edit: impl Fn(&str) -> String,
) -> Result<Vec<hms_domain::remittance::Remittance>, RemitError> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/remittance/two-claims.835"
    );
    let text = std::fs::read_to_string(path).unwrap();
    read_835(edit(&text).as_bytes(), Catalog::embedded().unwrap())
}

#[test]
fn an_835_of_another_guide_is_refused_by_name() {
    assert!(read_edited(str::to_string).is_ok());
    let err = read_edited(|t| t.replace("005010X221A1", "004010X091A1")).unwrap_err();
    assert!(matches!(err, RemitError::NoGuide { line: 3 }), "{err}");
    assert!(err.to_string().contains("not 005010X221A1"), "{err}");
}

#[test]
fn missing_header_segments_and_bad_values_name_their_line() {
    let err = read_edited(|t| {
        t.split('~')
            .filter(|s| !s.trim_start().starts_with("TRN"))
            .collect::<Vec<_>>()
            .join("~")
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: ST: required segment TRN is missing from the transaction set"
    );
    let err =
        read_edited(|t| t.replacen("CLP*PCN1001*1*500.00", "CLP*PCN1001*1*5OO.00", 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 14: CLP03: \"5OO.00\" is not a decimal number"
    );
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/remittance/two-claims.835"
    ))
    .unwrap();
    let at = text.windows(4).position(|w| w == b"CLP*").unwrap() + 4;
    let mut latin1 = text.clone();
    latin1.insert(at, 0xE9);
    let err = read_835(&latin1, Catalog::embedded().unwrap()).unwrap_err();
    assert!(err.to_string().contains("not UTF-8 text"), "{err}");
}

#[test]
fn headers_inpatient_claims_and_provider_adjustments_are_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/remittance/headers-inpatient-plb.835"
    );
    let remits = read_835(&std::fs::read(path).unwrap(), Catalog::embedded().unwrap()).unwrap();
    let r = &remits[0];
    let headers: Vec<_> = r
        .claims
        .iter()
        .map(|c| c.header_number.as_deref())
        .collect();
    assert_eq!(headers, [Some("1"), Some("2")]);
    let inpatient = &r.claims[0];
    assert!(inpatient.inpatient);
    assert_eq!(
        inpatient
            .patient
            .as_ref()
            .and_then(|p| p.id_qualifier.as_deref()),
        Some("HN")
    );
    let line = &inpatient.services[0];
    // No DTM*472: the start of the DTM*150/151 period.
    assert_eq!(
        line.service_date,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
    );
    assert_eq!(line.adjustments[0].quantity, Some(Decimal::new(3, 0)));
    assert_eq!(line.adjustments.len(), 3);
    let remarks: Vec<&str> = line.remarks.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(remarks, ["N130", "M15"]);
    let plb: Vec<_> = r
        .provider_adjustments
        .iter()
        .map(|p| {
            (
                p.reason_code.as_str(),
                p.reference.as_deref(),
                p.amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        plb,
        [
            ("WO", Some("PAYERCLM0001"), "100.00".to_string()),
            ("L6", None, "-5.50".to_string()),
            ("FB", Some("REFUND1"), "100.00".to_string()),
        ]
    );
    assert!(r.balance.balanced, "{:?}", r.balance);
    assert_eq!(r.balance.expected_payment, Decimal::new(100550, 2));
}
