"""Bring MLflow's database schema to the image's version, safely, and reconcile the basic-auth users.

Runs inside the MLflow image (same tag as the server) as `python /opt/mlflow-migrate/migrate.py`: as the
migration Job (Argo CD Sync hook) for a Cloud SQL store (MySQL or PostgreSQL) behind the Cloud SQL proxy, or as the
server pod's init container for a SQLite store on the pod's volume. Why each step exists: docs/migration.md.

Environment:
  MLFLOW_BACKEND_STORE_URI         required: a mysql+pymysql or postgresql+psycopg2 URL (Cloud SQL proxy on
                                   127.0.0.1) or sqlite:////PATH
  MIGRATE_CONNECT_TIMEOUT_SECONDS  required: how long to retry the first connection (proxy start-up); the Job sets it
  MIGRATE_CLOUDSQL_INSTANCE        optional: the Cloud SQL instance connection name (PROJECT:REGION:INSTANCE), for
                                   the point-in-time clone command logged with the restore point
  MLFLOW_AUTH_CONFIG_PATH          optional, basic-auth only: the server's ini ([mlflow] database_uri,
                                   admin_username, admin_password; `%` written `%%`)
  MLFLOW_METRICS_USERNAME          optional, basic-auth only, with MLFLOW_METRICS_PASSWORD: the non-admin user
  MLFLOW_METRICS_PASSWORD          the metrics collector logs in as to scrape /metrics
  MLFLOW_SMOKE_USERNAME            optional, basic-auth only, with MLFLOW_SMOKE_PASSWORD: the non-admin user
  MLFLOW_SMOKE_PASSWORD            the PostSync smoke test (and `npm run smoke`) logs in as
  MIGRATE_ACCESS_FILE              optional, basic-auth only, with MIGRATE_PASSWORDS_DIR: the access plan (JSON: the
  MIGRATE_PASSWORDS_DIR            clients' and served models' users and grants; see ACCESS_TABLE below) and the
                                   directory with one password file per user, named after it

Steps (every check before any change):
  1. Basic-auth: the image must be able to run the auth app (`import flask_wtf`, `import mlflow.server.auth`);
     otherwise the server would exit at start, so stop here, before anything is migrated.
  2. Connect, retrying until the timeout.
  3. Compare each store's revision with the head of the installed MLflow's own alembic scripts
     (mlflow/store/db_migrations, mlflow/server/auth/db/migrations). A revision this MLflow does not know
     (a newer MLflow migrated the database) is refused. At head: nothing to migrate, and no further check.
  4. MySQL, only when a migration is pending: refuse (nothing changed) when binary logging is on and
     log_bin_trust_function_creators is off; MLflow's trigger migration would fail there with error 1419 and
     leave the schema half-migrated. (PostgreSQL has no such flag: nothing to check.)
  4b. Interrupted runs, from the marker table mlflow_gitops_migration (one row, written before the first DDL and
     dropped when the run has finished): 'first-install' (the database held no table at all when the run began)
     -> what the interrupted run created is dropped (only tables MLflow's schema creates; anything else present is
     refused) and the install starts over; 'upgrade' (the database held MLflow data) -> refused, pointing at the
     restore point that run logged.
  4c. Before the first DDL: an empty database gets the 'first-install' marker; a database with MLflow data that
     needs a migration gets the restore point logged (UTC time; with MIGRATE_CLOUDSQL_INSTANCE the gcloud
     point-in-time clone command) and the 'upgrade' marker.
  5. Tracking store: an empty database is initialized through MLflow's store (`mlflow db upgrade` fails on an
     empty database in some 3.x releases, and the store also writes experiment 0 with the artifact root); a
     database behind head gets `python -m mlflow db upgrade`; MLflow tables without a version are refused for
     a human to repair.
  6. Basic-auth on MySQL: MLflow's first auth migration names two foreign keys `fk_user_id`, which MySQL
     rejects (errno 121; mlflow/mlflow#9642, #10964). Unless the auth version table already holds a revision,
     create the initial auth tables as that migration does but with distinct FK names, and stamp the initial
     revision. Then `python -m mlflow.server.auth db upgrade --url ...` applies the later auth migrations.
     PostgreSQL and SQLite name constraints per table, so there MLflow's own migrations run unchanged.
  7. Basic-auth users, through MLflow's auth store: the admin of the ini is created if absent, and its
     password is reset whenever the ini's no longer verifies (MLflow itself reads admin_password only when it
     first creates the admin, so a rotation in Secret Manager would otherwise change nothing); it is kept an
     admin. The plain users (metrics scraper, smoke test) likewise, kept non-admins and granted no
     permission (/metrics only needs a logged-in user; the smoke test works under default_permission in an
     experiment it creates, which makes it that experiment's owner). Idempotent: a second run changes nothing.
  8. Clients and served models (the access plan): their users likewise (non-admins, password rotation), each
     configured grant set to exactly its permission, a serving user READ on its model and on the experiment of the
     version its alias (or pinned version) points at now (a missing model or alias is logged, not an error), an
     experiment named in a grant that does not exist created as the server would; what an earlier run granted and
     the plan no longer says is revoked, a user no longer in it deleted (the table mlflow_gitops_access records what
     this script made; anything else is left alone).

Exit codes:
  0  schema is current, users and grants reconciled
  2  bad configuration (missing or invalid URI, timeout, auth ini, metrics or smoke user or password, access plan)
  3  MySQL log_bin is on and log_bin_trust_function_creators is off while a migration is pending: set the
     database flag; nothing changed
  4  could not connect within MIGRATE_CONNECT_TIMEOUT_SECONDS
  5  half-initialized database (MLflow tables without a version, or an empty version table): refused
  6  a step failed (store initialization, `mlflow db upgrade`, auth pre-create or upgrade, user and grant reconciliation),
     or this python has no MLflow (not the MLflow image)
  7  basic-auth is on but this image cannot run MLflow's auth app (e.g. no Flask-WTF): nothing changed
  8  the database is at a revision this image's MLflow does not know (migrated by a newer MLflow): nothing changed
  9  an earlier run began an upgrade of this database (which held MLflow data) and did not finish: refused, nothing
     changed; the message names the restore point that run logged (docs/migration.md, "Interrupted upgrade")

Passwords are never printed: URLs are shown masked, and MLflow's output is filtered.
"""

