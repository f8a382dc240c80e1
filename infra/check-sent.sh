#!/usr/bin/env bash
# Every X12 the functions sent the payer simulator (kept in DIR by `--keep`) checked by both
# external validators (../shared/tools/x12-oracle): pyx12 must find each 837 valid, and
# linuxforhealth-x12 must parse every file (pyx12 has no map for the 270 and 276).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: infra/check-sent.sh DIR}
oracle="${HMS_SHARED:-../shared}/tools/x12-oracle"
[ -x "$oracle" ] || { echo "check-sent: $oracle not found (set HMS_SHARED)" >&2; exit 1; }
shopt -s nullglob
files=("$dir"/*.x12)
[ ${#files[@]} -gt 0 ] || { echo "check-sent: nothing was sent to the payer (in $dir)" >&2; exit 1; }
verdicts=$("$oracle" "${files[@]}") || { echo "$verdicts"; echo "check-sent: the oracle failed" >&2; exit 1; }
bad=$(grep -Ev '^(pyx12 (VALID|NO-MAP)|lfh PARSED) ' <<<"$verdicts" || true)
[ -z "$bad" ] || { echo "$bad"; echo "check-sent: X12 we sent is not valid" >&2; exit 1; }
for kind in 270 276 837; do
  n=$(printf '%s\n' "${files[@]}" | grep -c "X12_${kind}_" || true)
  echo "check-sent: $n ${kind}s sent, all valid"
done
