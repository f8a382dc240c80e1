#!/usr/bin/env bash
# The 835s the simulated payer writes (paid, in part, denied, reversed and paid again, with PLB
# interest), checked by pyx12 (../shared/tools/x12-oracle --pyx12): our own validator passes
# each before it leaves the simulator; this holds them to an independent one too.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${HMS_SHARED:-../shared}"
oracle="$shared/tools/x12-oracle"
[ -x "$oracle" ] || { echo "check-remits: $oracle not found (set HMS_SHARED)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$(mktemp)
if ! HMS_SIM_835_DIR="$out" cargo test --quiet -p hms-payer-sim --test remit >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
n=0 bad=0
for f in "$out"/*.835; do
  n=$((n + 1))
  if ! verdict=$("$oracle" --pyx12 "$f"); then
    echo "$verdict"; bad=$((bad + 1))
  fi
done
[ "$n" -gt 0 ] || { echo "check-remits: the simulator wrote no 835" >&2; exit 1; }
echo "check-remits: $n 835s of the simulated payer, $((n - bad)) valid per pyx12, $bad invalid"
[ "$bad" -eq 0 ]
