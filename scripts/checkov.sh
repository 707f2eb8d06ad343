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

base_python=/usr/bin/python3.11
[ -x "$base_python" ] || base_python=$(command -v python3)
if ! "$base_python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    log "installing python3-venv from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  else
    log "$base_python has no venv/ensurepip module: install python3-venv"; exit 1
  fi
fi

key=$(printf '%s %s' "$(sha256sum "$lock" | cut -c1-16)" "$("$base_python" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-12)
venv="${CHECKOV_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-gitops/checkov-$version-$key}"

if [ ! -f "$venv/.complete" ]; then
  log "creating $venv (checkov $version)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$base_python" -m venv "$venv"
  "$venv/bin/pip" install -q --no-deps -r "$lock" >"$venv.pip.log" 2>&1 \
    || { cat "$venv.pip.log" >&2; log "pip failed (log above)"; exit 1; }
  touch "$venv/.complete"
fi
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))')
[ "$installed" = "$version" ] || { log "$venv has checkov $installed, $lock pins $version"; exit 1; }
log "checkov $installed in $venv"
echo "$venv/bin/checkov" > .checkov-bin
echo "CHECKOV_BIN=$venv/bin/checkov"
