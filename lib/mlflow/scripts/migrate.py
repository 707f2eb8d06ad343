"""Bring MLflow's database schema to the image's version, safely.

Runs inside the MLflow image (same tag as the server) as `python /opt/mlflow-migrate/migrate.py`: as the
migration Job (Argo CD Sync hook) for a MySQL store behind the Cloud SQL proxy, or as the server pod's init
container for a SQLite store on the pod's volume.

Environment:
  MLFLOW_BACKEND_STORE_URI         required: a mysql+pymysql URL (Cloud SQL proxy on 127.0.0.1) or sqlite:////PATH
  MIGRATE_CONNECT_TIMEOUT_SECONDS  default 120: how long to retry the first connection (proxy start-up)
  MLFLOW_AUTH_CONFIG_PATH          optional, basic-auth only: ini with [mlflow] database_uri (`%` written `%%`)

Steps:
  1. Connect, retrying until the timeout.
  2. MySQL: refuse (nothing changed) when binary logging is on and log_bin_trust_function_creators is off;
     MLflow's trigger migration would fail there with error 1419 and leave the schema half-migrated.
  3. Tracking store: an empty database is initialized through MLflow's store (`mlflow db upgrade` fails on an
     empty database in some 3.x releases, and the store also writes experiment 0 with the artifact root); a
     database with a version in `alembic_version` gets `python -m mlflow db upgrade`; anything in between is
     refused for a human to repair.
  4. Basic-auth on MySQL: MLflow's first auth migration names two foreign keys `fk_user_id`, which MySQL
     rejects (errno 121; mlflow/mlflow#9642, #10964). Unless the auth version table already holds a revision,
     create the initial auth tables as that migration does but with distinct FK names, and stamp the initial
     revision. Then `python -m mlflow.server.auth db upgrade --url ...` applies the later auth migrations.

Exit codes:
  0  schema is current
  2  bad configuration (missing or invalid URI, timeout or auth ini)
  3  MySQL log_bin is on and log_bin_trust_function_creators is off: set the database flag; nothing changed
  4  could not connect within MIGRATE_CONNECT_TIMEOUT_SECONDS
  5  half-initialized database (MLflow tables without a version, or an empty version table): refused
  6  a migration step failed (store initialization, `mlflow db upgrade`, auth pre-create or auth upgrade)

Passwords are never printed: URLs are shown masked, and MLflow's output is filtered.
"""

import configparser
import os
import subprocess
import sys
import time
import traceback
import urllib.parse

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_LOG_BIN = 3
EXIT_CONNECT = 4
EXIT_HALF_INITIALIZED = 5
EXIT_FAILED = 6

# Where experiment 0's artifacts go: the server proxies artifacts (`--serve-artifacts`).
DEFAULT_ARTIFACT_ROOT = "mlflow-artifacts:/"
RETRY_SLEEP_SECONDS = 2.0

# Tracking store. The tables of MLflow's first schema: mlflow/store/tracking/dbmodels/initial_models.py.
TRACKING_VERSION_TABLE = "alembic_version"
TRACKING_TABLES = ("experiments", "runs", "tags", "metrics", "params")

# Basic-auth store, from upstream mlflow/mlflow:
#  - mlflow/server/auth/db/migrations/versions/8606fa83a998_initial_migration.py (revision, tables), also
#    INITIAL_REVISION in mlflow/server/auth/db/utils.py;
#  - mlflow/server/auth/db/migrations/env.py and db/utils.py: version_table="alembic_version_auth" (MLflow >= 3.6;
#    distinct from the tracking store's `alembic_version`, so both fit in one database);
#  - mlflow/server/auth/cli.py + db/cli.py: `python -m mlflow.server.auth db upgrade --url URL [--revision head]`.
# Later migrations find these FKs by introspection, not by name (e6c5d2f7a8b9_add_cascade_delete_to_user_fks.py).
AUTH_INITIAL_REVISION = "8606fa83a998"
AUTH_VERSION_TABLE = "alembic_version_auth"
AUTH_FK_NAMES = {
    "experiment_permissions": "fk_experiment_permissions_user_id",
    "registered_model_permissions": "fk_registered_model_permissions_user_id",
}

