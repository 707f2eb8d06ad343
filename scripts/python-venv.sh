# Sourced by the scripts that keep a cached Python venv (test-mlflow.sh, checkov.sh); they define log() first.
#
# base_python: Debian's /usr/bin/python3.11 when present (a venv made from it can be run by a non-root uid, as the
# pods run), else python3 from PATH; python3-venv is installed from Debian when it is missing and we are root.
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

# make_venv DIR WHAT PIP-ARGS...: a new venv in DIR with `pip install -q PIP-ARGS` done, marked complete (DIR/.complete).
# The caller decides when (a complete venv is reused); pip's output goes to DIR.pip.log and is shown only on failure.
make_venv() {
  local venv=$1 what=$2
  shift 2
  log "creating $venv ($what)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$base_python" -m venv "$venv"
  "$venv/bin/pip" install -q "$@" >"$venv.pip.log" 2>&1 || { cat "$venv.pip.log" >&2; log "pip failed (log above)"; exit 1; }
  touch "$venv/.complete"
}
