#!/usr/bin/env bash
# A throw-away MariaDB on loopback for test/scripts/migrate.test.ts, started by `npm test` (pretest) (the migration script's tests run
# against a real server, never a mock). Idempotent: installs from Debian only what is missing, starts
# `mariadbd` directly (no systemd), and exits at once when the server already answers.
#
# Like Cloud SQL for MySQL: binary logging ON and log_bin_trust_function_creators OFF, and the test user
# has no SUPER privilege -- so a trigger migration fails here exactly as it does there.
#
#   tests connect as  mlflow_test / mlflow_test  @ 127.0.0.1:${MARIADB_PORT}  (ALL on `mlflow\_%` databases)
#   admin (SUPER)     mariadb --no-defaults --socket=${MARIADB_SOCKET} -uroot   (unix_socket auth, as root)
set -euo pipefail

# `npm test` runs this first (pretest). Where no MariaDB can be had, MLFLOW_GITOPS_SKIP_MARIADB=1 skips the
# MariaDB cases (the test says so loudly); CI never sets it.
if [ "${MLFLOW_GITOPS_SKIP_MARIADB:-}" = 1 ]; then
  echo "mariadb.sh: MLFLOW_GITOPS_SKIP_MARIADB=1: not starting MariaDB" >&2
  exit 0
fi

ROOT_DIR="${MARIADB_DIR:-/tmp/mlflow-gitops-mariadb}"
PORT="${MARIADB_PORT:-33306}"
SOCKET="${MARIADB_SOCKET:-$ROOT_DIR/mariadb.sock}"
DATADIR="$ROOT_DIR/data"
PIDFILE="$ROOT_DIR/mariadb.pid"
ERRLOG="$ROOT_DIR/mariadb.err"
TEST_USER=mlflow_test
TEST_PASSWORD=mlflow_test

log() { echo "mariadb.sh: $*"; }

# --- install what is missing -------------------------------------------------------------------------
# Where servers are installed when not on PATH: Debian's /usr/sbin (not on a normal user's PATH), Homebrew's
# mariadb (Apple silicon, then Intel).
MARIADB_SEARCH_DIRS="${MARIADB_SEARCH_DIRS:-/usr/sbin /sbin /opt/homebrew/opt/mariadb/bin /usr/local/opt/mariadb/bin}"
for d in $MARIADB_SEARCH_DIRS; do PATH="$PATH:$d"; done
export PATH
packages=()
command -v mariadbd >/dev/null 2>&1 || packages+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || packages+=(mariadb-client)
/usr/bin/python3 -c 'import sqlalchemy' >/dev/null 2>&1 || packages+=(python3-sqlalchemy)
/usr/bin/python3 -c 'import pymysql' >/dev/null 2>&1 || packages+=(python3-pymysql)
if [ "${#packages[@]}" -gt 0 ]; then
  if ! { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; }; then
    cat >&2 <<EOF
mariadb.sh: missing ${packages[*]} (looked on PATH and in $MARIADB_SEARCH_DIRS).
The migration tests need a MariaDB server and client, and SQLAlchemy and PyMySQL for /usr/bin/python3. Install them,
then run npm test again:
  Debian, Ubuntu:  sudo apt-get install ${packages[*]}   (or run npm test as root: this script installs them)
  macOS:           brew install mariadb                   (and /usr/bin/python3 -m pip install --user sqlalchemy pymysql)
Or go without it: MLFLOW_GITOPS_SKIP_MARIADB=1 npm test skips the MariaDB cases, and npm run test:unit runs every
test that needs no server (docs/testing.md).
EOF
    exit 1
  fi
  log "installing ${packages[*]} from Debian"
  # Debian's maintainer scripts would start a system-wide server on :3306; policy-rc.d exit 101 forbids it.
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

admin() { mariadb --no-defaults --socket="$SOCKET" -uroot "$@"; }
ping_ok() { mariadb-admin --no-defaults --socket="$SOCKET" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

ensure_test_user() {
  admin <<SQL
CREATE USER IF NOT EXISTS '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
CREATE USER IF NOT EXISTS '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
GRANT ALL PRIVILEGES ON \`mlflow\\_%\`.* TO '$TEST_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`mlflow\\_%\`.* TO '$TEST_USER'@'localhost';
SQL
}

print_facts() {
  cat <<EOF
mariadb.sh: MariaDB $(admin -N -B -e 'SELECT VERSION()') is up
  MARIADB_HOST=127.0.0.1 MARIADB_PORT=$PORT MARIADB_SOCKET=$SOCKET
  test user:  $TEST_USER / $TEST_PASSWORD  (ALL on \`mlflow\_%\`, no SUPER)
  admin:      mariadb --no-defaults --socket=$SOCKET -uroot
  globals:    $(admin -N -B -e 'SELECT CONCAT("log_bin=", @@log_bin, " log_bin_trust_function_creators=", @@log_bin_trust_function_creators)')
  error log:  $ERRLOG
EOF
}

if ping_ok; then
  ensure_test_user
  print_facts
  exit 0
fi

# --- first start: initialize the data directory --------------------------------------------------------
mkdir -p "$ROOT_DIR"
if [ "$(id -u)" -eq 0 ]; then RUN_AS=root; else RUN_AS="$(id -un)"; fi
if [ ! -d "$DATADIR/mysql" ]; then
  log "initializing $DATADIR"
  rm -rf "$DATADIR"
  mariadb-install-db --no-defaults --user="$RUN_AS" --datadir="$DATADIR" \
    --auth-root-authentication-method=socket --skip-test-db >"$ROOT_DIR/install-db.log" 2>&1 || {
    cat "$ROOT_DIR/install-db.log" >&2
    exit 1
  }
fi

log "starting mariadbd on 127.0.0.1:$PORT"
rm -f "$SOCKET"
setsid mariadbd --no-defaults --user="$RUN_AS" --datadir="$DATADIR" --socket="$SOCKET" --pid-file="$PIDFILE" \
  --bind-address=127.0.0.1 --port="$PORT" --skip-name-resolve \
  --server-id=1 --log-bin="$ROOT_DIR/binlog" --log-bin-trust-function-creators=0 \
  --innodb-buffer-pool-size=64M --max-connections=100 --log-error="$ERRLOG" \
  </dev/null >>"$ROOT_DIR/mariadbd.out" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  ping_ok && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    log "mariadbd exited during start-up; last lines of $ERRLOG:" >&2
    tail -n 30 "$ERRLOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done
ping_ok || { log "mariadbd did not answer within 60 s; see $ERRLOG" >&2; exit 1; }

ensure_test_user
print_facts
