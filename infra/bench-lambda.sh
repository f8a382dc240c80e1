#!/usr/bin/env bash
# The functions as Lambda runs them: builds each release `bootstrap` with cargo-lambda (x86_64,
# provided.al2023), prints its size, publishes the example payer rule sets to a bucket of the
# running local stack, and measures each function's init time (benches/init.rs in hms-lambda)
# with those rules loaded. Needs `infra/stack.sh up`. Results go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${HMS_STACK_STATE:-.local/stack}
[ -s "$STATE/functions.env" ] || { echo "bench-lambda: start the stack first (infra/stack.sh up)" >&2; exit 1; }
eval "$(infra/stack.sh env)"
aws=.local/localstack/bin/aws

# cargo-lambda links with Zig for Lambda's glibc (Amazon Linux 2023's is older than Debian's);
# PyPI's ziglang, in cargo-lambda's venv, found through that venv's python3.
[ -x .local/cargo-lambda/bin/python3 ] && .local/cargo-lambda/bin/python3 -c 'import ziglang' 2>/dev/null ||
  .local/cargo-lambda/bin/pip install -q --disable-pip-version-check "ziglang==0.13.0"
export PATH=$PWD/.local/cargo-lambda/bin:$PATH
echo "== cargo lambda build --release (eligibility, submit, submit-worker, status)"
.local/cargo-lambda/bin/cargo-lambda lambda build --release --quiet \
  -p hms-eligibility -p hms-submit -p hms-status
for f in eligibility submit submit-worker status; do
  bytes=$(stat -c %s "target/lambda/$f/bootstrap")
  printf '%-14s %10d bytes  %6.2f MB  %6.2f MiB\n' "$f" "$bytes" "$(awk "BEGIN {print $bytes / 1e6}")" "$(awk "BEGIN {print $bytes / 1048576}")"
done

echo "== the example rule sets, published (precompiled for Lambda) to a bench bucket"
cargo build --quiet -p hms-cli
export HMS_RULES_TARGET=$PWD/target/wasm-guests
bucket=hms-ach-local-bench-rules
$aws s3 mb "s3://$bucket" >/dev/null 2>&1 || true
components=()
for dir in components/examples/*/; do
  built=$(target/debug/hms rules build "${dir%/}")
  components+=("${built%%$'\t'*}")
done
published=$STATE/bench-rules
rm -rf "$published"
target/debug/hms rules publish --out "$published" "${components[@]}" >/dev/null
$aws s3 rm --quiet --recursive "s3://$bucket/rules/" >/dev/null 2>&1 || true
$aws s3 cp --quiet --recursive "$published" "s3://$bucket/rules/"
cat "$published/rules.json"

echo "== init time, rules loaded"
sed "s/^RULES_BUCKET=.*/RULES_BUCKET=$bucket/" "$STATE/functions.env" >"$STATE/bench.env"
HMS_BOOTSTRAPS=$PWD/target/lambda HMS_FUNCTION_ENV=$PWD/$STATE/bench.env \
  cargo bench --quiet -p hms-lambda --bench init
