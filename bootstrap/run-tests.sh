#!/usr/bin/env bash
# Run by the repository's `npm test` (script test:bootstrap): installs this package's own dependencies when they
# are missing or older than its lockfile (`npm ci`, so the main install stays small), then runs its tests —
# Pulumi's mocks, no Pulumi CLI, no cluster.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap/: installing its dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
fi
npm test
