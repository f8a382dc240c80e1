#!/usr/bin/env bash
# Published data nobody here wrote, for the corpus tests (`published_fhir` in hms-domain):
# the FHIR R4 specification's examples (HL7, CC0-1.0), as HL7 publishes them to the npm
# registry. Fetched once into .local/corpus, checked against its pinned sha256; quiet and
# idempotent. Nothing of it is committed.
#
#   infra/corpus.sh          fetch what is missing, print the corpus directory
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.local/corpus
package=hl7.fhir.r4.examples
version=4.0.1
sha256=dce87f1b5b9341867033f7d1f544fa1b5232503f6d62813887ac6b8a8b6cb682
target="$dir/$package-$version"

if [ ! -f "$target/.complete" ]; then
  command -v npm >/dev/null 2>&1 || { echo "corpus: npm is needed (infra/setup.sh installs it)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null 2>npm.log) ||
    { cat "$work/npm.log" >&2; echo "corpus: npm pack $package@$version failed" >&2; exit 1; }
  tarball="$work/$package-$version.tgz"
  echo "$sha256  $tarball" | sha256sum --check --status ||
    { echo "corpus: $package-$version.tgz does not match its pinned sha256" >&2; exit 1; }
  mkdir -p "$work/unpacked"
  tar -xzf "$tarball" -C "$work/unpacked"
  rm -rf "$target"
  mkdir -p "$dir"
  mv "$work/unpacked/package" "$target"
  touch "$target/.complete"
fi
echo "$target"
