#!/usr/bin/env bash
# Runs Fluxbrain's whole test suite: installs what is missing, starts a private redis-server on
# 127.0.0.1 for the tests that share one, runs `swift test`, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

port="${FLUXBRAIN_TEST_REDIS_PORT:-6399}"
workdir="$(mktemp -d -t fluxbrain-test-redis.XXXXXX)"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$workdir" \
    --daemonize no --logfile "$workdir/redis.log" &
redis_pid=$!
cleanup() {
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    rm -rf "$workdir"
}
trap cleanup EXIT

for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null

export FLUXBRAIN_TEST_REDIS_URL="redis://127.0.0.1:$port"
swift build --build-tests
# Every suite in parallel (Swift Testing's default; README, "Tests"). `scripts/test.sh ARGS...` passes ARGS to
# `swift test`, e.g. `--no-parallel` for a serial run or `--filter SUITE`.
swift test --skip-build "$@"
