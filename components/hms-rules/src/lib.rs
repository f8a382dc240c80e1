//! Payer rules as sandboxed WebAssembly components.
//!
//! A payer's quirks (extra references, its own modifier or taxonomy rules, codes it refuses)
//! live in rule sets that third parties write and ship as WebAssembly components. This crate
//! holds the contract they are built against, [`WIT`] (`components/wit/payer-rules.wit`,
//! package `hms:payer-rules@1.0.0`); [`host`], the wasmtime host that runs them with per-call
//! fuel and memory limits from a pooling allocator, compiled once and cached as `.cwasm`, or
//! loaded precompiled without a compiler; [`registry`], which maps payer ids to rule sets
//! pinned by sha256 (and their precompiled artifacts, pinned too); [`convert`] and
//! [`pipeline`], a claim through its payer's rule set, and `RegistryRules`, the service's
//! `RuleEngine` port over a registry.

/// The WIT package rule sets implement: world `rule-set`, which imports only `host` (a `log`
/// function) and exports `rules` (`describe`, `validate-claim`, `transform-claim`).
pub const WIT: &str = include_str!("../../wit/payer-rules.wit");

/// The package's name and version, as a rule set's component names it.
pub const PACKAGE: &str = "hms:payer-rules@1.0.0";

pub mod convert;
pub mod host;
pub mod pipeline;

pub mod registry;
#[cfg(feature = "testing")]
pub mod testing;

/// The sha256 of `bytes`, in lower-case hex: how a registry pins a component.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A rule author's core module (built for `wasm32-unknown-unknown` with `wit-bindgen`, which
/// embeds the world it implements) as a component, validated.
#[cfg(feature = "build")]
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| format!("{e:#}"))
}