import configparser
import datetime
import json
import os
import re
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
EXIT_AUTH_APP = 7
EXIT_UNKNOWN_REVISION = 8
EXIT_INTERRUPTED_UPGRADE = 9

# Where experiment 0's artifacts go: the server proxies artifacts (`--serve-artifacts`).
DEFAULT_ARTIFACT_ROOT = "mlflow-artifacts:/"
RETRY_SLEEP_SECONDS = 2.0
# MLflow's auth store refuses to create a user with a shorter password (mlflow/utils/validation.py,
# _validate_password); the same rule is applied here before anything changes, to updates too.
MIN_PASSWORD_LENGTH = 12

# Tracking store. The tables of MLflow's first schema: mlflow/store/tracking/dbmodels/initial_models.py.
# Its alembic scripts: mlflow/store/db_migrations (mlflow/store/db/utils.py, _get_alembic_config).
TRACKING_VERSION_TABLE = "alembic_version"
TRACKING_TABLES = ("experiments", "runs", "tags", "metrics", "params")
TRACKING_SCRIPTS = ("store", "db_migrations")

# Basic-auth store, from upstream mlflow/mlflow:
#  - mlflow/server/auth/db/migrations/versions/8606fa83a998_initial_migration.py (revision, tables), also
#    INITIAL_REVISION in mlflow/server/auth/db/utils.py;
#  - mlflow/server/auth/db/migrations/env.py and db/utils.py: version_table="alembic_version_auth" (MLflow >= 3.6;
#    distinct from the tracking store's `alembic_version`, so both fit in one database);
#  - mlflow/server/auth/cli.py + db/cli.py: `python -m mlflow.server.auth db upgrade --url URL [--revision head]`.
# The auth migrations after the initial one in MLflow 3.11 (0965eb92f5f0 scorer, a1b2c3d4e5f6 gateway,
# 2ed73881770d workspace, c3d4e5f6a7b8 RBAC) create tables with their own FK names and never address the
# initial FKs, so the distinct names below are invisible to them. Newer upstream code adds e6c5d2f7a8b9
# ("add ON DELETE CASCADE to all FKs referencing users.id", after c3d4e5f6a7b8), which replaces each of these
# FKs: see docs/migration.md for what that means here.
AUTH_INITIAL_REVISION = "8606fa83a998"
AUTH_VERSION_TABLE = "alembic_version_auth"
AUTH_SCRIPTS = ("server", "auth", "db", "migrations")
AUTH_FK_NAMES = {
    "experiment_permissions": "fk_experiment_permissions_user_id",
    "registered_model_permissions": "fk_registered_model_permissions_user_id",
}

