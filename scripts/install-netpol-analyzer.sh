#!/usr/bin/env bash
# NP-Guard's netpol-analyzer (CLI `k8snetpolicy`), the NetworkPolicy engine behind test/policy/flows.test.ts.
# Run by `npm test` (pretest). Built from the Go module proxy at the version pinned in scripts/netpol-analyzer/go.mod
# (checksums in go.sum); `go install pkg@version` cannot be used because the proxy refuses the module's version list.
# Idempotent: the binary is cached under ~/.cache/mlflow-gitops/ keyed by go.mod + go.sum, so a first build takes
# minutes and every later run returns at once.
#
#   NETPOL_ANALYZER_DIR=DIR   where the binary goes (default: ~/.cache/mlflow-gitops/netpol-analyzer-<key>)
#
# Writes the binary's path to .netpol-analyzer (gitignored), which the tests read.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "install-netpol-analyzer.sh: $*" >&2; }

src=scripts/netpol-analyzer
version=$(awk '$1 == "require" && $2 == "github.com/np-guard/netpol-analyzer" { print $3 }' "$src/go.mod")
key=$(cat "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
dir="${NETPOL_ANALYZER_DIR:-$HOME/.cache/mlflow-gitops/netpol-analyzer-$version-$key}"
bin="$dir/k8snetpolicy"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { log "needs Go (1.24 or later) to build netpol-analyzer $version"; exit 1; }
  log "building netpol-analyzer $version into $dir (first run only; takes a few minutes)"
  mkdir -p "$dir"
  (cd "$src" && go build -trimpath -o "$bin.tmp" github.com/np-guard/netpol-analyzer/cmd/netpolicy)
  mv "$bin.tmp" "$bin"
fi
echo "$bin" > .netpol-analyzer
echo "NETPOL_ANALYZER=$bin"
