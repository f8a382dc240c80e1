#!/usr/bin/env bash
# Every test, in named steps (all of them, in this order, by default):
#
#   infra/test.sh [lint] [unit] [fuzz] [oracles] [e2e]
#
#   lint      cargo fmt --check, clippy -D warnings (no byte slicing, no unchecked indexing),
#             cargo deny (advisories, licenses, sources, duplicate versions)
#   unit      every crate's unit, integration and property tests (cargo nextest), doc tests
#   fuzz      every fuzz target for a short smoke run (infra/fuzz.sh; longer runs: make fuzz)
#   oracles   what we write checked by others: 999s and claims by pyx12, code tables against
#             their published sources, the example rule sets on their claims, template.yaml by
#             cfn-lint
#   e2e       the end-to-end tests on a local stack of their own, then what the simulated payer
#             received, checked by pyx12 and linuxforhealth-x12
#
# It installs nothing system-wide: `infra/setup.sh test` (which `make test` runs first) does.
# Quiet: a step prints its name, its failures, and one line of what passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A clean clone builds once: incremental caches would only take disk (gigabytes) there.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(lint unit fuzz oracles e2e)

nextest() {
  if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --cargo-quiet --no-fail-fast --status-level fail --final-status-level none \
      --hide-progress-bar "$@"
  else
    cargo test --quiet "$@"
  fi
}

# Runs a command quietly: its output only when it fails.
quiet() {
  local log
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then rm -f "$log"; else cat "$log"; rm -f "$log"; return 1; fi
}

lint() {
  echo "== lint: cargo fmt --check, clippy -D warnings, cargo deny"
  cargo fmt --all --check
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  infra/deny.sh
}

unit() {
  echo "== unit: every crate's tests (nextest), doc tests"
  nextest --workspace --exclude hms-e2e
  quiet cargo test --workspace --doc --quiet
}

fuzz() {
  echo "== fuzz: every parser of untrusted input, ${HMS_FUZZ_SECONDS:-20} s a target"
  infra/fuzz.sh "${HMS_FUZZ_SECONDS:-20}"
}

oracles() {
  echo "== oracles: acknowledgments we generate, checked by pyx12"
  infra/check-acks.sh
  echo "== oracles: code tables against their published sources"
  infra/check-codes.sh
  echo "== oracles: claims we generate, checked by pyx12"
  infra/check-claims.sh
  echo "== oracles: the simulated payer's 835s, checked by pyx12"
  infra/check-remits.sh
  echo "== oracles: example payer rule sets, built for wasm32 and run on their claims"
  infra/check-rules.sh
  echo "== oracles: template.yaml, checked by cfn-lint"
  infra/check-template.sh
}

e2e() {
  echo "== e2e: end to end, against a local stack of its own (infra/stack.sh)"
  # Its own state and ports, so a developer's running stack and its data are left alone.
  export HMS_STACK_STATE=.local/stack-test HMS_API_PORT=3100 HMS_LAMBDA_PORT=9100 HMS_PAYER_PORT=9500 \
    HMS_LOCALSTACK_PORT=4666 HMS_DYNAMODB_PORT=8100
  # The simulated payer pays only when a test asks it to (POST /admin/remit): a claim the tests
  # follow to accepted-by-payer is not paid under them.
  export HMS_PAY_SECONDS=86400
  # A message whose function died comes back in seconds, not after the queue's timeout: the
  # test that kills the ingest function mid-file waits for it.
  export HMS_RETRY_SECONDS=3
  # A webhook's retries a second or two apart rather than minutes to hours.
  export HMS_WEBHOOK_RETRY_WAITS_SECONDS=1,1,1,1,1,1,1
  # The webhook receiver verifies with the Standard Webhooks project's own implementation.
  if [ ! -x .local/webhook-receiver/bin/python ] ||
    ! .local/webhook-receiver/bin/python -c 'import standardwebhooks' 2>/dev/null; then
    python3 -m venv .local/webhook-receiver
    .local/webhook-receiver/bin/pip install -q --disable-pip-version-check "standardwebhooks==1.0.0"
  fi
  export HMS_WEBHOOK_RECEIVER_PYTHON=$PWD/.local/webhook-receiver/bin/python
  # `hms webhooks listen`, as an integrator runs it.
  cargo build --quiet -p hms-cli
  export HMS_CLI=$PWD/target/debug/hms
  trap 'infra/stack.sh down >/dev/null 2>&1 || true' EXIT
  mkdir -p .local
  infra/stack.sh up --clean >.local/stack-test-up.log 2>&1 || { cat .local/stack-test-up.log; exit 1; }
  eval "$(infra/stack.sh env)"
  if command -v cargo-nextest >/dev/null 2>&1; then
    nextest -p hms-e2e -j 1
  else
    cargo test -p hms-e2e --quiet -- --test-threads 1
  fi
  echo "== e2e: the X12 the functions sent, checked by pyx12 and linuxforhealth-x12"
  infra/check-sent.sh "$HMS_PAYER_RECEIVED"
}

for step in "${steps[@]}"; do
  case "$step" in
    lint | unit | fuzz | oracles | e2e) "$step" ;;
    *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
