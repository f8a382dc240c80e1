"""Remittance through a running local stack (infra/stack.sh up, with HMS_PAY_SECONDS large so
the simulated payer pays only when asked): N claims submitted and accepted by the payer, then
the payer's 835 for them dropped into the drop zone, and the time from the drop to the
payment posted (fetchRemittance says `posted`) and to the last claim `paid`: claim payments per
second through S3's notification, SQS, the ingest function and DynamoDB Local.
Run: eval "$(infra/stack.sh env)"; python3 infra/bench-remit.py [N] (200 by default).
Prints counts and times only."""

import json, os, subprocess, sys, time, urllib.request

api = os.environ["HMS_API_URL"]
payer = os.environ["HMS_PAYER_URL"]
drop = f'{os.environ["AWS_ENDPOINT_URL"].rstrip("/")}/{os.environ["HMS_DROP_BUCKET"]}'
state = os.environ.get("HMS_STACK_STATE", ".local/stack")
token = open(state + "/data/dev-token").read().strip()
finance = subprocess.run(["target/debug/hms", "token", "--org", "clinic-a", "--role", "finance"],
                         capture_output=True, text=True, check=True).stdout.strip()


def call(method, url, body=None, bearer=None, raw=False):
    headers = {"Content-Type": "application/json"}
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    data = body if raw else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read()
        return json.loads(text) if text else None


n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
claim = json.load(open("functions/shared/hms-domain/tests/fixtures/claims/professional-subscriber.json"))
stamp = int(time.time()) % 100000
ids = []
for i in range(n):
    claim["claim"]["patientControlNumber"] = f"REM{stamp:05d}{i:06d}"
    ids.append(call("POST", api + "/ach/submitClaim", claim, token)["claimId"])
pending = set(ids)
deadline = time.time() + 600
while pending and time.time() < deadline:
    for i in list(pending):
        if call("GET", f"{api}/ach/claims/{i}", bearer=token)["state"] == "accepted-by-payer":
            pending.discard(i)
    time.sleep(0.5)
assert not pending, f"{len(pending)} claims were not accepted"
files = call("POST", payer + "/admin/remit")
dropped = time.perf_counter()
traces, payments = [], 0
for f in files:
    call("PUT", f'{drop}/{f["key"]}', f["x12"].encode(), raw=True)
    traces.append(f["traceNumber"])
    payments += f["claimPayments"]
for trace in traces:
    while True:
        page = call("POST", api + "/ach/fetchRemittance", {"traceNumber": trace}, finance)
        if page["payments"] and page["payments"][0]["status"] == "posted":
            break
        time.sleep(0.05)
posted = time.perf_counter() - dropped
last = ids[-1]
while call("GET", f"{api}/ach/claims/{last}", bearer=token)["state"] != "paid":
    time.sleep(0.05)
print(f"remittance through the local stack: {payments} claim payments in {len(files)} 835(s); "
      f"drop to posted {posted:.2f} s ({payments / posted:.0f} claim payments/s)")
# One small file: drop to the claim paid, polled every 50 ms.
claim["claim"]["patientControlNumber"] = f"REM{stamp:05d}X"
one = call("POST", api + "/ach/submitClaim", claim, token)["claimId"]
while call("GET", f"{api}/ach/claims/{one}", bearer=token)["state"] != "accepted-by-payer":
    time.sleep(0.2)
files = call("POST", payer + "/admin/remit")
t = time.perf_counter()
for f in files:
    call("PUT", f'{drop}/{f["key"]}', f["x12"].encode(), raw=True)
while call("GET", f"{api}/ach/claims/{one}", bearer=token)["state"] != "paid":
    time.sleep(0.05)
print(f"one claim's 835: drop to paid {1000 * (time.perf_counter() - t):.0f} ms")
