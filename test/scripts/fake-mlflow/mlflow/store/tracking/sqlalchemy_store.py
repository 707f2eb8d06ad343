"""Fake `SqlAlchemyStore(db_uri, default_artifact_root)`: what the real constructor does to a database
(mlflow/store/tracking/sqlalchemy_store.py): when MLflow's tables are missing, create the initial tables and
run every migration (mlflow/store/db/utils.py _initialize_tables); then write the default experiment 0, whose
artifact_location is `<default_artifact_root>/0`."""

import sqlalchemy
from sqlalchemy import text

from mlflow import create_engine, upgrade_tracking


def _initial_tables(metadata):
    # A subset of mlflow/store/tracking/dbmodels/initial_models.py.
    sa = sqlalchemy
    sa.Table(
        "experiments",
        metadata,
        sa.Column("experiment_id", sa.Integer(), autoincrement=True),
        sa.Column("name", sa.String(256), unique=True, nullable=False),
        sa.Column("artifact_location", sa.String(256), nullable=True),
        sa.Column("lifecycle_stage", sa.String(32)),
        sa.PrimaryKeyConstraint("experiment_id", name="experiment_pk"),
    )
    sa.Table(
        "metrics",
        metadata,
        sa.Column("key", sa.String(250)),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("timestamp", sa.BigInteger()),
        sa.Column("run_uuid", sa.String(32)),
        sa.PrimaryKeyConstraint("key", "timestamp", "run_uuid", name="metric_pk"),
    )


class SqlAlchemyStore:
    DEFAULT_EXPERIMENT_ID = "0"

    def __init__(self, db_uri, default_artifact_root):
        self.db_uri = db_uri
        self.artifact_root_uri = default_artifact_root
        self.engine = create_engine(db_uri)
        metadata = sqlalchemy.MetaData()
        _initial_tables(metadata)
        if not set(metadata.tables).issubset(sqlalchemy.inspect(self.engine).get_table_names()):
            metadata.create_all(self.engine)
            upgrade_tracking(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(text("SELECT COUNT(*) FROM experiments WHERE experiment_id = 0")).scalar() == 0:
                if conn.dialect.name == "mysql":  # as upstream: lets 0 into an AUTO_INCREMENT column
                    conn.execute(text("SET @@SESSION.sql_mode='NO_AUTO_VALUE_ON_ZERO'"))
                conn.execute(
                    text(
                        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) "
                        "VALUES (0, 'Default', :location, 'active')"
                    ),
                    {"location": self.artifact_root_uri.rstrip("/") + "/0"},
                )
