#!/usr/bin/env bash
# A cached Python venv with the REAL MLflow for the test suite (the migration script, the server as rendered, the
# smoke test). Run by `npm test` (pretest). Idempotent: reuses the venv when its key (source + pins) is unchanged.
#
#   MLFLOW_GITOPS_WHEELHOUSE=DIR   install from DIR (a wheelhouse with requirements.txt), offline, --no-deps;
#                                  .ci/run sets it where the package index lacks the MLflow release.
#   otherwise                      `mlflow[auth]==<the image's version>` + PyMySQL + psycopg2 from the package index,
#                                  the version read from config/prod.yaml's image tag (vX.Y.Z-full → X.Y.Z).
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

wheelhouse="${MLFLOW_GITOPS_WHEELHOUSE:-}"
# A checkout beside an offline wheelhouse (whose package index lacks MLflow) finds it without
# .ci/run too, as scripts/test-apiserver.sh finds its binaries; an explicit MLFLOW_GITOPS_WHEELHOUSE wins.
if [ -z "$wheelhouse" ] && [ -f ../shared/wheels/requirements.txt ]; then wheelhouse=../shared/wheels; fi
if [ -n "$wheelhouse" ]; then
  wheelhouse=$(cd "$wheelhouse" && pwd)
  [ -f "$wheelhouse/requirements.txt" ] || { log "$wheelhouse has no requirements.txt"; exit 1; }
  key_src="wheelhouse $(sha256sum "$wheelhouse/requirements.txt" | cut -c1-16) $(ls "$wheelhouse" | sha256sum | cut -c1-16)"
else
  tag=$(sed -n 's/^  tag: *v\{0,1\}\([0-9][0-9.]*\).*/\1/p' config/prod.yaml | head -n1)
  [ -n "$tag" ] || { log "cannot read the MLflow version from config/prod.yaml image.tag"; exit 1; }
  key_src="index mlflow==$tag"
fi
key=$(printf '%s %s' "$key_src" "$("$base_python" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-12)
venv="${MLFLOW_GITOPS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-gitops/venv-$key}"

if [ ! -f "$venv/.complete" ]; then
  log "creating $venv ($key_src)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$base_python" -m venv "$venv"
  if [ -n "$wheelhouse" ]; then
    PIP_RETRIES=0 "$venv/bin/pip" install -q --no-deps --find-links "$wheelhouse" -r "$wheelhouse/requirements.txt" \
      >"$venv.pip.log" 2>&1 || { cat "$venv.pip.log" >&2; log "pip failed (log above)"; exit 1; }
  else
    "$venv/bin/pip" install -q "mlflow[auth]==$tag" pymysql psycopg2-binary \
      >"$venv.pip.log" 2>&1 || { cat "$venv.pip.log" >&2; log "pip failed (log above)"; exit 1; }
  fi
  touch "$venv/.complete"
  chmod -R a+rX "$venv"
  # The cache dir must be enterable by the pods' non-root uid.
  d=$(dirname "$venv"); while [ "$d" != / ]; do chmod a+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
fi
version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))')
log "MLflow $version in $venv"
echo "$venv/bin/python" > .mlflow-python
echo "MLFLOW_PYTHON=$venv/bin/python"
