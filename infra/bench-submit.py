"""Submit latency through a running local stack (infra/stack.sh up), as a clinic sees it:
N claims one after another (after 20 to warm up), each with its own patient control number;
p50 and p99 of the 202, then how long until all were accepted by the payer.
Run: python3 infra/bench-submit.py [N] (200 by default). Prints no claim content."""

import json, os, sys, time, urllib.request
api = os.environ.get("HMS_API_URL", "http://127.0.0.1:3000")
token = open(os.environ.get("HMS_STACK_STATE", ".local/stack") + "/data/dev-token").read().strip()
claim = json.load(open("functions/shared/hms-domain/tests/fixtures/claims/professional-subscriber.json"))
times = []
ids = []
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
stamp = int(time.time()) % 100000
for i in range(n + 20):
    claim["claim"]["patientControlNumber"] = f"LAT{stamp:05d}{i:06d}"
    body = json.dumps(claim).encode()
    req = urllib.request.Request(api + "/ach/submitClaim", data=body, method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        answer = json.loads(r.read())
        assert r.status == 202, r.status
    spent = time.perf_counter() - t
    if i >= 20:
        times.append(spent)
        ids.append(answer["claimId"])
times.sort()
p = lambda q: times[round((len(times) - 1) * q)] * 1000
print(f"submit through the local stack: {len(times)} claims, p50 {p(0.5):.1f} ms p99 {p(0.99):.1f} ms")
# how long until all reached the payer's verdict
t = time.perf_counter()
pending = set(ids)
while pending and time.perf_counter() - t < 300:
    for cid in list(pending):
        req = urllib.request.Request(api + "/ach/claims/" + cid, headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req) as r:
            if json.loads(r.read())["state"] == "accepted-by-payer":
                pending.discard(cid)
    time.sleep(0.2)
print(f"all {len(ids)} accepted by the payer {time.perf_counter() - t:.1f} s after the last 202; {len(pending)} not")
