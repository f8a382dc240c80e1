#!/usr/bin/env bash
# cargo deny over the workspace, offline (CI runs it in the lint step):
#
#   infra/deny.sh                 advisories (against infra/advisory-db), licenses, bans, sources
#   infra/deny.sh refresh DB      rebuild infra/advisory-db from DB, a checkout of
#                                 github.com/rustsec/advisory-db: the advisories of every crate
#                                 in our lock files, and the commit they were taken at
#
# The machines here reach crates.io but not GitHub, so the advisory database is a checked-in
# snapshot (RustSec's, CC0): cargo deny reads it as a git repository, made fresh under .local.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot=infra/advisory-db

if [ "${1:-}" = refresh ]; then
  db=${2:?usage: infra/deny.sh refresh PATH-TO-ADVISORY-DB}
  rm -rf "$snapshot/crates"
  names=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.lock fuzz/Cargo.lock | sort -u)
  for name in $names; do
    if git -C "$db" cat-file -e "HEAD:crates/$name" 2>/dev/null; then
      mkdir -p "$snapshot/crates/$name"
      for file in $(git -C "$db" ls-tree --name-only "HEAD:crates/$name"); do
        git -C "$db" show "HEAD:crates/$name/$file" >"$snapshot/crates/$name/$file"
      done
    fi
  done
  git -C "$db" show HEAD:LICENSE.txt >"$snapshot/LICENSE.txt"
  git -C "$db" log -1 --format='%H %cI' >"$snapshot/SNAPSHOT"
  echo "deny: $(find "$snapshot/crates" -name '*.md' | wc -l) advisories of $(ls "$snapshot/crates" | wc -l) crates, as of $(cut -d' ' -f2 "$snapshot/SNAPSHOT")"
  exit 0
fi

if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "deny: installing cargo-deny (crates.io)"
  cargo install --quiet --locked cargo-deny
fi
# cargo deny reads the metadata of every crate the lock file names, for every platform (a
# Windows-only dependency too), and runs offline: fetch them all first (a build fetches only
# this platform's, so a fresh machine lacks the rest).
cargo fetch --locked --quiet
# cargo deny keeps each database in a directory named from its URL; ask it which, then put the
# snapshot there as a one-commit repository dated as the snapshot is.
root=.local/advisory-db
mkdir -p "$root"
probe=$(cargo deny --offline -L debug check advisories 2>&1 || true)
dir=$(sed -n "s/.*Opening advisory database at '\([^']*\)'.*/\1/p" <<<"$probe" | sed -n 1p)
[ -n "$dir" ] || { echo "deny: cargo deny did not say where it reads the advisory database" >&2; exit 1; }
taken=$(cut -d' ' -f2 "$snapshot/SNAPSHOT")
rm -rf "$dir"
mkdir -p "$dir"
cp -r "$snapshot/crates" "$dir/"
(cd "$dir" && git init -q && git add -A &&
  GIT_AUTHOR_DATE="$taken" GIT_COMMITTER_DATE="$taken" git -c user.name=hms -c user.email=hms@localhost \
    commit -q -m "RustSec advisories as of $taken")
log=$(mktemp)
if cargo deny --offline check advisories licenses bans sources >"$log" 2>&1; then
  echo "deny: advisories (as of ${taken%%T*}), licenses, bans and sources ok; $(grep -c 'warning\[duplicate\]' "$log" || true) duplicate versions named"
  rm -f "$log"
else
  cat "$log"; rm -f "$log"; exit 1
fi
