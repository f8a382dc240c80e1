#!/usr/bin/env bash
# Every translation at scale, whole process (release `hms`, /usr/bin/time): speed and peak
# memory for each row of BENCHMARKS.md's scale table, on generated inputs (never committed):
#   - a synthetic 835 of about 8 MB, and one of about 200 MB;
#   - 10,000 and 50,000 professional claims as JSON arrays, and the 837P batches of them;
#   - FHIR transaction Bundles of 10,000 and 50,000 Claims, each with its own Patient,
#     Coverage, providers, Encounter and Conditions (nine entries a Claim).
# Small inputs: best of 3 runs; large ones: one run. Each run writes its output to a file
# made empty before it ($work/out, as `> out.json` would), where a user of a large file puts
# it. Prints one JSON line per measurement.
#   infra/bench-scale.sh [small|large|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
work=.bench
mkdir -p "$work"

cargo build -q --release -p hms-cli --bin hms
cargo build -q --release -p hms-x12 --example synth835 -p hms-domain --example synth_claims
hms=target/release/hms

input() { # path generator args...
  local path=$1; shift
  [ -s "$path" ] || "$@" "$path" >&2
}

measure() { # runs name input-path units command...
  local runs=$1 name=$2 path=$3 units=$4; shift 4
  local best="" peak=""
  for _ in $(seq "$runs"); do
    local out
    : > "$work/out"
    /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >"$work/out" 2>/dev/null || true
    out=$(tail -1 "$work/time.out")
    local s=${out% *} kb=${out#* }
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $s < $best else 1)"; then best=$s; fi
    if [ -z "$peak" ] || [ "$kb" -gt "$peak" ]; then peak=$kb; fi
  done
  python3 - "$name" "$path" "$units" "$best" "$peak" <<'PY'
import json, os, sys
name, path, units, s, kb = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
size = os.path.getsize(path)
row = {"row": name, "input": os.path.basename(path), "bytes": size, "seconds": s,
       "peak_mib": round(kb / 1024, 1)}
if units.startswith("claims:"):
    n = int(units.split(":")[1])
    row["claims_per_s"] = round(n / max(s, 1e-9))
else:
    row["mb_per_s"] = round(size / 1e6 / max(s, 1e-9), 1)
print(json.dumps(row), flush=True)
PY
}

rows() { # runs 835 claims-json claims-837 fhir-bundle claim-count
  local runs=$1 remit=$2 json=$3 x12=$4 bundle=$5 n=$6
  measure "$runs" "x12 validate" "$remit" mb $hms x12 validate "$remit"
  measure "$runs" "x12 validate, one core" "$remit" mb taskset -c 0 $hms x12 validate "$remit"
  measure "$runs" "835 translate --to json" "$remit" mb $hms translate --to json "$remit"
  measure "$runs" "835 translate --to fhir" "$remit" mb $hms translate --to fhir "$remit"
  measure "$runs" "835 translate --to fhir --ndjson" "$remit" mb $hms translate --to fhir --ndjson "$remit"
  measure "$runs" "835 x12 parse" "$remit" mb $hms x12 parse "$remit"
  measure "$runs" "claims JSON translate --to x12 --type 837P" "$json" "claims:$n" $hms translate --to x12 --type 837P "$json"
  measure "$runs" "FHIR Bundle translate --to x12 --type 837P" "$bundle" "claims:$n" $hms translate --to x12 --type 837P "$bundle"
  measure "$runs" "837P translate --to json" "$x12" mb $hms translate --to json "$x12"
  measure "$runs" "837P x12 parse" "$x12" mb $hms x12 parse "$x12"
}

if [ "$which" = small ] || [ "$which" = all ]; then
  input "$work/synth-8MB.835" target/release/examples/synth835 8
  input "$work/claims-10000.json" target/release/examples/synth_claims 10000
  [ -s "$work/claims-10000.837" ] || $hms translate --to x12 --type 837P "$work/claims-10000.json" > "$work/claims-10000.837"
  input "$work/bundle-10000.json" target/release/examples/synth_claims --fhir 10000
  rows 3 "$work/synth-8MB.835" "$work/claims-10000.json" "$work/claims-10000.837" "$work/bundle-10000.json" 10000
fi
if [ "$which" = large ] || [ "$which" = all ]; then
  input "$work/synth-200MB.835" target/release/examples/synth835 200
  input "$work/claims-50000.json" target/release/examples/synth_claims 50000
  [ -s "$work/claims-50000.837" ] || $hms translate --to x12 --type 837P "$work/claims-50000.json" > "$work/claims-50000.837"
  input "$work/bundle-50000.json" target/release/examples/synth_claims --fhir 50000
  rows 1 "$work/synth-200MB.835" "$work/claims-50000.json" "$work/claims-50000.837" "$work/bundle-50000.json" 50000
fi
