#!/usr/bin/env bash
# The docker-compose testbed as local processes, for machines without Docker:
#   redis-server (AOF) · `fluxbrain-testbed fake-cluster` serving examples/snapshot over the Kubernetes API ·
#   `fluxbrain-testbed sink` recording webhooks · three `fluxbrain run` replicas sharing Redis.
#
#   scripts/testbed.sh          run until Ctrl-C, printing where everything listens (and a kubeconfig for kubectl)
#   scripts/testbed.sh --ci     run until every incident of the example reached the sink, check each arrived
#                               exactly once and that exactly one replica led; check that real kubectl lists the
#                               fake cluster's Kustomizations and HelmReleases and that `promtool check metrics`
#                               accepts a replica's /metrics; then stop (exit 1 otherwise; kubectl and promtool
#                               must be installed, see .ci/run)
#
# Set FLUXBRAIN_ERRORBRAIN_URL to have the replicas ask a real Errorbrain.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-interactive}"
expected_incidents="${FLUXBRAIN_TESTBED_EXPECTED:-4}"
timeout_seconds="${FLUXBRAIN_TESTBED_TIMEOUT:-90}"

bash scripts/install-deps.sh
swift build --product fluxbrain >/dev/null
swift build --product fluxbrain-testbed >/dev/null
bin="$(swift build --show-bin-path)/fluxbrain"
testbed_bin="$(swift build --show-bin-path)/fluxbrain-testbed"
if [[ "$mode" == "--ci" ]]; then
    for tool in kubectl promtool; do
        command -v "$tool" >/dev/null || { echo "testbed: $tool not found (.ci/run installs it)" >&2; exit 1; }
    done
fi
# The CI check talks to loopback only: keep the machine's proxy variables (HTTPS_PROXY…) out of it.
if [[ "$mode" == "--ci" ]]; then unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy; fi

work="$(mktemp -d -t fluxbrain-testbed.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ "$mode" == "--ci" && "${keep_logs:-0}" == 0 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
redis_port=$(free_port); cluster_port=$(free_port); sink_port=$(free_port); metrics_port=$(free_port)

redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --save '' --appendonly yes \
    --appendfsync everysec --maxmemory-policy noeviction --daemonize no --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export FLUXBRAIN_LOG_FORMAT=json
"$testbed_bin" fake-cluster --snapshot examples/snapshot --listen "127.0.0.1:$cluster_port" >"$work/fake-cluster.log" 2>&1 &
pids+=($!)
"$testbed_bin" sink --listen "127.0.0.1:$sink_port" --record "$work/sink.jsonl" >"$work/sink.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$sink_port/healthz" >/dev/null 2>&1 && \
    curl -fsS "http://127.0.0.1:$cluster_port/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations" >/dev/null 2>&1 && break
    sleep 0.1
done

for replica in 1 2 3; do
    FLUXBRAIN_REPLICA_ID="replica-$replica" \
    FLUXBRAIN_CLUSTER=testbed \
    FLUXBRAIN_KUBE_API_URL="http://127.0.0.1:$cluster_port" \
    FLUXBRAIN_REDIS_URL="redis://127.0.0.1:$redis_port/0" \
    FLUXBRAIN_WEBHOOK_URL="http://127.0.0.1:$sink_port/hook" \
    FLUXBRAIN_HTTP_ADDR="127.0.0.1:$([[ $replica == 1 ]] && echo "$metrics_port" || echo 0)" \
    FLUXBRAIN_REQUEUE_INTERVAL=10s FLUXBRAIN_LOCK_TTL=6s \
        "$bin" run >"$work/replica-$replica.log" 2>&1 &
    pids+=($!)
done

echo "testbed: redis 127.0.0.1:$redis_port · fake cluster http://127.0.0.1:$cluster_port · sink http://127.0.0.1:$sink_port/records"
cat >"$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster: {server: "http://127.0.0.1:$cluster_port"}
users:
- name: testbed
  user: {}
contexts:
- name: testbed
  context: {cluster: testbed, user: testbed}
current-context: testbed
KUBECONFIG
echo "testbed: logs in $work; replica-1 metrics http://127.0.0.1:$metrics_port/metrics"
echo "testbed: KUBECONFIG=$work/kubeconfig kubectl get kustomizations,helmreleases -A"

