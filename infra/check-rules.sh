#!/usr/bin/env bash
# Builds every example payer rule set (components/examples/*) with `hms rules build` and runs it
# on its test claims (components/examples/*/tests/*.json) with `hms rules test`: a claim whose
# name says it is held must be held (exit 1) and name the finding; every other one must pass.
set -euo pipefail
cd "$(dirname "$0")/.."
hms=target/debug/hms
[ -x "$hms" ] || cargo build --quiet -p hms-cli
# One target directory for every guest: the standard library is built once.
# Relative on purpose: `hms rules build` resolves it from where it was started, as a user runs it.
export HMS_RULES_TARGET="${HMS_RULES_TARGET:-target/wasm-guests}"
bad=0; runs=0
for dir in components/examples/*/; do
  dir=${dir%/}
  built=$("$hms" rules build "$dir" 2>/tmp/hms-rules-build.log) || { cat /tmp/hms-rules-build.log >&2; echo "check-rules: $dir did not build" >&2; exit 1; }
  component=${built%%$'\t'*}
  "$hms" rules inspect "$component" >/dev/null
  for claim in "$dir"/tests/*.json; do
    runs=$((runs + 1))
    set +e
    report=$("$hms" rules test "$component" --claim "$claim")
    code=$?
    set -e
    case "$(basename "$claim")" in
      *-is-held.json) want=1 ;;
      *) want=0 ;;
    esac
    if [ "$code" != "$want" ]; then
      echo "check-rules: $claim: exit $code, expected $want" >&2; echo "$report" >&2; bad=$((bad + 1))
    fi
  done
done
echo "check-rules: $runs claims through $(ls -d components/examples/*/ | wc -l) example rule sets, $bad wrong"
[ "$bad" -eq 0 ]
