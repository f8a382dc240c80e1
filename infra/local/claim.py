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
balance = claim.get("balance")
if balance:
    print(
        f"  billed {balance['billed']}, paid {balance['paid']}, adjusted {balance['adjusted']}, "
        f"patient owes {balance['patientResponsibility']}, outstanding {balance['outstanding']}"
    )
for payment in claim.get("payments", []):
    adjustments = ", ".join(
        f"{a['groupCode']}-{a['reasonCode']} {a['amount']}"
        for line in payment.get("services", [])
        for a in line.get("adjustments", [])
    )
    print(f"  payment {payment['traceNumber']}: {payment['disposition']} {payment['paid']} ({adjustments})")
