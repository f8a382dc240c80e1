#!/usr/bin/env bash
# Checks the embedded code tables that have a machine-readable published source against it:
# functions/core/codes/place-of-service.tsv against the CMS Place of Service CodeSystem in the HL7
# Terminology package (npm: hl7.terminology.r4, the version named in the table's source line).
# Every code and display must match, in both directions. Needs npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
table=functions/core/codes/place-of-service.tsv
version=$(sed -n 's/.*hl7\.terminology\.r4 \([0-9.]*\).*/\1/p' "$table" | head -1)
[ -n "$version" ] || { echo "check-codes: $table names no hl7.terminology.r4 version" >&2; exit 1; }
cache="${HMS_CACHE:-$HOME/.cache/hms-ach}/hl7.terminology.r4-$version"
if [ ! -f "$cache/package/CodeSystem-CMSPlaceofServiceCodes.json" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack --silent "hl7.terminology.r4@$version" >/dev/null 2>&1 && tar xzf hl7.terminology.r4-*.tgz)
fi
python3 - "$cache/package/CodeSystem-CMSPlaceofServiceCodes.json" "$table" <<'PY'
import json, sys
published = json.load(open(sys.argv[1]))
norm = lambda s: " ".join(s.replace("\u2019", "'").split())
theirs = {c["code"]: norm(c["display"]) for c in published["concept"]}
ours = {}
for line in open(sys.argv[2], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        if line.startswith("# version:") and line.split(":", 1)[1].strip() != published["version"]:
            sys.exit(f"check-codes: version {line.strip()} but the CodeSystem is {published['version']}")
        continue
    code, text = line.rstrip("\n").split("\t")
    ours[code] = norm(text)
diff = sorted(set(theirs.items()) ^ set(ours.items()))
if diff:
    sys.exit(f"check-codes: place-of-service.tsv differs from the CodeSystem: {diff}")
print(f"check-codes: place of service, {len(ours)} codes, equal to CMS {published['version']} in hl7.terminology.r4")
PY
