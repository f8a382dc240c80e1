"""Prints a claim answer (our JSON, on stdin) as a billing clerk reads it: the claim's id and
where it is, each move it made, and the findings. Run by infra/run.sh."""

import json
import sys

claim = json.load(sys.stdin)
print(f"claim {claim['claimId']} ({claim['kind']}, payer {claim['payerId']}): {claim['state']}")
for move in claim["history"]:
    reason = f" - {move['reason']}" if move.get("reason") else ""
    print(f"  {move['at']}  {move['state']}{reason}")
for issue in (claim.get("outcome") or {}).get("issue", []):
    if issue.get("diagnostics") != "all-ok":
        print(f"  {issue['severity']}: {issue['details']['text']}")