# What a failed `mlflow db upgrade` left behind, per database. MLflow runs the whole upgrade in one transaction
# (mlflow/store/db/utils.py _upgrade_db and db_migrations/env.py): PostgreSQL's DDL is transactional, so it is rolled
# back to the revision it started from (the tests show it); MySQL commits each DDL statement, SQLite may or may not.
UPGRADE_FAILED_HELP = {
    "postgresql": "PostgreSQL rolled the whole upgrade back: the schema is still at the revision it started from. "
    "Fix the cause shown above and sync again.",
    "mysql": "On MySQL a failed migration is not rolled back: the next run refuses (exit 9) until the database is "
    "restored to the restore point logged above (docs/migration.md, \"Interrupted upgrade\").",
    # SQLite, and any other database: no promise either way.
    "sqlite": "Part of it may have been kept: the next run refuses (exit 9) until the database is restored to the "
    "restore point logged above (docs/migration.md, \"Interrupted upgrade\").",
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


def remember_secret(secret):
    if secret:
        _secrets.add(secret)


def log(message):
    print(f"migrate: {scrub(message)}", flush=True)


def dialect_of(uri):
    """'mysql', 'postgresql' or 'sqlite' (MariaDB counts as MySQL): the database family of a URI."""
    name = make_url(uri).get_backend_name()
    return "mysql" if name == "mariadb" else name


def masked(uri):
    return make_url(uri).render_as_string(hide_password=True)


def short_error(error):
    """One line about a database error: the driver's message, without SQLAlchemy's SQL and links."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [""]
    return scrub(f"{type(cause).__name__}: {lines[0]}")


def is_mysql(engine):
    return engine.dialect.name in ("mysql", "mariadb")


def is_postgres(engine):
    return engine.dialect.name == "postgresql"


def make_engine(uri):
    try:
        url = make_url(uri)
        kwargs = {"poolclass": NullPool}
        # Bound each connection attempt (the retry loop bounds them all): PyMySQL's and libpq's parameter.
        if url.get_driver_name() in ("pymysql", "psycopg2"):
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


def script_heads(parts):
    """Head revisions of the installed MLflow's alembic scripts under mlflow/<parts...>, and the ScriptDirectory."""
    import importlib.util

    spec = importlib.util.find_spec("mlflow")
    if spec is None or not spec.submodule_search_locations:
        raise MigrateError(EXIT_FAILED, f"MLflow is not installed for {sys.executable}: is this the MLflow image?")
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(os.path.join(spec.submodule_search_locations[0], *parts))
    return set(scripts.get_heads()), scripts


def is_pending(store, current, parts):
    """True when `current` (revisions in the version table) is behind the installed MLflow's head; refuses a
    revision this MLflow does not know."""
    heads, scripts = script_heads(parts)
    for revision in current:
        try:
            known = scripts.get_revision(revision)
        except Exception:
            known = None
        if known is None:
            raise MigrateError(
                EXIT_UNKNOWN_REVISION,
                f"the {store} schema is at revision {revision}, which the MLflow in this image does not know "
                f"(its head: {', '.join(sorted(heads))}): a newer MLflow migrated this database. Nothing was "
                "changed. Use an image at least as new as the one that migrated it, or restore the backup taken "
                "before that upgrade.",
            )
    pending = set(current) != heads
    log(
        f"{store} schema at revision {','.join(current)}, head of this MLflow {','.join(sorted(heads))}: "
        f"{'migration pending' if pending else 'at head'}"
    )
    return pending


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
        if dialect_of(uri) == "postgresql":
            # Rolled back whole (see UPGRADE_FAILED_HELP): the database is as it was, so the marker goes too.
            clear_marker(make_engine(uri))
        help_text = UPGRADE_FAILED_HELP.get(dialect_of(uri), UPGRADE_FAILED_HELP["sqlite"])
        raise MigrateError(EXIT_FAILED, f"`mlflow db upgrade` failed (exit {code}, output above). {help_text}")


def tracking_plan(engine):
    """What the tracking store needs: 'initialize', 'upgrade' (with the revision) or None (at head)."""
    state, revision = tracking_state(engine)
    if state == "empty":
        log("tracking store: empty database, to be initialized")
        return "initialize", None
    if is_pending("tracking", revision.split(","), TRACKING_SCRIPTS):
        return "upgrade", revision
    return None, revision


def migrate_tracking_store(engine, uri, plan, revision):
    if plan == "initialize":
        initialize_tracking_store(uri)
    else:
        upgrade_tracking_store(uri, revision)
    log(f"tracking schema at revision {','.join(versions_in(engine, TRACKING_VERSION_TABLE))}")


# ---- Interrupted runs --------------------------------------------------------------------------------------------
# MySQL commits every DDL statement, so a run killed partway (a preempted node, an OOM kill, the Job's deadline, a
# sync terminated in Argo CD) leaves a half-applied schema that MLflow's migrations cannot continue. The marker, one
# row in a table of this script's own written before the first DDL and dropped when the run has finished, is what
# tells the next run what the database held before: nothing at all (a first install, which may be started over),
# or MLflow data (an upgrade, which only a restore can undo). Why: docs/migration.md, "Interrupted runs".
MARKER_TABLE = "mlflow_gitops_migration"
FIRST_INSTALL = "first-install"
UPGRADE = "upgrade"


def marker_table(metadata):
    sa = sqlalchemy
    return sa.Table(
        MARKER_TABLE,
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("from_revision", sa.String(length=255), nullable=True),
        sa.Column("clone_command", sa.String(length=1000), nullable=True),
    )


def read_marker(engine):
    """The marker row (a dict); {} when the table exists without a row (its writing was interrupted); None without it."""
    if MARKER_TABLE not in table_names(engine):
        return None
    with engine.connect() as conn:
        row = conn.execute(marker_table(sqlalchemy.MetaData()).select()).mappings().first()
    return dict(row) if row else {}


def write_marker(engine, state, started_at, from_revision=None, clone_command=None):
    table = marker_table(sqlalchemy.MetaData())
    with engine.begin() as conn:
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
        conn.execute(
            table.insert().values(
                id=1, state=state, started_at=started_at, from_revision=from_revision, clone_command=clone_command
            )
        )


def clear_marker(engine):
    """The run has finished (or PostgreSQL rolled its failed upgrade back): the database holds MLflow's schema only,
    as after a run that was never interrupted."""
    if MARKER_TABLE in table_names(engine):
        with engine.begin() as conn:
            marker_table(sqlalchemy.MetaData()).drop(conn)
        log(f"marker table {MARKER_TABLE} dropped")


def mlflow_table_names():
    """Every table MLflow's schema creates: the ORM models of the installed MLflow (tracking, registry, workspace,
    basic-auth), its first schema, the version tables, the initial auth tables, and every table its alembic scripts
    create by name (some of which later revisions drop again)."""
    import mlflow.store.db.utils  # noqa: F401  imports every tracking ORM model (see its comment on _all_tables_exist)
    from mlflow.server.auth.db.models import Base as AuthBase
    from mlflow.store.db.base_sql_model import Base
    from mlflow.store.tracking.dbmodels.initial_models import Base as InitialBase

    names = {TRACKING_VERSION_TABLE, AUTH_VERSION_TABLE}
    for metadata in (Base.metadata, InitialBase.metadata, AuthBase.metadata):
        names.update(metadata.tables)
    auth_metadata = sqlalchemy.MetaData()
    auth_initial_tables(auth_metadata)
    names.update(auth_metadata.tables)
    created = re.compile(r"create_table\(\s*[\"']([A-Za-z0-9_]+)[\"']")
    for parts in (TRACKING_SCRIPTS, AUTH_SCRIPTS):
        _, scripts = script_heads(parts)
        versions = os.path.join(scripts.dir, "versions")
        for name in sorted(os.listdir(versions)):
            if name.endswith(".py"):
                with open(os.path.join(versions, name), encoding="utf-8") as f:
                    names.update(created.findall(f.read()))
    return names


def check_marker(engine):
    """Before any change: True when an interrupted first install is to be started over; refuses an interrupted
    upgrade (exit 9), and a first install whose database now also holds tables MLflow does not create (exit 5)."""
    marker = read_marker(engine)
    if not marker:
        return False
    if marker["state"] == UPGRADE:
        current = versions_in(engine, TRACKING_VERSION_TABLE) if TRACKING_VERSION_TABLE in table_names(engine) else []
        clone = f" Clone to it: `{marker['clone_command']}`." if marker["clone_command"] else ""
        raise MigrateError(
            EXIT_INTERRUPTED_UPGRADE,
            f"an earlier run began upgrading this database (MLflow data at {marker['from_revision']}) at "
            f"{marker['started_at']} and did not finish: it was interrupted, and the part it applied may be kept "
            f"(MySQL commits each DDL statement); the tracking schema now reads {','.join(current) or 'no revision'}. "
            f"This Job cannot undo that, so nothing was changed. Restore point: {marker['started_at']} (UTC).{clone} "
            "Runbook: docs/migration.md, \"Interrupted upgrade\" (clone to the restore point, check the clone, switch "
            f"to it, sync again). Only if you have checked that the schema is whole at one revision, drop the table "
            f"{MARKER_TABLE} and sync again.",
        )
    created = sorted(table_names(engine) - {MARKER_TABLE})
    # ACCESS_TABLE: this script's own record of users and grants, written before the marker is dropped.
    foreign = sorted(set(created) - mlflow_table_names() - {ACCESS_TABLE})
    if foreign:
        raise MigrateError(
            EXIT_HALF_INITIALIZED,
            f"an earlier first install into this database (empty when it began at {marker['started_at']}) was "
            f"interrupted, but the database now also holds tables MLflow's schema does not create ({', '.join(foreign)}): "
            "that run did not make them, so nothing is dropped. Find out what created them; move them elsewhere "
            "and sync again.",
        )
    log(
        f"an earlier first install into this database (empty when it began at {marker['started_at']}) was "
        f"interrupted: starting over, after dropping the {len(created)} tables it created"
    )
    return True


def discard_interrupted_first_install(engine):
    """Drops every table but the marker: check_marker() proved each is one MLflow's schema creates, made since the
    database was empty. Killed partway, the marker is still there and the next run drops the rest."""
    created = sorted(table_names(engine) - {MARKER_TABLE})
    if not created:
        return
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:
            if is_postgres(engine):  # tables that reference each other go in one statement
                conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(quote(n) for n in created)}"))
            else:
                if is_mysql(engine):
                    conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))  # this session only: they reference each other
                for name in created:  # SQLite checks no foreign key unless asked to
                    conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)}"))
                if is_mysql(engine):
                    conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    except Exception as e:
        raise MigrateError(EXIT_FAILED, f"dropping what the interrupted first install created failed: {short_error(e)}")
    log(f"dropped {', '.join(created)}")


