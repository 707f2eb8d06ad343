"""A prediction API, as a client of the MLflow server: it loads `models:/<model>@<alias>` once (the version the alias
points at when it starts), serves `POST /predict`, and logs each prediction to MLflow in the experiment
`iris-predictions` as a run: the inputs (param `inputs`), the output (metric `prediction`), the inference time (metric
`inference_time_ms`) and the model version (tags `model_version`, `model_name`, `model_alias`).

Configuration, from the environment: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (the
client's Secret, taken whole with envFrom), and optionally MODEL_NAME (iris), MODEL_ALIAS (champion),
PREDICTIONS_EXPERIMENT (iris-predictions), PORT (8000).

    curl -s localhost:8000/predict -d '{"features": [5.1, 3.5, 1.4, 0.2]}'
"""

import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import mlflow
import numpy as np
from mlflow import MlflowClient

MODEL = os.environ.get("MODEL_NAME", "iris")
ALIAS = os.environ.get("MODEL_ALIAS", "champion")

# Resolve the alias once, then load that exact version: the version logged with each prediction is the one that made it.
client = MlflowClient()
VERSION = client.get_model_version_by_alias(MODEL, ALIAS).version
try:
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{VERSION}")
except Exception as e:  # noqa: BLE001
    if not re.search(r"\b403\b", str(e)):
        raise
    # The artifact proxy checks the experiment in the files' path (mlflow-artifacts:/<experiment id>/models/...).
    found = re.match(r"^mlflow-artifacts:(?://[^/]*)?/([^/]+)/", client.get_model_version_download_uri(MODEL, VERSION))
    sys.exit(
        f"prediction-api: ERROR: user '{os.environ.get('MLFLOW_TRACKING_USERNAME')}' may not read experiment {found.group(1) if found else '?'}, "
        f"where {MODEL} version {VERSION} (@{ALIAS}) was logged (403 from the artifact proxy): a client that loads the model itself needs READ "
        f"on the experiment of every version the alias may point at, or it calls the served model instead"
    )
mlflow.set_experiment(os.environ.get("PREDICTIONS_EXPERIMENT", "iris-predictions"))


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, {"model": MODEL, "alias": ALIAS, "version": VERSION}) if self.path == "/health" else self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/predict":
            return self.reply(404, {"error": "not found"})
        try:
            features = [float(x) for x in json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))["features"]]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": 'expected {"features": [numbers]}'})
        start = time.perf_counter()
        prediction = np.asarray(model.predict(np.array([features]))).ravel()[0].item()
        inference_ms = (time.perf_counter() - start) * 1000
        with mlflow.start_run(run_name="prediction") as run:
            mlflow.log_param("inputs", json.dumps(features))
            mlflow.log_metrics({"prediction": float(prediction), "inference_time_ms": inference_ms})
            mlflow.set_tags({"model_name": MODEL, "model_alias": ALIAS, "model_version": VERSION})
        self.reply(200, {"prediction": prediction, "model_version": VERSION, "run_id": run.info.run_id})


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"prediction-api: {MODEL}@{ALIAS} → version {VERSION}, listening on :{port}", flush=True)
    HTTPServer(("0.0.0.0", port), Handler).serve_forever()
