//! The `hms x12` commands as a user runs them: exit codes, output formats, acknowledgments.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::path::PathBuf;
mod common;
use common::hms;
use std::process::Output;

/// A domain fixture's path, as the CLI is given it.
fn fixture(name: &str) -> String {
    hms_test_support::fixtures()
        .join(name)
        .display()
        .to_string()
}

fn sample(name: &str) -> String {
    hms_test_support::x12_samples()
        .join(name)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_exit_codes() {
    let ok = hms(
        &["x12", "validate", &fixture("remittance/two-claims.835")],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert_eq!(stdout(&ok), "");

    let bad = hms(
        &[
            "x12",
            "validate",
            &sample("835_005010X221A1/managed-care.835"),
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    let text = stdout(&bad);
    assert!(
        text.lines().any(|l| l.contains("BPR16")
            && l.contains("not a valid date")
            && l.contains("IK403=8")),
        "{text}"
    );

    let missing = hms(&["x12", "validate", "/nonexistent/file.835"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open"));

    let usage = hms(&["x12", "validate"], None);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn validate_reads_stdin_and_reports_json() {
    let input = std::fs::read(sample("835_005010X221A1/medicare-part-a.835")).expect("sample");
    let out = hms(&["x12", "validate", "--format", "json", "-"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let per = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["segment_id"] == "PER")
        .expect("missing PER finding");
    assert_eq!(per["ack"]["level"], "segment");
    assert_eq!(per["ack"]["code"], "3");
    assert_eq!(per["loop_id"], "1000A");
    assert_eq!(per["line"], 11);
}

#[test]
fn garbage_gets_a_specific_error_not_a_panic() {
    let out = hms(&["x12", "validate", "-"], Some(b"hello, this is not X12"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("expected an ISA segment"),
        "{}",
        stdout(&out)
    );
    let out = hms(&["x12", "validate", "--ack", "999", "-"], Some(b""));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no interchange to acknowledge"));
}

#[test]
fn ack_999_rejects_with_detail_and_ta1_accepts_sound_envelope() {
    let out = hms(
        &[
            "x12",
            "validate",
            "--ack",
            "999",
            &sample("835_005010X221A1/managed-care.835"),
        ],
        None,
    );
    let text = stdout(&out);
    assert!(text.contains("AK1*HP*1*005010X221A1~"), "{text}");
    assert!(
        text.contains("IK3*BPR*2**8~\nIK4*16*373*8*20002316~"),
        "{text}"
    );
    assert!(text.contains("IK5*R*5~"), "{text}");
    assert!(text.contains("AK9*R*1*1*0~"), "{text}");

    let out = hms(
        &[
            "x12",
            "validate",
            "--ack",
            "999",
            &fixture("remittance/two-claims.835"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("IK5*A~") && text.contains("AK9*A*1*1*1~"),
        "{text}"
    );

    let out = hms(
        &[
            "x12",
            "validate",
            "--ack",
            "ta1",
            "--ack-control",
            "77",
            &fixture("remittance/two-claims.835"),
        ],
        None,
    );
    let text = stdout(&out);
    assert!(text.contains("TA1*000004711*261120*0930*A*000~"), "{text}");
    assert!(text.contains("*00501*000000077*0*T*:~"), "{text}");
    assert!(text.ends_with("IEA*0*000000077~\n"), "{text}");
}

#[test]
fn ta1_rejects_mismatched_trailer() {
    let input = std::fs::read_to_string(fixture("remittance/two-claims.835")).expect("fixture");
    let broken = input.replace("IEA*1*000004711~", "IEA*1*000004712~");
    let out = hms(
        &["x12", "validate", "--ack", "ta1", "-"],
        Some(broken.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("TA1*000004711*261120*0930*R*001~"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn parse_emits_loops_with_guide_ids() {
    let out = hms(
        &["x12", "parse", &fixture("remittance/two-claims.835")],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON tree");
    let tx = &doc["interchanges"][0]["groups"][0]["transactions"][0];
    assert_eq!(tx["id"], "835");
    assert_eq!(tx["guide"], "005010X221A1");
    let body = tx["body"]["content"].as_array().expect("content");
    let loops: Vec<&str> = body.iter().filter_map(|i| i["loop"].as_str()).collect();
    assert_eq!(loops, vec!["1000A", "1000B", "2000"]);
    let header = body.iter().find(|i| i["loop"] == "2000").expect("2000");
    let claims: Vec<&serde_json::Value> = header["content"]
        .as_array()
        .expect("2000 content")
        .iter()
        .filter(|i| i["loop"] == "2100")
        .collect();
    assert_eq!(claims.len(), 2);
    let svc = &claims[0]["content"].as_array().expect("2100")[2]["content"][0];
    assert_eq!(svc["id"], "SVC");
    assert_eq!(svc["elements"][0], serde_json::json!(["HC", "99214"]));
}

#[test]
fn fmt_puts_one_segment_per_line() {
    let input = std::fs::read_to_string(fixture("remittance/two-claims.835")).expect("fixture");
    let one_line: String = input.lines().collect();
    let out = hms(&["x12", "fmt", "-"], Some(one_line.as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), input);
}

#[test]
fn acknowledgments_are_not_acknowledged_with_a_999() {
    let out = hms(
        &[
            "x12",
            "validate",
            "--ack",
            "999",
            &sample("demo/demo.835.997"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("never acknowledged"));
    let out = hms(
        &[
            "x12",
            "validate",
            "--ack",
            "ta1",
            &sample("demo/demo.835.997"),
        ],
        None,
    );
    assert!(
        stdout(&out).contains("*R*023~"),
        "missing IEA is a premature end of file: {}",
        stdout(&out)
    );
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

#[test]
fn a_claim_array_becomes_one_837p_batch_and_its_errors_name_the_claim() {
    let batch = fixture_bytes("claims/batch-professional.json");
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&batch),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let x12 = stdout(&out);
    let claims: Vec<serde_json::Value> = serde_json::from_slice(&batch).unwrap();
    assert_eq!(x12.matches("ST*837*").count(), 1);
    assert_eq!(x12.matches("CLM*").count(), claims.len());

    let mut bad = claims.clone();
    bad[2]["claim"]["totalCharge"] = "1".into();
    let bad = serde_json::to_vec(&bad).unwrap();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&bad),
    );
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["expression"][0], "/2/claim/totalCharge");
}

#[test]
fn a_fhir_bundle_of_claims_is_scrubbed_and_written_as_one_batch() {
    let bundle = fixture_bytes("fhir/bundle-claims.json");
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&bundle),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stdout(&out).matches("CLM*").count(), 3);

    let mut bad: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    bad["entry"][1]["resource"]["total"]["value"] = 1.into();
    let out = hms(&["scrub", "-"], Some(&serde_json::to_vec(&bad).unwrap()));
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Bundle.entry[1].resource.total"
    );
    let empty = br#"{"resourceType":"Bundle","type":"collection","entry":[]}"#;
    let out = hms(&["scrub", "-"], Some(empty));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no-claims"), "{}", stdout(&out));
}

/// `hms translate --to json --lossless FILE`, which must succeed.
fn lossless_json(file: &str) -> Vec<u8> {
    let out = hms(&["translate", "--to", "json", "--lossless", file], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn an_837p_read_to_json_and_written_back_is_the_same_837p() {
    let original = sample("demo/demo.837");
    let json = lossless_json(&original);
    let read: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // The segments the model does not hold travel beside it.
    assert!(
        read[0]["unmapped"]["ops"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
    );
    assert_eq!(read[0]["envelope"]["version"], "005010X222A2");

    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&json),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let x12 = out.stdout;
    let out = hms(&["x12", "validate", "-"], Some(&x12));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Read again, it is the same model, envelope and kept remainder.
    let out = hms(
        &["translate", "--to", "json", "--lossless", "-"],
        Some(&x12),
    );
    assert!(out.status.success());
    // (Compared as the model: amounts by value, `1.0` units being `1`.)
    type Sets =
        Vec<hms_domain::lossless::Preserved<Vec<hms_domain::claims::model::ProfessionalClaim>>>;
    let again: Sets = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, serde_json::from_slice::<Sets>(&json).unwrap());

    // A claim the scrubber rejects is not written back: the outcome names it.
    let mut bad = read.clone();
    bad[0]["model"][0]["claim"]["totalCharge"] = "1".into();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&bad).unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "/0/model/0/claim/totalCharge"
    );
}

#[test]
fn an_835_read_losslessly_is_written_back_as_the_same_835() {
    let original = fixture("remittance/two-claims.835");
    // Without --lossless: the remittance view, with its balance.
    let out = hms(&["translate", "--to", "json", &original], None);
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plain[0]["balance"]["balanced"], true);
    assert!(plain[0].get("unmapped").is_none());

    let json = lossless_json(&original);
    let out = hms(
        &["translate", "--to", "x12", "--type", "835", "-"],
        Some(&json),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let back = String::from_utf8(out.stdout).unwrap();
    // The same segments, in the same order (bank accounts, addresses and contacts included),
    // one per line.
    let segments = |text: &str| -> Vec<String> {
        text.split('~')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let want = segments(&std::fs::read_to_string(&original).unwrap());
    let got = segments(&back);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want).skip(1) {
        // Amounts may be written without trailing zeros; everything else is as sent.
        assert_eq!(g.replace(".00", ""), w.replace(".00", ""));
    }

    // A patch that no longer fits its model says so.
    let mut broken: serde_json::Value = serde_json::from_slice(&json).unwrap();
    broken[0]["model"]["claims"] = serde_json::json!([]);
    let out = hms(
        &["translate", "--to", "x12", "--type", "835", "-"],
        Some(&serde_json::to_vec(&broken).unwrap()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the kept X12 does not fit loop"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_277_read_losslessly_is_written_back_as_the_same_277() {
    type Sets = Vec<hms_domain::lossless::Preserved<hms_domain::claim_status::StatusResponse>>;
    let original = sample("277_005010X212/claim-level-status.277");
    let json = lossless_json(&original);
    let read: Sets = serde_json::from_slice(&json).unwrap();
    let out = hms(
        &["translate", "--to", "x12", "--type", "277", "-"],
        Some(&json),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let x12 = out.stdout;
    assert_eq!(
        hms(&["x12", "validate", "-"], Some(&x12)).status.code(),
        Some(0)
    );
    let out = hms(
        &["translate", "--to", "json", "--lossless", "-"],
        Some(&x12),
    );
    let again: Sets = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, read);
    assert_eq!(again[0].model.claims.len(), 3);
}

#[test]
fn a_fhir_institutional_claim_becomes_an_837i_and_its_errors_point_with_fhirpath() {
    let claim = fixture_bytes("fhir/claim-institutional.json");
    let out = hms(
        &["translate", "--to", "x12", "--type", "837I", "-"],
        Some(&claim),
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let x12 = stdout(&out);
    assert!(x12.contains("CLM*756049R*6812.3***11:A:1"), "{x12}");
    assert!(x12.contains("HI*BBR:027034Z:D8:20261011"), "{x12}");
    assert_eq!(
        hms(&["x12", "validate", "-"], Some(x12.as_bytes()))
            .status
            .code(),
        Some(0)
    );

    let mut bad: serde_json::Value = serde_json::from_slice(&claim).unwrap();
    bad["billablePeriod"]["end"] = "2026-10-09".into();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837I", "-"],
        Some(&serde_json::to_vec(&bad).unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Claim.billablePeriod.end"
    );
}

/// A payer-rules directory for the CLI: `bytes` as `rules.wasm`, pinned by `pin`, for `payer`.
fn rules_dir(name: &str, bytes: &[u8], pin: &str, payer: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hms-cli-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rules.wasm"), bytes).unwrap();
    std::fs::write(
        dir.join("rules.json"),
        format!(
            r#"{{ "ruleSets": [ {{ "component": "rules.wasm", "sha256": "{pin}", "payerIds": ["{payer}"] }} ] }}"#
        ),
    )
    .unwrap();
    dir
}

#[test]
fn payer_rules_run_after_the_scrubber_and_hold_a_claim_they_find_wrong() {
    use hms_rules::testing::{component_serving, one_finding};
    let claim = fixture_bytes("claims/professional-subscriber.json");
    let refusing = component_serving("999996666", &one_finding(0));
    let pin = hms_rules::sha256_hex(&refusing);
    let translate_input = |dir: &PathBuf, input: &[u8]| {
        hms(
            &[
                "translate",
                "--to",
                "x12",
                "--type",
                "837P",
                "--rules",
                dir.to_str().unwrap(),
                "-",
            ],
            Some(input),
        )
    };
    let translate = |dir: &PathBuf| translate_input(dir, &claim);

    // The claim's payer has a rule set, and it finds an error: held, with the finding.
    let dir = rules_dir("refusing", &refusing, &pin, "999996666");
    let out = translate(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["issue"][0]["diagnostics"], "prior-auth-required");
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "/claim/priorAuthorization"
    );

    // Another payer's rule set does not touch it: the 837P is written.
    let others = component_serving("00435", &one_finding(0));
    let other = rules_dir(
        "other-payer",
        &others,
        &hms_rules::sha256_hex(&others),
        "00435",
    );
    let out = translate(&other);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("ST*837*"));

    // A batch (an array, read a claim at a time): the rule set holds its second claim, and
    // nothing of the batch is written; another payer's rule set lets both through.
    let one: serde_json::Value = serde_json::from_slice(&claim).unwrap();
    let batch = serde_json::to_vec(&[one.clone(), one]).unwrap();
    let run_batch = |dir: &PathBuf| translate_input(dir, &batch);
    let out = run_batch(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let held: Vec<&str> = outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["diagnostics"] == "prior-auth-required")
        .filter_map(|i| i["expression"][0].as_str())
        .collect();
    assert_eq!(
        held,
        ["/0/claim/priorAuthorization", "/1/claim/priorAuthorization"]
    );
    let out = run_batch(&other);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stdout(&out).matches("CLM*").count(), 2);

    // A component that does not match its pin is refused, and nothing is written.
    let wrong = rules_dir("wrong-pin", &refusing, &"0".repeat(64), "999996666");
    let out = translate(&wrong);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("refused"), "{}", stdout(&out));
    for dir in [dir, other, wrong] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn scrub_reads_institutional_claims_in_json_and_fhir() {
    let claim = fixture_bytes("claims/institutional-inpatient.json");
    let out = hms(&["scrub", "-"], Some(&claim));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let mut bad: serde_json::Value = serde_json::from_slice(&claim).unwrap();
    bad["claim"]["statementTo"] = "2000-01-01".into();
    let out = hms(&["scrub", "-"], Some(&serde_json::to_vec(&bad).unwrap()));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("/claim/statementTo"), "{text}");

    let fhir = fixture_bytes("fhir/claim-institutional.json");
    let mut bad: serde_json::Value = serde_json::from_slice(&fhir).unwrap();
    bad["billablePeriod"]["end"] = "2026-10-09".into();
    let out = hms(&["scrub", "-"], Some(&serde_json::to_vec(&bad).unwrap()));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        outcome["issue"][0]["expression"][0],
        "Claim.billablePeriod.end"
    );
}

#[test]
fn payer_rules_hold_an_institutional_claim_too() {
    use hms_rules::testing::{DESCRIBE, component, one_finding};
    let claim = fixture_bytes("claims/institutional-outpatient.json");
    let refusing = component(hms_rules::WIT, "rule-set", DESCRIBE, &one_finding(0), "");
    let pin = hms_rules::sha256_hex(&refusing);
    let dir = rules_dir("institutional", &refusing, &pin, "00435");
    let out = hms(
        &[
            "translate",
            "--to",
            "x12",
            "--type",
            "837I",
            "--rules",
            dir.to_str().unwrap(),
            "-",
        ],
        Some(&claim),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["issue"][0]["diagnostics"], "prior-auth-required");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn token_mints_a_development_token_for_an_organization_and_its_roles() {
    let secret = "a local development secret, 32+ chars";
    let mint = |args: &[&str], with_secret: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hms"));
        command.args(args);
        if with_secret {
            command.env("HMS_LOCAL_JWT_SECRET", secret);
        } else {
            command.env_remove("HMS_LOCAL_JWT_SECRET");
        }
        command.output().unwrap()
    };
    let out = mint(
        &[
            "token",
            "--org",
            "clinic-9",
            "--role",
            "billing",
            "--role",
            "admin",
            "--subject",
            "pat",
        ],
        true,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let caller = hms_auth::Verifier::local(
        secret.as_bytes(),
        "hms-ach-local",
        "hms-ach",
        hms_auth::ClaimNames::default(),
    )
    .caller(None, Some(&format!("Bearer {}", token.trim())))
    .unwrap();
    assert_eq!(caller.subject, "pat");
    assert_eq!(caller.organization, "clinic-9");
    assert_eq!(
        caller.roles,
        [hms_auth::Role::Billing, hms_auth::Role::Admin]
    );
    assert_eq!(caller.require(hms_auth::Permission::RedriveClaims), Ok(()));
    assert!(caller.require(hms_auth::Permission::ReadAudit).is_err());

    let out = mint(&["token", "--org", "clinic-9", "--role", "root"], true);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("root is not a role"));
    let out = mint(&["token", "--org", "clinic 9", "--role", "billing"], true);
    assert_eq!(out.status.code(), Some(2));
    let out = mint(&["token", "--org", "clinic-9", "--role", "billing"], false);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_edits_are_listed_from_the_registry_and_the_document_is_that_list() {
    let out = hms(&["scrub", "--list-edits"], None);
    assert!(out.status.success());
    let table = stdout(&out);
    for edit in hms_domain::claims::edits::EDITS {
        assert!(table.contains(&format!("| `{}` |", edit.id)), "{}", edit.id);
    }
    let document = std::fs::read_to_string(
        hms_test_support::workspace().join("functions/shared/hms-domain/EDITS.md"),
    )
    .unwrap();
    assert!(
        document.ends_with(&table),
        "EDITS.md is not the registry: run `hms scrub --list-edits` into it"
    );
}

#[test]
fn a_profile_switches_an_edit_off_by_id_and_an_unknown_id_is_refused() {
    let claim = String::from_utf8(fixture_bytes("claims/professional-subscriber.json"))
        .unwrap()
        .replace("234 SEAWAY ST", "PO BOX 12");
    let found = hms(&["scrub", "-"], Some(claim.as_bytes()));
    assert_eq!(found.status.code(), Some(1));
    assert!(stdout(&found).contains("billing-address-po-box"));
    let off = hms(
        &["scrub", "--off", "billing-address-po-box", "-"],
        Some(claim.as_bytes()),
    );
    assert!(off.status.success(), "{}", stdout(&off));
    let unknown = hms(
        &["scrub", "--off", "no-such-edit", "-"],
        Some(claim.as_bytes()),
    );
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_failed_publish_leaves_the_published_registry_as_it_was() {
    use hms_rules::testing::{component_serving, one_finding};
    let scratch = std::env::temp_dir().join(format!("hms-cli-publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let good = scratch.join("good.wasm");
    std::fs::write(&good, component_serving("00435", &one_finding(1))).unwrap();
    let other = scratch.join("other.wasm");
    std::fs::write(&other, component_serving("999996666", &one_finding(0))).unwrap();
    let broken = scratch.join("broken.wasm");
    std::fs::write(&broken, b"\0asm not a component").unwrap();
    let out = scratch.join("published");
    let publish = |components: &[&PathBuf]| {
        let mut args = vec!["rules", "publish", "--out", out.to_str().unwrap()];
        args.extend(components.iter().map(|c| c.to_str().unwrap()));
        hms(&args, None)
    };
    let first = publish(&[&good]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let registry = std::fs::read(out.join("rules.json")).unwrap();
    let files = |dir: &PathBuf| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|f| f.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    };
    let before = files(&out);
    // The second component is fine, the third is not: nothing of the three is published.
    let failed = publish(&[&other, &good, &broken]);
    assert_ne!(failed.status.code(), Some(0));
    assert_eq!(std::fs::read(out.join("rules.json")).unwrap(), registry);
    assert_eq!(files(&out), before);
    // What is there still loads, and serves the first publish's payer.
    let host = hms_rules::host::RuleHost::new(hms_rules::host::Limits::default()).unwrap();
    let loaded = hms_rules::registry::Registry::open(&host, &out, None).unwrap();
    assert!(loaded.for_payer("00435").is_some());
    assert!(loaded.for_payer("999996666").is_none());
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly_not_with_a_panic() {
    let claim = fixture("claims/professional-subscriber.json");
    for args in [
        vec!["scrub", "--list-edits"],
        vec!["translate", claim.as_str(), "--to", "x12", "--type", "837P"],
        vec!["scrub", claim.as_str()],
    ] {
        // The reader closes its end before a byte is read, as `| head -c 0` does.
        common::ends_quietly_when_the_reader_goes_away(&args, 0);
    }
}

/// `translate` refuses what `validate` finds structurally broken, since a translation of it
/// would drop data without a word; what it forgives (a byte-order mark) it says on stderr.
#[test]
fn translate_refuses_structurally_broken_x12_and_says_what_it_forgave() {
    let scratch = std::env::temp_dir().join(format!("hms-cli-broken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let remittance = std::fs::read_to_string(fixture("remittance/two-claims.835")).unwrap();
    let write = |name: &str, text: Vec<u8>| {
        let path = scratch.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    // An 835 whose claim payments lost their LX: every CLP would be dropped.
    let no_lx: String = remittance
        .split_inclusive('~')
        .filter(|s| !s.trim_start().starts_with("LX*"))
        .collect();
    let no_lx = write("no-lx.835", no_lx.into_bytes());
    for to in ["json", "fhir"] {
        let out = hms(&["translate", "--to", to, &no_lx], None);
        assert_eq!(out.status.code(), Some(1), "{to}: {}", stdout(&out));
        assert_eq!(stdout(&out), "", "{to}");
        assert!(
            stderr(&out).contains("CLP") && stderr(&out).contains("not translated"),
            "{}",
            stderr(&out)
        );
    }
    // An ISA whose elements are not of their fixed widths.
    let short = remittance.replacen("*ZZ*PAYERSIM       *", "*ZZ*PAYERSIM*", 1);
    assert_ne!(short, remittance);
    let short = write("short-isa.835", short.into_bytes());
    let out = hms(&["translate", "--to", "json", &short], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fixed widths"), "{}", stderr(&out));
    // A byte-order mark is skipped, and said to be.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(remittance.as_bytes());
    let bom = write("bom.835", bom);
    let out = hms(&["translate", "--to", "json", &bom], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("byte-order mark"), "{}", stderr(&out));
    assert!(stdout(&out).contains("PCN1001"));
    let _ = std::fs::remove_dir_all(&scratch);
}