def utc_now():
    """Now, in UTC, to the second (rounded down: a point in time before the next change), RFC 3339."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_cloudsql_instance():
    """(project, instance) from MIGRATE_CLOUDSQL_INSTANCE (PROJECT:REGION:INSTANCE), or None when unset."""
    raw = os.environ.get("MIGRATE_CLOUDSQL_INSTANCE", "").strip()
    if not raw:
        return None
    parts = raw.rsplit(":", 2)  # a domain-scoped project id has a colon of its own (example.com:project)
    if len(parts) != 3 or not all(parts):
        raise MigrateError(
            EXIT_CONFIG,
            f"MIGRATE_CLOUDSQL_INSTANCE must be an instance connection name PROJECT:REGION:INSTANCE, not {raw!r}",
        )
    return parts[0], parts[2]


def clone_command(cloudsql, point_in_time):
    """The gcloud command that clones the instance as it was at `point_in_time` (Cloud SQL point-in-time recovery)."""
    if cloudsql is None:
        return None
    project, instance = cloudsql
    suffix = point_in_time.replace("-", "").replace(":", "").replace("T", "-").rstrip("Z").lower()
    return (
        f"gcloud sql instances clone {instance} {instance}-{suffix} --project={project} "
        f"--point-in-time={point_in_time}"
    )


def begin_first_install(engine):
    """An empty database: the marker first, so that a run interrupted from here on can be started over."""
    others = sorted(table_names(engine) - {MARKER_TABLE})
    if others:
        log(
            f"the database holds tables MLflow does not create ({', '.join(others)}): if this run is interrupted, "
            "the next one cannot prove what it created and will refuse (exit 5)"
        )
        return
    started = utc_now()
    write_marker(engine, FIRST_INSTALL, started)
    log(f"first install into an empty database: marked in {MARKER_TABLE} ({FIRST_INSTALL}, {started})")


def begin_upgrade(engine, from_revision, cloudsql):
    """A database with MLflow data: log the restore point, then mark the upgrade, before the first DDL."""
    started = utc_now()
    clone = clone_command(cloudsql, started)
    log(f"restore point: {started} (UTC), before any change to this database (MLflow data at {from_revision})")
    if clone:
        log(f"to clone the instance as it was then (Cloud SQL point-in-time recovery): {clone}")
    else:
        log("no MIGRATE_CLOUDSQL_INSTANCE: to go back, restore a backup or snapshot taken before that time")
    write_marker(engine, UPGRADE, started, from_revision, clone)
    log(f"upgrade marked in {MARKER_TABLE}: if this run is interrupted, the next one refuses (exit 9)")


class AuthIni:
    """The [mlflow] options of the server's auth ini this script uses."""

    def __init__(self, database_uri, admin_username, admin_password):
        self.database_uri = database_uri
        self.admin_username = admin_username
        self.admin_password = admin_password


def read_auth_ini(path):
    """Read the way MLflow reads it (mlflow/server/auth/config.py: ConfigParser, so `%%` is `%`)."""
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path):
            raise MigrateError(EXIT_CONFIG, f"cannot read MLFLOW_AUTH_CONFIG_PATH={path}")
        values = {}
        for option in ("database_uri", "admin_username", "admin_password"):
            if not parser.has_option("mlflow", option):
                raise MigrateError(EXIT_CONFIG, f"bad auth config {path}: [mlflow] {option} is missing")
            values[option] = parser.get("mlflow", option).strip()
            if option == "admin_password":
                remember_secret(values[option])
    except configparser.Error as e:  # its message may quote the value (a password): name the place only
        where = "".join(f" {name}={getattr(e, name)!r}" for name in ("section", "option") if getattr(e, name, None))
        raise MigrateError(EXIT_CONFIG, f"bad auth config {path}: {type(e).__name__}{where} (write a literal % as %%)")
    for option, value in values.items():
        if not value:
            raise MigrateError(EXIT_CONFIG, f"bad auth config {path}: [mlflow] {option} is empty")
    check_password_length(values["admin_password"], f"[mlflow] admin_password of {path}")
    return AuthIni(values["database_uri"], values["admin_username"], values["admin_password"])


