"""Serves one registered model version with `mlflow models serve`, resolved once at start.

Shipped in a ConfigMap and run by each served model's Deployment (lib/mlflow/served-model.ts) with the MLflow image:

1. resolves `models:/<model>@<alias>` (or the pinned `--version`) ONCE, through the registry, as the serving user;
2. logs one line: `serve: <model>@<alias> → version <v> (run <id>, experiment <id>)`: what this pod serves;
3. downloads exactly that version through the tracking server's artifact proxy (the pod has no bucket access); a 403
   becomes a message naming the user, the experiment and the promotion that makes the sync grant it;
4. runs `mlflow models serve -m <that local copy> --env-manager local` (virtualenv would install packages at start).

The pod's first process stays this script: `mlflow models serve` runs the scoring server (uvicorn) as its child, and a
container's first process ignores a SIGTERM it has no handler for, so this script passes the kubelet's SIGTERM on
(uvicorn then finishes the requests in flight) and waits for every child before it exits.

Exit codes: 0 stopped by SIGTERM, 1 the model could not be resolved or downloaded, else the scoring server's.
"""

import argparse
import ctypes
import os
import re
import signal
import subprocess
import sys


def log(message):
    print(f"serve: {message}", flush=True)


def fail(message):
    print(f"serve: ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def denied(e):
    """True when MLflow (or its artifact proxy) answered 403."""
    return getattr(e, "error_code", None) == "PERMISSION_DENIED" or re.search(r"\b403\b", str(e)) is not None


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

    import mlflow
    from mlflow import MlflowClient

    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "(no user: basic-auth off)")
    served = f"{args.model}@{args.alias}" if args.alias else f"{args.model} version {args.version}"
    client = MlflowClient()
    try:
        mv = client.get_model_version_by_alias(args.model, args.alias) if args.alias else client.get_model_version(args.model, args.version)
        uri = client.get_model_version_download_uri(args.model, mv.version)
    except Exception as e:  # noqa: BLE001 - every failure ends the pod's start with its cause
        if denied(e):
            fail(
                f"user '{user}' may not read registered model '{args.model}' (403, which MLflow also answers for a model that does not "
                f"exist): check that the model is registered and named in serving[].model, and that the migration Job ran (it grants "
                f"the serving user READ on the model)"
            )
        fail(f"cannot resolve {served} at {mlflow.get_tracking_uri()}: {e}")
    found = re.match(r"^mlflow-artifacts:(?://[^/]*)?/([^/]+)/", uri)
    experiment = found.group(1) if found else "?"
    label = f"{args.model}@{args.alias}" if args.alias else f"{args.model} (pinned)"
    log(f"{label} → version {mv.version} (run {mv.run_id or '-'}, experiment {experiment})")

    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=args.model_dir)
    except Exception as e:  # noqa: BLE001
        if denied(e):
            cause = (
                f"user '{user}' may not read experiment {experiment}, where {args.model} version {mv.version} was logged (403 from the "
                f"artifact proxy): the sync grants the serving user READ on the experiment of the version it serves; "
            )
            if args.alias and args.promote_command:
                fail(cause + f"run `{args.promote_command}`, review and merge, and the next sync grants it before the pods roll")
            fail(cause + "check that the migration Job of the last sync ran")
        fail(f"cannot download {args.model} version {mv.version} from {uri}: {e}")

    # Children orphaned below this process are re-parented to it (PR_SET_CHILD_SUBREAPER), first process or not.
    ctypes.CDLL(None).prctl(36, 1)
    argv = ["mlflow", "models", "serve", "-m", local, "--env-manager", "local", "--host", "0.0.0.0", "--port", args.port]
    log(" ".join(argv))
    child = subprocess.Popen(argv)
    stopping = []

    def forward(signum, _frame):
        stopping.append(signum)
        if child.returncode is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
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
