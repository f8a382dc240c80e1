#!/usr/bin/env bash
# Generates a 999 for every shared X12 sample and for our own fixtures, and checks each with pyx12
# (../shared/tools/x12-oracle --pyx12). Fails if any generated 999 is not valid.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${HMS_SHARED:-../shared}"
oracle="$shared/tools/x12-oracle"
[ -x "$oracle" ] || { echo "check-acks: $oracle not found (set HMS_SHARED)" >&2; exit 1; }
hms=target/debug/hms
[ -x "$hms" ] || cargo build --quiet -p hms-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  name=$(echo "${f#"$shared"/}" | tr '/' '_')
  # exit 1 only means the input had errors; the 999 is still written
  "$hms" x12 validate --ack 999 "$f" > "$out/$name.999" || [ $? -eq 1 ]
  if [ ! -s "$out/$name.999" ]; then
    # only acknowledgments themselves (GS01 FA) get no 999
    grep -q '^GS\*FA\*\|~GS\*FA\*' "$f" || { echo "check-acks: no 999 for $f" >&2; exit 1; }
    rm "$out/$name.999"; n=$((n - 1))
  fi
done < <(find "$shared/x12-samples" functions/*/*/tests/fixtures -type f \( -name '*.8*' -o -name '*.2*' -o -name '*.99*' -o -name '*.837i' \) -print0 | sort -z)
bad=0
for a in "$out"/*.999; do
  if ! verdict=$("$oracle" --pyx12 "$a"); then
    echo "$verdict"; bad=$((bad + 1))
  fi
done
echo "check-acks: $n inputs, $((n - bad)) generated 999s valid per pyx12, $bad invalid"
[ "$bad" -eq 0 ]
