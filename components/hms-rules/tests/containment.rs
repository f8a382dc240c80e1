//! Rule sets that misbehave on purpose (written in the WebAssembly text format): each is
//! stopped and reported by name with the limit it hit, and the host keeps serving.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_rules::host::{Limits, RuleError, RuleHost, RuleLogs, types};
use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component, component_with_version};

fn rules(describe: &str, validate: &str) -> Vec<u8> {
    component(hms_rules::WIT, "rule-set", describe, validate, "")
}

/// A validate that never returns.
const ENDLESS_LOOP: &str = "(loop $l (br $l)) unreachable";

fn claim() -> types::Claim {
    hms_rules::testing::claim(1)
}

fn host() -> RuleHost {
    RuleHost::new(Limits::default()).unwrap()
}

#[test]
fn a_well_behaved_rule_set_answers_and_reports_its_fuel() {
    let host = host();
    let rules = host
        .load("test-rules", &rules(DESCRIBE, NO_FINDINGS))
        .unwrap();
    let info = host.describe(&rules).unwrap();
    assert_eq!(
        (info.name.as_str(), info.version.as_str(), info.payer_ids),
        ("test-rules", "1.0.0", vec!["00435".to_string()])
    );
    let (findings, fuel) = host.validate(&rules, &claim()).unwrap();
    assert!(findings.is_empty());
    assert!(fuel > 0 && fuel < 1_000, "{fuel}");
}

