"""Fake `mlflow.server.auth`: only its `db upgrade` CLI (see __main__.py)."""
