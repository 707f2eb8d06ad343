#!/usr/bin/env bash
# The imports drift check (.ci/run and .github/workflows/ci.yml): imports/ must equal a fresh `cdk8s import` of
# cdk8s.yaml and schemas/crds/ (what `npm run import` writes), file for file — a missing, extra or edited file
# fails. The import goes to a temporary directory: nothing in the checkout is written.
# In CI rather than `npm test`: regenerating every import takes about 5 CPU-seconds, a sixth of the fast suites' budget.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out" "$out.log"' EXIT
CDK8S_CHECK_UPGRADE=false node_modules/.bin/cdk8s import --no-check-upgrade -o "$out" >/dev/null 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
if ! diff -r --exclude=README.md "$out" imports >&2; then
  echo "imports/ differs from a fresh 'npm run import' (above: < fresh, > committed): run it and commit the result (never edit imports/ by hand)." >&2
  exit 1
fi
echo "imports/ matches a fresh 'npm run import'."
