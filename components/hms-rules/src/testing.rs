//! Rule-set components for tests (feature `testing`), written in the WebAssembly text format
//! and turned into components against the real contract (or a test's own WIT) with
//! wit-component: well-behaved ones, and ones that misbehave on purpose.

use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::Resolve;

/// The exports' core names, as the canonical ABI mangles them.
pub const RULES: &str = "hms:payer-rules/rules@1.0.0";

/// A component whose core module implements world `rule-set` of `wit` (the real contract unless a test
/// brings its own), with `describe` and `validate` as the bodies of those two functions.
pub fn component(wit: &str, world: &str, describe: &str, validate: &str, imports: &str) -> Vec<u8> {
    component_with_version(wit, world, describe, validate, imports, "1.0.0")
}

/// [`component`], with `version` as the version describe answers.
pub fn component_with_version(
    wit: &str,
    world: &str,
    describe: &str,
    validate: &str,
    imports: &str,
    version: &str,
) -> Vec<u8> {
    build(wit, world, describe, validate, imports, version, "00435")
}

/// A rule set of the real contract whose describe ([`DESCRIBE`]) says it serves `payer_id`
/// (at most 200 bytes), with `validate` as its validate-claim.
pub fn component_serving(payer_id: &str, validate: &str) -> Vec<u8> {
    build(
        hms_rules_wit(),
        "rule-set",
        DESCRIBE,
        validate,
        "",
        "1.0.0",
        payer_id,
    )
}

fn hms_rules_wit() -> &'static str {
    crate::WIT
}

fn build(
    wit: &str,
    world: &str,
    describe: &str,
    validate: &str,
    imports: &str,
    version: &str,
    payer_id: &str,
) -> Vec<u8> {
    assert!(
        payer_id.len() <= 200,
        "a test payer id of at most 200 bytes"
    );
    let payer_len = payer_id.len();
    let core = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; describe's answer: name "test-rules", version "1.0.0", payer ids ["00435"] (or the
  ;; test's payer id, its length at 300).
  (data (i32.const 256) "test-rules")
  (data (i32.const 272) "{version}")
  (data (i32.const 300) "\{payer_len:02x}\00\00\00")
  (data (i32.const 304) "{payer_id}")
  ;; one_finding's strings.
  (data (i32.const 512) "prior-auth-required")
  (data (i32.const 544) "prior authorization required")
  (data (i32.const 576) "/claim/priorAuthorization")
  (func (export "{RULES}#describe") (result i32) {describe})
  (func (export "{RULES}#validate-claim") (param i32) (result i32) {validate})
  (func (export "{RULES}#transform-claim") (param i32) (result i32) unreachable)
)"#
    );
    let built = wat::parse_str(&core)
        .map_err(anyhow::Error::from)
        .and_then(|mut module| {
            let mut resolve = Resolve::default();
            let package = resolve.push_str("rules.wit", wit)?;
            let world = resolve.select_world(&[package], Some(world))?;
            embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
            ComponentEncoder::default()
                .module(&module)?
                .validate(true)
                .encode()
        });
    match built {
        Ok(bytes) => bytes,
        // Test support: a component that does not build is a broken test.
        Err(e) => panic!("{e:#}\n{core}"),
    }
}

/// A well-behaved describe: writes the record at 64 and returns it (its one payer id at 304, of
/// the length stored at 300).
pub const DESCRIBE: &str = r#"
    (i32.store (i32.const 64) (i32.const 256)) (i32.store (i32.const 68) (i32.const 10))
    (i32.store (i32.const 72) (i32.const 272)) (i32.store (i32.const 76) (i32.const 5))
    (i32.store (i32.const 288) (i32.const 304)) (i32.store (i32.const 292) (i32.load (i32.const 300)))
    (i32.store (i32.const 80) (i32.const 288)) (i32.store (i32.const 84) (i32.const 1))
    (i32.const 64)"#;
/// A well-behaved validate: no findings (an empty list at 128).
pub const NO_FINDINGS: &str = r#"
    (i32.store (i32.const 128) (i32.const 0)) (i32.store (i32.const 132) (i32.const 0))
    (i32.const 128)"#;

/// A validate answering one finding: severity `severity` (0 error, 1 warning, 2 information),
/// code "prior-auth-required", message "prior authorization required",
/// path "/claim/priorAuthorization".
pub fn one_finding(severity: u8) -> String {
    format!(
        r#"
    (memory.fill (i32.const 1024) (i32.const 0) (i32.const 28))
    (i32.store8 (i32.const 1024) (i32.const {severity}))
    (i32.store (i32.const 1028) (i32.const 512)) (i32.store (i32.const 1032) (i32.const 19))
    (i32.store (i32.const 1036) (i32.const 544)) (i32.store (i32.const 1040) (i32.const 28))
    (i32.store (i32.const 1044) (i32.const 576)) (i32.store (i32.const 1048) (i32.const 25))
    (i32.store (i32.const 128) (i32.const 1024)) (i32.store (i32.const 132) (i32.const 1))
    (i32.const 128)"#
    )
}

/// A professional claim with `lines` service lines, as the contract's record.
pub fn claim(lines: usize) -> crate::host::types::Claim {
    let date = crate::host::types::Date {
        year: 2026,
        month: 11,
        day: 2,
    };
    let amount = |mantissa| crate::host::types::Decimal { mantissa, scale: 2 };
    let person = || {
        crate::host::types::Name::Person(crate::host::types::PersonName {
            last: "SMITH".into(),
            first: "JANE".into(),
            middle: None,
            suffix: None,
        })
    };
    crate::host::types::Claim::Professional(crate::host::types::ProfessionalClaim {
        patient_control_number: "PCN1".into(),
        total_charge: amount(10000 * lines as i64),
        place_of_service: "11".into(),
        frequency: "1".into(),
        diagnoses: vec!["J029".into(), "R509".into()],
        prior_authorization: None,
        billing_provider: crate::host::types::Provider {
            npi: Some("1912301953".into()),
            name: crate::host::types::Name::Organization("GOOD HEALTH CLINIC".into()),
            taxonomy: Some("207Q00000X".into()),
            tax_id: Some("587654321".into()),
            address: None,
        },
        rendering_provider: None,
        referring_provider: None,
        subscriber: crate::host::types::Subscriber {
            member_id: "JS00111223333".into(),
            name: person(),
            birth_date: Some(date),
            gender: Some(crate::host::types::Gender::Female),
            group_number: Some("2222-SJ".into()),
            claim_filing_indicator: "CI".into(),
        },
        patient: None,
        payer: crate::host::types::Payer {
            name: "KEY INSURANCE COMPANY".into(),
            id: "999996666".into(),
        },
        lines: (0..lines)
            .map(|k| crate::host::types::ProfessionalLine {
                procedure_code: "99213".into(),
                modifiers: vec!["25".into()],
                charge: amount(10000),
                units: amount(100),
                service_date: date,
                service_date_end: None,
                diagnosis_pointers: vec![1, 2],
                place_of_service: None,
                line_control_number: Some(format!("L{k}")),
            })
            .collect(),
    })
}
