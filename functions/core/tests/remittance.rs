//! 835 → the domain remittance, over every 835 among the shared samples and the synthetic one.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::path::PathBuf;

use hms_core::remit::{RemitError, read_835};
use hms_x12::spec::Catalog;
use rust_decimal::Decimal;

fn samples() -> PathBuf {
    std::env::var_os("HMS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("x12-samples")
}

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
    assert_eq!(first.services[1].remarks, ["N130"]);
}
