#!/usr/bin/env bash
# Checkov, the infrastructure-as-code scanner, in a cached Python venv; run by `npm test` (pretest), whose
# test/policy/checkov-scan.test.ts then scans dist/ and terraform/ with it. Idempotent: reuses the venv while its key (the
# pinned version and lock file, the base Python) is unchanged.
#
#   the pinned version   `checkov==X.Y.Z` in scripts/checkov-requirements.txt, which locks every dependency too
#                        (installed from the package index with --no-deps, so nothing floats)
#   CHECKOV_VENV=DIR     where the venv lives (default: ~/.cache/mlflow-gitops/checkov-<version>-<key>)
#
# Prints the venv's checkov on its last line as `CHECKOV_BIN=...`, and writes it to .checkov-bin (gitignored),
# which the test reads.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "checkov.sh: $*" >&2; }

lock=scripts/checkov-requirements.txt
version=$(sed -n 's/^checkov==\([0-9][0-9.]*\)$/\1/p' "$lock")
[ -n "$version" ] || { log "$lock pins no checkov==<version>"; exit 1; }

. scripts/python-venv.sh

key=$(printf '%s %s' "$(sha256sum "$lock" | cut -c1-16)" "$("$base_python" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-12)
venv="${CHECKOV_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-gitops/checkov-$version-$key}"

[ -f "$venv/.complete" ] || make_venv "$venv" "checkov $version" --no-deps -r "$lock"
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))')
[ "$installed" = "$version" ] || { log "$venv has checkov $installed, $lock pins $version"; exit 1; }
log "checkov $installed in $venv"
echo "$venv/bin/checkov" > .checkov-bin
echo "CHECKOV_BIN=$venv/bin/checkov"
