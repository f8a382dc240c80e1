#!/usr/bin/env bash
# Translates every fixture claim (functions/shared/hms-domain/tests/fixtures/claims/*.json: professional-* and
# batch-professional* as 837P, institutional-* as 837I; FHIR Claims and Bundles of Claims) into X12 with the CLI and checks each result with pyx12 (../shared/tools/x12-oracle --pyx12). Fails if a fixture
# does not translate or pyx12 finds the X12 invalid.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${HMS_SHARED:-../shared}"
oracle="$shared/tools/x12-oracle"
[ -x "$oracle" ] || { echo "check-claims: $oracle not found (set HMS_SHARED)" >&2; exit 1; }
hms=target/debug/hms
[ -x "$hms" ] || cargo build --quiet -p hms-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
bad=0
for claim in functions/shared/hms-domain/tests/fixtures/claims/*.json functions/shared/hms-domain/tests/fixtures/fhir/claim-*.json functions/shared/hms-domain/tests/fixtures/fhir/bundle-*.json; do
  case "$(basename "$claim")" in
    professional-* | claim-professional* | batch-professional* | bundle-claims*) type=837P ;;
    institutional-* | claim-institutional*) type=837I ;;
    *) continue ;;
  esac
  n=$((n + 1))
  x12="$out/$(basename "$claim" .json).837"
  if ! "$hms" translate --to x12 --type "$type" "$claim" > "$x12"; then
    echo "check-claims: $claim did not translate:" >&2; cat "$x12" >&2; bad=$((bad + 1)); continue
  fi
  if ! verdict=$("$oracle" --pyx12 "$x12"); then
    echo "$verdict"; bad=$((bad + 1))
  fi
  # The 277CA we would send back for it (837P or 837I).
  if ! "$hms" translate --to 277ca "$x12" > "$x12.277ca" || ! verdict=$("$oracle" --pyx12 "$x12.277ca"); then
    echo "check-claims: 277CA for $claim: ${verdict:-not written}"; bad=$((bad + 1))
  fi
  acks=$((${acks:-0} + 1))
done
# The TR3 examples: most claims are rejected (made-up NPIs, ICD-9 codes), each with a 508 status
# code; those 277CAs must be valid too. Files our reader refuses (broken beyond reading) are skipped.
for sample in "$shared"/x12-samples/837_005010X222A2/*.837 "$shared"/x12-samples/837_005010X223A3/*.837i; do
  ack="$out/$(basename "$sample").277ca"
  "$hms" translate --to 277ca "$sample" > "$ack" 2>/dev/null || continue
  if ! verdict=$("$oracle" --pyx12 "$ack"); then
    echo "check-claims: 277CA for $sample: $verdict"; bad=$((bad + 1))
  fi
  acks=$((${acks:-0} + 1))
done
echo "check-claims: $n fixture claims, generated 837s and ${acks:-0} 277CAs (fixtures and TR3 examples) checked by pyx12, $bad invalid"
# Round trips: every 837P sample (and the demo) pyx12 finds valid, read to our JSON and written
# back, must be valid too. (Samples whose claims the scrubber rejects are not written back.)
trips=0
for sample in "$shared"/x12-samples/837_005010X222A2/*.837 "$shared"/x12-samples/demo/demo.837; do
  "$oracle" --pyx12 "$sample" > /dev/null 2>&1 || continue
  json="$out/$(basename "$sample").json"
  back="$out/$(basename "$sample").back.837"
  "$hms" translate --to json --lossless "$sample" > "$json" 2>/dev/null || continue
  "$hms" translate --to x12 --type 837P "$json" > "$back" || continue
  trips=$((trips + 1))
  if ! verdict=$("$oracle" --pyx12 "$back"); then
    echo "check-claims: round trip of $sample: $verdict"; bad=$((bad + 1))
  fi
done
[ "$trips" -ge 3 ] || { echo "check-claims: only $trips 837P round trips were written back" >&2; bad=$((bad + 1)); }
echo "check-claims: $trips valid 837P samples read to JSON and written back, checked by pyx12"
m=0
for inquiry in functions/shared/hms-domain/tests/fixtures/eligibility/*.json functions/shared/hms-domain/tests/fixtures/fhir/coverage-eligibility-*.json functions/shared/hms-domain/tests/fixtures/status/*.json; do
  case "$inquiry" in
    */eligibility/* | */coverage-eligibility-*) type=270 ;;
    *) type=276 ;;
  esac
  m=$((m + 1))
  x12="$out/$(basename "$inquiry" .json).$type"
  if ! "$hms" translate --to x12 --type "$type" "$inquiry" > "$x12"; then
    echo "check-claims: $inquiry did not translate:" >&2; cat "$x12" >&2; bad=$((bad + 1)); continue
  fi
  if ! verdict=$("$oracle" --lfh "$x12"); then
    echo "$verdict"; bad=$((bad + 1))
  fi
done
echo "check-claims: $m inquiries written as 270s and 276s for linuxforhealth-x12 to parse; $bad failures in all"
[ "$bad" -eq 0 ]
