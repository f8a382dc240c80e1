#!/usr/bin/env bash
# Sets up what the tests need and runs all of them: formatting, lints, unit/integration/property
# tests, and the external check that every acknowledgment we generate passes pyx12.
# Idempotent and quiet; safe on a fresh Debian 12 machine with the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

infra/setup.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --workspace --quiet
fi
cargo test --workspace --doc --quiet
echo "== acknowledgments we generate, checked by pyx12"
infra/check-acks.sh
echo "== code tables against their published sources"
infra/check-codes.sh
echo "== claims we generate, checked by pyx12"
infra/check-claims.sh
echo "== example payer rule sets, built for wasm32 and run on their claims"
infra/check-rules.sh
echo "== template.yaml, checked by cfn-lint"
infra/check-template.sh