#[test]
fn an_endless_loop_is_stopped_by_its_fuel_and_the_host_goes_on() {
    let host = host();
    let looping = host
        .load("looping-rules", &rules(DESCRIBE, ENDLESS_LOOP))
        .unwrap();
    let err = host.validate(&looping, &claim()).unwrap_err();
    assert!(
        matches!(
            err,
            RuleError::OutOfFuel {
                fuel: 11_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "looping-rules: stopped after its budget of 11000000 instructions"
    );
    // The same host, and the same component, serve the next call.
    let good = host
        .load("test-rules", &rules(DESCRIBE, NO_FINDINGS))
        .unwrap();
    assert!(host.validate(&good, &claim()).is_ok());
    assert!(host.describe(&looping).is_ok());
}

#[test]
fn memory_growth_past_the_cap_is_stopped() {
    let host = host();
    let bomb = host
        .load(
            "memory-bomb",
            &rules(
                DESCRIBE,
                "(loop $l (drop (memory.grow (i32.const 16))) (br $l)) unreachable",
            ),
        )
        .unwrap();
    let err = host.validate(&bomb, &claim()).unwrap_err();
    assert!(
        matches!(err, RuleError::Memory { bytes, .. } if bytes == 16 << 20),
        "{err}"
    );
}

#[test]
fn a_trap_is_reported_with_the_component() {
    let host = host();
    let trapping = host
        .load("trapping-rules", &rules(DESCRIBE, "unreachable"))
        .unwrap();
    let err = host.validate(&trapping, &claim()).unwrap_err();
    assert!(matches!(err, RuleError::Trap { .. }), "{err}");
    assert!(
        err.to_string().starts_with("trapping-rules: trapped:"),
        "{err}"
    );
}

#[test]
fn a_component_of_another_world_is_refused_at_load() {
    let other = r#"package hms:payer-rules@1.0.0;
interface rules {
    describe: func() -> string;
}
world rule-set {
    export rules;
}"#;
    let bytes = component(
        other,
        "rule-set",
        "(i32.store (i32.const 64) (i32.const 256)) (i32.store (i32.const 68) (i32.const 10)) (i32.const 64)",
        "unreachable",
        "",
    );
    let err = host().load("other-world", &bytes);
    assert!(matches!(err, Err(RuleError::WrongWorld { .. })), "{err:?}");
}

#[test]
fn a_component_that_imports_wasi_is_refused_at_load() {
    let with_wasi = format!(
        "{}\n\npackage wasi:random@0.2.0 {{\n  interface random {{\n    get-random-u64: func() -> u64;\n  }}\n}}\n",
        hms_rules::WIT.replace(
            "world rule-set {\n    import host;",
            "world rule-set {\n    import host;\n    import wasi:random/random@0.2.0;"
        )
    );
    let bytes = component(
        &with_wasi,
        "rule-set",
        DESCRIBE,
        NO_FINDINGS,
        r#"(import "wasi:random/random@0.2.0" "get-random-u64" (func (result i64)))"#,
    );
    let err = host().load("wasi-rules", &bytes).unwrap_err();
    assert!(matches!(err, RuleError::WrongWorld { .. }), "{err}");
    assert!(err.to_string().contains("wasi:random"), "{err}");
}

/// A fresh directory under the target directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hms-rules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A well-behaved rule set whose describe answers `version` (five characters, as "1.0.0").
fn versioned(version: &str) -> Vec<u8> {
    assert_eq!(version.len(), 5);
    component_with_version(
        hms_rules::WIT,
        "rule-set",
        DESCRIBE,
        NO_FINDINGS,
        "",
        version,
    )
}

#[test]
fn a_compiled_component_is_cached_and_deserialized_on_the_next_start() {
    use hms_rules::host::CacheUse;
    let cache = scratch("cache");
    let bytes = rules(DESCRIBE, NO_FINDINGS);
    let first_host = host();
    let (first, how) = first_host
        .load_cached("test-rules", &bytes, &cache)
        .unwrap();
    assert_eq!(how, CacheUse::Compiled);
    assert!(first_host.validate(&first, &claim()).is_ok());
    // A new host (a cold start): the same engine configuration finds the artifact.
    let other = host();
    let (second, how) = other.load_cached("test-rules", &bytes, &cache).unwrap();
    assert_eq!(how, CacheUse::Deserialized);
    assert_eq!(other.describe(&second).unwrap().name, "test-rules");
    // A rule set belongs to the host that loaded it: another host says so, and does not panic.
    let err = other.describe(&first).unwrap_err();
    assert!(err.to_string().contains("loaded by another host"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|f| f.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with(&hms_rules::sha256_hex(&bytes)),
        "{names:?}"
    );
    assert!(
        names[0].ends_with(".cwasm") && names[1].ends_with(".cwasm.sha256"),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(cache);
}

#[test]
fn a_swapped_cached_artifact_never_runs_under_another_rule_sets_name() {
    use hms_rules::host::CacheUse;
    let cache = scratch("swapped-cache");
    let host = host();
    let a = versioned("1.0.0");
    let b = versioned("2.0.0");
    host.load_cached("a.wasm", &a, &cache).unwrap();
    host.load_cached("b.wasm", &b, &cache).unwrap();
    let path_of = |bytes: &[u8]| {
        std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                name.starts_with(&hms_rules::sha256_hex(bytes)) && name.ends_with(".cwasm")
            })
            .unwrap()
    };
    // B's artifact put where A's is read from: A is compiled afresh, and is A.
    std::fs::copy(path_of(&b), path_of(&a)).unwrap();
    let (loaded, how) = host.load_cached("a.wasm", &a, &cache).unwrap();
    assert_eq!(how, CacheUse::Compiled);
    assert_eq!(host.describe(&loaded).unwrap().version, "1.0.0");
    // A cache others may write to is not read from at all.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (_, how) = host.load_cached("a.wasm", &a, &cache).unwrap();
    assert_eq!(how, CacheUse::Compiled);
    let _ = std::fs::remove_dir_all(cache);
}

#[test]
fn the_registry_serves_payers_refuses_a_wrong_pin_and_swaps_versions_without_a_restart() {
    use hms_rules::registry::{Registry, RegistryError};
    let dir = scratch("registry");
    let host = host();
    let write_for = |file: &str, bytes: &[u8], pin: &str, payers: &str| {
        std::fs::write(dir.join(file), bytes).unwrap();
        let registry = format!(
            r#"{{ "ruleSets": [ {{ "component": "{file}", "sha256": "{pin}", "payerIds": [{payers}] }} ] }}"#
        );
        std::fs::write(dir.join("rules.json"), registry).unwrap();
    };
    let write = |file: &str, bytes: &[u8], pin: &str| write_for(file, bytes, pin, r#""00435""#);
    let v1 = versioned("1.0.0");
    write("medicare-b.wasm", &v1, &hms_rules::sha256_hex(&v1));
    let registry = Registry::open(&host, &dir, None).unwrap();
    let rules = registry.for_payer("00435").unwrap();
    assert_eq!(host.describe(&rules).unwrap().version, "1.0.0");
    // Errors and logs name the rule set by its own name and version, and its file.
    assert_eq!(rules.label(), "test-rules 1.0.0 (medicare-b.wasm)");
    assert!(registry.for_payer("99999").is_none());

    // A registry that gives the rule set a payer it does not say it serves is refused.
    write_for(
        "medicare-b.wasm",
        &v1,
        &hms_rules::sha256_hex(&v1),
        r#""00435", "00436""#,
    );
    let err = registry.reload(&host).unwrap_err();
    assert!(matches!(err, RegistryError::PayerNotServed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("payer id 00436, which it does not serve"),
        "{err}"
    );

    // A component that does not match its pin is refused, and the registry keeps serving v1.
    let v2 = versioned("1.1.0");
    write("medicare-b.wasm", &v2, &hms_rules::sha256_hex(&v1));
    let err = registry.reload(&host).unwrap_err();
    assert!(matches!(err, RegistryError::PinMismatch { .. }), "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(
        host.describe(&registry.for_payer("00435").unwrap())
            .unwrap()
            .version,
        "1.0.0"
    );

    // Pinned right, the new version is swapped in; a call holding v1 still has it.
    write("medicare-b.wasm", &v2, &hms_rules::sha256_hex(&v2));
    assert_eq!(registry.reload(&host).unwrap(), 1);
    assert_eq!(
        host.describe(&registry.for_payer("00435").unwrap())
            .unwrap()
            .version,
        "1.1.0"
    );
    assert_eq!(host.describe(&rules).unwrap().version, "1.0.0");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_registry_reads_through_the_object_store_port_and_refuses_what_is_missing_or_mispinned() {
    use hms_rules::registry::{Registry, RegistryError};
    use hms_service::ports::ObjectStore;
    use hms_service::testing::InMemoryObjectStore;
    use pollster::block_on;
    let host = host();
    let store = InMemoryObjectStore::new();
    let v1 = versioned("1.0.0");
    let registry_file = |pin: &str| {
        format!(
            r#"{{ "ruleSets": [ {{ "component": "medicare-b/1.0.0.wasm", "sha256": "{pin}", "payerIds": ["00435"] }} ] }}"#
        )
        .into_bytes()
    };

    // Nothing there yet: the error names the object.
    let err = block_on(Registry::open_store(&host, &store, "rules/", None)).unwrap_err();
    assert!(err.to_string().contains("rules/rules.json"), "{err}");

    block_on(store.put(
        "rules/rules.json",
        registry_file(&hms_rules::sha256_hex(&v1)),
    ))
    .unwrap();
    let err = block_on(Registry::open_store(&host, &store, "rules/", None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("rules/medicare-b/1.0.0.wasm: no such object"),
        "{err}"
    );

    block_on(store.put("rules/medicare-b/1.0.0.wasm", v1.clone())).unwrap();
    let registry = block_on(Registry::open_store(&host, &store, "rules/", None)).unwrap();
    let rules = registry.for_payer("00435").unwrap();
    assert_eq!(host.describe(&rules).unwrap().version, "1.0.0");

    // A new version under a wrong pin is refused and v1 keeps serving; pinned right, it is
    // swapped in without a restart.
    let v2 = versioned("1.1.0");
    block_on(store.put("rules/medicare-b/1.0.0.wasm", v2.clone())).unwrap();
    let err = block_on(registry.reload_from_store(&host, &store, "rules/")).unwrap_err();
    assert!(matches!(err, RegistryError::PinMismatch { .. }), "{err}");
    assert_eq!(
        host.describe(&registry.for_payer("00435").unwrap())
            .unwrap()
            .version,
        "1.0.0"
    );
    block_on(store.put(
        "rules/rules.json",
        registry_file(&hms_rules::sha256_hex(&v2)),
    ))
    .unwrap();
    assert_eq!(
        block_on(registry.reload_from_store(&host, &store, "rules/")).unwrap(),
        1
    );
    assert_eq!(
        host.describe(&registry.for_payer("00435").unwrap())
            .unwrap()
            .version,
        "1.1.0"
    );
    // A registry read from a store is not reloaded from a directory by mistake.
    assert!(registry.reload(&host).is_err());
}

/// What a test's tracing subscriber wrote.
#[test]
fn a_rule_sets_log_lines_reach_tracing_named_and_within_the_per_call_budget() {
    let host = RuleHost::new(Limits {
        log_lines: 3,
        logs: RuleLogs::Text,
        ..Limits::default()
    })
    .unwrap();
    // validate-claim logs "prior-auth-required" (a string the test module holds at 512) at
    // level info (1) five times, then finds nothing.
    let bytes = component(
        hms_rules::WIT,
        "rule-set",
        DESCRIBE,
        &format!(
            "{} {}",
            "(call $log (i32.const 1) (i32.const 512) (i32.const 19))".repeat(5),
            NO_FINDINGS
        ),
        r#"(import "hms:payer-rules/host@1.0.0" "log" (func $log (param i32 i32 i32)))"#,
    );
    let rules = host.load("chatty-rules", &bytes).unwrap();
    let lines = traced(|| {
        let (findings, _) = host.validate(&rules, &claim()).unwrap();
        assert!(findings.is_empty());
    });
    assert_eq!(lines.len(), 4, "{lines:?}");
    for line in &lines[..3] {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "prior-auth-required");
        assert_eq!(line["fields"]["rule_set"], "chatty-rules");
    }
    assert_eq!(lines[3]["level"], "WARN");
    assert_eq!(lines[3]["fields"]["dropped"], 2);
}

/// The JSON lines `call` made `tracing` write.
fn traced(call: impl FnOnce()) -> Vec<serde_json::Value> {
    hms_test_support::CapturedLog::during(call)
}

const LOG_IMPORT: &str =
    r#"(import "hms:payer-rules/host@1.0.0" "log" (func $log (param i32 i32 i32)))"#;

#[test]
fn a_deployed_host_logs_what_a_line_is_never_its_text() {
    let host = host();
    let bytes = component(
        hms_rules::WIT,
        "rule-set",
        DESCRIBE,
        &format!("(call $log (i32.const 1) (i32.const 512) (i32.const 19)) {NO_FINDINGS}"),
        LOG_IMPORT,
    );
    let rules = host.load("chatty-rules", &bytes).unwrap();
    let lines = traced(|| {
        host.validate(&rules, &claim()).unwrap();
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    let text = lines[0].to_string();
    assert!(!text.contains("prior-auth-required"), "{text}");
    assert_eq!(lines[0]["fields"]["length"], 19);
    assert_eq!(lines[0]["fields"]["line"].as_str().unwrap().len(), 12);
    assert_eq!(RuleLogs::for_stage(Some("local")), RuleLogs::Text);
    assert_eq!(RuleLogs::for_stage(Some("prod")), RuleLogs::Redacted);
    assert_eq!(RuleLogs::for_stage(None), RuleLogs::Redacted);
}

#[test]
fn a_huge_log_line_is_refused_before_the_host_copies_it() {
    let host = host();
    // Grows memory to 15 MiB, then logs 14 MiB of it (NULs: valid UTF-8), a hundred times.
    let validate = format!(
        "(drop (memory.grow (i32.const 240))) {} {NO_FINDINGS}",
        "(call $log (i32.const 1) (i32.const 65536) (i32.const 14680064))".repeat(100)
    );
    let bytes = component(hms_rules::WIT, "rule-set", DESCRIBE, &validate, LOG_IMPORT);
    let rules = host.load("shouting-rules", &bytes).unwrap();
    let err = host.validate(&rules, &claim()).unwrap_err();
    assert!(
        matches!(
            err,
            RuleError::HostCopy {
                bytes: 1_048_576,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("shouting-rules"), "{err}");
}

#[test]
fn a_call_past_its_wall_clock_deadline_is_stopped_whatever_fuel_is_left() {
    let host = RuleHost::new(Limits {
        fuel: u64::MAX / 4,
        deadline_ms: 50,
        ..Limits::default()
    })
    .unwrap();
    let looping = host
        .load("slow-rules", &rules(DESCRIBE, ENDLESS_LOOP))
        .unwrap();
    let started = std::time::Instant::now();
    let err = host.validate(&looping, &claim()).unwrap_err();
    assert!(matches!(err, RuleError::Deadline { ms: 50, .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The host goes on.
    let fine = host
        .load("test-rules", &rules(DESCRIBE, NO_FINDINGS))
        .unwrap();
    assert!(host.validate(&fine, &claim()).unwrap().0.is_empty());
}

#[test]
fn findings_past_their_number_or_size_are_a_clear_error() {
    let host = host();
    // 5,000 findings of zeros (errors with empty texts), the list at 64 KiB. (30,000 would
    // pass the host-copy budget first.)
    let many = r#"
        (drop (memory.grow (i32.const 3)))
        (memory.fill (i32.const 65536) (i32.const 0) (i32.const 140000))
        (i32.store (i32.const 128) (i32.const 65536)) (i32.store (i32.const 132) (i32.const 5000))
        (i32.const 128)"#;
    let rules_many = host.load("many-rules", &rules(DESCRIBE, many)).unwrap();
    let err = host.validate(&rules_many, &claim()).unwrap_err();
    assert!(
        matches!(&err, RuleError::Findings { limit: 200, what, .. } if what == "5000 findings"),
        "{err}"
    );
    // One finding whose message is 60,000 bytes.
    let long = r#"
        (drop (memory.grow (i32.const 2)))
        (memory.fill (i32.const 1024) (i32.const 0) (i32.const 28))
        (i32.store (i32.const 1036) (i32.const 65536)) (i32.store (i32.const 1040) (i32.const 60000))
        (i32.store (i32.const 128) (i32.const 1024)) (i32.store (i32.const 132) (i32.const 1))
        (i32.const 128)"#;
    let rules_long = host.load("long-rules", &rules(DESCRIBE, long)).unwrap();
    let err = host.validate(&rules_long, &claim()).unwrap_err();
    assert!(
        err.to_string().contains("a finding of 60000 bytes"),
        "{err}"
    );
}
