#!/usr/bin/env bash
# The main job: set up and start the local stack (LocalStack, DynamoDB Local, the functions under
# cargo lambda watch, the payer simulator; see infra/stack.sh), then ask it about a patient's
# eligibility as a clinic's system would and print the answer. The stack keeps running; stop it
# with `infra/stack.sh down`. `infra/run.sh --clean` starts from empty data.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/setup.sh
infra/stack.sh up "${1:-}"
eval "$(infra/stack.sh env)"
token=$(cat "${HMS_STACK_STATE:-.local/stack}/data/dev-token")
inquiry=functions/shared/hms-domain/tests/fixtures/eligibility/inquiry-subscriber.json
echo
echo "== POST /ach/queryEligibility ($inquiry)"
curl -sS --fail-with-body "$HMS_API_URL/ach/queryEligibility" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data @"$inquiry" |
  python3 infra/local/benefits.py