def check_password_length(password, what):
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MigrateError(
            EXIT_CONFIG,
            f"{what} has {len(password)} characters; MLflow's auth store needs at least {MIN_PASSWORD_LENGTH}",
        )


# The plain (non-admin) users the script reconciles besides the admin: (role, env prefix, who logs in as it).
# Each is optional and needs both <prefix>_USERNAME and <prefix>_PASSWORD; none is granted any permission.
PLAIN_USERS = (
    ("metrics", "MLFLOW_METRICS", "the scraper"),
    ("smoke", "MLFLOW_SMOKE", "the smoke test"),
)


def read_plain_users(auth_ini):
    """[(role, username, password)] of the configured plain users (PLAIN_USERS), validated."""
    users = []
    for role, prefix, who in PLAIN_USERS:
        username = os.environ.get(f"{prefix}_USERNAME", "").strip()
        password = os.environ.get(f"{prefix}_PASSWORD", "")
        remember_secret(password)
        if not username and not password:
            continue
        if not username or not password:
            missing = f"{prefix}_USERNAME" if not username else f"{prefix}_PASSWORD"
            raise MigrateError(EXIT_CONFIG, f"{missing} is not set: the {role} user needs both a name and a password")
        if auth_ini is None:
            raise MigrateError(EXIT_CONFIG, f"{prefix}_USERNAME is set but basic-auth is not (no MLFLOW_AUTH_CONFIG_PATH)")
        if username == auth_ini.admin_username:
            raise MigrateError(
                EXIT_CONFIG,
                f"{prefix}_USERNAME is the admin user '{username}': {who} must be a separate, non-admin user",
            )
        for other_role, other_name, _ in users:
            if username == other_name:
                raise MigrateError(
                    EXIT_CONFIG,
                    f"{prefix}_USERNAME is the {other_role} user '{username}': {who} must be a separate user",
                )
        check_password_length(password, f"{prefix}_PASSWORD")
        users.append((role, username, password))
    return users


def check_auth_app():
    """Basic-auth: the server runs `--app-name basic-auth`, which imports mlflow.server.auth, which needs
    Flask-WTF (MLflow's `auth` extra). Without it every server pod would exit at start."""
    try:
        import flask_wtf  # noqa: F401
    except ImportError as e:
        raise MigrateError(
            EXIT_AUTH_APP,
            f"this image lacks Flask-WTF ({type(e).__name__}: {e}), which MLflow's basic-auth app "
            "(--app-name basic-auth) needs: the server could not start. Nothing was changed. Use an image that "
            "installs mlflow[auth] (see docs/migration.md).",
        )
    try:
        import mlflow.server.auth  # noqa: F401
    except Exception as e:
        raise MigrateError(
            EXIT_AUTH_APP,
            f"this image cannot load MLflow's basic-auth app (import mlflow.server.auth: {short_error(e)}): "
            "the server could not start. Nothing was changed.",
        )
    log("basic-auth app loads in this image (flask_wtf, mlflow.server.auth)")


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


def auth_plan(engine):
    """True when the auth store needs a migration (no revision yet, or behind this MLflow's head)."""
    tables = table_names(engine)
    current = versions_in(engine, AUTH_VERSION_TABLE) if AUTH_VERSION_TABLE in tables else []
    if not current:
        log("auth store: no revision yet, to be migrated")
        return True
    return is_pending("auth", current, AUTH_SCRIPTS)


def migrate_auth_store(engine, uri):
    if is_mysql(engine):
        precreate_auth_tables(engine)
    else:
        log(f"auth store on {engine.dialect.name}: MLflow's own migrations (the foreign-key workaround is MySQL-only)")
    code = run_mlflow("mlflow.server.auth", ["db", "upgrade", "--url", uri], ["db", "upgrade", "--url", masked(uri)])
    if code != 0:
        raise MigrateError(EXIT_FAILED, f"`mlflow.server.auth db upgrade` failed (exit {code}, output above)")
    if AUTH_VERSION_TABLE in table_names(engine):
        log(f"auth schema at revision {','.join(versions_in(engine, AUTH_VERSION_TABLE))}")


def reconcile_user(store, username, password, is_admin, role):
    """Creates the user, or brings its password and admin flag to what the configuration says."""
    if not store.has_user(username):
        try:
            store.create_user(username, password, is_admin=is_admin)
            log(f"{role} user '{username}': created ({'admin' if is_admin else 'not admin'})")
            return
        except Exception:
            # A server pod starting at the same moment may have just created the admin (MLflow does at start):
            # then it exists now, and is reconciled below like any existing user.
            if not store.has_user(username):
                raise
    changed = []
    if not store.authenticate_user(username, password):
        store.update_user(username, password=password)
        changed.append("password reset to the configured one")
    if bool(store.get_user(username).is_admin) != is_admin:
        store.update_user(username, is_admin=is_admin)
        changed.append(f"is_admin set to {is_admin}")
    log(f"{role} user '{username}': {'; '.join(changed) if changed else 'unchanged'}")


def reconcile_users(auth_ini, plain_users):
    """Through MLflow's own auth store (the server's code path: werkzeug password hashes, its validation)."""
    try:
        from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

        store = SqlAlchemyStore()
        store.init_db(auth_ini.database_uri)  # at head by now: MLflow's own migrate_if_needed does nothing
        reconcile_user(store, auth_ini.admin_username, auth_ini.admin_password, True, "admin")
        for role, username, password in plain_users:
            reconcile_user(store, username, password, False, role)
    except MigrateError:
        raise
    except Exception as e:  # MLflow's messages name users, never passwords; scrubbed all the same
        raise MigrateError(EXIT_FAILED, f"reconciling the basic-auth users failed: {short_error(e)}")


