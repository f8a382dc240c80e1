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
  cargo nextest run --workspace --exclude hms-e2e --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test --workspace --exclude hms-e2e --quiet
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
echo "== end to end, against a local stack of its own (infra/stack.sh)"
# Its own state and ports, so a developer's running stack and its data are left alone.
export HMS_STACK_STATE=.local/stack-test HMS_API_PORT=3100 HMS_LAMBDA_PORT=9100 HMS_PAYER_PORT=9500 \
  HMS_LOCALSTACK_PORT=4666 HMS_DYNAMODB_PORT=8100
trap 'infra/stack.sh down >/dev/null 2>&1 || true' EXIT
mkdir -p .local
infra/stack.sh up --clean >.local/stack-test-up.log 2>&1 || { cat .local/stack-test-up.log; exit 1; }
eval "$(infra/stack.sh env)"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run -p hms-e2e -j 1 --no-fail-fast --status-level fail --final-status-level slow
else
  cargo test -p hms-e2e --quiet -- --test-threads 1
fi
echo "== the X12 the functions sent, checked by pyx12 and linuxforhealth-x12"
infra/check-sent.sh "$HMS_PAYER_RECEIVED"