LOG_BIN_HELP = (
    "MySQL has binary logging on and log_bin_trust_function_creators off: MLflow's trigger migration would fail "
    "with error 1419 and leave the schema half-migrated. Nothing was changed. Set the Cloud SQL database flag "
    "log_bin_trust_function_creators=on, e.g. `gcloud sql instances patch INSTANCE "
    "--database-flags=log_bin_trust_function_creators=on` -- that REPLACES the instance's whole flag list, so "
    "repeat the flags already set (with Terraform: add it to settings.database_flags) -- then sync again."
)


class MigrateError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


_secrets = set()


def scrub(message):
    """`message` without any password we know of."""
    for secret in _secrets:
        message = message.replace(secret, "***")
    return message


def remember_secrets(uri):
    """Registers the password of `uri` (decoded and as written) for scrub()."""
    candidates = []
    for parse in (lambda: make_url(uri).password, lambda: urllib.parse.urlsplit(uri).password):
        try:
            candidates.append(parse())
        except Exception:  # an unparseable URI is reported by make_engine()
            pass
    _secrets.update(str(secret) for secret in candidates if secret)


def log(message):
    print(f"migrate: {scrub(message)}", flush=True)


def masked(uri):
    return make_url(uri).render_as_string(hide_password=True)


def short_error(error):
    """One line about a database error: the driver's message, without SQLAlchemy's SQL and links."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [""]
    return scrub(f"{type(cause).__name__}: {lines[0]}")


def is_mysql(engine):
    return engine.dialect.name in ("mysql", "mariadb")


def make_engine(uri):
    try:
        url = make_url(uri)
        kwargs = {"poolclass": NullPool}
        if url.get_driver_name() == "pymysql":
            kwargs["connect_args"] = {"connect_timeout": 10}
        return sqlalchemy.create_engine(url, **kwargs)
    except Exception as e:  # ArgumentError, NoSuchModuleError, a missing driver...
        raise MigrateError(EXIT_CONFIG, f"cannot use database URI {uri_for_error(uri)}: {short_error(e)}")


def uri_for_error(uri):
    try:
        return masked(uri)
    except Exception:
        return "(unparseable URI)"


def wait_for_database(engine, uri, timeout_seconds):
    """Retries the first connection until `timeout_seconds` have passed."""
    deadline = time.monotonic() + timeout_seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            log(f"connected to {masked(uri)}")
            return
        except Exception as e:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MigrateError(
                    EXIT_CONNECT,
                    f"could not connect to {masked(uri)} within {timeout_seconds:g}s "
                    f"({attempt} attempts): {short_error(e)}",
                )
            log(f"database not reachable yet (attempt {attempt}): {short_error(e)}")
            time.sleep(min(RETRY_SLEEP_SECONDS, remaining))


def check_log_bin(engine):
    """MySQL: binary logging without log_bin_trust_function_creators breaks MLflow's trigger migration."""
    with engine.connect() as conn:
        log_bin, trust = conn.execute(text("SELECT @@log_bin, @@log_bin_trust_function_creators")).first()
    log(f"@@log_bin={log_bin} @@log_bin_trust_function_creators={trust}")
    if int(log_bin) and not int(trust):
        raise MigrateError(EXIT_LOG_BIN, LOG_BIN_HELP)


def table_names(engine):
    return set(sqlalchemy.inspect(engine).get_table_names())


def versions_in(engine, table):
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text(f"SELECT version_num FROM {table}"))]


