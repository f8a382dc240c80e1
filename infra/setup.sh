#!/usr/bin/env bash
# Installs what building and testing need, only when missing; quiet and idempotent.
set -euo pipefail
need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# npm fetches the published code systems the code tables are checked against (infra/check-codes.sh).
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# The example payer rule sets are built for wasm32 with Debian's Rust and its library source
# (rustup cannot add targets here; see ../shared/docs/WASM_GUESTS.md) unless rustup has the target.
if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  [ -x /usr/bin/rustc ] || need_apt+=(rustc-web)
  [ -x /usr/bin/cargo ] || need_apt+=(cargo-web)
  [ -d /usr/lib/rustlib/src/rust/library ] || need_apt+=(rust-web-src)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt >/dev/null 2>&1 || true
