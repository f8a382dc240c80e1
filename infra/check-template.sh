#!/usr/bin/env bash
# Lints template.yaml with cfn-lint (PyPI, offline: it carries the CloudFormation and SAM
# specifications), installed into .local/cfn-lint on first use; then holds its routes and
# scopes to the code's route map (`hms routes`) and its worker deadlines to each other.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/cfn-lint
if [ ! -x "$venv/bin/cfn-lint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "cfn-lint==1.58.0"
fi
"$venv/bin/cfn-lint" --format parseable template.yaml
echo "check-template: cfn-lint 1.58.0 finds template.yaml clean"
# The routes and their authorizer scopes, as the code's route map has them; the worker's
# deadlines.
routes=$(mktemp)
trap 'rm -f "$routes"' EXIT
cargo run --quiet -p hms-cli -- routes >"$routes"
"$venv/bin/python" infra/local/stack.py check "$routes"
