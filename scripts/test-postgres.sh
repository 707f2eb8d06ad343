#!/usr/bin/env bash
# A throw-away PostgreSQL on loopback for test/scripts/migrate.test.ts, started by `npm test` (pretest): the migration
# script's PostgreSQL path runs against a real server, never a mock. Idempotent: uses the PostgreSQL server found on
# PATH or where Debian, Homebrew or Postgres.app install it (POSTGRES_BINDIR overrides), installs Debian's
# `postgresql` only when none is found and it runs as root (otherwise it says what to install), initializes a
# private cluster under /tmp, starts it with `pg_ctl` (no systemd, no Debian cluster wrapper), and exits at once
# when it already answers.
#
# Like Cloud SQL for PostgreSQL as MLflow sees it: the migrating user is not a superuser and owns only its own
# database (it cannot create databases or roles; Cloud SQL's default user can, and MLflow never needs it to).
#
#   tests connect as  mlflow_test / mlflow_test  @ 127.0.0.1:${POSTGRES_PORT}  (password, scram-sha-256, TCP only)
#   admin (superuser) psql -h ${POSTGRES_DIR} -p ${POSTGRES_PORT} -U postgres   (unix socket in a 0700 directory:
#                     only its owner, the `postgres` system user, and root can reach it)
#   the tests create each database as the admin, `OWNER mlflow_test`, and drop it afterwards.
set -euo pipefail

# `npm test` runs this first (pretest). Where no PostgreSQL can be had, MLFLOW_GITOPS_SKIP_POSTGRES=1 skips the
# PostgreSQL cases (the tests say so loudly); CI never sets it.
if [ "${MLFLOW_GITOPS_SKIP_POSTGRES:-}" = 1 ]; then
  echo "postgres.sh: MLFLOW_GITOPS_SKIP_POSTGRES=1: not starting PostgreSQL" >&2
  exit 0
fi

ROOT_DIR="${POSTGRES_DIR:-/tmp/mlflow-gitops-postgres}"
PORT="${POSTGRES_PORT:-35432}"
DATADIR="$ROOT_DIR/data"
LOGFILE="$ROOT_DIR/postgres.log"
TEST_USER=mlflow_test
TEST_PASSWORD=mlflow_test
# PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` system user.
SERVER_USER=postgres
# Where servers are installed when not on PATH: Debian's postgresql-NN, Homebrew's postgresql@NN (Apple silicon,
# then Intel), Postgres.app. The newest version found is used.
POSTGRES_SEARCH_DIRS="${POSTGRES_SEARCH_DIRS:-/usr/lib/postgresql/*/bin /opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin /Applications/Postgres.app/Contents/Versions/latest/bin}"

log() { echo "postgres.sh: $*"; }

# A directory holding the server programs this script runs.
usable() { for p in initdb pg_ctl pg_isready psql; do [ -x "$1/$p" ] || return 1; done; }

# The server to use: POSTGRES_BINDIR as given; else the one on PATH (e.g. Homebrew's, linked into its bin/);
# else the newest in POSTGRES_SEARCH_DIRS.
find_bindir() {
  if [ -n "${POSTGRES_BINDIR:-}" ]; then echo "$POSTGRES_BINDIR"; return; fi
  local on_path
  on_path="$(command -v pg_ctl 2>/dev/null || true)"
  if [ -n "$on_path" ]; then
    on_path="$(dirname "$(readlink -f "$on_path")")"
    usable "$on_path" && { echo "$on_path"; return; }
  fi
  # shellcheck disable=SC2086 # the patterns are meant to expand
  { ls -d $POSTGRES_SEARCH_DIRS 2>/dev/null || true; } | sort -V | while read -r d; do if usable "$d"; then echo "$d"; fi; done | tail -n 1
}

