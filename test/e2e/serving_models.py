"""What a training client does for the serving suite: registers two versions of `iris` and points `@champion` at v1,
as the client it runs as (MLFLOW_TRACKING_URI, _USERNAME and _PASSWORD from the client's Secret; no admin).

v1: a logistic regression on the iris data, logged in experiment `iris` (which the migration Job created for the
client's grant); v2: a constant 42, logged in `iris-challengers`, an experiment this client creates itself, so that
the answer tells which version served it. Prints one JSON object on its last line: each experiment's id, and each
version's experiment id and the artifact location of its logged model.
"""

import json

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
experiments, versions = {}, {}
for experiment, model in (("iris", LogisticRegression(max_iter=500).fit(X, y)), ("iris-challengers", DummyRegressor(strategy="constant", constant=42.0).fit(X, y))):
    experiments[experiment] = mlflow.set_experiment(experiment).experiment_id
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="iris", input_example=X[:1])
    versions[str(info.registered_model_version)] = {
        "experimentId": experiments[experiment],
        "artifactLocation": MlflowClient().get_logged_model(info.model_id).artifact_location,
    }
MlflowClient().set_registered_model_alias("iris", "champion", "1")
print(json.dumps({"experiments": experiments, "versions": versions}))