def tracking_state(engine):
    """'empty', or 'versioned' with the current revision; raises for a half-initialized database."""
    tables = table_names(engine)
    mlflow_tables = sorted(tables.intersection(TRACKING_TABLES))
    if TRACKING_VERSION_TABLE in tables:
        versions = versions_in(engine, TRACKING_VERSION_TABLE)
        if versions:
            return "versioned", ",".join(versions)
        hint = (
            "With no MLflow tables this is what a failed `mlflow db upgrade` on an empty database leaves: "
            f"drop the empty {TRACKING_VERSION_TABLE} table and sync again."
            if not mlflow_tables
            else "Restore the database from its backup, or insert the revision the schema really is at into "
            f"{TRACKING_VERSION_TABLE} (compare the tables with MLflow's migrations), then sync again."
        )
        raise MigrateError(
            EXIT_HALF_INITIALIZED,
            f"half-initialized database: table {TRACKING_VERSION_TABLE} exists but is empty "
            f"(MLflow tables present: {', '.join(mlflow_tables) or 'none'}). Refusing to guess. {hint}",
        )
    if mlflow_tables:
        raise MigrateError(
            EXIT_HALF_INITIALIZED,
            f"half-initialized database: MLflow tables exist ({', '.join(mlflow_tables)}) but there is no "
            f"{TRACKING_VERSION_TABLE} table. Refusing to guess. Look at what created them (an interrupted first "
            f"start?): if they hold no data, drop them and sync again; otherwise restore the backup, or create "
            f"{TRACKING_VERSION_TABLE} with the revision the schema really is at.",
        )
    return "empty", None


def run_mlflow(module, args, display_args):
    """`python -m module args...` with MLflow's output passed through (passwords filtered); its exit code."""
    command = [sys.executable, "-m", module, *args]
    log(f"running: python -m {module} {' '.join(display_args)}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    for line in process.stdout:
        sys.stdout.write(scrub(line))
        sys.stdout.flush()
    return process.wait()


def initialize_tracking_store(uri):
    log(f"empty database: initializing it through MLflow's SqlAlchemyStore (artifact root {DEFAULT_ARTIFACT_ROOT})")
    try:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        SqlAlchemyStore(uri, DEFAULT_ARTIFACT_ROOT)
    except Exception:
        sys.stdout.write(scrub(traceback.format_exc()))
        raise MigrateError(EXIT_FAILED, "initializing the empty database through MLflow's store failed (see above)")


def upgrade_tracking_store(uri, revision):
    log(f"schema at revision {revision}: running `mlflow db upgrade`")
    code = run_mlflow("mlflow", ["db", "upgrade", uri], ["db", "upgrade", masked(uri)])
    if code != 0:
        raise MigrateError(
            EXIT_FAILED,
            f"`mlflow db upgrade` failed (exit {code}, output above). On MySQL a failed migration is not rolled "
            "back: check the schema against the backup before retrying.",
        )


def migrate_tracking_store(engine, uri):
    state, revision = tracking_state(engine)
    if state == "empty":
        initialize_tracking_store(uri)
    else:
        upgrade_tracking_store(uri, revision)
    log(f"tracking schema at revision {','.join(versions_in(engine, TRACKING_VERSION_TABLE))}")


def read_auth_database_uri(path):
    """`database_uri` of the [mlflow] section, read the way MLflow reads it (ConfigParser, so `%%` is `%`)."""
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path):
            raise MigrateError(EXIT_CONFIG, f"cannot read MLFLOW_AUTH_CONFIG_PATH={path}")
        uri = parser.get("mlflow", "database_uri").strip()
    except configparser.Error as e:  # its message may quote the value (a password): name the place only
        where = "".join(f" {name}={getattr(e, name)!r}" for name in ("section", "option") if getattr(e, name, None))
        raise MigrateError(EXIT_CONFIG, f"bad auth config {path}: {type(e).__name__}{where} (write a literal % as %%)")
    if not uri:
        raise MigrateError(EXIT_CONFIG, f"bad auth config {path}: [mlflow] database_uri is empty")
    return uri


