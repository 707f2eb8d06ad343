"""Registers two versions of `iris` for the serving suites, as the admin (MLFLOW_TRACKING_* from the environment).

v1: a logistic regression on the iris data, logged in experiment `iris` (the one dev's clients are granted); v2: a
constant 42, logged in `iris-challengers`, so the answer tells which version served it. Alias `champion` → v1. Prints one JSON line: the experiments' ids.
"""

import json

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
ids = {}
for experiment, model in (("iris", LogisticRegression(max_iter=500).fit(X, y)), ("iris-challengers", DummyRegressor(strategy="constant", constant=42.0).fit(X, y))):
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris", input_example=X[:1])
        ids[experiment] = run.info.experiment_id
MlflowClient().set_registered_model_alias("iris", "champion", "1")
print(json.dumps(ids))
