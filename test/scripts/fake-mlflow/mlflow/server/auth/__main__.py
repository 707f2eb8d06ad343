"""Fake `python -m mlflow.server.auth db upgrade --url URL [--revision head]` (upstream: mlflow/server/auth/cli.py,
db/cli.py, db/utils.py `migrate`), with upstream's real MySQL bug: the initial migration 8606fa83a998 names the
foreign keys of two tables `fk_user_id`, and MySQL/MariaDB want FK names unique per database (errno 121).

Two migrations stand for upstream's chain: the initial one, verbatim, and e6c5d2f7a8b9 (add ON DELETE CASCADE to
every FK on users.id), which finds each FK by introspection and re-creates it as `fk_<table>_user_id_users`."""

import argparse
import sys

import sqlalchemy
from sqlalchemy import text

from mlflow import create_engine, run_migrations

VERSION_TABLE = "alembic_version_auth"  # db/migrations/env.py, MLflow >= 3.6
INITIAL_REVISION = "8606fa83a998"
REVISIONS = (INITIAL_REVISION, "e6c5d2f7a8b9")
FK_TABLES = ("experiment_permissions", "registered_model_permissions")


def initial_migration(conn):
    """db/migrations/versions/8606fa83a998_initial_migration.py, as upstream (both FKs named fk_user_id)."""
    sa = sqlalchemy
    metadata = sa.MetaData()
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=True),
        sa.UniqueConstraint("username"),
    )
    sa.Table(
        "experiment_permissions",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("experiment_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_id"),
        sa.UniqueConstraint("experiment_id", "user_id", name="unique_experiment_user"),
    )
    sa.Table(
        "registered_model_permissions",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_id"),
        sa.UniqueConstraint("name", "user_id", name="unique_name_user"),
    )
    for table in metadata.sorted_tables:  # one CREATE TABLE each, like op.create_table
        table.create(conn)


def cascade_migration(conn):
    """e6c5d2f7a8b9_add_cascade_delete_to_user_fks.py: drop each users.id FK by its actual name."""
    if conn.dialect.name == "sqlite":
        return  # upstream rebuilds the table with batch_alter_table; not needed by the tests
    inspector = sqlalchemy.inspect(conn)
    for table in FK_TABLES:
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] == "users" and fk["constrained_columns"] == ["user_id"]:
                print(f"fake auth: replacing FK {fk['name']} on {table}", flush=True)
                conn.execute(text(f"ALTER TABLE {table} DROP FOREIGN KEY {fk['name']}"))
        conn.execute(
            text(
                f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_user_id_users FOREIGN KEY (user_id) "
                "REFERENCES users (id) ON DELETE CASCADE"
            )
        )


STEPS = {INITIAL_REVISION: initial_migration, "e6c5d2f7a8b9": cascade_migration}


def migrate(engine):
    tables = set(sqlalchemy.inspect(engine).get_table_names())
    if "users" in tables and VERSION_TABLE not in tables:
        # db/utils.py _is_legacy_database: stamp the initial revision, and stop there.
        print(f"fake auth: legacy database, stamping {INITIAL_REVISION}", flush=True)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            conn.execute(text(f"INSERT INTO {VERSION_TABLE} VALUES (:v)"), {"v": INITIAL_REVISION})
        return
    run_migrations(engine, VERSION_TABLE, REVISIONS, STEPS, "auth")


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m mlflow.server.auth")
    parser.add_argument("group", choices=["db"])
    parser.add_argument("command", choices=["upgrade"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--revision", default="head", choices=["head"])
    args = parser.parse_args(argv)
    engine = create_engine(args.url)
    migrate(engine)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