def auth_initial_tables(metadata):
    """The tables of auth revision 8606fa83a998, column for column, but with distinct foreign-key names."""
    sa = sqlalchemy
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=True),
        sa.UniqueConstraint("username"),
    )
    for name, resource_column, unique_name in (
        ("experiment_permissions", "experiment_id", "unique_experiment_user"),
        ("registered_model_permissions", "name", "unique_name_user"),
    ):
        sa.Table(
            name,
            metadata,
            sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
            sa.Column(resource_column, sa.String(length=255), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("permission", sa.String(length=255), nullable=True),
            sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=AUTH_FK_NAMES[name]),
            sa.UniqueConstraint(resource_column, "user_id", name=unique_name),
        )
    # Alembic's own version table shape (alembic/runtime/migration.py): version_num VARCHAR(32), PK "<table>_pkc".
    return sa.Table(
        AUTH_VERSION_TABLE,
        metadata,
        sa.Column("version_num", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("version_num", name=f"{AUTH_VERSION_TABLE}_pkc"),
    )


def precreate_auth_tables(engine):
    """MySQL: create the initial auth tables MLflow cannot create there, and stamp their revision. Idempotent:
    does nothing once the auth version table holds a revision. An empty version table plus some of the tables
    is what MLflow's failing initial migration leaves behind; the missing tables are added then."""
    tables = table_names(engine)
    if AUTH_VERSION_TABLE in tables and versions_in(engine, AUTH_VERSION_TABLE):
        log(f"auth schema at revision {','.join(versions_in(engine, AUTH_VERSION_TABLE))}: no pre-create needed")
        return
    metadata = sqlalchemy.MetaData()
    version_table = auth_initial_tables(metadata)
    missing = [t for t in metadata.sorted_tables if t.name not in tables]
    kept = [t.name for t in metadata.sorted_tables if t.name in tables]
    log(
        f"pre-creating auth tables {', '.join(t.name for t in missing if t is not version_table) or '(none)'}"
        f"{' (keeping existing ' + ', '.join(kept) + ')' if kept else ''} with distinct FK names; "
        f"stamping {AUTH_VERSION_TABLE} with {AUTH_INITIAL_REVISION}"
    )
    try:
        with engine.begin() as conn:
            metadata.create_all(conn, tables=missing, checkfirst=True)
            conn.execute(version_table.insert().values(version_num=AUTH_INITIAL_REVISION))
    except Exception as e:
        raise MigrateError(EXIT_FAILED, f"pre-creating the auth tables failed: {short_error(e)}")


def migrate_auth_store(engine, uri):
    if is_mysql(engine):
        precreate_auth_tables(engine)
    code = run_mlflow("mlflow.server.auth", ["db", "upgrade", "--url", uri], ["db", "upgrade", "--url", masked(uri)])
    if code != 0:
        raise MigrateError(EXIT_FAILED, f"`mlflow.server.auth db upgrade` failed (exit {code}, output above)")
    if AUTH_VERSION_TABLE in table_names(engine):
        log(f"auth schema at revision {','.join(versions_in(engine, AUTH_VERSION_TABLE))}")


def read_timeout():
    raw = os.environ.get("MIGRATE_CONNECT_TIMEOUT_SECONDS", "").strip() or "120"
    try:
        timeout = float(raw)
    except ValueError:
        timeout = -1
    if timeout < 0:
        raise MigrateError(EXIT_CONFIG, f"MIGRATE_CONNECT_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}")
    return timeout


def main():
    uri = os.environ.get("MLFLOW_BACKEND_STORE_URI", "").strip()
    if not uri:
        raise MigrateError(EXIT_CONFIG, "MLFLOW_BACKEND_STORE_URI is not set")
    remember_secrets(uri)
    timeout = read_timeout()
    auth_config = os.environ.get("MLFLOW_AUTH_CONFIG_PATH", "").strip()
    auth_uri = read_auth_database_uri(auth_config) if auth_config else None
    if auth_uri:
        remember_secrets(auth_uri)

    # Every check before any change: connect and (MySQL) check the binlog flag for both stores first.
    engine = make_engine(uri)
    wait_for_database(engine, uri, timeout)
    if is_mysql(engine):
        check_log_bin(engine)
    auth_engine = None
    if auth_uri:
        auth_engine = make_engine(auth_uri)
        wait_for_database(auth_engine, auth_uri, timeout)
        if is_mysql(auth_engine):
            check_log_bin(auth_engine)

    migrate_tracking_store(engine, uri)
    if auth_engine is not None:
        migrate_auth_store(auth_engine, auth_uri)
    log("done")


def run():
    try:
        main()
    except MigrateError as e:
        print(f"migrate: ERROR: {scrub(str(e))}", file=sys.stderr, flush=True)
        return e.code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(run())
