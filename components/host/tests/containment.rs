//! Rule sets that misbehave on purpose (written in the WebAssembly text format): each is
//! stopped and reported by name with the limit it hit, and the host keeps serving.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_rules::host::{Limits, RuleError, RuleHost, types};
use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component, component_with_version};

fn rules(describe: &str, validate: &str) -> Vec<u8> {
    component(hms_rules::WIT, "rule-set", describe, validate, "")
}

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
        .load(
            "looping-rules",
            &rules(DESCRIBE, "(loop $l (br $l)) unreachable"),
        )
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
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().to_string();
    assert!(name.starts_with(&hms_rules::sha256_hex(&bytes)), "{name}");
    let _ = std::fs::remove_dir_all(cache);
}

#[test]
fn the_registry_serves_payers_refuses_a_wrong_pin_and_swaps_versions_without_a_restart() {
    use hms_rules::registry::{Registry, RegistryError};
    let dir = scratch("registry");
    let host = host();
    let write = |file: &str, bytes: &[u8], pin: &str| {
        std::fs::write(dir.join(file), bytes).unwrap();
        let registry = format!(
            r#"{{ "ruleSets": [ {{ "component": "{file}", "sha256": "{pin}", "payerIds": ["00435", "00436"] }} ] }}"#
        );
        std::fs::write(dir.join("rules.json"), registry).unwrap();
    };
    let v1 = versioned("1.0.0");
    write("medicare-b.wasm", &v1, &hms_rules::sha256_hex(&v1));
    let registry = Registry::open(&host, &dir, None).unwrap();
    let rules = registry.for_payer("00436").unwrap();
    assert_eq!(host.describe(&rules).unwrap().version, "1.0.0");
    assert!(registry.for_payer("99999").is_none());

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
    assert_eq!(registry.reload(&host).unwrap(), 2);
    assert_eq!(
        host.describe(&registry.for_payer("00435").unwrap())
            .unwrap()
            .version,
        "1.1.0"
    );
    assert_eq!(host.describe(&rules).unwrap().version, "1.0.0");
    let _ = std::fs::remove_dir_all(dir);
}
