"""Prove a deployed MLflow server works end to end, as a client does, and clean up after itself.

Runs inside the MLflow image as the Argo CD PostSync hook Job (`python /opt/mlflow-smoke/smoke.py`, talking to the
server through its Service), or from a laptop through `npm run smoke -- --url URL`. It needs no database and no
cloud credentials: everything goes through the server's REST API, artifacts included (proxied artifacts).

Environment:
  MLFLOW_TRACKING_URI          required: the server, e.g. http://mlflow.mlflow.svc.cluster.local:5000
  MLFLOW_TRACKING_USERNAME     the smoke user under basic-auth (a plain user: not an admin)
  MLFLOW_TRACKING_PASSWORD     its password (never printed)
  SMOKE_HEALTH_TIMEOUT_SECONDS default 60: how long to wait for /health (endpoints settling after a rollout)

Steps, in order (each is named in the failure message):
  health, login, experiment, run, params and metrics, artifact upload, artifact download, model version, alias,
  and always cleanup (the model, the run's artifacts, the run, the experiment -- whatever was created).

Exit codes:
  0  every step passed
  1  a step failed: `smoke: FAILED at step '<step>': <why>` on stderr
  2  bad configuration (no MLFLOW_TRACKING_URI, only one of username/password, bad timeout)
"""

import base64
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2

# The client's own retries would turn a refused connection into minutes of silence: fail fast, say where.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

ALIAS = "smoke"
MODEL_FILE = """artifact_path: model
flavors: {}
mlflow_version: smoke-test
"""


class StepFailed(Exception):
    def __init__(self, step, reason):
        super().__init__(f"FAILED at step '{step}': {reason}")
        self.step = step


class ConfigError(Exception):
    pass


def log(message):
    print(f"smoke: {message}", flush=True)


class Secrets:
    """Values that must never be printed (the password, and the Basic header made from it)."""

    values = []

    @classmethod
    def scrub(cls, text):
        for v in cls.values:
            if v:
                text = text.replace(v, "***")
        return text


