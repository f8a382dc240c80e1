#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (fuzz/fuzz_targets/*, cargo fuzz on nightly):
#
#   infra/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (60 by default), all targets
#                                         by default; a crash fails the run and names the input
#
# Each target starts from its committed seeds (fuzz/corpus/TARGET), and the X12 targets also
# from the shared X12 samples (../shared/x12-samples, read in place: copied only into a
# scratch corpus, never into the repository). What a run learns stays in that scratch corpus.
# The build is one `cargo fuzz build` (no sanitizer: the targets are safe Rust, and a panic or
# an allocation past -malloc_limit_mb is what is sought; debug assertions on, so overflows trap).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (crates.io)"
  cargo install --quiet --locked cargo-fuzz
fi
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | tail -n +2)
fi
cd fuzz
log=$(mktemp)
if ! cargo +nightly fuzz build --sanitizer none --debug-assertions >"$log" 2>&1; then
  cat "$log"; rm -f "$log"; exit 1
fi
rm -f "$log"
samples=../../shared/x12-samples
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
for target in "${targets[@]}"; do
  corpus="$scratch/$target"
  mkdir -p "$corpus" artifacts/"$target"
  cp corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  case "$target" in
    validate) find "$samples" -type f ! -name '*.md' -exec cp {} "$corpus"/ \; 2>/dev/null || true ;;
    payer_x12) find "$samples" -type f \( -path '*271*' -o -path '*277*' -o -path '*835*' \) -exec cp {} "$corpus"/ \; 2>/dev/null || true ;;
    remittance_file) find "$samples" -type f -name '*.835' -exec cp {} "$corpus"/ \; 2>/dev/null || true ;;
    claim_x12) find "$samples" -type f -path '*837*' -exec cp {} "$corpus"/ \; 2>/dev/null || true ;;
  esac
  out="$scratch/$target.log"
  if cargo +nightly fuzz run --sanitizer none --debug-assertions "$target" "$corpus" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144 \
      -timeout=20 -print_final_stats=1 >"$out" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1)
    echo "fuzz: $target: ${runs:-?} runs in ${seconds} s, ${cov:-cov: ?}, no crash"
  else
    failed=$((failed + 1))
    echo "fuzz: $target FAILED:" >&2
    grep -E "panicked|ERROR|SUMMARY|Test unit written|Reproduce" "$out" | head -20 >&2 || tail -40 "$out" >&2
  fi
done
[ "$failed" -eq 0 ]
