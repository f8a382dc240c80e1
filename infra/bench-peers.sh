#!/usr/bin/env bash
# Peer benchmarks on one synthetic 835 (default 8 MB), same machine, same run:
#   hms x12 validate (ours, wall time of the release binary, start-up included)
#   pyx12 4.0.0 x12valid (validation; wall time)
#   @stedi/x12-tools ack, node-x12 parse (in-process timing, infra/peers/peers.mjs)
# Installs what it needs under .bench/ (npm packages, pyx12 venv), idempotently.
#   infra/bench-peers.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-8}"
work=.bench
mkdir -p "$work"
file="$work/synth-${mb}MB.835"

cargo build -q --release -p hms-cli --bin hms
cargo build -q --release -p hms-x12 --example synth835
[ -s "$file" ] || target/release/examples/synth835 "$mb" "$file"
bytes=$(stat -c %s "$file")

if [ ! -d "$work/node_modules/@stedi/x12-tools" ] || [ ! -d "$work/node_modules/node-x12" ]; then
  cp infra/peers/package.json "$work/package.json"
  (cd "$work" && npm install --silent --no-audit --no-fund >/dev/null)
fi
venv="$work/pyx12"
if [ ! -x "$venv/bin/x12valid" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pyx12==4.0.0"
fi

wall() { # best of N wall-clock seconds for a command
  local n=$1; shift
  local best=""
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    best=$(python3 -c "a='$best'; d=$t1-$t0; print(d if a=='' else min(float(a), d))")
  done
  echo "$best"
}
report() { # name op seconds
  python3 -c "import json; b=$bytes; s=$3; print(json.dumps({'peer': '$1', 'op': '$2', 'bytes': b, 'best_s': round(s, 3), 'mb_per_s': round(b/1e6/s, 2)}))"
}

echo "input: $file ($bytes bytes)" >&2
report "hms x12 validate" "validate (release binary, wall)" "$(wall 10 target/release/hms x12 validate "$file")"
report "hms x12 validate --ack 999" "validate + 999 (wall)" "$(wall 10 target/release/hms x12 validate --ack 999 "$file")"
report "pyx12 4.0.0 x12valid" "validate (wall)" "$(wall 1 "$venv/bin/x12valid" "$file")"
cp infra/peers/peers.mjs "$work/peers.mjs"
node "$work/peers.mjs" "$file" 3