class Step:
    """`with Step("name"):` prints the step and its time; any exception becomes a StepFailed naming it."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, kind, error, tb):
        elapsed = time.monotonic() - self.started
        if error is None:
            log(f"ok   {self.name} ({elapsed:.2f} s)")
            return False
        if isinstance(error, StepFailed):
            return False
        # Our own checks raise RuntimeError with the whole story; anything else is named by its type.
        text = str(error) if type(error) is RuntimeError else f"{type(error).__name__}: {error}"
        reason = Secrets.scrub(text.strip())
        # The MLflow client's exceptions can be long (a full HTML error page): the first lines say what happened.
        reason = " ".join(reason.splitlines()[:6])[:1200]
        raise StepFailed(self.name, reason) from error


def read_config():
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip().rstrip("/")
    if not uri:
        raise ConfigError("MLFLOW_TRACKING_URI is not set (the server URL, e.g. http://mlflow.mlflow.svc.cluster.local:5000)")
    if not uri.startswith(("http://", "https://")):
        raise ConfigError(f"MLFLOW_TRACKING_URI must be an http:// or https:// URL, not {uri!r}")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    if bool(user) != bool(password):
        missing = "MLFLOW_TRACKING_PASSWORD" if user else "MLFLOW_TRACKING_USERNAME"
        raise ConfigError(f"{missing} is not set: give both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or neither")
    raw = os.environ.get("SMOKE_HEALTH_TIMEOUT_SECONDS", "").strip() or "60"
    try:
        timeout = float(raw)
    except ValueError:
        timeout = -1
    if timeout < 0:
        raise ConfigError(f"SMOKE_HEALTH_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}")
    Secrets.values = [password, base64.b64encode(f"{user}:{password}".encode()).decode()] if password else []
    return uri, user or None, password or None, timeout


def http_json(uri, path, user, password, method="GET", body=None):
    """A raw REST call (for what the client library hides: status codes, the user record)."""
    request = urllib.request.Request(f"{uri}{path}", method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"{}")


def wait_for_health(uri, timeout):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=10) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(getattr(e, "reason", e))
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{uri}/health did not answer 200 within {timeout:.0f} s (last: {last})")
        time.sleep(2)


def check_login(uri, user, password):
    """Credentials accepted, and (least privilege) the smoke user is not an admin."""
    try:
        if user is None:
            http_json(uri, "/api/2.0/mlflow/experiments/search?max_results=1", None, None)
            return
        _, body = http_json(uri, f"/api/2.0/mlflow/users/get?username={urllib.request.quote(user)}", user, password)
    except urllib.error.HTTPError as e:
        if e.code == 401:
            who = f"user '{user}'" if user else "an anonymous client (no MLFLOW_TRACKING_USERNAME)"
            raise RuntimeError(
                f"the server answered 401 Unauthorized for {who}: wrong password, or the user does not exist "
                "(the migration Job creates it from the smoke password secret)"
            ) from None
        if e.code == 403:
            raise RuntimeError("the server answered 403 Forbidden: is this host allowed (MLFLOW_SERVER_ALLOWED_HOSTS)?") from None
        raise RuntimeError(f"the server answered HTTP {e.code}") from None
    if body.get("user", {}).get("is_admin"):
        raise RuntimeError(f"user '{user}' is an admin: the smoke test must run as a plain user (least privilege)")


def main():
    uri, user, password, health_timeout = read_config()
    log(f"server {uri}, user {user or '(none: no basic-auth)'}")
    try:
        import mlflow
        from mlflow import MlflowClient
        from mlflow.artifacts import download_artifacts
    except ImportError as e:
        raise ConfigError(f"this Python ({sys.executable}) cannot import MLflow ({e}): use one with mlflow installed") from None

    with Step("health"):
        wait_for_health(uri, health_timeout)
    with Step("login"):
        check_login(uri, user, password)

    log(f"MLflow client {mlflow.__version__}")
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    tag = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}"
    owner = user or "anonymous"
    created = {}
    failure = None
    try:
        with Step("experiment"):
            exp_id = client.create_experiment(f"smoke/{owner}/{tag}")
            created["experiment"] = exp_id
            location = client.get_experiment(exp_id).artifact_location
            if not location.startswith("mlflow-artifacts:"):
                raise StepFailed(
                    "experiment",
                    f"the new experiment's artifact location is {location!r}, not 'mlflow-artifacts:/...': the server is "
                    "not proxying artifacts, so clients would need their own cloud credentials",
                )
        with Step("run"):
            run = client.create_run(exp_id, run_name="smoke")
            run_id = run.info.run_id
            created["run"] = run_id
        with Step("params and metrics"):
            client.log_param(run_id, "alpha", "0.5")
            for step in range(3):
                client.log_metric(run_id, "rmse", 0.5 - 0.1 * step, step=step)
            data = client.get_run(run_id).data
            if data.params.get("alpha") != "0.5":
                raise RuntimeError(f"param alpha read back as {data.params.get('alpha')!r}, expected '0.5'")
            history = [m.value for m in client.get_metric_history(run_id, "rmse")]
            if len(history) != 3 or abs(data.metrics.get("rmse", -1) - 0.3) > 1e-9:
                raise RuntimeError(f"metric rmse read back as {history} (latest {data.metrics.get('rmse')}), expected 3 values ending 0.3")
        payload = f"smoke {tag} {secrets.token_hex(16)}\n"
        with Step("artifact upload"):
            # Through the server's artifact proxy: it fails here when the server cannot write to its store
            # (e.g. GCS without Workload Identity, where MLflow silently falls back to anonymous access).
            created["artifacts"] = True
            client.log_text(run_id, payload, "smoke/payload.txt")
            client.log_text(run_id, MODEL_FILE, "model/MLmodel")
        with Step("artifact download"):
            with tempfile.TemporaryDirectory() as tmp:
                local = download_artifacts(run_id=run_id, artifact_path="smoke/payload.txt", dst_path=tmp)
                with open(local) as f:
                    got = f.read()
            if got != payload:
                raise RuntimeError(f"downloaded {len(got)} characters that differ from the {len(payload)} uploaded")
        with Step("model version"):
            name = f"smoke-{owner}-{tag}"
            client.create_registered_model(name)
            created["model"] = name
            version = client.create_model_version(name, source=f"runs:/{run_id}/model", run_id=run_id)
            deadline = time.monotonic() + 60
            while version.status == "PENDING_REGISTRATION" and time.monotonic() < deadline:
                time.sleep(1)
                version = client.get_model_version(name, version.version)
            if version.status != "READY":
                raise RuntimeError(f"model version {version.version} is {version.status}, not READY")
        with Step("alias"):
            client.set_registered_model_alias(name, ALIAS, version.version)
            resolved = client.get_model_version_by_alias(name, ALIAS)
            if resolved.version != version.version:
                raise RuntimeError(f"alias '{ALIAS}' resolved to version {resolved.version}, expected {version.version}")
    except StepFailed as e:
        failure = e
    try:
        cleanup(client, created)
    except StepFailed as e:
        if failure is None:
            raise
        print(f"smoke: also {e}", file=sys.stderr, flush=True)  # the first failure is the one to report
    if failure is not None:
        raise failure
    log("PASSED")


def cleanup(client, created):
    """Deletes what this run created, newest first. Runs after a failure too; its own failure is reported."""
    if not created:
        return
    with Step("cleanup"):
        problems = []

        def attempt(what, action):
            try:
                action()
            except Exception as e:  # keep going: delete as much as possible, then report every leftover
                problems.append(f"{what}: {Secrets.scrub(str(e)).splitlines()[0][:300]}")

        if "model" in created:
            attempt(f"registered model {created['model']}", lambda: client.delete_registered_model(created["model"]))
        if created.get("artifacts"):
            from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

            uri = client.get_run(created["run"]).info.artifact_uri
            attempt("run artifacts", lambda: get_artifact_repository(uri).delete_artifacts())
        if "run" in created:
            attempt(f"run {created['run']}", lambda: client.delete_run(created["run"]))
        if "experiment" in created:
            attempt(f"experiment {created['experiment']}", lambda: client.delete_experiment(created["experiment"]))
        if problems:
            raise RuntimeError("could not delete " + "; ".join(problems))


def run():
    try:
        main()
    except ConfigError as e:
        print(f"smoke: ERROR: {e}", file=sys.stderr, flush=True)
        return EXIT_CONFIG
    except StepFailed as e:
        print(f"smoke: {e}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(run())
