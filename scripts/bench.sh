#!/usr/bin/env bash
# Every benchmark, on release builds, one after the other (docs/BENCHMARKS.md says what each figure means and
# what it is held against). About 3 minutes on 2 cores once the release build is done.
#
#   scripts/bench.sh                 build release, run every benchmark with its defaults
#   scripts/bench.sh pipeline ...    build release, run one benchmark with the given options
#
# Needs redis-server and redis-benchmark on PATH (scripts/install-deps.sh installs them) and python3 for the
# detection benchmark's comparison. Every server the benchmarks start (redis-server, fake Kubernetes API,
# Errorbrain stand-in, webhook sink) listens on 127.0.0.1 on a free port and is stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product fluxbrain >/dev/null
swift build -c release --product fluxbrain-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/fluxbrain-bench"

if [[ $# -gt 0 ]]; then
    exec "$bench" "$@"
fi

echo "fluxbrain-bench, $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ)"
# Each benchmark the binary knows (`redaction` only where that benchmark exists), in a fixed order.
available="$("$bench" --help | awk '/^  [a-z]+:/ { sub(":", "", $1); print $1 }')"
for name in redis detection redaction pipeline latency central; do
    if grep -qx "$name" <<<"$available"; then
        "$bench" "$name"
    else
        echo "== $name == (not in this build: skipped)"
    fi
done
