#!/usr/bin/env bash
# Lints template.yaml with cfn-lint (PyPI, offline: it carries the CloudFormation and SAM
# specifications), installed into .local/cfn-lint on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.local/cfn-lint
if [ ! -x "$venv/bin/cfn-lint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "cfn-lint==1.58.0"
fi
"$venv/bin/cfn-lint" --format parseable template.yaml
echo "check-template: cfn-lint 1.58.0 finds template.yaml clean"
