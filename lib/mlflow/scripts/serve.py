"""Serves one registered model version with `mlflow models serve`, resolved once at start.

Shipped in a ConfigMap and run by each served model's Deployment (lib/mlflow/served-model.ts) with the MLflow image:

1. resolves `models:/<model>@<alias>` (or the pinned `--version`) ONCE, through the registry, as the serving user;
2. logs one line: `serve: <model>@<alias> → version <v> (run <id>, experiment <id>)`: what this pod serves;
3. downloads exactly that version through the tracking server's artifact proxy (the pod has no bucket access); a 403
   becomes a message naming the user, the experiment and the promotion that makes the sync grant it;
   a 403 or a model/alias not found is retried for SERVE_WAIT_SECONDS (the Deployment sets it inside the startup
   probe's budget; 0, no retry, when unset), logging the message each time: the served models sync apart from the server, so after a promotion the
   new pods may start before the server's migration Job has granted what the alias points at now (the old pods keep
   serving meanwhile: RollingUpdate with maxUnavailable 0); then it exits with the same message;
4. runs `mlflow models serve -m <that local copy> --env-manager local` (virtualenv would install packages at start).

The pod's first process stays this script: `mlflow models serve` runs the scoring server (uvicorn) as its child, and a
container's first process ignores a SIGTERM it has no handler for, so this script handles SIGTERM from its start: while
it resolves, waits or downloads, it stops at once; once the scoring server runs, it passes the signal on (uvicorn then
finishes the requests in flight) and waits for every child before it exits.

Exit codes: 0 stopped by SIGTERM, 1 the model could not be resolved or downloaded, else the scoring server's.
"""

import argparse
import ctypes
import os
import re
import signal
import subprocess
import sys
import time

# How long a missing grant or a model/alias not found is retried (set by the Deployment), and how often.
WAIT_SECONDS_ENV = "SERVE_WAIT_SECONDS"
RETRY_INTERVAL_SECONDS = 10


def log(message):
    print(f"serve: {message}", flush=True)


def fail(message):
    print(f"serve: ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def denied(e):
    """True when MLflow (or its artifact proxy) answered 403."""
    return getattr(e, "error_code", None) == "PERMISSION_DENIED" or re.search(r"\b403\b", str(e)) is not None


def not_found(e):
    """True when MLflow answered that the model, version or alias does not exist. MLflow 3.17 answers a version that
    does not exist with RESOURCE_DOES_NOT_EXIST, but an alias not set on an existing model with INVALID_PARAMETER_VALUE
    ("Registered model alias <alias> not found.")."""
    code = getattr(e, "error_code", None)
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return code == "INVALID_PARAMETER_VALUE" and re.search(r"Registered model alias \S+ not found", str(e)) is not None


class Waiting(Exception):
    """A cause that a sync may remove (a grant the migration Job has not given yet, a model not registered yet)."""


class Failed(Exception):
    """A cause no wait removes."""


def wait_seconds():
    raw = os.environ.get(WAIT_SECONDS_ENV, "0")
    if not raw.isdigit():
        raise Failed(f"{WAIT_SECONDS_ENV}={raw!r}: expected a whole number of seconds")
    return int(raw)


def retried(attempt, wait):
    """attempt() until it returns, retrying a Waiting cause for `wait` seconds, each logged; then the cause, as Failed."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return attempt()
        except Waiting as e:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed(str(e)) from None
            print(f"serve: ERROR: {e} (retrying for up to {int(left + 0.999)} s more)", file=sys.stderr, flush=True)
            time.sleep(min(RETRY_INTERVAL_SECONDS, left))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="the registered model")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--alias", help="the alias served")
    target.add_argument("--version", help="a pinned version")
    parser.add_argument("--port", required=True, help="the scoring server's port")
    parser.add_argument("--promote-command", help="the command that promotes this serving (with --alias; for messages)")
    parser.add_argument("--model-dir", default="/tmp/model", help="where the version is downloaded")
    args = parser.parse_args()
    # Installed first: as the pod's first process, a SIGTERM without a handler would be ignored until the grace period
    # ends. Before the scoring server runs it stops this script at once; then it is passed on to the scoring server.
    children = []
    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)
        if not children:
            log(f"stopped by signal {signum} before the scoring server started")
            sys.exit(0)
        if children[0].returncode is None:
            children[0].send_signal(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    import mlflow
    from mlflow import MlflowClient

    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "(no user: basic-auth off)")
    served = f"{args.model}@{args.alias}" if args.alias else f"{args.model} version {args.version}"
    client = MlflowClient()

    def resolve():
        try:
            mv = client.get_model_version_by_alias(args.model, args.alias) if args.alias else client.get_model_version(args.model, args.version)
            return mv, client.get_model_version_download_uri(args.model, mv.version)
        except Exception as e:  # noqa: BLE001 - every failure ends the pod's start with its cause
            if denied(e):
                raise Waiting(
                    f"user '{user}' may not read registered model '{args.model}' (403, which MLflow also answers for a model that does not "
                    f"exist): check that the model is registered and named in serving[].model, and that the migration Job ran (it grants "
                    f"the serving user READ on the model)"
                ) from None
            if not_found(e):
                raise Waiting(f"{served} does not exist at {mlflow.get_tracking_uri()}: register the model (and set the alias), then promote it") from None
            raise Failed(f"cannot resolve {served} at {mlflow.get_tracking_uri()}: {e}") from None

    def download():
        mv, uri = resolve()
        found = re.match(r"^mlflow-artifacts:(?://[^/]*)?/([^/]+)/", uri)
        experiment = found.group(1) if found else "?"
        label = f"{args.model}@{args.alias}" if args.alias else f"{args.model} (pinned)"
        log(f"{label} → version {mv.version} (run {mv.run_id or '-'}, experiment {experiment})")
        try:
            return mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=args.model_dir)
        except Exception as e:  # noqa: BLE001
            if denied(e):
                cause = (
                    f"user '{user}' may not read experiment {experiment}, where {args.model} version {mv.version} was logged (403 from the "
                    f"artifact proxy): the sync grants the serving user READ on the experiment of the version it serves; "
                )
                if args.alias and args.promote_command:
                    raise Waiting(cause + f"run `{args.promote_command}`, review and merge, and the next sync grants it before the pods roll") from None
                raise Waiting(cause + "check that the migration Job of the last sync ran") from None
            raise Failed(f"cannot download {args.model} version {mv.version} from {uri}: {e}") from None

    try:
        local = retried(download, wait_seconds())
    except Failed as e:
        fail(str(e))

    # Children orphaned below this process are re-parented to it (PR_SET_CHILD_SUBREAPER), first process or not.
    ctypes.CDLL(None).prctl(36, 1)
    argv = ["mlflow", "models", "serve", "-m", local, "--env-manager", "local", "--host", "0.0.0.0", "--port", args.port]
    log(" ".join(argv))
    child = subprocess.Popen(argv)
    children.append(child)
    # `mlflow models serve` asks the kernel to SIGTERM its scoring server when it dies; as the pod's first process this
    # script inherits that server then, so wait for every child, not only the first.
    code = 0
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == child.pid:
            child.returncode = code = os.waitstatus_to_exitcode(status)
    sys.exit(0 if stopping else code)


if __name__ == "__main__":
    main()
