//! `hms translate` of an 835 as it streams: the JSON is the whole model's, the FHIR has an
//! EOB per claim payment (one a line with `--ndjson`), standard input gives the same, and an
//! input that fails validation writes nothing; an 837 streams to its claims, and a large JSON
//! array of claims to one validated 837.
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;
use common::hms;

/// A synthetic 835 of about `bytes`, in a file of its own: its path and contents.
fn synthetic(name: &str, bytes: usize) -> (std::path::PathBuf, Vec<u8>) {
    let x12 = hms_x12::synth::remittance_835(bytes).unwrap();
    let path = std::env::temp_dir().join(format!("hms-cli-{}-{name}.835", std::process::id()));
    std::fs::write(&path, &x12).unwrap();
    (path, x12)
}

#[test]
fn an_835_streams_to_the_json_of_its_whole_model_from_a_file_or_standard_input() {
    let (path, x12) = synthetic("json", 600_000);
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let mut whole =
        serde_json::to_vec(&hms_domain::remittance::read_835(&x12, catalog).unwrap()).unwrap();
    whole.push(b'\n');
    let from_file = hms(&["translate", "--to", "json", path.to_str().unwrap()], None);
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    assert!(from_file.stdout == whole);
    let from_stdin = hms(&["translate", "--to", "json", "-"], Some(&x12));
    assert!(from_stdin.status.success());
    assert!(from_stdin.stdout == whole);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn an_835_streams_to_a_fhir_bundle_or_an_eob_a_line() {
    let (path, x12) = synthetic("fhir", 300_000);
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let claims: usize = hms_domain::remittance::read_835(&x12, catalog)
        .unwrap()
        .iter()
        .map(|r| r.claims.len())
        .sum();
    let bundle = hms(&["translate", "--to", "fhir", path.to_str().unwrap()], None);
    assert!(bundle.status.success());
    let bundle: serde_json::Value = serde_json::from_slice(&bundle.stdout).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"].as_array().unwrap().len(), claims);
    let lines = hms(
        &[
            "translate",
            "--to",
            "fhir",
            "--ndjson",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(lines.status.success());
    let text = String::from_utf8(lines.stdout).unwrap();
    assert_eq!(text.lines().count(), claims);
    for (n, line) in text.lines().enumerate() {
        let eob: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(eob["resourceType"], "ExplanationOfBenefit");
        assert_eq!(eob["id"], format!("eob-{}", n + 1));
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn an_835_that_fails_validation_writes_nothing() {
    let (_, x12) = synthetic("broken", 300_000);
    // A claim payment's CLP misspelled: its segments have no place; nothing may be dropped
    // silently.
    let text = String::from_utf8(x12)
        .unwrap()
        .replacen("\nCLP*", "\nCLQ*", 1);
    for to in ["json", "fhir"] {
        let out = hms(&["translate", "--to", to, "-"], Some(text.as_bytes()));
        assert_eq!(out.status.code(), Some(1), "{to}");
        assert!(
            out.stdout.is_empty(),
            "{to}: {} bytes written",
            out.stdout.len()
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("not translated"));
    }
}

/// Runs `hms args` with its standard output a file (`> path`) that holds `before`; how it
/// ended and what the file holds after.
fn into_file(args: &[&str], path: &std::path::Path, before: &[u8]) -> (Option<i32>, Vec<u8>) {
    std::fs::write(path, before).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hms"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(file)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    (status.code(), std::fs::read(path).unwrap())
}

#[test]
fn a_translation_written_to_a_file_is_all_there_or_not_there_at_all() {
    // Standard output an empty file is written in place while the input is validated, and
    // cut back when the input fails; a file with something in it is left alone until the
    // validation passes first.
    let (good, x12) = synthetic("into-file", 300_000);
    let broken = good.with_extension("broken.835");
    let text = String::from_utf8(x12).unwrap();
    std::fs::write(&broken, text.replacen("\nCLP*", "\nCLQ*", 1)).unwrap();
    let out = std::env::temp_dir().join(format!("hms-cli-{}-out.json", std::process::id()));
    for to in ["json", "fhir"] {
        let piped = hms(&["translate", "--to", to, good.to_str().unwrap()], None);
        assert!(piped.status.success());
        let args = ["translate", "--to", to, good.to_str().unwrap()];
        assert_eq!(into_file(&args, &out, b""), (Some(0), piped.stdout.clone()));
        let args = ["translate", "--to", to, broken.to_str().unwrap()];
        assert_eq!(into_file(&args, &out, b""), (Some(1), vec![]), "{to}");
        // Something already there is left as it was.
        let kept = b"kept".to_vec();
        assert_eq!(
            into_file(&args, &out, &kept),
            (Some(1), kept.clone()),
            "{to}"
        );
    }

    // An 837 the same way; and one followed by a 277, which calls for the whole read of both
    // (its first set, an 837, is translated beside the validation and then thrown away).
    let samples = hms_test_support::x12_samples();
    let claims = std::fs::read(samples.join("demo/demo.837")).unwrap();
    // (Its interchange renumbered: both samples are 000000907, a duplicate in one file.)
    let status = std::fs::read_to_string(samples.join("277_005010X212/claim-level-status.277"))
        .unwrap()
        .replace("000000907", "000000908")
        .into_bytes();
    let mixed = good.with_extension("mixed.x12");
    std::fs::write(
        &mixed,
        [claims.as_slice(), b"\n", status.as_slice()].concat(),
    )
    .unwrap();
    let single = good.with_extension("837");
    std::fs::write(&single, &claims).unwrap();
    for path in [&single, &mixed] {
        let args = ["translate", "--to", "json", path.to_str().unwrap()];
        let piped = hms(&args, None);
        assert!(piped.status.success(), "{path:?}");
        assert_eq!(
            into_file(&args, &out, b""),
            (Some(0), piped.stdout),
            "{path:?}"
        );
    }
    let text = String::from_utf8(claims).unwrap();
    std::fs::write(&broken, text.replacen("\nCLM*", "\nCLX*", 1)).unwrap();
    let args = ["translate", "--to", "json", broken.to_str().unwrap()];
    assert_eq!(into_file(&args, &out, b""), (Some(1), vec![]));

    // A batch of claims into an empty file: the 837 written in place; a batch with a claim
    // the scrubber refuses leaves only its outcome there, as on a pipe.
    let mut batch: Vec<serde_json::Value> = hms_test_support::synthetic_claims("PCN", 50).collect();
    let claims_path = good.with_extension("claims.json");
    std::fs::write(&claims_path, serde_json::to_vec(&batch).unwrap()).unwrap();
    let args = ["translate", "--to", "x12", "--type", "837P"];
    let args = [&args[..], &[claims_path.to_str().unwrap()]].concat();
    // (Stamped with the time they are written: ISA, GS and BHT may differ by a minute.)
    let stamped = |x12: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(x12)
            .lines()
            .filter(|l| !["ISA*", "GS*", "BHT*"].iter().any(|s| l.starts_with(s)))
            .map(str::to_string)
            .collect()
    };
    let piped = hms(&args, None);
    assert!(piped.status.success());
    let (code, written) = into_file(&args, &out, b"");
    assert_eq!(code, Some(0));
    assert_eq!(stamped(&written), stamped(&piped.stdout));
    assert!(
        stamped(&written)
            .iter()
            .filter(|l| l.starts_with("CLM*"))
            .count()
            == 50
    );
    batch[40]["claim"]["totalCharge"] = "1".into();
    std::fs::write(&claims_path, serde_json::to_vec(&batch).unwrap()).unwrap();
    let piped = hms(&args, None);
    assert_eq!(piped.status.code(), Some(1));
    assert_eq!(into_file(&args, &out, b""), (Some(1), piped.stdout));
    for path in [good, broken, out, mixed, single, claims_path] {
        std::fs::remove_file(path).unwrap();
    }
}

/// A reader that goes away midway (`| head -c 1000`) ends a streamed translation quietly:
/// the thread that writes says so to the one that reads, and neither panics nor waits.
#[test]
fn a_reader_that_goes_away_midway_ends_a_streamed_translation_quietly() {
    let (remit, _) = synthetic("reader-gone", 2_000_000);
    let claims: Vec<serde_json::Value> = hms_test_support::synthetic_claims("PCN", 2_000).collect();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&claims).unwrap()),
    );
    assert!(out.status.success());
    let batch = remit.with_extension("837");
    std::fs::write(&batch, &out.stdout).unwrap();
    let (remit, batch) = (remit.to_str().unwrap(), batch.to_str().unwrap());
    for (to, input) in [("json", remit), ("fhir", remit), ("json", batch)] {
        for ndjson in [false, true] {
            let mut args = vec!["translate", "--to", to, input];
            if ndjson {
                args.push("--ndjson");
            }
            common::ends_quietly_when_the_reader_goes_away(&args, 1000);
        }
    }
    std::fs::remove_file(remit).unwrap();
    std::fs::remove_file(batch).unwrap();
}

#[test]
fn ndjson_of_what_holds_no_835_says_so() {
    let sample =
        hms_test_support::x12_samples().join("271_005010X279A1/dependent-health-benefit-check.271");
    let out = hms(
        &[
            "translate",
            "--to",
            "json",
            "--ndjson",
            sample.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ndjson"));
    // Without it the 271 is translated whole, as before.
    let out = hms(
        &["translate", "--to", "json", sample.to_str().unwrap()],
        None,
    );
    assert!(out.status.success());
}

#[test]
fn an_837_streams_to_the_json_of_its_claims_or_a_claim_a_line() {
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let samples = hms_test_support::x12_samples();
    let institutional = samples.join("837_005010X223A3/institutional-claim.837i");
    for path in [samples.join("demo/demo.837"), institutional] {
        let x12 = std::fs::read(&path).unwrap();
        let claims = hms_domain::claims::read_837(&x12, catalog).unwrap();
        let mut whole = serde_json::to_vec(&claims).unwrap();
        whole.push(b'\n');
        let out = hms(&["translate", "--to", "json", path.to_str().unwrap()], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == whole, "{}", path.display());
        let out = hms(&["translate", "--to", "json", "--ndjson", "-"], Some(&x12));
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), claims.len());
        for (line, claim) in lines.iter().zip(&claims) {
            assert_eq!(*line, serde_json::to_value(claim).unwrap());
        }
    }
}

#[test]
fn x12_parse_streams_the_whole_trees_json() {
    let x12 = std::fs::read(hms_test_support::x12_samples().join("demo/demo.837")).unwrap();
    let tree = hms_x12::tree::parse(&x12, hms_x12::spec::Catalog::embedded().unwrap()).unwrap();
    let mut whole = serde_json::to_vec(&tree).unwrap();
    whole.push(b'\n');
    let out = hms(&["x12", "parse", "-"], Some(&x12));
    assert!(out.status.success());
    assert!(out.stdout == whole);
    // Cut after its first claim: what was read is written, and the error says it is not all.
    let text = String::from_utf8(x12).unwrap();
    let cut = text.replacen("GS*", "XX*", 1);
    let out = hms(&["x12", "parse", "-"], Some(cut.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("incomplete"));
}

#[test]
fn a_large_claim_array_becomes_one_validated_837_or_names_each_bad_claim() {
    let claims: Vec<serde_json::Value> = hms_test_support::synthetic_claims("PCN", 400).collect();
    let json = serde_json::to_vec(&claims).unwrap();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&json),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let x12 = String::from_utf8(out.stdout).unwrap();
    assert_eq!(x12.matches("\nCLM*").count(), 400);
    assert!(x12.contains("*PCN0000399*"));
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let back = hms_domain::claims::read_837(x12.as_bytes(), catalog).unwrap();
    assert_eq!(back.len(), 400);
    // A batch of several is named by its interchange (BHT03 = ISA13); an array of one claim,
    // opened only when the input ends, by that claim's control number.
    let isa13 = x12.split('*').nth(13).unwrap().to_string();
    assert!(x12.contains(&format!("BHT*0019*00*{isa13}*")), "{isa13}");
    let one = serde_json::to_vec(&claims[..1]).unwrap();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&one),
    );
    assert!(out.status.success());
    let x12 = String::from_utf8(out.stdout).unwrap();
    assert!(x12.contains("BHT*0019*00*PCN0000000*"), "{x12}");
    assert_eq!(x12.matches("\nCLM*").count(), 1);

    // Two claims that fail the scrubber: both named, and nothing written.
    let mut bad = claims.clone();
    bad[17]["claim"]["totalCharge"] = "1".into();
    bad[350]["claim"]["totalCharge"] = "1".into();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&bad).unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let places: Vec<&str> = outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "error")
        .filter_map(|i| i["expression"][0].as_str())
        .collect();
    assert!(places.contains(&"/17/claim/totalCharge"), "{places:?}");
    assert!(places.contains(&"/350/claim/totalCharge"), "{places:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ISA*"));

    // An array cut short is not JSON: said where, nothing written.
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&json[..json.len() / 2]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OperationOutcome"));
}