# ---- Clients and served models: their users and grants ------------------------------------------------------------
# The access plan (MIGRATE_ACCESS_FILE, JSON from the ConfigMap the chart renders; nothing secret in it):
#   {"clients": [{"username": U, "experiments": [{"name": N, "permission": P}], "models": [...]}],
#    "serving": [{"username": U, "model": M, "alias": A, "promotion": N} | {"username": U, "model": M, "version": V}]}
#  ("promotion" is there only so that a promotion changes the plan, and the sync runs this Job: not read here.)
# and each user's password in the file MIGRATE_PASSWORDS_DIR/<username> (the Secret ESO renders from Secret Manager).
# What the script granted is recorded in ACCESS_TABLE (in the auth database), so that the next run revokes what the
# configuration no longer says; grants it did not make (MLflow's MANAGE for an experiment's creator, an admin's by
# hand) are left alone. Why: docs/migration.md, "Users and grants".
ACCESS_TABLE = "mlflow_gitops_access"
# MLflow 3.17's grantable permissions on one experiment or registered model (mlflow/server/auth/permissions.py);
# the config's MLFLOW_GRANTS (lib/config/schema.ts) is the same list.
GRANTS = ("READ", "USE", "EDIT", "MANAGE")
# What a serving user gets on its model and on the experiment its version was logged in: enough to download it.
SERVING_GRANT = "READ"
USER, EXPERIMENT, MODEL = "user", "experiment", "model"
# How the record holds a user: one this script created (deleted when the configuration drops it), or one that existed
# before the configuration named it (kept then, only the grants recorded for it revoked: it was someone's before).
CREATED, ADOPTED = "created", "adopted"
# Experiment id -> name, of the experiments looked up in this run (for the log).
_experiment_names = {}


class AccessPlan:
    """The users of the access plan, with their passwords, and what each is to be granted."""

    def __init__(self, users, client_grants, serving):
        self.users = users  # [(role, username, password)]
        self.client_grants = client_grants  # [(kind, username, name, permission)], kind EXPERIMENT or MODEL
        self.serving = serving  # [{"username", "model", "alias" | "version"}]


def read_access_plan(auth_ini, plain_users):
    """The plan of MIGRATE_ACCESS_FILE, validated (exit 2), or None when the variable is unset."""
    path = os.environ.get("MIGRATE_ACCESS_FILE", "").strip()
    if not path:
        return None
    passwords_dir = os.environ.get("MIGRATE_PASSWORDS_DIR", "").strip()
    if auth_ini is None:
        raise MigrateError(EXIT_CONFIG, "MIGRATE_ACCESS_FILE is set but basic-auth is not (no MLFLOW_AUTH_CONFIG_PATH)")
    if not passwords_dir:
        raise MigrateError(EXIT_CONFIG, "MIGRATE_ACCESS_FILE is set but MIGRATE_PASSWORDS_DIR is not: the users need their passwords")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise MigrateError(EXIT_CONFIG, f"cannot read MIGRATE_ACCESS_FILE={path}: {e.strerror}")
    except ValueError as e:
        raise MigrateError(EXIT_CONFIG, f"MIGRATE_ACCESS_FILE={path} is not JSON: {e}")
    problems = []
    taken = {auth_ini.admin_username: "the admin user"}
    taken.update({username: f"the {role} user" for role, username, _ in plain_users})
    users, client_grants, serving = [], [], []

    def user_of(entry, where, role):
        username = entry.get("username") if isinstance(entry, dict) else None
        if not isinstance(username, str) or not username:
            problems.append(f"{where}.username: expected a user name")
            return None
        if username in taken:
            problems.append(f"{where}.username: '{username}' is {taken[username]}; each client and serving needs its own user")
            return None
        taken[username] = f"the {role} user"
        password_file = os.path.join(passwords_dir, username)
        try:
            with open(password_file, encoding="utf-8") as f:
                password = f.read()
        except OSError as e:
            problems.append(f"{where}: no password for '{username}' ({password_file}: {e.strerror})")
            return None
        remember_secret(password)
        if len(password) < MIN_PASSWORD_LENGTH:
            problems.append(
                f"{where}: the password of '{username}' ({password_file}) has {len(password)} characters; "
                f"MLflow's auth store needs at least {MIN_PASSWORD_LENGTH}"
            )
            return None
        users.append((role, username, password))
        return username

    for i, client in enumerate(doc.get("clients", []) if isinstance(doc, dict) else []):
        where = f"{path}: clients[{i}]"
        username = user_of(client, where, "client")
        for kind, key in ((EXPERIMENT, "experiments"), (MODEL, "models")):
            for j, grant in enumerate(client.get(key, []) if isinstance(client, dict) else []):
                name = grant.get("name") if isinstance(grant, dict) else None
                permission = grant.get("permission") if isinstance(grant, dict) else None
                if not isinstance(name, str) or not name:
                    problems.append(f"{where}.{key}[{j}].name: expected a name")
                elif permission not in GRANTS:
                    problems.append(f"{where}.{key}[{j}].permission: {permission!r} is not one of {', '.join(GRANTS)}")
                elif username:
                    client_grants.append((kind, username, name, permission))
    for i, entry in enumerate(doc.get("serving", []) if isinstance(doc, dict) else []):
        where = f"{path}: serving[{i}]"
        username = user_of(entry, where, "serving")
        if not isinstance(entry, dict):
            continue
        model, alias, version = entry.get("model"), entry.get("alias"), entry.get("version")
        if not isinstance(model, str) or not model:
            problems.append(f"{where}.model: expected a registered model name")
        elif (alias is None) == (version is None) or (alias is not None and not isinstance(alias, str)) or (
            version is not None and not isinstance(version, int)
        ):
            problems.append(f"{where}: expected either an alias (text) or a version (a number)")
        elif username:
            serving.append({"username": username, "model": model, "alias": alias, "version": version})
    if problems:
        raise MigrateError(EXIT_CONFIG, "bad access plan:\n  " + "\n  ".join(problems))
    return AccessPlan(users, client_grants, serving)


def access_table(metadata):
    sa = sqlalchemy
    return sa.Table(
        ACCESS_TABLE,
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=16), nullable=False),  # USER, EXPERIMENT or MODEL
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),  # experiment id or model name; '' for a user
        sa.Column("permission", sa.String(length=32), nullable=False),  # '' for a user
    )


