#!/usr/bin/env bash
# Installs the system packages Fluxbrain builds and tests with, when they are missing (Debian/Ubuntu).
# Idempotent; a no-op when everything is present. Needs root (or sudo) only when something is missing.
set -euo pipefail

# prometheus-alertmanager (with amtool): the Alertmanager channel's tests run against the real server.
packages=(libhiredis-dev pkg-config redis-server redis-tools openssl curl python3 python3-pip prometheus-alertmanager)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# python3/pip may come from elsewhere (pyenv); only ask apt for them when no python3 is on PATH.
if command -v python3 >/dev/null 2>&1; then
    filtered=()
    for package in "${missing[@]}"; do
        [[ "$package" == python3 || "$package" == python3-pip ]] || filtered+=("$package")
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}" >&2
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The fake Errorbrain validates requests against the JSON Schemas with Python's jsonschema.
if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "install-deps: pip install jsonschema pyyaml" >&2
    python3 -m pip install -q jsonschema pyyaml 2>/dev/null || python3 -m pip install -q --break-system-packages jsonschema pyyaml
fi