#[test]
fn a_fhir_bundle_of_claims_becomes_one_validated_837_or_names_each_bad_claim() {
    let bundle = hms_test_support::synthetic_bundle(60);
    let json = serde_json::to_vec(&bundle).unwrap();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&json),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let x12 = String::from_utf8(out.stdout).unwrap();
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let back = hms_domain::claims::read_837(x12.as_bytes(), catalog).unwrap();
    let numbers: Vec<String> = back
        .iter()
        .map(|c| match c {
            hms_domain::claims::Claim::Professional(c) => {
                c.claim.patient_control_number.as_str().to_string()
            }
            hms_domain::claims::Claim::Institutional(c) => {
                c.claim.patient_control_number.as_str().to_string()
            }
        })
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("claim-{i}")).collect();
    assert_eq!(numbers, expected);
    // The claims are what the Bundle read whole gives, written as one batch.
    let whole = hms_domain::claims::Batch::read(
        &json,
        Some(hms_domain::claims::ClaimKind::Professional),
        &hms_domain::partner::Connections::local(),
    )
    .unwrap();
    assert_eq!(back.len(), whole.claims.len());

    // A Claim whose Patient is not in the Bundle, and one the scrubber refuses: both named
    // where they stand in the Bundle, nothing written.
    let mut bad = bundle.clone();
    let entries = bad["entry"].as_array_mut().unwrap();
    let claims: Vec<usize> = (0..entries.len())
        .filter(|&k| entries[k]["resource"]["resourceType"] == "Claim")
        .collect();
    let (first, last) = (claims[3], claims[57]);
    entries[first]["resource"]["patient"] = serde_json::json!({ "reference": "Patient/nobody" });
    entries[last]["resource"]["insurance"][0]["coverage"] =
        serde_json::json!({ "reference": "Coverage/none" });
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&bad).unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("ISA*"));
    for at in [
        format!("Bundle.entry[{first}].resource.patient"),
        format!("Bundle.entry[{last}].resource.insurance[0].coverage"),
    ] {
        assert!(text.contains(&at), "{at}: {text}");
    }

    // A Claim the scrubber refuses (its services a year from now): named in FHIRPath.
    let mut late = bundle.clone();
    let entries = late["entry"].as_array_mut().unwrap();
    let future = (chrono::Local::now().date_naive() + chrono::Days::new(365)).to_string();
    entries[last]["resource"]["item"][0]["servicedDate"] = future.into();
    let out = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&late).unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("ISA*"));
    assert!(
        text.contains(&format!("Bundle.entry[{last}].resource.item[0]")),
        "{text}"
    );
}

