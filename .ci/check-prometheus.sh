#!/usr/bin/env bash
# Prometheus checks with Prometheus's own tool (promtool, from Debian's `prometheus` package):
#   promtool check rules   on the rules of deploy/monitoring (the PrometheusRule's spec, as rendered by kubectl kustomize)
#   promtool test rules    deploy/monitoring/tests/*.test.yaml: each alert fires on its series and only then
# `promtool check metrics` on a live /metrics scrape runs in scripts/testbed.sh --ci, against a running replica.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v promtool >/dev/null 2>&1; then
    echo "check-prometheus: promtool not found: install Debian's prometheus package (apt-get install prometheus)" >&2
    exit 1
fi
command -v kubectl >/dev/null 2>&1 || { echo "check-prometheus: kubectl not found (see .ci/validate-deploy.sh)" >&2; exit 1; }
promtool --version | head -1

work="$(mktemp -d -t fluxbrain-promtool.XXXXXX)"
trap 'rm -rf "$work"' EXIT

kubectl kustomize deploy/monitoring >"$work/monitoring.yaml"
python3 - "$work/monitoring.yaml" "$work/fluxbrain-rules.yaml" <<'PY'
import sys, yaml
rules = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "PrometheusRule"]
if len(rules) != 1:
    sys.exit(f"check-prometheus: expected one PrometheusRule in deploy/monitoring, found {len(rules)}")
yaml.safe_dump(rules[0]["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY

status=0
promtool check rules "$work/fluxbrain-rules.yaml" || status=1
for test in deploy/monitoring/tests/*.test.yaml; do
    cp "$test" "$work/"
    promtool test rules "$work/$(basename "$test")" || status=1
done
# Every alert of the rules has a unit test.
python3 - "$work/fluxbrain-rules.yaml" deploy/monitoring/tests/*.test.yaml <<'PY' || status=1
import sys, yaml
alerts = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r}
tested = {t["alertname"] for f in sys.argv[2:] for case in yaml.safe_load(open(f))["tests"]
          for t in case.get("alert_rule_test") or [] if t.get("exp_alerts")}
missing = sorted(alerts - tested)
if missing:
    sys.exit(f"check-prometheus: alerts without a test that fires them: {', '.join(missing)}")
print(f"check-prometheus: all {len(alerts)} alerts have a firing test")
PY
if [[ $status -ne 0 ]]; then
    echo "check-prometheus: FAILED" >&2
fi
exit $status
