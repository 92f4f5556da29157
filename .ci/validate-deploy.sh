#!/usr/bin/env bash
# Offline validation of the shipping artifacts: Dockerfile, .dockerignore,
# docker-compose.yml, deploy/** (kustomize base, overlays, remote RBAC, Flux,
# monitoring) and docs/deployment.md.
#
#   bash .ci/validate-deploy.sh            # from the repository root
#
# No Docker engine is needed. Manifests are rendered by the real kustomize
# (`kubectl kustomize`, kustomize v5; missing kubectl fails with install
# instructions) and validated against the Kubernetes OpenAPI schemas bundled in
# the `kubernetes-validate` PyPI package (no network at validation time). The
# built `fluxbrain check-config` must accept exactly the environment each
# docker-compose service and each rendered Deployment/CronJob container gets,
# and each command line must match the binary's own description of itself.
# The only download is that package (+ PyYAML) from PyPI into a venv, reused
# across runs.
#
# Env: VALIDATE_VENV (venv dir), VALIDATE_K8S_VERSION (default 1.30.0),
#      KUBECTL (default: kubectl on PATH), FLUXBRAIN_BIN_DIR (default: swift build's).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0   # bundles schemas for Kubernetes 1.25 .. 1.37
PYYAML_VERSION=6.0.2
VENV="${VALIDATE_VENV:-${TMPDIR:-/tmp}/fluxbrain-validate-venv}"
PYTHON="${PYTHON:-python3}"

have_deps() {
  "$1" - "$KUBERNETES_VALIDATE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import yaml, kubernetes_validate  # noqa: F401
sys.exit(0 if version("kubernetes-validate") == sys.argv[1] else 1)
PY
}

if ! { [ -x "$VENV/bin/python" ] && have_deps "$VENV/bin/python"; }; then
  echo "validate-deploy: installing kubernetes-validate==$KUBERNETES_VALIDATE_VERSION into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "PyYAML>=$PYYAML_VERSION,<7"
fi

if [[ -z "${FLUXBRAIN_BIN_DIR:-}" ]]; then
  swift build --product fluxbrain >/dev/null
  swift build --product fluxbrain-testbed >/dev/null
  FLUXBRAIN_BIN_DIR="$(swift build --show-bin-path)"
fi
export FLUXBRAIN_BIN_DIR

status=0
"$VENV/bin/python" .ci/validate_deploy.py || status=$?
if [ "$status" -eq 2 ]; then
  echo "validate-deploy: FAILED: could not run (see above)" >&2
elif [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  echo "validate-deploy: validator crashed (exit $status)" >&2
fi
exit "$status"