missing() {
  cat >&2 <<EOF
postgres.sh: no PostgreSQL server found: no directory with initdb, pg_ctl, pg_isready and psql on PATH or in
  $POSTGRES_SEARCH_DIRS
The migration tests need one (any PostgreSQL 13 or later). Install it, then run npm test again:
  Debian, Ubuntu:  sudo apt-get install postgresql   (or run npm test as root: this script installs it)
  macOS:           brew install postgresql@16        (found in Homebrew's prefix, no PATH change needed)
  other:           set POSTGRES_BINDIR=<the directory holding its pg_ctl>
Or go without it: MLFLOW_GITOPS_SKIP_POSTGRES=1 npm test skips the PostgreSQL cases, and npm run test:unit runs
every test that needs no server (docs/testing.md).
EOF
  exit 1
}

# --- install what is missing -------------------------------------------------------------------------
BINDIR="$(find_bindir)"
if [ -n "${POSTGRES_BINDIR:-}" ] && ! usable "$BINDIR"; then
  log "POSTGRES_BINDIR=$POSTGRES_BINDIR does not hold initdb, pg_ctl, pg_isready and psql" >&2
  exit 1
fi
if [ -z "$BINDIR" ]; then
  { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; } || missing
  log "installing postgresql from Debian"
  # Debian's maintainer scripts would start the packaged cluster on :5432; policy-rc.d exit 101 forbids it.
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  BINDIR="$(find_bindir)"
  [ -n "$BINDIR" ] || { log "postgresql installed, but no server in /usr/lib/postgresql/*/bin" >&2; exit 1; }
fi

if [ "$(id -u)" -eq 0 ]; then
  id "$SERVER_USER" >/dev/null 2>&1 || { log "no '$SERVER_USER' system user (Debian's postgresql creates it)" >&2; exit 1; }
  as_server() { runuser -u "$SERVER_USER" -- "$@"; }
  RUN_AS="$SERVER_USER"
else
  as_server() { "$@"; }
  RUN_AS="$(id -un)"
fi

admin() { "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$ROOT_DIR" -p "$PORT" -U postgres -d postgres "$@"; }
ready() { "$BINDIR/pg_isready" -q -h "$ROOT_DIR" -p "$PORT" -t 2 >/dev/null 2>&1; }

ensure_test_user() {
  # Idempotent: the role exists with exactly these attributes and password after every run.
  admin <<SQL
SELECT 'CREATE ROLE $TEST_USER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_USER')\gexec
ALTER ROLE $TEST_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$TEST_PASSWORD';
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SQL
}

print_facts() {
  cat <<EOF
postgres.sh: PostgreSQL $(admin -At -c 'SHOW server_version') is up ($BINDIR, as $RUN_AS)
  POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$PORT POSTGRES_DIR=$ROOT_DIR
  test user:  $TEST_USER / $TEST_PASSWORD  (LOGIN only: no superuser, CREATEDB or CREATEROLE; owns the databases the tests give it)
  admin:      $BINDIR/psql -h $ROOT_DIR -p $PORT -U postgres
  settings:   $(admin -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('listen_addresses', 'max_connections', 'superuser_reserved_connections')")
  log:        $LOGFILE   stop: $BINDIR/pg_ctl -D $DATADIR stop -m fast (as $RUN_AS)
EOF
}

if ready; then
  ensure_test_user
  print_facts
  exit 0
fi

# --- first start: initialize the cluster --------------------------------------------------------------
mkdir -p "$ROOT_DIR"
chown "$RUN_AS" "$ROOT_DIR"
chmod 0700 "$ROOT_DIR"
if [ ! -f "$DATADIR/PG_VERSION" ]; then
  log "initializing $DATADIR"
  rm -rf "$DATADIR"
  # trust on the unix socket only (the socket's directory is 0700); TCP needs the password.
  as_server "$BINDIR/initdb" -D "$DATADIR" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$ROOT_DIR/initdb.log" 2>&1 || {
    cat "$ROOT_DIR/initdb.log" >&2
    exit 1
  }
fi

log "starting postgres on 127.0.0.1:$PORT"
# pg_ctl -w waits until the server accepts connections, at most -t seconds; the server detaches (its own session,
# output to the log), so it keeps running for the next test run. fsync=off: throw-away data, and the suites wait less
# on a shared disk (a crash of the machine would lose the test databases only).
as_server setsid "$BINDIR/pg_ctl" -D "$DATADIR" -l "$LOGFILE" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$ROOT_DIR -c unix_socket_permissions=0700 -c max_connections=100 -c fsync=off" \
  start </dev/null >"$ROOT_DIR/pg_ctl.out" 2>&1 || {
  log "postgres did not start within 60 s; last lines of $LOGFILE:" >&2
  tail -n 30 "$LOGFILE" >&2 || true
  exit 1
}
ready || { log "postgres started but does not answer on $ROOT_DIR:$PORT; see $LOGFILE" >&2; exit 1; }

ensure_test_user
print_facts
