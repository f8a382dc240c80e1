#!/usr/bin/env bash
# The main job: start the local stack (LocalStack, DynamoDB Local, the functions under cargo
# lambda watch, the payer simulator; see infra/stack.sh), then act as a clinic's system would:
# ask about a patient's eligibility, submit a claim, look it up, and see the payer pay it by
# file into the drop zone, printing each answer. The
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

# Each run is a new claim: its own patient control number (an original claim's number may
# reach its payer once).
claim=$(mktemp)
trap 'rm -f "$claim"' EXIT
python3 - "$fixtures/claims/professional-subscriber.json" >"$claim" <<'PY'
import json, sys, time
claim = json.load(open(sys.argv[1]))
claim["claim"]["patientControlNumber"] = f"RUN{int(time.time() * 1000) % 10**12:012d}"
print(json.dumps(claim))
PY
echo
echo "== POST /ach/submitClaim ($fixtures/claims/professional-subscriber.json, a new patient control number)"
answer=$(call POST /ach/submitClaim "$claim")
echo "$answer" | python3 infra/local/claim.py
id=$(echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["claimId"])')

echo
echo "== GET /ach/claims/$id (once the payer has answered: a worker sends it, the payer acknowledges)"
for _ in $(seq 1 120); do
  record=$(call GET "/ach/claims/$id")
  now=$(echo "$record" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  case "$now" in received | waiting-for-payer | sending | submitted) sleep 0.5 ;; *) break ;; esac
done
echo "$record" | python3 infra/local/claim.py

echo
echo "== the payer pays by file: its 835 lands in the drop zone and is posted (GET /ach/claims/$id)"
for _ in $(seq 1 120); do
  record=$(call GET "/ach/claims/$id")
  now=$(echo "$record" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  case "$now" in accepted-by-payer | no-acknowledgment | submitted) sleep 0.5 ;; *) break ;; esac
done
echo "$record" | python3 infra/local/claim.py

cat <<MORE

More: the token is in $state/data/dev-token (12 h, organization clinic-a, roles billing and
admin; mint another with
  eval "\$(infra/stack.sh env)"; target/debug/hms token --org clinic-a --role billing)
and every example under $fixtures works the same way. Stop with: infra/stack.sh down
MORE
