"""A client round trip with the real `mlflow` Python client against a running server (test/e2e/server.test.ts).

Environment: MLFLOW_TRACKING_URI, and under basic-auth MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (read
by the client itself). Argument: a unique suffix for the names it creates. Prints one JSON object on its last line:
what it created and what it read back, for the test to assert on. Exits non-zero on any failure.
"""
import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient


def main(suffix):
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    client = MlflowClient()
    experiment_id = client.create_experiment(f"e2e-{suffix}")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_param("alpha", "0.5")
        mlflow.log_metric("rmse", 0.42, step=1)
        mlflow.log_metric("rmse", 0.40, step=2)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "hello.txt")
            with open(path, "w") as f:
                f.write(f"hello {suffix}\n")
            mlflow.log_artifact(path, artifact_path="notes")
    run_id = run.info.run_id

    fetched = client.get_run(run_id)
    history = client.get_metric_history(run_id, "rmse")
    with tempfile.TemporaryDirectory() as d:
        local = client.download_artifacts(run_id, "notes/hello.txt", d)
        with open(local) as f:
            downloaded = f.read()
    listed = [a.path for a in client.list_artifacts(run_id, "notes")]

    model = f"e2e-model-{suffix}"
    client.create_registered_model(model)
    version = client.create_model_version(model, source=f"{fetched.info.artifact_uri}/notes", run_id=run_id)
    client.set_registered_model_alias(model, "champion", version.version)
    by_alias = client.get_model_version_by_alias(model, "champion")
    found = client.search_runs([experiment_id], filter_string="metrics.rmse < 0.41")

    print(
        json.dumps(
            {
                "mlflow_version": mlflow.__version__,
                "experiment_id": experiment_id,
                "run_id": run_id,
                "artifact_uri": fetched.info.artifact_uri,
                "params": fetched.data.params,
                "metrics": fetched.data.metrics,
                "rmse_history": [[m.step, m.value] for m in history],
                "artifacts": listed,
                "downloaded": downloaded,
                "model": model,
                "model_version": version.version,
                "alias_version": by_alias.version,
                "alias_run_id": by_alias.run_id,
                "search_hits": [r.info.run_id for r in found],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
