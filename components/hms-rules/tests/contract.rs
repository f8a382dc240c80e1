//! The WIT contract parses, names the version we say it does, and offers a rule set exactly
//! what the issue asks: imports `host` (logging only, no WASI), exports `describe`,
//! `validate-claim` and `transform-claim`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use wit_parser::{Resolve, WorldItem, WorldKey};

fn resolve() -> (Resolve, wit_parser::PackageId) {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("payer-rules.wit", hms_rules::WIT)
        .unwrap_or_else(|e| panic!("{e:#}"));
    (resolve, package)
}

fn name(resolve: &Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(n) => n.clone(),
        WorldKey::Interface(id) => resolve.interfaces[*id].name.clone().unwrap_or_default(),
    }
}

#[test]
fn the_contract_is_the_versioned_package_it_says() {
    let (resolve, package) = resolve();
    assert_eq!(
        resolve.packages[package].name.to_string(),
        hms_rules::PACKAGE
    );
}

#[test]
fn a_rule_set_imports_only_logging_and_exports_the_three_functions() {
    let (resolve, package) = resolve();
    let world = resolve.packages[package].worlds["rule-set"];
    let world = &resolve.worlds[world];
    let imports: Vec<String> = world.imports.keys().map(|k| name(&resolve, k)).collect();
    // `types` comes in through `rules`' `use`; nothing from WASI.
    assert!(imports.contains(&"host".to_string()), "{imports:?}");
    assert!(
        imports.iter().all(|i| i == "host" || i == "types"),
        "{imports:?}"
    );
    let exports: Vec<String> = world.exports.keys().map(|k| name(&resolve, k)).collect();
    assert_eq!(exports, ["rules"]);
    let rules = world
        .exports
        .values()
        .find_map(|item| match item {
            WorldItem::Interface { id, .. } => Some(&resolve.interfaces[*id]),
            _ => None,
        })
        .unwrap();
    let mut functions: Vec<&str> = rules.functions.keys().map(String::as_str).collect();
    functions.sort_unstable();
    assert_eq!(functions, ["describe", "transform-claim", "validate-claim"]);
    let host = world
        .imports
        .iter()
        .find_map(|(k, item)| match item {
            WorldItem::Interface { id, .. } if name(&resolve, k) == "host" => {
                Some(&resolve.interfaces[*id])
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(host.functions.keys().collect::<Vec<_>>(), ["log"]);
}
