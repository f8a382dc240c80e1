#!/usr/bin/env bash
# Builds the hms CLI and runs the main job available today: validate a remittance file and print
# its 999 acknowledgment. (The local serverless stack joins this command when it exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
infra/setup.sh
cargo build --release --quiet -p hms-cli
file="${1:-functions/cli/tests/fixtures/remittance-two-claims.835}"
echo "== hms x12 validate $file"
target/release/hms x12 validate "$file" && echo "no errors"
echo "== hms x12 validate --ack 999 $file"
target/release/hms x12 validate --ack 999 "$file"