if [[ "$mode" != "--ci" ]]; then
    wait "${pids[@]}"
    exit 0
fi

# CI: wait for every incident, then check exactly-once and a single leader.
deadline=$((SECONDS + timeout_seconds))
count=0
while ((SECONDS < deadline)); do
    count=$(python3 - "$work/sink.jsonl" <<'PY'
import json, sys
seen = set()
try:
    for line in open(sys.argv[1]):
        record = json.loads(line)
        if (record.get("status") or 200) < 300 and record["body"].get("kind") == "firing":
            seen.add(record["body"]["fingerprint"])
except FileNotFoundError:
    pass
print(len(seen))
PY
)
    [[ "$count" -ge "$expected_incidents" ]] && break
    sleep 1
done
sleep 3   # let any duplicate arrive before judging

status=0
failed=()
python3 - "$work" "$expected_incidents" <<'PY' || { status=1; failed+=(incidents); }
import collections, json, os, sys
work, expected = sys.argv[1], int(sys.argv[2])
deliveries = collections.Counter()
for line in open(os.path.join(work, "sink.jsonl")):
    record = json.loads(line)
    if (record.get("status") or 200) < 300:
        deliveries[(record["body"]["fingerprint"], record["body"]["kind"])] += 1
firing = {fp: n for (fp, kind), n in deliveries.items() if kind == "firing"}
leaders = set()
for name in os.listdir(work):
    if name.startswith("replica-"):
        for line in open(os.path.join(work, name)):
            if "became scheduler leader" in line:
                leaders.add(name)
problems = []
if len(firing) != expected:
    problems.append(f"expected {expected} incidents at the sink, got {len(firing)}")
problems += [f"{fp[:12]} delivered {n} times" for fp, n in firing.items() if n != 1]
if len(leaders) != 1:
    problems.append(f"expected one leader, got {sorted(leaders)}")
for fp in sorted(firing):
    print(f"testbed: incident {fp[:12]} delivered {firing[fp]}×")
print(f"testbed: leader {sorted(leaders)}")
if problems:
    print("testbed: FAILED: " + "; ".join(problems))
    sys.exit(1)
print(f"testbed: all {len(firing)} incidents delivered exactly once, one leader")
PY
checks=()
[[ ${#failed[@]} -eq 0 ]] && checks+=(incidents)
# Real kubectl against the fake cluster: discovery, then the lists a person reaches for first.
for resource in kustomizations helmreleases; do
    listed=$(KUBECONFIG="$work/kubeconfig" kubectl get "$resource" -A --no-headers 2>"$work/kubectl.err" | wc -l) || true
    served=$(curl -fsS "http://127.0.0.1:$cluster_port/apis/$( [[ $resource == kustomizations ]] \
        && echo kustomize.toolkit.fluxcd.io/v1 || echo helm.toolkit.fluxcd.io/v2)/$resource" \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
    if [[ "$listed" -gt 0 && "$listed" == "$served" ]]; then
        echo "testbed: kubectl get $resource -A lists all $served"
        checks+=("kubectl-$resource")
    else
        echo "testbed: FAILED: kubectl get $resource -A listed $listed of $served: $(cat "$work/kubectl.err")"
        status=1; failed+=("kubectl-$resource")
    fi
done
# Prometheus's own linter on a live scrape (HELP on every metric, naming, histogram shape), and build_info.
if curl -fsS "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics.txt" && promtool check metrics <"$work/metrics.txt" \
    && grep -q '^fluxbrain_build_info{version="[^"]*",revision="[^"]*"} 1' "$work/metrics.txt"; then
    echo "testbed: promtool check metrics accepts replica-1's /metrics ($(grep -c '^# HELP' "$work/metrics.txt") metrics)"
    checks+=(promtool-metrics)
else
    echo "testbed: FAILED: promtool check metrics on replica-1's /metrics (kept in $work/metrics.txt)"
    status=1; failed+=(promtool-metrics)
fi
if [[ $status -ne 0 ]]; then
    keep_logs=1
    for f in "$work"/replica-*.log; do echo "--- $f"; tail -20 "$f"; done
fi
echo "testbed: ${#checks[@]} passed, ${#failed[@]} failed"
exit $status