def read_ledger(engine):
    """{(kind, username, resource): permission} of what an earlier run made; empty before the first."""
    if ACCESS_TABLE not in table_names(engine):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(access_table(sqlalchemy.MetaData()).select()).mappings().all()
    return {(r["kind"], r["username"], r["resource"]): r["permission"] for r in rows}


def write_ledger(engine, entries):
    table = access_table(sqlalchemy.MetaData())
    with engine.begin() as conn:
        table.create(conn, checkfirst=True)
        conn.execute(table.delete())
        rows = [dict(kind=k, username=u, resource=r, permission=p) for (k, u, r), p in sorted(entries.items())]
        if rows:
            conn.execute(table.insert(), rows)


def experiment_id_for(tracking, name):
    """The id of experiment `name`; created (as the server would: artifact location under its default root) when
    absent, so that a grant on it holds from the first sync."""
    experiment = tracking.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            log(f"experiment '{name}' (id {experiment.experiment_id}) is deleted: granted all the same (it holds if restored)")
        _experiment_names[experiment.experiment_id] = name
        return experiment.experiment_id
    experiment_id = tracking.create_experiment(name)
    location = tracking.get_experiment(experiment_id).artifact_location
    _experiment_names[experiment_id] = name
    log(f"experiment '{name}' did not exist: created (id {experiment_id}, artifacts {location}) so that its grants hold from now on")
    return experiment_id


def served_version(registry, serving):
    """The model version a serving resolves now, or None (logged) when the model, alias or version does not exist."""
    from mlflow.exceptions import MlflowException

    target = f"{serving['model']}@{serving['alias']}" if serving["alias"] is not None else f"{serving['model']} version {serving['version']}"
    try:
        if serving["alias"] is not None:
            return registry.get_model_version_by_alias(serving["model"], serving["alias"])
        return registry.get_model_version(serving["model"], str(serving["version"]))
    except MlflowException as e:
        # A missing model or version is RESOURCE_DOES_NOT_EXIST; an alias not set (yet) on a model that exists is
        # INVALID_PARAMETER_VALUE ("Registered model alias ... not found"): neither may block the server's sync.
        missing = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE") if serving["alias"] is not None else ("RESOURCE_DOES_NOT_EXIST",)
        if e.error_code not in missing:
            raise
        log(
            f"serving user '{serving['username']}': models:/{target} does not exist yet ({scrub(e.message)}); "
            f"READ on the model only. Its pods fail until it exists; then promote (docs/clients.md#serving)"
        )
        return None


def version_experiment_id(tracking, version):
    """The experiment a model version's files are stored under: its logged model's (MLflow 3: source
    models:/m-...), else its run's (a version registered from a run's artifacts)."""
    from mlflow.exceptions import MlflowException

    model_id = getattr(version, "model_id", None)
    source = version.source or ""
    if not model_id and source.startswith("models:/m-"):
        model_id = source[len("models:/"):].split("/")[0]
    try:
        if model_id:
            return tracking.get_logged_model(model_id).experiment_id, f"logged model {model_id}"
        if version.run_id:
            return tracking.get_run(version.run_id).info.experiment_id, f"run {version.run_id}"
    except MlflowException as e:  # e.g. its logged model deleted for good: not a reason to block the sync
        return None, f"{source}: {scrub(e.message)}"
    return None, source


def desired_access(plan, tracking, registry):
    """{(kind, username, resource): permission}: the users and the grants the configuration says, now."""
    desired = {(USER, username, ""): "" for _, username, _ in plan.users}
    for kind, username, name, permission in plan.client_grants:
        resource = experiment_id_for(tracking, name) if kind == EXPERIMENT else name
        desired[(kind, username, resource)] = permission
    for serving in plan.serving:
        username = serving["username"]
        desired[(MODEL, username, serving["model"])] = SERVING_GRANT
        version = served_version(registry, serving)
        if version is None:
            continue
        experiment_id, via = version_experiment_id(tracking, version)
        if experiment_id is None:
            log(f"serving user '{username}': cannot tell the experiment of {serving['model']} version {version.version} (source {via}): READ on the model only")
            continue
        target = f"@{serving['alias']} -> version {version.version}" if serving["alias"] is not None else f"version {version.version}"
        _experiment_names.setdefault(str(experiment_id), tracking.get_experiment(str(experiment_id)).name)
        log(f"serving user '{username}': {serving['model']} {target}, {via}, experiment '{_experiment_names[str(experiment_id)]}' (id {experiment_id})")
        desired[(EXPERIMENT, username, str(experiment_id))] = SERVING_GRANT
    return desired


def current_permission(store, kind, username, resource):
    """The user's permission on the resource in MLflow's auth store, or None."""
    from mlflow.exceptions import MlflowException

    try:
        if kind == EXPERIMENT:
            return store.get_experiment_permission(resource, username).permission
        return store.get_registered_model_permission(resource, username).permission
    except MlflowException as e:
        if e.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def grant_label(kind, username, resource):
    if kind == MODEL:
        return f"'{username}' on model '{resource}'"
    name = _experiment_names.get(resource)
    return f"'{username}' on experiment {repr(name) + ' ' if name else ''}(id {resource})"


def set_grant(store, kind, username, resource, permission):
    now = current_permission(store, kind, username, resource)
    if now == permission:
        return
    if now is None:
        (store.create_experiment_permission if kind == EXPERIMENT else store.create_registered_model_permission)(resource, username, permission)
        log(f"granted {permission} to {grant_label(kind, username, resource)}")
    else:
        (store.update_experiment_permission if kind == EXPERIMENT else store.update_registered_model_permission)(resource, username, permission)
        log(f"set {grant_label(kind, username, resource)} to {permission} (was {now})")


