//! Rule sets precompiled for the Lambda target (`hms rules publish`), as the functions load
//! them: without compiling, pinned by sha256, refused when made for another configuration,
//! and read from the registry instead of the component.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_rules::host::{HOST_TARGET, LAMBDA_TARGET, Limits, RuleHost};
use hms_rules::registry::{Registry, RegistryError};
use hms_rules::testing::{DESCRIBE, NO_FINDINGS, component};
use hms_service::ports::ObjectStore;
use hms_service::testing::InMemoryObjectStore;
use pollster::block_on;

fn rules() -> Vec<u8> {
    component(hms_rules::WIT, "rule-set", DESCRIBE, NO_FINDINGS, "")
}

fn host() -> RuleHost {
    RuleHost::new(Limits::default()).unwrap()
}

/// A registry naming `component` (never written: reading it would fail) and its artifact.
fn registry_json(artifact_pin: &str, target: &str) -> String {
    format!(
        r#"{{ "ruleSets": [ {{ "component": "test-rules.wasm", "sha256": "{}",
              "payerIds": ["00435"],
              "precompiled": [ {{ "target": "{target}", "file": "test-rules.cwasm", "sha256": "{artifact_pin}" }} ] }} ] }}"#,
        "0".repeat(64)
    )
}

#[test]
fn an_artifact_for_the_lambda_target_loads_without_compiling_and_answers() {
    let artifact = host()
        .precompile("test-rules", &rules(), LAMBDA_TARGET)
        .unwrap();
    // Another host, as a cold start is: nothing compiled, the artifact linked.
    let other = host();
    let loaded = other.load_precompiled("test-rules", &artifact).unwrap();
    assert_eq!(other.describe(&loaded).unwrap().name, "test-rules");
    let (findings, fuel) = other
        .validate(&loaded, &hms_rules::testing::claim(1))
        .unwrap();
    assert!(findings.is_empty());
    assert!(fuel > 0, "fuel is metered in precompiled code too");
}

#[test]
fn an_artifact_made_for_another_configuration_or_not_an_artifact_is_refused_by_name() {
    let artifact = host()
        .precompile("test-rules", &rules(), LAMBDA_TARGET)
        .unwrap();
    // Memory reserved per instance is compiled in: a host with other limits must not run it.
    let other = RuleHost::new(Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    })
    .unwrap();
    let err = other
        .load_precompiled("test-rules", &artifact)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "test-rules: not a valid WebAssembly component: precompiled for another host"
        ),
        "{err}"
    );
    // The component itself (not precompiled) is no artifact either.
    let err = host()
        .load_precompiled("test-rules", &rules())
        .unwrap_err()
        .to_string();
    assert!(err.contains("precompiled for another host"), "{err}");
}

#[test]
fn the_registry_reads_the_artifact_for_its_target_and_refuses_a_tampered_one() {
    let host = host();
    let artifact = host
        .precompile("test-rules", &rules(), LAMBDA_TARGET)
        .unwrap();
    let store = InMemoryObjectStore::new();
    block_on(store.put("rules/test-rules.cwasm", artifact.clone())).unwrap();
    block_on(store.put(
        "rules/rules.json",
        registry_json(&hms_rules::sha256_hex(&artifact), HOST_TARGET).into_bytes(),
    ))
    .unwrap();
    // The component is not in the store: the registry loads the artifact alone.
    let registry = block_on(Registry::open_store(&host, &store, "rules/", None)).unwrap();
    let rules = registry.for_payer("00435").unwrap();
    assert_eq!(rules.label(), "test-rules 1.0.0 (test-rules.wasm)");

    // One changed byte: the pin refuses it before wasmtime ever sees it.
    let mut tampered = artifact.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    block_on(store.put("rules/test-rules.cwasm", tampered)).unwrap();
    let err = block_on(registry.reload_from_store(&host, &store, "rules/")).unwrap_err();
    assert!(matches!(err, RegistryError::PinMismatch { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("rules/test-rules.cwasm: sha256 is"),
        "{err}"
    );
    // ... and the registry keeps serving what it had.
    assert!(registry.for_payer("00435").is_some());
}

#[test]
fn an_artifact_for_another_target_is_not_fetched_a_compiling_host_compiles_the_component() {
    let host = host();
    let bytes = rules();
    let other_target = if HOST_TARGET == "aarch64-unknown-linux-gnu" {
        LAMBDA_TARGET
    } else {
        "aarch64-unknown-linux-gnu"
    };
    let store = InMemoryObjectStore::new();
    // The artifact named for the other target is not in the store: fetching it would fail.
    let json = registry_json(&"1".repeat(64), other_target)
        .replace(&"0".repeat(64), &hms_rules::sha256_hex(&bytes));
    block_on(store.put("rules/rules.json", json.into_bytes())).unwrap();
    block_on(store.put("rules/test-rules.wasm", bytes)).unwrap();
    let registry = block_on(Registry::open_store(&host, &store, "rules/", None)).unwrap();
    assert!(registry.for_payer("00435").is_some());
    assert!(RuleHost::compiles());
}

#[test]
fn a_registry_entry_with_an_unknown_field_is_refused() {
    let store = InMemoryObjectStore::new();
    let json = registry_json(&"1".repeat(64), LAMBDA_TARGET).replace("\"file\"", "\"path\"");
    block_on(store.put("rules/rules.json", json.into_bytes())).unwrap();
    let err = block_on(Registry::open_store(&host(), &store, "rules/", None)).unwrap_err();
    assert!(matches!(err, RegistryError::Format { .. }), "{err}");
}
