"""A fake `mlflow` for test/scripts/migrate.test.ts (the real one cannot be installed there).

It stands in for MLflow only -- the database is a real MariaDB or SQLite -- and keeps the shapes migrate.py
relies on: `SqlAlchemyStore(db_uri, default_artifact_root)`, `python -m mlflow db upgrade URL` and
`python -m mlflow.server.auth db upgrade --url URL`, with their real failure modes on MySQL.
"""

import sqlalchemy
from sqlalchemy import text

__version__ = "0.0.0+fake"

# Tracking migrations, oldest first. 451aebb31d03 ("add metric step") is MLflow's real first migration and, like
# it, fails on a database without `metrics`. The second stands for MLflow's trigger migrations: on MySQL with
# binary logging on and log_bin_trust_function_creators off, a user without SUPER gets error 1419 there.
TRACKING_REVISIONS = ("451aebb31d03", "fake_trigger")
TRACKING_HEAD = TRACKING_REVISIONS[-1]
TRIGGER_NAME = "metrics_fake_trigger"


def _add_metric_step(conn):
    conn.execute(text("ALTER TABLE metrics ADD COLUMN step BIGINT DEFAULT 0 NOT NULL"))


def _create_trigger(conn):
    if conn.dialect.name == "mysql":
        conn.execute(text(f"CREATE TRIGGER {TRIGGER_NAME} BEFORE INSERT ON metrics FOR EACH ROW SET NEW.step = NEW.step"))


_STEPS = {"451aebb31d03": _add_metric_step, "fake_trigger": _create_trigger}


def run_migrations(engine, version_table, revisions, steps, label):
    """What alembic's `upgrade heads` does: create the version table (alembic's shape; on MySQL, without
    transactional DDL, it stays if a migration fails), then run each pending migration and record it."""
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {version_table} (version_num VARCHAR(32) NOT NULL, "
                f"CONSTRAINT {version_table}_pkc PRIMARY KEY (version_num))"
            )
        )
    with engine.connect() as conn:
        current = conn.execute(text(f"SELECT version_num FROM {version_table}")).scalar()
    pending = revisions[revisions.index(current) + 1 :] if current else revisions
    if not pending:
        print(f"fake {label}: {label} schema already at head {current}", flush=True)
    for revision in pending:
        print(f"INFO  [alembic.runtime.migration] Running upgrade {current or ''} -> {revision}", flush=True)
        with engine.begin() as conn:
            steps[revision](conn)
            if current:
                conn.execute(text(f"UPDATE {version_table} SET version_num = :v"), {"v": revision})
            else:
                conn.execute(text(f"INSERT INTO {version_table} (version_num) VALUES (:v)"), {"v": revision})
        current = revision


def upgrade_tracking(engine):
    """MLflow's tracking migrations (mlflow/store/db/utils.py _upgrade_db)."""
    run_migrations(engine, "alembic_version", TRACKING_REVISIONS, _STEPS, "tracking")


def create_engine(url):
    return sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
