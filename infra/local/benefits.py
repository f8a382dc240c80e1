"""Prints an eligibility answer (our JSON benefits view, on stdin) as a clinic's front desk reads
it: one line per benefit. Run by infra/run.sh."""

import json
import sys

for response in json.load(sys.stdin):
    for member in response["members"]:
        who = member.get("memberId") or f"{member.get('firstName', '')} {member['lastName']}".strip()
        print(f"{member['level']} {who} at {response['payer']}:")
        for plan in member["plans"]:
            print(f"  plan {plan.get('plan') or '(unnamed)'}")
            for service in plan["serviceTypes"]:
                for b in service["benefits"]:
                    parts = [
                        "$" + b["amount"] if b.get("amount") else None,
                        f"{float(b['percent']) * 100:g}%" if b.get("percent") else None,
                        b.get("timePeriod"),
                        {True: "in network", False: "out of network"}.get(b.get("inNetwork")),
                    ]
                    detail = ", ".join(p for p in parts if p)
                    level = b.get("coverageLevel") or ""
                    print(f"    {service['name']:<40} {b['kind']:<20} {level:<11} {detail}")
