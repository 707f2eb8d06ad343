#!/usr/bin/env bash
# The binaries of the throw-away Kubernetes API server the test suite starts (test/apiserver/, started and stopped
# by test/support/apiserver.ts): etcd, kube-apiserver and kubectl of the pinned Kubernetes version. Idempotent and
# offline when the binaries are already cached. It starts nothing.
#
#   etcd, openssl, xz       from PATH, else Debian's etcd-server, openssl and xz-utils, installed here when
#                           missing (when run as root).
#   kube-apiserver, kubectl in this order:
#     KUBE_APISERVER_BIN + KUBECTL_BIN   use these files as they are (only their version is checked);
#     ENVTEST_BIN_DIR=DIR                a directory of prebuilt binaries (`kube-apiserver`, `kubectl`, each plain
#                                        or `.xz`-compressed); they must match scripts/envtest/SHA256SUMS.
#                                        .ci/run points it at an offline copy beside the clone;
#     otherwise                          the official Kubernetes release from dl.k8s.io, checked against the
#                                        .sha256 file the release publishes next to each binary.
#   ENVTEST_CACHE_DIR=DIR   where decompressed/downloaded binaries are kept
#                           (default: ~/.cache/mlflow-gitops/envtest-<version>)
#
# Prints ETCD_BIN=, KUBE_APISERVER_BIN= and KUBECTL_BIN= lines last (absolute paths), which the test set-up reads.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "test-apiserver.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# The Kubernetes version of the test API server (the newest patch of the 1.32 line our binaries are built from).
KUBE_VERSION=v1.32.13
SUMS="$PWD/scripts/envtest/SHA256SUMS"

# --- etcd, openssl, xz ------------------------------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"
packages=()
command -v etcd >/dev/null 2>&1 || packages+=(etcd-server)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)   # the API server's certificates
command -v xz >/dev/null 2>&1 || packages+=(xz-utils)       # .xz-compressed prebuilt binaries
if [ "${#packages[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || die "missing ${packages[*]} (not on PATH), and only root with apt-get installs them here.
Install them, then run npm test again:
  Debian, Ubuntu:  sudo apt-get install ${packages[*]}
  macOS:           brew install etcd openssl xz
Or run every test that needs no server (no API server, database or MLflow): npm run test:unit (docs/testing.md)"
  log "installing ${packages[*]} from Debian"
  # etcd-server's maintainer scripts may try to start a system-wide etcd on :2379; policy-rc.d exit 101 forbids it.
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  trap '[ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  }
fi
ETCD_BIN=$(command -v etcd)

# --- kube-apiserver and kubectl ---------------------------------------------------------------------------------
version_of() { # prints vX.Y.Z of a kube-apiserver or kubectl binary
  case "$(basename "$1")" in
    kubectl*) "$1" version --client 2>/dev/null | sed -n 's/^Client Version: //p' ;;
    *) "$1" --version 2>/dev/null | sed -n 's/^Kubernetes //p' ;;
  esac
}
check_version() {
  local v; v=$(version_of "$1")
  [ "$v" = "$KUBE_VERSION" ] || die "$1 is version '${v:-unknown}', the tests pin $KUBE_VERSION"
}
expected_sum() { awk -v n="$1" '$2 == n { print $1 }' "$SUMS"; }

cache="${ENVTEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-gitops/envtest-$KUBE_VERSION}"

if [ -n "${KUBE_APISERVER_BIN:-}" ] || [ -n "${KUBECTL_BIN:-}" ]; then
  [ -n "${KUBE_APISERVER_BIN:-}" ] && [ -n "${KUBECTL_BIN:-}" ] || die "set both KUBE_APISERVER_BIN and KUBECTL_BIN, or neither"
  for f in "$KUBE_APISERVER_BIN" "$KUBECTL_BIN"; do [ -x "$f" ] || die "$f is not an executable file"; check_version "$f"; done
  KUBE_APISERVER_BIN=$(cd "$(dirname "$KUBE_APISERVER_BIN")" && pwd)/$(basename "$KUBE_APISERVER_BIN")
  KUBECTL_BIN=$(cd "$(dirname "$KUBECTL_BIN")" && pwd)/$(basename "$KUBECTL_BIN")
else
  bin_dir="${ENVTEST_BIN_DIR:-}"
  mkdir -p "$cache"
  for name in kube-apiserver kubectl; do
    target="$cache/$name"
    if [ -n "$bin_dir" ]; then
      want=$(expected_sum "$name")
      [ -n "$want" ] || die "$SUMS has no sum for $name"
      # Reuse the cached copy when its sum still matches the pinned one.
      if [ ! -x "$target" ] || [ "$(sha256sum "$target" | cut -d' ' -f1)" != "$want" ]; then
        if [ -f "$bin_dir/$name" ]; then cp "$bin_dir/$name" "$target.tmp"
        elif [ -f "$bin_dir/$name.xz" ]; then xz -dc "$bin_dir/$name.xz" >"$target.tmp"
        else die "ENVTEST_BIN_DIR=$bin_dir has neither $name nor $name.xz"; fi
        got=$(sha256sum "$target.tmp" | cut -d' ' -f1)
        [ "$got" = "$want" ] || { rm -f "$target.tmp"; die "$bin_dir/$name: sha256 $got, scripts/envtest/SHA256SUMS pins $want"; }
        chmod +x "$target.tmp" && mv "$target.tmp" "$target"
        log "$name from $bin_dir (sha256 verified)"
      fi
    elif [ ! -x "$target" ]; then
      # Official release (needs internet access); dl.k8s.io publishes a
      # .sha256 next to every binary, which is what this checks against.
      case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) die "unsupported machine $(uname -m)" ;; esac
      url="https://dl.k8s.io/release/$KUBE_VERSION/bin/linux/$arch/$name"
      log "downloading $url"
      curl -fsSL --retry 3 -o "$target.tmp" "$url" || die "cannot download $url (set ENVTEST_BIN_DIR to a directory of prebuilt binaries)"
      want=$(curl -fsSL --retry 3 "$url.sha256" | tr -d '[:space:]') || die "cannot download $url.sha256"
      got=$(sha256sum "$target.tmp" | cut -d' ' -f1)
      [ "$got" = "$want" ] || { rm -f "$target.tmp"; die "$url: sha256 $got, the release says $want"; }
      chmod +x "$target.tmp" && mv "$target.tmp" "$target"
    fi
  done
  KUBE_APISERVER_BIN="$cache/kube-apiserver"
  KUBECTL_BIN="$cache/kubectl"
  check_version "$KUBE_APISERVER_BIN"
  check_version "$KUBECTL_BIN"
fi

echo "ETCD_BIN=$ETCD_BIN"
echo "KUBE_APISERVER_BIN=$KUBE_APISERVER_BIN"
echo "KUBECTL_BIN=$KUBECTL_BIN"
