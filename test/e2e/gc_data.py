"""Test data for test/e2e/gc.test.ts, written through the real server (proxied artifacts) with the real client.

Creates experiments and runs with one artifact file each, soft-deletes some (as the UI and API do), and prints
one JSON object: name -> {experiment_id, run_id, artifact_uri, artifact}. Credentials: MLFLOW_TRACKING_USERNAME
and MLFLOW_TRACKING_PASSWORD; server: MLFLOW_TRACKING_URI.
"""

import json
import os
import sys

from mlflow import MlflowClient

client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
prefix = sys.argv[1]
out = {}


def run(name, experiment_id, artifact=True):
    r = client.create_run(experiment_id, run_name=name)
    file = f"{name}.txt"
    if artifact:
        client.log_text(r.info.run_id, f"artifact of {name}", file)
    out[name] = {
        "experiment_id": experiment_id,
        "run_id": r.info.run_id,
        "artifact_uri": r.info.artifact_uri,
        "artifact": file if artifact else None,
    }
    return r.info.run_id


keep = client.create_experiment(f"{prefix}-keep")
runs = client.create_experiment(f"{prefix}-runs")
old_exp = client.create_experiment(f"{prefix}-old-experiment")
new_exp = client.create_experiment(f"{prefix}-recent-experiment")

run("active", keep)
client.delete_run(run("old-deleted-run", runs))
client.delete_run(run("old-deleted-run-without-artifacts", runs, artifact=False))
client.delete_run(run("recently-deleted-run", runs))
run("run-of-old-experiment", old_exp)
run("run-of-recent-experiment", new_exp)
client.delete_experiment(old_exp)
client.delete_experiment(new_exp)

out["experiments"] = {"keep": keep, "runs": runs, "old": old_exp, "recent": new_exp}
print(json.dumps(out))