def revoke_grant(store, kind, username, resource, recorded):
    """Deletes a grant the configuration no longer says, if it is still the one this script made."""
    if not store.has_user(username):
        return
    now = current_permission(store, kind, username, resource)
    if now is None:
        return
    if now != recorded:
        log(f"{grant_label(kind, username, resource)} is {now}, not the {recorded} granted here: changed by hand, left alone")
        return
    (store.delete_experiment_permission if kind == EXPERIMENT else store.delete_registered_model_permission)(resource, username)
    log(f"revoked {recorded} of {grant_label(kind, username, resource)} (no longer configured)")


def reconcile_access(auth_ini, plan, reserved):
    """Creates and rotates the clients' and servings' users, sets their grants, and undoes what an earlier run made
    that the configuration no longer says. `reserved`: the admin and plain users (never deleted here)."""
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    uri = os.environ["MLFLOW_BACKEND_STORE_URI"].strip()
    plan = plan or AccessPlan([], [], [])
    try:
        store = SqlAlchemyStore()
        store.init_db(auth_ini.database_uri)
        engine = make_engine(auth_ini.database_uri)
        ledger = read_ledger(engine)
        if not ledger and not plan.users:
            return  # no client, no serving, now or before: nothing to reconcile, no table
        tracking = TrackingStore(uri, DEFAULT_ARTIFACT_ROOT)
        registry = RegistryStore(uri)
        desired = desired_access(plan, tracking, registry)
        for key in [k for k in desired if k[0] == USER]:
            earlier = ledger.get(key)
            if earlier is not None:
                desired[key] = ADOPTED if earlier == ADOPTED else CREATED
            else:
                desired[key] = ADOPTED if store.has_user(key[1]) else CREATED
                if desired[key] == ADOPTED:
                    log(f"user '{key[1]}' existed before the configuration named it: reconciled from now on, kept if it leaves the configuration")
        # Recorded first, so that what this run makes is revoked later even if the run stops halfway.
        write_ledger(engine, {**ledger, **desired})
        for role, username, password in plan.users:
            reconcile_user(store, username, password, False, role)
        for kind, _, resource in ledger:
            if kind == EXPERIMENT and resource not in _experiment_names:
                try:  # for the log only: an experiment gc removed for good has no name any more
                    _experiment_names[resource] = tracking.get_experiment(resource).name
                except Exception:
                    pass
        removed = {u: p for (k, u, _), p in ledger.items() if k == USER and (k, u, "") not in desired and u not in reserved}
        deleted = {u for u, how in removed.items() if how != ADOPTED}
        for (kind, username, resource), recorded in sorted(ledger.items()):
            if (kind, username, resource) in desired or kind == USER or username in deleted:
                continue
            revoke_grant(store, kind, username, resource, recorded)
        for username in sorted(deleted):
            if store.has_user(username):
                store.delete_user(username)
                log(f"user '{username}': deleted (no longer a client or serving), with its grants")
        for username in sorted(set(removed) - deleted):
            log(f"user '{username}': kept (it existed before the configuration named it), the grants made for it revoked")
        for (kind, username, resource), permission in sorted(desired.items()):
            if kind != USER:
                set_grant(store, kind, username, resource, permission)
        write_ledger(engine, desired)
        log(f"access: {len(plan.users)} users, {sum(1 for k in desired if k[0] != USER)} grants as configured")
    except MigrateError:
        raise
    except Exception as e:  # MLflow's messages name users and resources, never passwords; scrubbed all the same
        raise MigrateError(EXIT_FAILED, f"reconciling the clients' and servings' users and grants failed: {short_error(e)}")


def read_timeout():
    raw = os.environ.get("MIGRATE_CONNECT_TIMEOUT_SECONDS", "").strip()
    if not raw:  # the Job sets it (lib/mlflow/migration.ts): one default, written once
        raise MigrateError(
            EXIT_CONFIG,
            "MIGRATE_CONNECT_TIMEOUT_SECONDS is not set: set it to how many seconds to retry the first connection",
        )
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
    cloudsql = read_cloudsql_instance()
    auth_config = os.environ.get("MLFLOW_AUTH_CONFIG_PATH", "").strip()
    auth_ini = read_auth_ini(auth_config) if auth_config else None
    if auth_ini:
        remember_secrets(auth_ini.database_uri)
    plain_users = read_plain_users(auth_ini)
    access_plan = read_access_plan(auth_ini, plain_users)

    # Every check before any change.
    if auth_ini:
        check_auth_app()
    engine = make_engine(uri)
    wait_for_database(engine, uri, timeout)
    start_over = check_marker(engine)
    plan, revision = ("initialize", None) if start_over else tracking_plan(engine)
    auth_engine = None
    auth_pending = False
    if auth_ini:
        auth_engine = make_engine(auth_ini.database_uri)
        wait_for_database(auth_engine, auth_ini.database_uri, timeout)
        auth_pending = start_over or auth_plan(auth_engine)
    # The log_bin check matters only for a migration: a schema at head is left alone whatever the flag.
    for pending, checked in ((plan is not None, engine), (auth_pending, auth_engine)):
        if pending and is_mysql(checked):
            check_log_bin(checked)
    if plan is None and not auth_pending:
        log("nothing to migrate: every schema is at this MLflow's head (no log_bin check needed)")

    if start_over:
        discard_interrupted_first_install(engine)
        if auth_ini:
            auth_pending = auth_plan(auth_engine)  # the auth tables were dropped too when they share the database
    if plan == "initialize":
        begin_first_install(engine)
    elif plan is not None or auth_pending:
        auth_revision = ",".join(versions_in(auth_engine, AUTH_VERSION_TABLE)) if auth_pending and AUTH_VERSION_TABLE in table_names(auth_engine) else None
        begin_upgrade(engine, f"tracking {revision}" + (f", auth {auth_revision}" if auth_revision else ""), cloudsql)
    if plan is not None:
        migrate_tracking_store(engine, uri, plan, revision)
    if auth_pending:
        migrate_auth_store(auth_engine, auth_ini.database_uri)
    if auth_ini:
        reconcile_users(auth_ini, plain_users)
        reserved = {auth_ini.admin_username, *(username for _, username, _ in plain_users)}
        reconcile_access(auth_ini, access_plan, reserved)
    clear_marker(engine)
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