/// `hms scrub` of a batch: what the domain says of the batch read whole (the scrubber's
/// findings, then the FHIR reader's notes), though the command reads a claim at a time.
fn scrubbed_as_whole(input: &[u8]) -> serde_json::Value {
    let today = chrono::Local::now().date_naive();
    let connections = hms_domain::partner::Connections::local();
    let outcome = match hms_domain::claims::Batch::read(input, None, &connections) {
        Ok(batch) => {
            let mut outcome = batch.scrub(today);
            outcome.issue.extend(batch.notes);
            outcome
        }
        Err(outcome) => outcome,
    };
    serde_json::to_value(outcome).unwrap()
}

#[test]
fn scrub_reads_a_large_batch_a_claim_at_a_time_and_says_what_the_whole_read_says() {
    let claims: Vec<serde_json::Value> = hms_test_support::synthetic_claims("PCN", 300).collect();
    let mut bad_claims = claims.clone();
    bad_claims[17]["claim"]["totalCharge"] = "1".into();
    bad_claims[250]["subscriber"]["memberId"] = "".into();
    let bundle = hms_test_support::synthetic_bundle(40);
    let mut unreadable = bundle.clone();
    let mut refused = bundle.clone();
    for (bundle, change) in [(&mut unreadable, 0), (&mut refused, 1)] {
        let entries = bundle["entry"].as_array_mut().unwrap();
        let claims: Vec<usize> = (0..entries.len())
            .filter(|&k| entries[k]["resource"]["resourceType"] == "Claim")
            .collect();
        if change == 0 {
            entries[claims[5]]["resource"]["patient"] =
                serde_json::json!({ "reference": "Patient/nobody" });
        } else {
            entries[claims[30]]["resource"]["total"]["value"] = 1.into();
        }
    }
    for input in [
        serde_json::to_value(&claims).unwrap(),
        serde_json::to_value(&bad_claims).unwrap(),
        bundle,
        unreadable,
        refused,
    ] {
        let input = serde_json::to_vec(&input).unwrap();
        let out = hms(&["scrub", "-"], Some(&input));
        let expected = scrubbed_as_whole(&input);
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, expected);
        let errors = expected["issue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["severity"] == "error");
        assert_eq!(out.status.code(), Some(i32::from(errors)), "{got}");
    }
}

