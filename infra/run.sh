#!/usr/bin/env bash
# The main job: start the local stack (LocalStack, DynamoDB Local, the functions under cargo
# lambda watch, the payer simulator; see infra/stack.sh), then act as a clinic's system would:
# ask about a patient's eligibility, submit a claim, and look it up, printing each answer. The
# stack keeps running; stop it with `infra/stack.sh down`. `infra/run.sh --clean` starts from
# empty data. What it needs installed system-wide comes from `infra/setup.sh run` (`make run`
# runs both).
set -euo pipefail
cd "$(dirname "$0")/.."
infra/stack.sh up "${1:-}"
eval "$(infra/stack.sh env)"
state=${HMS_STACK_STATE:-.local/stack}
token=$(cat "$state/data/dev-token")
fixtures=functions/shared/hms-domain/tests/fixtures
call() { # METHOD PATH [BODY-FILE]
  curl -sS --fail-with-body -X "$1" "$HMS_API_URL$2" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+--data @"$3"}
}

echo
echo "== POST /ach/queryEligibility ($fixtures/eligibility/inquiry-subscriber.json)"
call POST /ach/queryEligibility "$fixtures/eligibility/inquiry-subscriber.json" | python3 infra/local/benefits.py

echo
echo "== POST /ach/submitClaim ($fixtures/claims/professional-subscriber.json)"
answer=$(call POST /ach/submitClaim "$fixtures/claims/professional-subscriber.json")
echo "$answer" | python3 infra/local/claim.py
id=$(echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["claimId"])')

echo
echo "== GET /ach/claims/$id"
call GET "/ach/claims/$id" | python3 infra/local/claim.py

cat <<MORE

More: the token is in $state/data/dev-token (12 h; mint another with
  eval "\$(infra/stack.sh env)"; target/debug/hms token --scope claims:write --scope claims:read)
and every example under $fixtures works the same way. Stop with: infra/stack.sh down
MORE
