"""Trains a tiny scikit-learn model and registers it as a new version of a registered model, logged in a given
experiment (test/e2e/access.test.ts: the served versions in two experiments).

Environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (an admin). Arguments: the
experiment name, the registered model name. Prints one JSON object on its last line: the version, its experiment id
and the artifact location of its logged model. Exits non-zero on any failure.
"""
import json
import sys

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def main(experiment_name, model_name):
    experiment = mlflow.set_experiment(experiment_name)
    x, y = load_iris(return_X_y=True)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            LogisticRegression(max_iter=200).fit(x, y), name="model", registered_model_name=model_name, input_example=x[:2]
        )
    logged = MlflowClient().get_logged_model(info.model_id)
    print(
        json.dumps(
            {
                "version": str(info.registered_model_version),
                "experimentId": experiment.experiment_id,
                "artifactLocation": logged.artifact_location,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
