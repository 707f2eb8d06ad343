#!/usr/bin/env bash
# A cached Python venv with the REAL MLflow for the test suite (the migration script, the server as rendered, the
# smoke test). Run by `npm test` (pretest). Idempotent: reuses the venv when its key (source + pins) is unchanged.
#
# Installs `mlflow[auth]==<release>` and what the -full image adds that the suites use (pinned below) from the Python
# package index, the only source. The release is the one every shipped environment's image pins
# (scripts/mlflow-release.ts: `v3.17.0-full` → 3.17.0; it fails when the config files pin different releases), so a
# Renovate bump of the image tag changes what the tests run (docs/testing.md).
#   MLFLOW_GITOPS_VENV=DIR         where the venv lives (default: ~/.cache/mlflow-gitops/venv-<key>)
#
# Prints the venv's python on its last line as `MLFLOW_PYTHON=...`, and writes it to .mlflow-python (gitignored),
# which the tests read. The venv is made from Debian's /usr/bin/python3.11 when present, so that a non-root
# user id (as in the pods) can run it.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "test-mlflow.sh: $*" >&2; }

if [ "${MLFLOW_GITOPS_SKIP_MLFLOW:-}" = 1 ]; then
  log "MLFLOW_GITOPS_SKIP_MLFLOW=1: not preparing MLflow (the real-MLflow suites will say they were skipped)"
  rm -f .mlflow-python
  exit 0
fi

. scripts/python-venv.sh

release=$(node --require tsx/cjs scripts/mlflow-release.ts) || { log "cannot tell which MLflow release to install (above)"; exit 1; }
# What the `-full` image adds that the suites use, pinned: the database drivers of its `db` extra (the server and the
# migration) and prometheus-flask-exporter of its `extras` (`--expose-prometheus`).
extras="PyMySQL==1.2.4 psycopg2-binary==2.9.13 prometheus-flask-exporter==0.23.2"
key_src="index mlflow[auth]==$release $extras"
key=$(printf '%s %s' "$key_src" "$("$base_python" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-12)
venv="${MLFLOW_GITOPS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-gitops/venv-$key}"

if [ ! -f "$venv/.complete" ]; then
  # shellcheck disable=SC2086 # $extras is a list of pins
  make_venv "$venv" "$key_src" "mlflow[auth]==$release" $extras
  chmod -R a+rX "$venv"
  # The cache dir must be enterable by the pods' non-root uid.
  d=$(dirname "$venv"); while [ "$d" != / ]; do chmod a+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
fi
version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))')
log "MLflow $version in $venv"
[ "$version" = "$release" ] || { log "$venv has MLflow $version, the images pin $release: remove the venv and re-run"; exit 1; }
echo "$venv/bin/python" > .mlflow-python
echo "MLFLOW_PYTHON=$venv/bin/python"