/// Claims a line (what `--to json --ndjson` makes of an 837) become an 837 again, one claim
/// read at a time as an array's are: the same claims come back, and a bad line is named as the
/// array's element would be, by `hms translate` and by `hms scrub`.
#[test]
fn claims_a_line_become_an_837_and_back_as_an_arrays_do() {
    let catalog = hms_x12::spec::Catalog::embedded().unwrap();
    let claims: Vec<serde_json::Value> = hms_test_support::synthetic_claims("NDJ", 300).collect();
    let array = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&serde_json::to_vec(&claims).unwrap()),
    );
    assert!(array.status.success());
    let from_array = hms_domain::claims::read_837(&array.stdout, catalog).unwrap();
    assert_eq!(from_array.len(), 300);

    // The 837's claims a line, and that NDJSON back to an 837.
    let lines = hms(
        &["translate", "--to", "json", "--ndjson", "-"],
        Some(&array.stdout),
    );
    assert!(lines.status.success());
    assert_eq!(lines.stdout.iter().filter(|b| **b == b'\n').count(), 300);
    let back = hms(
        &["translate", "--to", "x12", "--type", "837P", "-"],
        Some(&lines.stdout),
    );
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stdout)
    );
    let x12 = String::from_utf8(back.stdout).unwrap();
    assert_eq!(x12.matches("\nCLM*").count(), 300);
    assert_eq!(
        hms_domain::claims::read_837(x12.as_bytes(), catalog).unwrap(),
        from_array
    );

    // Our claims a line, one of them bad: named by its place, as in an array.
    let mut text = Vec::new();
    for (i, claim) in claims.iter().enumerate() {
        let mut claim = claim.clone();
        if i == 7 {
            claim["claim"]["totalCharge"] = "twelve".into();
        }
        serde_json::to_writer(&mut text, &claim).unwrap();
        text.push(b'\n');
    }
    for args in [
        &["translate", "--to", "x12", "--type", "837P", "-"][..],
        &["scrub", "-"],
    ] {
        let out = hms(args, Some(&text));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        let issues = outcome["issue"].as_array().unwrap();
        assert!(
            issues
                .iter()
                .any(|i| i["expression"][0] == "/7/claim/totalCharge"),
            "{args:?}: {outcome}"
        );
    }
}
