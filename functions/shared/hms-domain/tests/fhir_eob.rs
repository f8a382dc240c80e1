//! Our ExplanationOfBenefits held to FHIR R4: every element R4 requires (1..1, 1..*) is there,
//! every code bound by a required value set is one of its published code system's, every
//! `#id` reference resolves to a contained resource, dates are FHIR dates and money is a
//! number with its currency. The code systems come from the R4 specification's own package
//! (`infra/corpus.sh`), and the list of required elements is checked against the
//! specification's published ExplanationOfBenefit examples, which must have them too.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use common::{corpus, samples, today};
use hms_domain::remittance::{fhir::remittance_bundle, read_835};
use hms_x12::spec::Catalog;
use serde_json::Value;

fn published(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(corpus().join(name)).unwrap()).unwrap()
}

/// A published code system's url and codes (nested concepts too).
fn code_system(name: &str) -> (String, Vec<String>) {
    fn codes(concepts: &Value, out: &mut Vec<String>) {
        for c in concepts.as_array().into_iter().flatten() {
            out.push(c["code"].as_str().unwrap().to_string());
            codes(&c["concept"], out);
        }
    }
    let cs = published(name);
    let mut out = vec![];
    codes(&cs["concept"], &mut out);
    (cs["url"].as_str().unwrap().to_string(), out)
}

/// ExplanationOfBenefit's elements R4 requires (min 1), by path; `[]` steps into each item of
/// a list.
const REQUIRED: &[&str] = &[
    "status",
    "type",
    "use",
    "patient",
    "created",
    "insurer",
    "provider",
    "outcome",
    "insurance",
    "insurance[].focal",
    "insurance[].coverage",
    "item[].sequence",
    "item[].productOrService",
    "item[].adjudication[].category",
    "adjudication[].category",
    "total[].category",
    "total[].amount",
];

/// The values at `path` in `value` (empty when the path stops at a missing element).
fn at<'v>(value: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut here = vec![value];
    for step in path.split('.') {
        let (name, each) = match step.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (step, false),
        };
        let mut next = vec![];
        for v in here {
            match (&v[name], each) {
                (Value::Null, _) => {}
                (Value::Array(items), true) => next.extend(items.iter()),
                (other, _) => next.push(other),
            }
        }
        here = next;
    }
    here
}

/// Whether every list the path steps through that is present has the element (a missing
/// optional list holds nothing to check).
fn has(value: &Value, path: &str) -> bool {
    match path.rsplit_once('.') {
        None => {
            !matches!(&value[path], Value::Null)
                && value[path].as_array().is_none_or(|a| !a.is_empty())
        }
        Some((parent, leaf)) => at(value, parent)
            .iter()
            .all(|p| !matches!(&p[leaf], Value::Null)),
    }
}

fn is_fhir_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Every problem of `eob` against R4.
fn problems(eob: &Value) -> Vec<String> {
    let mut found = vec![];
    for path in REQUIRED {
        if !has(eob, path) {
            found.push(format!("{path} is required"));
        }
    }
    let required_codes = [
        ("status", "CodeSystem-explanationofbenefit-status.json"),
        ("use", "CodeSystem-claim-use.json"),
        ("outcome", "CodeSystem-remittance-outcome.json"),
    ];
    for (path, system) in required_codes {
        let (_, codes) = code_system(system);
        let code = eob[path].as_str().unwrap_or_default();
        if !codes.iter().any(|c| c == code) {
            found.push(format!("{path} {code:?} is not in {system}"));
        }
    }
    // Codings whose system is one of R4's own code systems hold its codes.
    let systems = [
        code_system("CodeSystem-claim-type.json"),
        code_system("CodeSystem-adjudication.json"),
    ];
    fn codings<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(list)) = map.get("coding") {
                    out.extend(list.iter());
                }
                map.values().for_each(|x| codings(x, out));
            }
            Value::Array(items) => items.iter().for_each(|x| codings(x, out)),
            _ => {}
        }
    }
    let mut all = vec![];
    codings(eob, &mut all);
    for coding in all {
        let system = coding["system"].as_str().unwrap_or_default();
        let code = coding["code"].as_str().unwrap_or_default();
        if let Some((_, codes)) = systems.iter().find(|(url, _)| url == system)
            && !codes.iter().any(|c| c == code)
        {
            found.push(format!("{code:?} is not a code of {system}"));
        }
    }
    // References to contained resources resolve.
    let contained: Vec<&str> = eob["contained"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str())
        .collect();
    fn references<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("reference") {
                    out.push(r);
                }
                map.values().for_each(|x| references(x, out));
            }
            Value::Array(items) => items.iter().for_each(|x| references(x, out)),
            _ => {}
        }
    }
    let mut refs = vec![];
    references(eob, &mut refs);
    for r in refs {
        match r.strip_prefix('#') {
            Some(id) if contained.contains(&id) => {}
            _ => found.push(format!("reference {r:?} resolves to nothing contained")),
        }
    }
    for path in ["created", "payment.date", "item[].servicedDate"] {
        for v in at(eob, path) {
            if !v.as_str().is_some_and(is_fhir_date) {
                found.push(format!("{path} {v} is not a FHIR date"));
            }
        }
    }
    for path in [
        "total[].amount",
        "payment.amount",
        "adjudication[].amount",
        "item[].adjudication[].amount",
    ] {
        for money in at(eob, path) {
            if !money["value"].is_number() || money["currency"] != "USD" {
                found.push(format!("{path} {money} is not Money"));
            }
        }
    }
    found
}

#[test]
fn the_required_elements_we_check_are_the_ones_the_published_examples_have() {
    for name in [
        "ExplanationOfBenefit-EB3500.json",
        "ExplanationOfBenefit-EB3501.json",
    ] {
        let eob = published(name);
        for path in REQUIRED {
            // The examples' items are adjudicated at item level; their header adjudication is
            // optional (0..*).
            if path.starts_with("adjudication") || path.starts_with("item[].adjudication") {
                continue;
            }
            assert!(has(&eob, path), "{name} lacks {path}");
        }
    }
}

#[test]
fn our_explanations_of_benefit_are_valid_r4() {
    let catalog = Catalog::embedded().unwrap();
    let inputs = [
        std::fs::read(samples().join("demo/demo.835")).unwrap(),
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/remittance/two-claims.835"
        ))
        .unwrap(),
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/remittance/headers-inpatient-plb.835"
        ))
        .unwrap(),
        hms_x12::synth::remittance_835(40_000).unwrap(),
    ];
    let mut checked = 0;
    for input in inputs {
        let remits = read_835(&input, catalog).unwrap();
        let bundle = remittance_bundle(&remits, today());
        for entry in bundle["entry"].as_array().unwrap() {
            let eob = &entry["resource"];
            let found = problems(eob);
            assert!(found.is_empty(), "{found:#?}\n{eob:#}");
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
    // The check can fail: an EOB without its created date, with a status R4 does not know,
    // and with a dangling reference is caught on each count.
    let remits = read_835(&hms_x12::synth::remittance_835(5_000).unwrap(), catalog).unwrap();
    let mut eob = remittance_bundle(&remits, today())["entry"][0]["resource"].clone();
    eob.as_object_mut().unwrap().remove("created");
    eob["status"] = "final".into();
    eob["patient"]["reference"] = "#nobody".into();
    let found = problems(&eob);
    assert_eq!(found.len(), 3, "{found:#?}");
}
