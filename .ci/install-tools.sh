#!/usr/bin/env bash
# Installs the tools CI checks the shipping artifacts with, when missing (Debian; needs root or sudo):
#   promtool  Debian's `prometheus` package (promtool check rules / test rules / check metrics)
#   kubectl   with kustomize v5 (kubectl >= 1.27): `kubectl kustomize` renders deploy/, and the testbed check runs
#             `kubectl get` against the fake cluster. Debian bookworm only has `kubernetes-client` 1.20 (kustomize
#             v2, too old for this repo's kustomizations), so kubectl comes from an apt source that has a `kubectl`
#             package (the Kubernetes project's, or the Google Cloud SDK's); without one this fails, saying so.
set -euo pipefail

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
updated=0
apt_install() {
    if [[ $updated == 0 ]]; then $sudo apt-get update -qq; updated=1; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v promtool >/dev/null 2>&1; then
    echo "install-tools: installing prometheus (for promtool)" >&2
    apt_install prometheus
fi

kustomize_major() {
    kubectl version --client -o json 2>/dev/null \
        | python3 -c 'import json,sys,re; m=re.match(r"v(\d+)", json.load(sys.stdin).get("kustomizeVersion","")); print(m.group(1) if m else 0)' \
        2>/dev/null || echo 0
}
if ! command -v kubectl >/dev/null 2>&1 || [[ $(kustomize_major) -lt 5 ]]; then
    if [[ $updated == 0 ]]; then $sudo apt-get update -qq; updated=1; fi
    if apt-cache policy kubectl 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        echo "install-tools: installing kubectl" >&2
        apt_install kubectl
    fi
fi
if ! command -v kubectl >/dev/null 2>&1 || [[ $(kustomize_major) -lt 5 ]]; then
    cat >&2 <<'MSG'
install-tools: FAILED: no kubectl with kustomize v5 (kubectl >= 1.27), and apt could not provide one.
  Add the Kubernetes project's apt repository and `apt-get install kubectl`, following
  https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/ , or put a kubectl binary on PATH.
  (Debian's own `kubernetes-client` package is kubectl 1.20 with kustomize v2: too old for deploy/.)
MSG
    exit 1
fi
echo "install-tools: $(command -v promtool) ($(promtool --version 2>&1 | head -1 | awk '{print $3}')), $(command -v kubectl) (kustomize $(kubectl version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kustomizeVersion"])'))"
