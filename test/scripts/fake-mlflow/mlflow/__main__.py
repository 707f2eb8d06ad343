"""Fake `python -m mlflow`: only `db upgrade URL` (mlflow/db.py `upgrade(url)`, URL positional).

Like MLflow 3.11 it goes straight to the migrations, so on an empty database it fails with the real driver
error "Table '<db>.metrics' doesn't exist" (SQLite: "no such table: metrics")."""

import sys

from mlflow import create_engine, upgrade_tracking


def main(argv):
    if len(argv) != 3 or argv[:2] != ["db", "upgrade"]:
        print("Usage: python -m mlflow db upgrade URL  (the fake implements nothing else)", file=sys.stderr)
        return 2
    upgrade_tracking(create_engine(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
