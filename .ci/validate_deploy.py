#!/usr/bin/env python3
"""Offline validation of Fluxbrain's shipping artifacts (run by validate-deploy.sh).

Checks, from the repository root:
  * every kustomization under deploy/ renders (`kubectl kustomize`) and every
    rendered object validates against the Kubernetes OpenAPI schemas bundled by
    the kubernetes-validate package (strict, pinned version); CRD kinds (Flux,
    Prometheus Operator) get structural checks instead;
  * cross references inside each render (bindings, service accounts, ConfigMaps,
    Secrets, Service/PDB/NetworkPolicy selectors, headless Service, images);
  * pod hardening (non-root, read-only root FS, no privilege escalation, drop
    ALL, seccomp RuntimeDefault, requests/limits) and mode specifics (base,
    cronjob, central, remote-rbac);
  * runtime: `fluxbrain check-config` accepts the exact environment of every
    compose service and rendered container; command lines, files and ports exist;
  * RBAC: the rules granted equal EXPECTED_RBAC exactly;
  * docker-compose.yml, Dockerfile, .dockerignore, docs/deployment.md.

Prints `validate-deploy: N passed, M failed` last; exits 1 if anything failed.
"""
from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Callable

import yaml

import atexit
import shutil
import subprocess
import tempfile

K8S_VERSION = os.environ.get("VALIDATE_K8S_VERSION", "1.30.0")

# --------------------------------------------------------------------- facts

FLUX_NS = "flux-system"
APP_NS = "fluxbrain"
SA = ("fluxbrain", "fluxbrain")  # (namespace, name)
IMAGE_REPO = "ghcr.io/fluxbrain/fluxbrain"

FLUX_KINDS = {
    "kustomize.toolkit.fluxcd.io": ["kustomizations"],
    "helm.toolkit.fluxcd.io": ["helmreleases"],
    "source.toolkit.fluxcd.io": ["gitrepositories", "ocirepositories", "helmrepositories",
                                 "helmcharts", "buckets"],
    "image.toolkit.fluxcd.io": ["imagerepositories", "imagepolicies", "imageupdateautomations"],
}

# (scope, namespace, apiGroup, resource, verb); scope "cluster" or "namespace".
EXPECTED_RBAC: set[tuple[str, str, str, str, str]] = set()
for _g, _rs in FLUX_KINDS.items():
    for _r in _rs:
        for _v in ("get", "list", "watch"):
            EXPECTED_RBAC.add(("cluster", "*", _g, _r, _v))
for _v in ("get", "list", "watch"):
    EXPECTED_RBAC.add(("cluster", "*", "", "events", _v))
EXPECTED_RBAC.add(("namespace", FLUX_NS, "", "pods", "list"))
EXPECTED_RBAC.add(("namespace", FLUX_NS, "", "pods/log", "get"))

KNOWN_ENV = {f"FLUXBRAIN_{n}" for n in """
CLUSTER CLUSTERS NAMESPACES FLUX_NAMESPACE RUN_MODE REQUEUE_INTERVAL STUCK_AFTER
COLLECT_LOGS REDIS_URL REDIS_PREFIX REPLICA_ID LOCK_TTL LEASE MAX_ATTEMPTS WORKERS
HTTP_ADDR LOG_LEVEL ERRORBRAIN_URL ERRORBRAIN_TIMEOUT ENVIRONMENT BACKOFF_BASE
BACKOFF_MAX ANALYSIS_MAX_ATTEMPTS REPEAT_INTERVAL SEND_RESOLVED SLACK_WEBHOOK
SLACK_CHANNEL WEBHOOK_URL WEBHOOK_SECRET WEBHOOK_HEADERS GITHUB_OWNER GITHUB_REPO
GITHUB_TOKEN GITHUB_API_URL GITHUB_REOPEN_WINDOW KUBE_API_URL LOG_FORMAT ROUTES_FILE SECRETS_DIR
SLACK_BOT_TOKEN SLACK_API_URL""".split()}
SECRET_ENV = {"FLUXBRAIN_SLACK_WEBHOOK", "FLUXBRAIN_WEBHOOK_URL", "FLUXBRAIN_WEBHOOK_SECRET",
              "FLUXBRAIN_WEBHOOK_HEADERS", "FLUXBRAIN_GITHUB_TOKEN", "FLUXBRAIN_REDIS_URL",
              "FLUXBRAIN_SLACK_BOT_TOKEN"}
# Secret-only settings must never appear as plain values in manifests or ConfigMaps
# (FLUXBRAIN_REDIS_URL may, without password, as the bundled Redis default).
NEVER_PLAIN = SECRET_ENV - {"FLUXBRAIN_REDIS_URL"}

REDIS_FLAGS = [("--appendonly", "yes"), ("--appendfsync", "everysec"),
               ("--maxmemory-policy", "noeviction")]

# Kinds without a bundled schema: checked structurally. kind -> allowed apiVersions
CRD_KINDS = {
    "GitRepository": {"source.toolkit.fluxcd.io/v1"},
    "Kustomization": {"kustomize.toolkit.fluxcd.io/v1"},
    "ServiceMonitor": {"monitoring.coreos.com/v1"},
    "PrometheusRule": {"monitoring.coreos.com/v1"},
}

# Paths the Dockerfile COPYs that another branch delivers (the Swift code and
# the example snapshot are written in parallel). Missing -> warning, not failure.
PENDING_PATHS = {"examples"}


# ---------------------------------------------------------------- rendering

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUBECTL_INSTALL_HINT = (
    "install kubectl >= 1.27 (kustomize v5) from the Kubernetes project's packages "
    "(https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/), or point KUBECTL at one; "
    "Debian bookworm's kubernetes-client 1.20 bundles kustomize v2, too old for `patches:` and `labels:`"
)
CLUSTER_SCOPED_KINDS = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
}
POD_TEMPLATE_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


class RenderError(Exception):
    pass


def kubectl_binary() -> str:
    """The kubectl to render with (KUBECTL, else PATH); exits 2 with install instructions when there is none."""
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl or not os.access(kubectl, os.X_OK):
        print(f"validate-deploy: kubectl not found: {KUBECTL_INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    try:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             check=True, timeout=60).stdout
        kustomize_version = json.loads(out).get("kustomizeVersion", "")
    except (subprocess.SubprocessError, ValueError) as e:
        print(f"validate-deploy: {kubectl} does not run ({e}): {KUBECTL_INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    m = re.match(r"v(\d+)", kustomize_version)
    if not m or int(m.group(1)) < 5:
        print(f"validate-deploy: {kubectl} bundles kustomize {kustomize_version or '?'}, need v5: "
              f"{KUBECTL_INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    return kubectl


def kustomize(directory: str) -> list[dict]:
    """`kubectl kustomize DIRECTORY`, parsed."""
    result = subprocess.run([KUBECTL, "kustomize", directory], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip() or f"kubectl kustomize exited {result.returncode}")
    return [d for d in yaml.safe_load_all(result.stdout) if d is not None]


def load_yaml_documents(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def find_kustomization(directory: str) -> str | None:
    return next((os.path.join(directory, n) for n in KUSTOMIZATION_FILES
                 if os.path.isfile(os.path.join(directory, n))), None)


def pod_spec(obj: dict) -> dict | None:
    path = POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    return get(obj, *path) if path else None


def pod_template_metadata(obj: dict) -> dict | None:
    path = POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    return get(obj, *path[:-1], "metadata") if path and obj.get("kind") != "Pod" else None


KUBECTL = ""


# ------------------------------------------------------------------- checker

class Checker:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.warnings: list[str] = []
        self.section = ""

    def check(self, cond: Any, what: str) -> bool:
        if cond:
            self.passed += 1
            return True
        self.failed += 1
        print(f"  FAIL [{self.section}] {what}")
        return False

    def warn(self, what: str) -> None:
        self.warnings.append(f"[{self.section}] {what}")
        print(f"  WARN [{self.section}] {what}")


C = Checker()


def get(obj: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return default
        obj = obj[p]
    return obj


def name_of(o: dict) -> str:
    group = o.get("apiVersion", "").split("/")[0] if "/" in o.get("apiVersion", "") else ""
    md = o.get("metadata") or {}
    ns = md.get("namespace")
    return f"{o.get('kind')}{'.' + group if group else ''} {ns + '/' if ns else ''}{md.get('name')}"


def labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads(objs: list[dict]) -> list[dict]:
    return [o for o in objs if o["kind"] in POD_TEMPLATE_PATHS]


def template_labels(o: dict) -> dict:
    if o["kind"] == "Pod":
        return get(o, "metadata", "labels", default={}) or {}
    md = pod_template_metadata(o)
    return (md or {}).get("labels") or {}


def secrets_dir_keys(c: dict, spec: dict) -> dict[str, set[str]] | None:
    """The Secret keys a container reads as files through FLUXBRAIN_SECRETS_DIR: Secret name -> keys of the
    secret volume mounted at that directory (every key the example lists when the volume names no items);
    None when the container sets no FLUXBRAIN_SECRETS_DIR."""
    directory = next((str(e.get("value")) for e in c.get("env") or []
                      if e.get("name") == "FLUXBRAIN_SECRETS_DIR" and "value" in e), None)
    if directory is None:
        return None
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    found: dict[str, set[str]] = {}
    for m in c.get("volumeMounts") or []:
        if m.get("mountPath", "").rstrip("/") != directory.rstrip("/"):
            continue
        sec = get(volumes.get(m.get("name"), {}), "secret")
        if sec:
            items = sec.get("items")
            keys = ({i.get("key") for i in items if i.get("key") == i.get("path")} if items
                    else set(load_example_secrets().get(sec.get("secretName"), set())))
            found.setdefault(sec.get("secretName"), set()).update(keys)
    return found


def containers(spec: dict) -> list[dict]:
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def is_fluxbrain(c: dict) -> bool:
    return str(c.get("image", "")).split(":")[0].split("@")[0] == IMAGE_REPO


# ------------------------------------------------------------------ schemas

def schema_validate(obj: dict, where: str) -> str:
    """Returns 'schema', 'crd' or 'failed'."""
    import kubernetes_validate as kv
    from kubernetes_validate import utils as kvu
    kind = obj.get("kind")
    try:
        kv.validate(obj, K8S_VERSION, strict=True)
        C.check(True, "")
        return "schema"
    except kvu.SchemaNotFoundError:
        pass
    except kvu.ValidationError as e:
        path = "/".join(str(p) for p in e.path)
        C.check(False, f"{where}: {name_of(obj)}: schema (k8s {K8S_VERSION}): {e.message} at /{path}")
        return "failed"
    except (kvu.InvalidSchemaError, kvu.VersionNotSupportedError) as e:
        C.check(False, f"{where}: {name_of(obj)}: validator error: {e}")
        return "failed"
    if kind in CRD_KINDS:
        ok = C.check(obj.get("apiVersion") in CRD_KINDS[kind],
                     f"{where}: {name_of(obj)}: apiVersion {obj.get('apiVersion')} not in "
                     f"{sorted(CRD_KINDS[kind])}")
        ok &= C.check(get(obj, "metadata", "name") and get(obj, "metadata", "namespace"),
                      f"{where}: {name_of(obj)}: metadata.name/namespace required")
        ok &= C.check(isinstance(obj.get("spec"), dict), f"{where}: {name_of(obj)}: spec mapping")
        return "crd" if ok else "failed"
    C.check(False, f"{where}: {name_of(obj)}: no schema for {obj.get('apiVersion')} {kind} "
                   f"and not a known CRD kind")
    return "failed"


# ------------------------------------------------------------- per build

def load_example_secrets() -> dict[str, set[str]]:
    """Secret name -> keys, from deploy/**/*.example.yaml (also schema-validated)."""
    out: dict[str, set[str]] = {}
    for root, _dirs, files in os.walk("deploy"):
        for f in sorted(files):
            if not f.endswith(".example.yaml"):
                continue
            path = os.path.join(root, f)
            C.section = path
            for doc in load_yaml_documents(path):
                schema_validate(doc, path)
                if doc.get("kind") == "Secret":
                    keys = set((doc.get("stringData") or {}).keys()) | set((doc.get("data") or {}).keys())
                    out[doc["metadata"]["name"]] = keys
                    values = {**(doc.get("stringData") or {}), **(doc.get("data") or {})}
                    for k, v in values.items():
                        C.check(v in ("", None) or "REPLACE" in str(v) or "example.invalid" in str(v),
                                f"{path}: example value of {k} looks real; keep examples empty")
            C.check(not referenced_by_kustomization(path),
                    f"{path} must not be listed in a kustomization's resources")
    return out


def referenced_by_kustomization(path: str) -> bool:
    d = os.path.dirname(path)
    path = find_kustomization(d)
    if path is None:
        return False
    k = load_yaml_documents(path)[0]
    return os.path.basename(path) in (k.get("resources") or [])


def check_cross_refs(label: str, objs: list[dict], example_secrets: dict[str, set[str]]) -> None:
    by_kind: dict[str, list[dict]] = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)

    def exists(kind: str, name: str, ns: str | None = None) -> bool:
        return any(o["metadata"]["name"] == name and
                   (ns is None or (o["metadata"].get("namespace") or "") == ns)
                   for o in by_kind.get(kind, []))

    # RBAC bindings
    for b in by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", []):
        ref = b.get("roleRef") or {}
        ns = b["metadata"].get("namespace") if ref.get("kind") == "Role" else None
        C.check(exists(ref.get("kind", ""), ref.get("name", ""), ns),
                f"{name_of(b)}: roleRef {ref.get('kind')}/{ref.get('name')} not in the render")
        for s in b.get("subjects") or []:
            if s.get("kind") == "ServiceAccount":
                C.check(exists("ServiceAccount", s.get("name"), s.get("namespace")),
                        f"{name_of(b)}: subject ServiceAccount {s.get('namespace')}/{s.get('name')} "
                        "not in the render")
    # A render that creates namespaces must put everything in them (or flux-system);
    # add-ons (deploy/flux, deploy/monitoring) go into existing namespaces.
    for o in objs if by_kind.get("Namespace") else []:
        md_ns = o["metadata"].get("namespace")
        if md_ns and o["kind"] not in CLUSTER_SCOPED_KINDS:
            C.check(exists("Namespace", md_ns) or md_ns == FLUX_NS,
                    f"{name_of(o)}: namespace {md_ns} not created by this render")

    secret_names = {o["metadata"]["name"] for o in by_kind.get("Secret", [])}
    for w in workloads(objs):
        ns = w["metadata"].get("namespace")
        spec = pod_spec(w) or {}
        sa = spec.get("serviceAccountName")
        if sa:
            C.check(exists("ServiceAccount", sa, ns), f"{name_of(w)}: serviceAccountName {sa} missing")
        # pod hardening
        psc = spec.get("securityContext") or {}
        C.check(psc.get("runAsNonRoot") is True, f"{name_of(w)}: pod runAsNonRoot must be true")
        C.check(get(psc, "seccompProfile", "type") == "RuntimeDefault",
                f"{name_of(w)}: pod seccompProfile RuntimeDefault")
        C.check(not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"),
                f"{name_of(w)}: no host namespaces")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        claims = {get(v, "metadata", "name") for v in get(w, "spec", "volumeClaimTemplates", default=[]) or []}
        for c in containers(spec):
            cname = f"{name_of(w)} container {c.get('name')}"
            sc = c.get("securityContext") or {}
            C.check(sc.get("allowPrivilegeEscalation") is False, f"{cname}: allowPrivilegeEscalation false")
            C.check(sc.get("readOnlyRootFilesystem") is True, f"{cname}: readOnlyRootFilesystem true")
            C.check("ALL" in (get(sc, "capabilities", "drop") or []), f"{cname}: capabilities drop ALL")
            C.check(not sc.get("privileged"), f"{cname}: not privileged")
            C.check(not (get(sc, "capabilities", "add") or []), f"{cname}: adds no capabilities")
            res = c.get("resources") or {}
            C.check(get(res, "requests", "cpu") and get(res, "requests", "memory")
                    and get(res, "limits", "memory"),
                    f"{cname}: resources requests cpu/memory and limits memory")
            image = str(c.get("image", ""))
            C.check(image and image != "fluxbrain" and (":" in image.rsplit("/", 1)[-1] or "@" in image),
                    f"{cname}: image {image!r} unresolved or untagged")
            for m in c.get("volumeMounts") or []:
                C.check(m.get("name") in volumes or m.get("name") in claims, f"{cname}: volumeMount {m.get('name')} has no volume")
            for ef in c.get("envFrom") or []:
                ref = ef.get("configMapRef") or ef.get("secretRef")
                kind = "ConfigMap" if "configMapRef" in ef else "Secret"
                if ref and not ref.get("optional"):
                    C.check(exists(kind, ref.get("name"), ns),
                            f"{cname}: envFrom {kind} {ref.get('name')} not in render (and not optional)")
            env_names = [e.get("name") for e in c.get("env") or []]
            C.check(len(env_names) == len(set(env_names)), f"{cname}: duplicate env names {env_names}")
            for e in c.get("env") or []:
                skr = get(e, "valueFrom", "secretKeyRef")
                if skr:
                    if skr.get("name") not in secret_names:
                        C.check(skr.get("optional") is True,
                                f"{cname}: env {e['name']}: secret {skr.get('name')} not in render, "
                                "so secretKeyRef must be optional")
                        C.check(skr.get("key") in example_secrets.get(skr.get("name"), set()),
                                f"{cname}: env {e['name']}: key {skr.get('key')} of secret "
                                f"{skr.get('name')} not documented in a *.example.yaml")
                cmr = get(e, "valueFrom", "configMapKeyRef")
                if cmr and not cmr.get("optional"):
                    C.check(exists("ConfigMap", cmr.get("name"), ns),
                            f"{cname}: env {e['name']}: ConfigMap {cmr.get('name')} missing")
                if e.get("name", "").startswith("FLUXBRAIN_"):
                    C.check(e["name"] in KNOWN_ENV, f"{cname}: unknown setting {e['name']}")
                if e.get("name") in NEVER_PLAIN:
                    C.check("value" not in e, f"{cname}: {e['name']} must come from a Secret")
            if is_fluxbrain(c):
                tmp = [m for m in c.get("volumeMounts") or [] if m.get("mountPath") == "/tmp"]
                C.check(tmp and "emptyDir" in volumes.get(tmp[0]["name"], {}),
                        f"{cname}: /tmp must be an emptyDir (read-only root FS)")
                rid = [e for e in c.get("env") or [] if e.get("name") == "FLUXBRAIN_REPLICA_ID"]
                C.check(rid and get(rid[0], "valueFrom", "fieldRef", "fieldPath") == "metadata.name",
                        f"{cname}: FLUXBRAIN_REPLICA_ID from fieldRef metadata.name")
                dir_keys = secrets_dir_keys(c, spec)
                if dir_keys is not None:
                    C.check(bool(dir_keys), f"{cname}: FLUXBRAIN_SECRETS_DIR is not a mounted Secret volume")
                    C.check(all(m.get("readOnly") for m in c.get("volumeMounts") or []
                                if get(volumes.get(m.get("name"), {}), "secret")),
                            f"{cname}: Secret volumes must be mounted readOnly")
                from_files = set().union(*(dir_keys or {}).values())
                for key in from_files - SECRET_ENV:
                    C.check(False, f"{cname}: {key} in FLUXBRAIN_SECRETS_DIR is not a secret setting")
                for key in SECRET_ENV:
                    C.check((key in env_names) != (key in from_files),
                            f"{cname}: secret setting {key} not wired (or wired twice: env and file)")
        for vname, v in volumes.items():
            sec = v.get("secret")
            if sec and sec.get("secretName") not in secret_names and not sec.get("optional"):
                C.check(sec.get("secretName") in example_secrets,
                        f"{name_of(w)}: volume {vname}: required Secret {sec.get('secretName')} "
                        "has no *.example.yaml")
                for item in sec.get("items") or []:
                    C.check(item.get("key") in example_secrets.get(sec.get("secretName"), set()),
                            f"{name_of(w)}: volume {vname}: key {item.get('key')} not in the example")

    for cm in by_kind.get("ConfigMap", []):
        for k, v in (cm.get("data") or {}).items():
            if k.startswith("FLUXBRAIN_"):
                C.check(k in KNOWN_ENV, f"{name_of(cm)}: unknown setting {k}")
                C.check(k not in NEVER_PLAIN, f"{name_of(cm)}: {k} belongs in the Secret")
            if k == "FLUXBRAIN_REDIS_URL":
                C.check("@" not in str(v), f"{name_of(cm)}: Redis URL with credentials belongs in the Secret")

    # Services, PDBs, NetworkPolicies, StatefulSets
    for svc in by_kind.get("Service", []):
        ns = svc["metadata"].get("namespace")
        sel = get(svc, "spec", "selector", default={}) or {}
        targets = [w for w in workloads(objs) if w["metadata"].get("namespace") == ns
                   and labels_match(sel, template_labels(w))]
        if C.check(targets, f"{name_of(svc)}: selector {sel} matches no pod template"):
            port_names = {p.get("name") for w in targets for c in (pod_spec(w) or {}).get("containers", [])
                          for p in c.get("ports") or []}
            for p in get(svc, "spec", "ports", default=[]) or []:
                tp = p.get("targetPort")
                if isinstance(tp, str):
                    C.check(tp in port_names, f"{name_of(svc)}: targetPort {tp} not a container port name")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        sel = get(pdb, "spec", "selector", "matchLabels", default={})
        C.check(any(labels_match(sel, template_labels(w)) for w in workloads(objs)),
                f"{name_of(pdb)}: selector matches no workload")
    for np_ in by_kind.get("NetworkPolicy", []):
        sel = get(np_, "spec", "podSelector", "matchLabels", default={})
        C.check(any(labels_match(sel, template_labels(w)) for w in workloads(objs)),
                f"{name_of(np_)}: podSelector matches no workload")
        froms = [get(f, "podSelector", "matchLabels", default={})
                 for rule in get(np_, "spec", "ingress", default=[]) or [] for f in rule.get("from") or []]
        for w in workloads(objs):
            if any(is_fluxbrain(c) for c in containers(pod_spec(w) or {})):
                C.check(any(labels_match(f, template_labels(w)) for f in froms),
                        f"{name_of(np_)}: ingress does not admit {name_of(w)}")
    for sts in by_kind.get("StatefulSet", []):
        sn = get(sts, "spec", "serviceName")
        hs = [s for s in by_kind.get("Service", []) if s["metadata"]["name"] == sn]
        C.check(hs and get(hs[0], "spec", "clusterIP") == "None",
                f"{name_of(sts)}: serviceName {sn} must be a headless Service in the render")
        C.check(get(sts, "spec", "volumeClaimTemplates"), f"{name_of(sts)}: needs volumeClaimTemplates")
        if sts["metadata"]["name"] == "fluxbrain-redis":
            c = (pod_spec(sts) or {}).get("containers", [{}])[0]
            text = " ".join(str(x) for x in (c.get("command") or []) + (c.get("args") or []))
            text = re.sub(r"\\\s*\n\s*", " ", text)
            for flag, val in REDIS_FLAGS:
                C.check(re.search(rf"{re.escape(flag)}\s+{val}\b", text),
                        f"{name_of(sts)}: redis must run with {flag} {val}")
            C.check(re.match(r"redis:7\.", c.get("image", "")), f"{name_of(sts)}: redis image 7.x")
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            vcts = {get(v, "metadata", "name") for v in get(sts, "spec", "volumeClaimTemplates") or []}
            C.check(mounts.get("/data") in vcts, f"{name_of(sts)}: /data must be the PVC")


def fluxbrain_deployment(objs: list[dict]) -> dict | None:
    return next((o for o in objs if o["kind"] == "Deployment" and o["metadata"]["name"] == "fluxbrain"), None)


def main_container(w: dict) -> dict:
    return next((c for c in (pod_spec(w) or {}).get("containers", []) if is_fluxbrain(c)), {})


def env_value(c: dict, name: str) -> Any:
    return next((e.get("value") for e in c.get("env") or [] if e.get("name") == name), None)


def check_deployment(d: dict) -> None:
    n = name_of(d)
    C.check(get(d, "spec", "replicas") == 3, f"{n}: 3 replicas")
    c = main_container(d)
    C.check(c.get("args") == ["run"], f"{n}: args [run]")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}

    def probe_ok(probe: str, path: str) -> bool:
        hg = get(c, probe, "httpGet", default={}) or {}
        port = hg.get("port")
        port = ports.get(port, port)
        return hg.get("path") == path and port == 8080
    C.check(probe_ok("livenessProbe", "/healthz"), f"{n}: liveness GET /healthz on 8080")
    C.check(probe_ok("readinessProbe", "/readyz"), f"{n}: readiness GET /readyz on 8080")
    tsc = {t.get("topologyKey") for t in get(d, "spec", "template", "spec", "topologySpreadConstraints",
                                             default=[]) or []}
    C.check({"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= tsc,
            f"{n}: topologySpreadConstraints by hostname and zone")


def check_mode(label: str, objs: list[dict]) -> None:
    kinds = {o["kind"] for o in objs}
    d = fluxbrain_deployment(objs)
    if label == "deploy/base":
        C.check(d is not None, f"{label}: Deployment fluxbrain present")
        if d:
            check_deployment(d)
        pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget"]
        C.check(pdbs and (get(pdbs[0], "spec", "maxUnavailable") == 1 or get(pdbs[0], "spec", "minAvailable") == 2),
                f"{label}: PDB maxUnavailable 1 / minAvailable 2")
        svc = [o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "fluxbrain-metrics"]
        C.check(svc and any(p.get("name") == "http-metrics" and p.get("port") == 8080
                            for p in get(svc[0], "spec", "ports", default=[])),
                f"{label}: metrics Service port 8080 named http-metrics")
        C.check(not any(o["kind"] == "Secret" for o in objs), f"{label}: must not ship a Secret")
        C.check({"StatefulSet", "ClusterRole", "Role", "ConfigMap", "ServiceAccount", "Namespace"} <= kinds,
                f"{label}: base kinds present")
    elif label == "deploy/overlays/cronjob":
        C.check(d is None, f"{label}: Deployment removed")
        C.check("PodDisruptionBudget" not in kinds, f"{label}: PDB removed")
        cjs = [o for o in objs if o["kind"] == "CronJob"]
        if C.check(len(cjs) == 1, f"{label}: exactly one CronJob"):
            cj = cjs[0]
            C.check(get(cj, "spec", "schedule") == "*/10 * * * *", f"{label}: schedule every 10 minutes")
            C.check(get(cj, "spec", "concurrencyPolicy") == "Forbid", f"{label}: concurrencyPolicy Forbid")
            c = main_container(cj)
            C.check((c.get("args") or [None])[0] == "once", f"{label}: runs `fluxbrain once`")
            C.check(env_value(c, "FLUXBRAIN_RUN_MODE") == "once", f"{label}: FLUXBRAIN_RUN_MODE=once")
            C.check(get(cj, "spec", "jobTemplate", "spec", "template", "spec", "restartPolicy")
                    in ("Never", "OnFailure"), f"{label}: job restartPolicy")
    elif label == "deploy/overlays/central":
        C.check(not kinds & {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
                f"{label}: no in-cluster RBAC")
        if C.check(d is not None, f"{label}: Deployment present"):
            check_deployment(d)
            c = main_container(d)
            spec = pod_spec(d) or {}
            C.check(spec.get("automountServiceAccountToken") is False,
                    f"{label}: no ServiceAccount token mounted")
            kc = env_value(c, "KUBECONFIG")
            C.check(kc == "/etc/fluxbrain/kubeconfig", f"{label}: KUBECONFIG=/etc/fluxbrain/kubeconfig")
            vols = {v["name"]: v for v in spec.get("volumes") or []}
            ok = False
            for m in c.get("volumeMounts") or []:
                sec = get(vols.get(m.get("name"), {}), "secret")
                if sec and kc and kc.startswith(m["mountPath"].rstrip("/") + "/"):
                    rel = kc[len(m["mountPath"].rstrip("/")) + 1:]
                    items = sec.get("items")
                    ok = (not items) or any(i.get("path") == rel for i in items)
            C.check(ok, f"{label}: KUBECONFIG file comes from a mounted Secret")
            clusters = env_value(c, "FLUXBRAIN_CLUSTERS") or ""
            C.check(re.fullmatch(r"[\w.-]+=[\w.@:/-]+(,[\w.-]+=[\w.@:/-]+)*", clusters),
                    f"{label}: FLUXBRAIN_CLUSTERS name=context list, got {clusters!r}")
        cms = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "fluxbrain-config"]
        C.check(cms and "FLUXBRAIN_CLUSTER" not in (cms[0].get("data") or {}),
                f"{label}: single-cluster FLUXBRAIN_CLUSTER dropped")
    elif label == "deploy/remote-rbac":
        C.check(not workloads(objs), f"{label}: RBAC only, no workloads")
        toks = [o for o in objs if o["kind"] == "Secret" and o.get("type") == "kubernetes.io/service-account-token"]
        C.check(toks and get(toks[0], "metadata", "annotations", "kubernetes.io/service-account.name") == SA[1]
                and toks[0]["metadata"].get("namespace") == SA[0],
                f"{label}: long-lived token Secret for {SA[0]}/{SA[1]}")
    elif label == "deploy/flux":
        repos = {o["metadata"]["name"] for o in objs if o["kind"] == "GitRepository"}
        ks = [o for o in objs if o["kind"] == "Kustomization"]
        C.check(repos and ks, f"{label}: GitRepository and Flux Kustomization present")
        for k in ks:
            ref = get(k, "spec", "sourceRef", default={})
            C.check(ref.get("kind") == "GitRepository" and ref.get("name") in repos,
                    f"{label}: {name_of(k)} sourceRef resolves")
            path = str(get(k, "spec", "path", default="")).lstrip("./")
            C.check(path and os.path.isdir(path) and os.path.isfile(os.path.join(path, "kustomization.yaml")),
                    f"{label}: {name_of(k)} spec.path {path!r} is a kustomization in this repo")
            C.check(get(k, "spec", "interval") and get(k, "spec", "prune") is not None,
                    f"{label}: {name_of(k)} interval and prune set")
        for g in (o for o in objs if o["kind"] == "GitRepository"):
            C.check(get(g, "spec", "url") and get(g, "spec", "interval") and get(g, "spec", "ref"),
                    f"{label}: {name_of(g)} url/interval/ref")
    elif label == "deploy/monitoring":
        rules = [r for o in objs if o["kind"] == "PrometheusRule"
                 for g in get(o, "spec", "groups", default=[]) for r in g.get("rules") or []]
        exprs = " ".join(str(r.get("expr")) for r in rules)
        for metric in ('fluxbrain_queue_depth{state="dead"}', "fluxbrain_leader", "fluxbrain_redis_errors_total"):
            C.check(metric in exprs, f"{label}: an alert uses {metric}")
        # Every metric an alert uses must be one the code emits.
        emitted = set()
        for root, _, files in os.walk("Sources"):
            for file in files:
                if file.endswith(".swift"):
                    emitted |= set(re.findall(r'"(fluxbrain_[a-z_]+)"', open(os.path.join(root, file)).read()))
        for metric in sorted(set(re.findall(r"fluxbrain_[a-z_]+", exprs))):
            C.check(metric in emitted, f"{label}: alert metric {metric} is emitted by the code")
        C.check(re.search(r"sum\(fluxbrain_leader\)\s*==\s*0", exprs), f"{label}: no-leader alert")
        for r in rules:
            C.check(r.get("alert") and r.get("expr") and str(r["expr"]).count("(") == str(r["expr"]).count(")"),
                    f"{label}: rule {r.get('alert')} needs alert and a balanced expr")
        for sm in (o for o in objs if o["kind"] == "ServiceMonitor"):
            try:
                base = kustomize("deploy/base")
            except RenderError:
                base = []  # reported where deploy/base itself is rendered
            svcs = [s for s in base if s["kind"] == "Service"
                    and labels_match(get(sm, "spec", "selector", "matchLabels", default={}),
                                     s["metadata"].get("labels") or {})]
            C.check(len(svcs) == 1, f"{label}: ServiceMonitor selects exactly the metrics Service")
            ports = {p.get("name") for s in svcs for p in get(s, "spec", "ports", default=[])}
            for ep in get(sm, "spec", "endpoints", default=[]):
                C.check(ep.get("port") in ports, f"{label}: endpoint port {ep.get('port')} exists")


# ---------------------------------------------------------------------- RBAC

def rbac_rules(objs: list[dict]) -> set[tuple[str, str, str, str, str]]:
    out = set()
    roles = {(o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]): o
             for o in objs if o["kind"] in ("Role", "ClusterRole")}
    bound = set()
    for b in (o for o in objs if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace") or ""
        key = (ref["kind"], ns if ref["kind"] == "Role" else "", ref["name"])
        subj = {(s.get("namespace"), s.get("name")) for s in b.get("subjects") or []
                if s.get("kind") == "ServiceAccount"}
        C.check(subj == {SA} and len(b.get("subjects") or []) == 1,
                f"{name_of(b)}: binds exactly ServiceAccount {SA[0]}/{SA[1]}")
        C.check(not (b["kind"] == "ClusterRoleBinding" and ref["kind"] != "ClusterRole"),
                f"{name_of(b)}: roleRef kind")
        bound.add(key)
        role = roles.get(key)
        if role is None:
            continue
        scope = "cluster" if b["kind"] == "ClusterRoleBinding" else "namespace"
        where = "*" if scope == "cluster" else ns
        for r in role.get("rules") or []:
            C.check(not r.get("resourceNames") and not r.get("nonResourceURLs"),
                    f"{name_of(role)}: no resourceNames/nonResourceURLs")
            for g in r.get("apiGroups") or []:
                for res in r.get("resources") or []:
                    for v in r.get("verbs") or []:
                        C.check("*" not in (g, res, v), f"{name_of(role)}: wildcard in rule {r}")
                        out.add((scope, where, g, res, v))
    for key, role in roles.items():
        C.check(key in bound, f"{name_of(role)}: defined but not bound")
        C.check(not role.get("aggregationRule"), f"{name_of(role)}: no aggregationRule")
    return out


def print_rbac_table(rules: set) -> None:
    grouped: dict[tuple, list[str]] = {}
    for scope, ns, g, res, v in rules:
        grouped.setdefault((scope, ns, g or "core", res), []).append(v)
    order = {"get": 0, "list": 1, "watch": 2}
    print("  RBAC granted to ServiceAccount fluxbrain/fluxbrain (exact):")
    for (scope, ns, g, res), verbs in sorted(grouped.items()):
        where = "cluster-wide (ClusterRole fluxbrain-reader)" if scope == "cluster" \
            else f"namespace {ns} (Role fluxbrain-flux-logs)"
        print(f"    {g:30} {res:24} {','.join(sorted(verbs, key=order.get)):16} {where}")


# ------------------------------------------------------------------- compose

def check_compose() -> None:
    C.section = "docker-compose.yml"
    try:
        with open("docker-compose.yml", encoding="utf-8") as f:
            comp = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        C.check(False, f"parse: {e}")
        return
    C.check(isinstance(comp, dict) and isinstance(comp.get("services"), dict), "has services")
    services = comp.get("services") or {}
    volumes_top = set((comp.get("volumes") or {}).keys())
    for name in ("redis", "fake-cluster", "sink", "fluxbrain-1", "fluxbrain-2", "fluxbrain-3"):
        C.check(name in services, f"service {name} defined")
    replica_ids = []
    for sname, s in services.items():
        b = s.get("build")
        if b is not None:
            ctx = b if isinstance(b, str) else b.get("context", ".")
            C.check(os.path.isdir(ctx), f"{sname}: build.context {ctx} exists")
            if isinstance(b, dict):
                df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
                C.check(os.path.isfile(df), f"{sname}: dockerfile {df} exists")
        for ef in ([s["env_file"]] if isinstance(s.get("env_file"), str) else s.get("env_file") or []):
            p = ef if isinstance(ef, str) else ef.get("path")
            C.check(os.path.isfile(p) or (isinstance(ef, dict) and ef.get("required") is False),
                    f"{sname}: env_file {p} exists")
        for v in s.get("volumes") or []:
            if isinstance(v, str):
                src = v.split(":")[0]
                if src.startswith((".", "/", "~")):
                    C.check(os.path.exists(src), f"{sname}: bind mount source {src} exists")
                else:
                    C.check(src in volumes_top, f"{sname}: named volume {src} declared")
            elif isinstance(v, dict):
                if v.get("type") == "bind":
                    C.check(os.path.exists(v.get("source", "")), f"{sname}: bind mount {v.get('source')} exists")
                elif v.get("type") == "volume":
                    C.check(v.get("source") in volumes_top, f"{sname}: named volume {v.get('source')} declared")
        for dep, cond in (s.get("depends_on") or {}).items() if isinstance(s.get("depends_on"), dict) else []:
            C.check(dep in services, f"{sname}: depends_on {dep} exists")
            if cond.get("condition") == "service_healthy":
                C.check(get(services.get(dep, {}), "healthcheck", "test"),
                        f"{sname}: depends_on {dep} service_healthy but {dep} has no healthcheck")
        env = s.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        for k in env:
            if k.startswith("FLUXBRAIN_"):
                C.check(k in KNOWN_ENV, f"{sname}: unknown setting {k}")
        if sname.startswith("fluxbrain-") and sname != "fluxbrain-once":
            C.check(s.get("command") == ["run"], f"{sname}: command [run]")
            replica_ids.append(env.get("FLUXBRAIN_REPLICA_ID"))
            expected = {
                "FLUXBRAIN_REDIS_URL": "redis://redis:6379/0",
                "FLUXBRAIN_KUBE_API_URL": "http://fake-cluster:6443",
                "FLUXBRAIN_CLUSTER": "testbed",
                "FLUXBRAIN_WEBHOOK_URL": "http://sink:9000/hook",
                "FLUXBRAIN_ERRORBRAIN_URL": "${FLUXBRAIN_ERRORBRAIN_URL:-}",
            }
            for k, v in expected.items():
                C.check(env.get(k) == v, f"{sname}: {k}={v!r} (got {env.get(k)!r})")
            C.check(env.get("FLUXBRAIN_REQUEUE_INTERVAL"), f"{sname}: short FLUXBRAIN_REQUEUE_INTERVAL set")
            for dep in ("redis", "fake-cluster", "sink"):
                C.check(get(s, "depends_on", dep, "condition") == "service_healthy",
                        f"{sname}: depends_on {dep} healthy")
        if s.get("image", "").startswith("fluxbrain") or s.get("build") is not None:
            C.check(s.get("read_only") is True, f"{sname}: read_only: true")
            C.check(any(str(t).split(":")[0] == "/tmp" for t in s.get("tmpfs") or []), f"{sname}: tmpfs /tmp")
    C.check(len(replica_ids) == 3 and len(set(replica_ids)) == 3 and None not in replica_ids,
            f"three distinct FLUXBRAIN_REPLICA_IDs (got {replica_ids})")
    fc = services.get("fake-cluster", {})
    C.check(fc.get("entrypoint") == ["fluxbrain-testbed"] and
            fc.get("command") == ["fake-cluster", "--snapshot", "/examples/snapshot", "--listen", "0.0.0.0:6443"],
            "fake-cluster runs fluxbrain-testbed fake-cluster")
    C.check(services.get("sink", {}).get("entrypoint") == ["fluxbrain-testbed"] and
            services.get("sink", {}).get("command") ==
            ["sink", "--listen", "0.0.0.0:9000", "--record", "/tmp/sink.jsonl"], "sink runs fluxbrain-testbed sink")
    redis = services.get("redis", {})
    cmd = redis.get("command")
    cmd = " ".join(cmd) if isinstance(cmd, list) else str(cmd)
    for flag, val in REDIS_FLAGS:
        C.check(re.search(rf"{re.escape(flag)}\s+{val}\b", cmd), f"redis: {flag} {val}")
    C.check(str(redis.get("image", "")).startswith("redis:7"), "redis: image redis:7.x")
    C.check(any(str(v).split(":")[0] in volumes_top for v in redis.get("volumes") or []),
            "redis: data on a named volume")
    check_compose_runtime(services)


# ---------------------------------------------------------------- Dockerfile

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(None, 1)
        out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ""))
    return out


def check_dockerfile() -> None:
    C.section = "Dockerfile"
    try:
        text = open("Dockerfile", encoding="utf-8").read()
    except OSError as e:
        C.check(False, f"read: {e}")
        return
    ins = dockerfile_instructions(text)
    froms = [a for i, a in ins if i == "FROM"]
    C.check(len(froms) >= 2, f"multi-stage build ({len(froms)} FROM)")
    C.check(not re.search(r"^\s*ADD\s+(--\S+\s+)*https?://", text, re.I | re.M), "no `ADD http(s)://`")
    C.check(not any(i == "ADD" for i, _ in ins), "uses COPY, not ADD")
    last = max(idx for idx, (i, _) in enumerate(ins) if i == "FROM")
    final = ins[last:]
    users = [a for i, a in final if i == "USER"]
    C.check(users and users[-1].split(":")[0] not in ("root", "0"), f"final stage USER non-root ({users})")
    C.check(users and users[-1] == "65532:65532", "final stage USER 65532:65532")
    args = {}
    for i, a in ins:
        if i == "ARG" and "=" in a:
            k, v = a.split("=", 1)
            args[k.strip()] = v.strip().strip('"')

    def resolve(s: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), s)
    final_base = resolve(final[0][1].split()[0])
    C.check(final_base == "debian:bookworm-slim", f"runtime base debian:bookworm-slim (got {final_base})")
    builder = resolve(froms[0].split()[0])
    m = re.match(r"swift:(\d+)\.(\d+)", builder)
    tools = re.search(r"swift-tools-version:\s*(\d+)\.(\d+)", open("Package.swift").read()) \
        if os.path.isfile("Package.swift") else None
    if C.check(m and "bookworm" in builder, f"builder is an official swift:6.x-bookworm image (got {builder})"):
        if tools:
            C.check((int(m.group(1)), int(m.group(2))) >= (int(tools.group(1)), int(tools.group(2))),
                    f"builder Swift {m.group(1)}.{m.group(2)} >= Package.swift tools-version "
                    f"{tools.group(1)}.{tools.group(2)}")
    runs = " ".join(a for i, a in ins if i == "RUN")
    C.check(re.search(r"swift build -c release --product fluxbrain --static-swift-stdlib", runs),
            "swift build -c release --product fluxbrain --static-swift-stdlib")
    final_runs = " ".join(a for i, a in final if i == "RUN")
    pkgs = re.findall(r"apt-get install[^&;]*", final_runs)
    installed = {w for p in pkgs for w in p.split()[2:] if not w.startswith("-")}
    C.check(installed == {"libhiredis0.14", "ca-certificates"},
            f"runtime installs exactly libhiredis0.14 ca-certificates (got {sorted(installed)})")
    C.check(("ENTRYPOINT", '["fluxbrain"]') in final, 'ENTRYPOINT ["fluxbrain"]')
    C.check(("CMD", '["run"]') in final, 'CMD ["run"]')
    C.check(any(i == "EXPOSE" and "8080" in a.split() for i, a in final), "EXPOSE 8080")
    # COPY sources must exist in the build context (minus .dockerignore'd paths)
    ignored = read_dockerignore()
    for i, a in ins:
        if i != "COPY" or "--from=" in a:
            continue
        words = [w for w in a.split() if not w.startswith("--")]
        for src in words[:-1]:
            if any(ch in src for ch in "*?["):
                import glob
                C.check(glob.glob(src) or src.startswith("Package.resolve"), f"COPY {src} matches something")
                continue
            top = src.split("/")[0]
            C.check(top not in ignored, f"COPY {src} is excluded by .dockerignore")
            if os.path.exists(src):
                C.check(True, "")
            elif top in PENDING_PATHS:
                C.warn(f"COPY {src}: not in this tree yet (delivered by the code branch); "
                       "the image build needs it")
            else:
                C.check(False, f"COPY {src}: path does not exist")
    if os.path.isdir("examples"):
        snap = "examples/snapshot"
        C.check(os.path.isdir(snap) and any(f.endswith((".yaml", ".yml", ".json")) for f in os.listdir(snap)),
                "examples/snapshot holds YAML/JSON objects (compose fake-cluster serves it)")
    C.section = ".dockerignore"
    for must in (".build", ".git"):
        C.check(must in ignored, f"excludes {must}")


def read_dockerignore() -> set[str]:
    try:
        lines = open(".dockerignore", encoding="utf-8").read().splitlines()
    except OSError:
        C.check(False, ".dockerignore missing")
        return set()
    return {ln.strip().rstrip("/") for ln in lines if ln.strip() and not ln.startswith("#")}


# ---------------------------------------------------------------------- docs

def check_docs() -> None:
    C.section = "docs/deployment.md"
    if not C.check(os.path.isfile("docs/deployment.md"), "exists"):
        return
    text = open("docs/deployment.md", encoding="utf-8").read()
    for p in sorted(set(re.findall(r"(?<![\w/.-])((?:deploy|\.ci|examples)/[\w./-]*[\w])", text))):
        if p.split("/")[0] in PENDING_PATHS and not os.path.exists(p):
            C.warn(f"mentions {p} (not in this tree yet)")
            continue
        C.check(os.path.exists(p), f"mentions {p}, which does not exist")
    for key in sorted(SECRET_ENV):
        C.check(key in text, f"documents {key}")
    for topic in ("kubectl apply -k deploy/base", "deploy/overlays/central", "deploy/overlays/cronjob",
                  "docker compose", "deploy/remote-rbac", "/tmp", "appendfsync"):
        C.check(topic in text, f"covers {topic!r}")


# ------------------------------------------------------------------- runtime
# Does the real binary accept what each container gets? `fluxbrain check-config` runs with exactly the environment
# a compose service or a rendered Deployment/CronJob container would see (env -i style: that environment, the
# image's ENV and a PATH, nothing of CI's), and the container's command line is checked against the binary's own
# description of its commands (`--experimental-dump-help`). Files and ports the configuration names must exist.

BIN_DIR = os.environ.get("FLUXBRAIN_BIN_DIR", "")
# Plausible values for the keys of the Secret `fluxbrain-secrets` (deploy/base/secret.example.yaml).
DUMMY_SECRETS = {
    "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "FLUXBRAIN_WEBHOOK_URL": "https://alerts.example.com/fluxbrain",
    "FLUXBRAIN_WEBHOOK_SECRET": "dummy-hmac-key",
    "FLUXBRAIN_WEBHOOK_HEADERS": "Authorization: Bearer dummy-token; X-Team: platform",
    "FLUXBRAIN_GITHUB_TOKEN": "ghp_dummy0000000000000000000000000000",
    "FLUXBRAIN_REDIS_URL": "redis://:dummy-password@fluxbrain-redis.fluxbrain.svc:6379/0",
    "REDIS_PASSWORD": "dummy-password",
    "PLATFORM_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0000000/B0000002/XXXXXXXXXXXXXXXXXXXXXXXX",
    "PLATFORM_GITHUB_TOKEN": "ghp_dummy0000000000000000000000000001",
    "SLACK_SHOP_WEBHOOK": "https://hooks.slack.com/services/T0000000/B0000001/XXXXXXXXXXXXXXXXXXXXXXXX",
    "PAYMENTS_WEBHOOK_URL": "https://payments.example.com/fluxbrain",
    "PAYMENTS_WEBHOOK_SECRET": "dummy-hmac-key",
}
_help_cache: dict[str, dict] = {}


def dockerfile_runtime() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(ENV of the final stage, image path -> repository path of what it COPYs, ENTRYPOINT)."""
    ins = dockerfile_instructions(open("Dockerfile", encoding="utf-8").read())
    last = max(i for i, (k, _) in enumerate(ins) if k == "FROM")
    env: dict[str, str] = {}
    files: dict[str, str] = {}
    entrypoint: list[str] = []
    for k, a in ins[last:]:
        if k == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', a):
                env[key] = value.strip('"')
        elif k == "COPY":
            words = a.split()
            from_build = any(w.startswith("--from=") for w in words)
            words = [w for w in words if not w.startswith("--")]
            for src in words[:-1]:
                # What the build stage produced lands in /usr/local/bin: the binaries under test.
                files[words[-1]] = os.path.join(BIN_DIR, os.path.basename(src)) if from_build else src
        elif k == "ENTRYPOINT":
            entrypoint = json.loads(a)
    return env, files, entrypoint


def image_path_exists(path: str, files: dict[str, str]) -> bool:
    for image_path, local in files.items():
        if path == image_path or path.startswith(image_path.rstrip("/") + "/"):
            return os.path.exists(local + path[len(image_path.rstrip("/")):])
    return False


def dump_help(binary: str) -> dict | None:
    if binary not in _help_cache:
        path = os.path.join(BIN_DIR, binary)
        if not os.access(path, os.X_OK):
            return None
        out = subprocess.run([path, "--experimental-dump-help"], capture_output=True, text=True, timeout=60)
        _help_cache[binary] = json.loads(out.stdout)["command"] if out.returncode == 0 else {}
    return _help_cache[binary]


def check_command_line(where: str, argv: list[str], files: dict[str, str]) -> dict[str, str]:
    """Checks argv against the binary's dump-help: the binary is in the image, every subcommand, option and value
    exists, required options are given, absolute paths exist in the image. Returns the options given."""
    binary = os.path.basename(argv[0]) if argv else ""
    installed = {os.path.basename(p) for p in files if p.startswith("/usr/local/bin/")}
    if not C.check(binary in installed, f"{where}: runs {binary!r}, which the image does not install ({sorted(installed)})"):
        return {}
    command = dump_help(binary)
    if not C.check(command, f"{where}: {BIN_DIR}/{binary} --experimental-dump-help failed (build it first)"):
        return {}
    args = list(argv[1:])
    while args and not args[0].startswith("-"):
        sub = next((c for c in command.get("subcommands") or [] if c["commandName"] == args[0]), None)
        if not C.check(sub, f"{where}: {binary} has no subcommand {args[0]!r}"):
            return {}
        command = sub
        args.pop(0)
    given: dict[str, str] = {}
    options = {f"--{n['name']}" if n["kind"] == "long" else f"-{n['name']}": a
               for a in command.get("arguments") or [] for n in a.get("names") or []}
    while args:
        word = args.pop(0)
        name, _, inline = word.partition("=")
        arg = options.get(name)
        if not C.check(arg is not None, f"{where}: {binary} {command['commandName']} has no option {name}"):
            continue
        if arg["kind"] == "option":
            value = inline or (args.pop(0) if args else None)
            if not C.check(value is not None, f"{where}: {name} needs a value"):
                continue
            if arg.get("allValues"):
                C.check(value in arg["allValues"], f"{where}: {name} {value!r} not one of {arg['allValues']}")
            given[arg["preferredName"]["name"]] = value
        else:
            given[arg["preferredName"]["name"]] = "true"
    for a in command.get("arguments") or []:
        if a["kind"] == "option" and not a.get("isOptional"):
            C.check(a["preferredName"]["name"] in given, f"{where}: required option --{a['preferredName']['name']} missing")
    return given


def check_config_accepts(where: str, env: dict[str, str], image_env: dict[str, str],
                         refuses: str | None = None) -> None:
    """`fluxbrain check-config` with exactly `env` (plus the image's ENV and a PATH) exits 0; with `refuses`, exits 2
    with a message containing it (a routes file naming a secret that is absent)."""
    binary = os.path.join(BIN_DIR, "fluxbrain")
    if not C.check(os.access(binary, os.X_OK), f"{where}: {binary} not built"):
        return
    full = {"PATH": "/usr/local/bin:/usr/bin:/bin", **image_env, **env}
    result = subprocess.run([binary, "check-config"], env=full, capture_output=True, text=True, timeout=60)
    if refuses is not None:
        C.check(result.returncode == 2 and refuses in result.stderr,
                f"{where}: fluxbrain check-config should refuse with exit 2 naming {refuses!r} "
                f"(exit {result.returncode}): {result.stderr.strip()}")
        return
    C.check(result.returncode == 0 and "configuration OK" in result.stdout,
            f"{where}: fluxbrain check-config rejects its environment (exit {result.returncode}): "
            f"{result.stderr.strip()}")


def mounted_config_maps(spec: dict, c: dict, objs: list[dict], directory: str) -> dict[str, str]:
    """Writes the ConfigMaps mounted into container `c` under `directory`; mountPath -> local directory."""
    by_name = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "ConfigMap"}
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    out: dict[str, str] = {}
    for i, m in enumerate(c.get("volumeMounts") or []):
        ref = get(volumes.get(m.get("name"), {}), "configMap", "name")
        if not ref or ref not in by_name:
            continue
        local = os.path.join(directory, str(i))
        os.makedirs(local, exist_ok=True)
        for key, value in (by_name[ref].get("data") or {}).items():
            with open(os.path.join(local, key), "w") as f:
                f.write(str(value))
        out[m["mountPath"].rstrip("/")] = local
    return out


def interpolate(value: Any, environ: dict[str, str]) -> str:
    """docker compose variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR, $$."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        if m.group(2) == ":-":
            return environ.get(name) or m.group(3)
        if m.group(2) == "-":
            return environ.get(name, m.group(3))
        return environ.get(name, "")
    return re.sub(r"\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}|\$(\w+)", sub, "" if value is None else str(value))


def listen_port(service: dict, options: dict[str, str], env: dict[str, str]) -> int | None:
    if "listen" in options:
        return int(options["listen"].rsplit(":", 1)[1])
    if "FLUXBRAIN_HTTP_ADDR" in env:
        return int(env["FLUXBRAIN_HTTP_ADDR"].rsplit(":", 1)[1])
    return None


def check_compose_runtime(services: dict) -> None:
    C.section = "docker-compose.yml (runtime)"
    image_env, files, entrypoint = dockerfile_runtime()
    ours = {n: s for n, s in services.items() if s.get("build") is not None}
    ports: dict[str, set[int]] = {"redis": {6379}} if "redis" in services else {}
    envs: dict[str, dict[str, str]] = {}
    for name, s in ours.items():
        raw = s.get("environment") or {}
        if isinstance(raw, list):
            raw = dict(e.split("=", 1) if "=" in e else (e, "") for e in raw)
        env = {k: interpolate(v, {}) for k, v in raw.items()}
        envs[name] = env
        ep = s.get("entrypoint", entrypoint)
        argv = (ep if isinstance(ep, list) else ep.split()) + (s.get("command") or [])
        options = check_command_line(f"{name}", argv, files)
        for value in options.values():
            if value.startswith("/"):
                writable = any(str(t).split(":")[0] == os.path.dirname(value) for t in s.get("tmpfs") or [])
                C.check(writable or image_path_exists(value, files),
                        f"{name}: {value} is neither in the image nor on a tmpfs")
        if os.path.basename(argv[0]) == "fluxbrain":
            check_config_accepts(name, env, image_env)
        serves = argv[1:2] != ["once"]
        port = listen_port(s, options, env if os.path.basename(argv[0]) == "fluxbrain" else {}) if serves else None
        if serves and C.check(port, f"{name}: cannot tell which port it listens on"):
            ports[name] = {port}
            for mapping in s.get("ports") or []:
                C.check(int(str(mapping).rsplit(":", 1)[1]) == port,
                        f"{name}: ports {mapping} does not reach port {port} it listens on")
            test = " ".join(str(t) for t in get(s, "healthcheck", "test", default=[]) or [])
            for probed in re.findall(r"/dev/tcp/[\w.]+/(\d+)", test):
                C.check(int(probed) == port, f"{name}: healthcheck probes {probed}, it listens on {port}")
    for name, env in envs.items():
        for key, value in env.items():
            m = re.match(r"(?:https?|redis)://([\w.-]+):(\d+)", value)
            if m and m.group(1) in services:
                C.check(int(m.group(2)) in ports.get(m.group(1), set()),
                        f"{name}: {key}={value}: {m.group(1)} does not listen on {m.group(2)}")


def secret_files(keys: dict[str, set[str]], secrets: dict[str, str], env: dict[str, str]) -> str:
    """A directory standing in for the Secret volume at FLUXBRAIN_SECRETS_DIR: a file per key the volume projects
    and `secrets` fills in (none when the Secret is absent). Removed at exit."""
    directory = tempfile.mkdtemp(prefix="validate-deploy-secrets-")
    atexit.register(shutil.rmtree, directory, True)
    for key in set().union(*keys.values()) if keys else set():
        if key not in secrets:
            continue
        # GitHub Issues need owner and repo besides the token: a token alone is a configuration error, rightly.
        if key == "FLUXBRAIN_GITHUB_TOKEN" and not ("FLUXBRAIN_GITHUB_OWNER" in env and "FLUXBRAIN_GITHUB_REPO" in env):
            continue
        with open(os.path.join(directory, key), "w") as f:
            f.write(secrets[key] + "\n")
    return directory


def container_environments(c: dict, objs: list[dict], pod_name: str,
                           spec: dict | None = None) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """The environments a rendered container can get: without the Secret, and with its keys filled in; each with
    the host directories that stand in for the pod's (FLUXBRAIN_SECRETS_DIR -> a directory of the Secret's files)."""
    ns_objs = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    variants = []
    dir_keys = secrets_dir_keys(c, spec or {})
    for label, secrets in (("Secret absent", {}), ("Secret filled", DUMMY_SECRETS)):
        env: dict[str, str] = {}
        for ef in c.get("envFrom") or []:
            if "configMapRef" in ef:
                env.update({k: str(v) for k, v in (get(ns_objs.get(("ConfigMap", ef["configMapRef"]["name"]), {}),
                                                        "data", default={}) or {}).items()})
            elif "secretRef" in ef:
                env.update(secrets)
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = str(e["value"])
            elif get(e, "valueFrom", "secretKeyRef"):
                key = e["valueFrom"]["secretKeyRef"]["key"]
                if key in secrets:
                    env[e["name"]] = secrets[key]
            elif get(e, "valueFrom", "configMapKeyRef"):
                ref = e["valueFrom"]["configMapKeyRef"]
                value = get(ns_objs.get(("ConfigMap", ref["name"]), {}), "data", ref["key"])
                if value is not None:
                    env[e["name"]] = str(value)
            elif get(e, "valueFrom", "fieldRef", "fieldPath") == "metadata.name":
                env[e["name"]] = pod_name
        # GitHub Issues need owner and repo besides the token: a token alone is a configuration error, rightly.
        if secrets and not ("FLUXBRAIN_GITHUB_OWNER" in env and "FLUXBRAIN_GITHUB_REPO" in env):
            env.pop("FLUXBRAIN_GITHUB_TOKEN", None)
        stand_ins = {}
        if dir_keys is not None and "FLUXBRAIN_SECRETS_DIR" in env:
            stand_ins[env["FLUXBRAIN_SECRETS_DIR"]] = secret_files(dir_keys, secrets, env)
        variants.append((label, env, stand_ins))
    return variants


def check_workload_runtime(label: str, objs: list[dict]) -> None:
    image_env, files, entrypoint = dockerfile_runtime()
    for w in workloads(objs):
        spec = pod_spec(w) or {}
        for c in containers(spec):
            if not is_fluxbrain(c):
                continue
            where = f"{name_of(w)} container {c.get('name')}"
            argv = (c.get("command") or entrypoint) + (c.get("args") or [])
            check_command_line(where, argv, files)
            mounts = [m.get("mountPath", "") for m in c.get("volumeMounts") or []]
            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
            scratch = tempfile.mkdtemp(prefix="fluxbrain-validate-")
            local_mounts = mounted_config_maps(spec, c, objs, scratch)
            pod = f"{w['metadata']['name']}-5d4f8c7b9-abcde"
            for variant, env, stand_ins in container_environments(c, objs, pod, spec):
                # Secret files come from stand-in directories; files from mounted ConfigMaps (the routes file) are
                # read from a local copy.
                local_env = {k: stand_ins.get(v, v) for k, v in env.items()}
                for key, value in env.items():
                    for mount, local in local_mounts.items():
                        if value.startswith(mount + "/"):
                            local_env[key] = local + value[len(mount):]
                # Without the Secret, a routes file that names its secrets must refuse to start, naming it.
                refuses = "FLUXBRAIN_ROUTES_FILE" if variant == "Secret absent" and "FLUXBRAIN_ROUTES_FILE" in env \
                    else None
                check_config_accepts(f"{where} ({variant})", local_env, image_env, refuses=refuses)
                for key, value in env.items():
                    if value.startswith("/"):
                        C.check(any(value == m or value.startswith(m.rstrip("/") + "/") for m in mounts)
                                or image_path_exists(value, files),
                                f"{where}: {key}={value} is neither mounted nor in the image")
                addr = env.get("FLUXBRAIN_HTTP_ADDR")
                if addr and ports:
                    port = int(addr.rsplit(":", 1)[1])
                    C.check(port in ports.values(), f"{where}: listens on {port}, containerPorts are {ports}")
                    for probe in ("livenessProbe", "readinessProbe"):
                        p = get(c, probe, "httpGet", "port")
                        if p is not None:
                            C.check(ports.get(p, p) == port, f"{where}: {probe} port {p} is not {port}")


# ---------------------------------------------------------------------- main

def discover_kustomizations() -> list[str]:
    out = []
    for root, dirs, files in os.walk("deploy"):
        dirs.sort()
        if any(f in files for f in KUSTOMIZATION_FILES):
            out.append(root)
    return sorted(out)


def main() -> int:
    global KUBECTL
    if not os.path.isfile(".ci/validate_deploy.py"):
        print("run from the repository root", file=sys.stderr)
        return 2
    KUBECTL = kubectl_binary()
    if not os.access(os.path.join(BIN_DIR, "fluxbrain"), os.X_OK):
        print("validate-deploy: set FLUXBRAIN_BIN_DIR to where `swift build` put fluxbrain and fluxbrain-testbed",
              file=sys.stderr)
        return 2
    print(f"Kubernetes schema version: {K8S_VERSION} (strict), "
          f"kubernetes-validate {__import__('kubernetes_validate').__version__ if hasattr(__import__('kubernetes_validate'), '__version__') else '?'}")
    example_secrets = load_example_secrets()
    targets = discover_kustomizations()
    expected_targets = {"deploy/base", "deploy/base/rbac", "deploy/overlays/cronjob", "deploy/overlays/central",
                        "deploy/remote-rbac", "deploy/flux", "deploy/monitoring"}
    C.section = "deploy"
    for t in sorted(expected_targets):
        C.check(t in targets, f"{t}/kustomization.yaml exists")
    rbac_printed = False
    for t in targets:
        C.section = t
        try:
            objs = kustomize(t)
        except RenderError as e:
            C.check(False, f"build: {e}")
            continue
        C.check(objs, "renders at least one object")
        stats = {"schema": 0, "crd": 0, "failed": 0}
        for o in objs:
            stats[schema_validate(o, t)] += 1
        print(f"[{t}] {len(objs)} objects: {stats['schema']} schema-valid, "
              f"{stats['crd']} CRD (structural only, no bundled schema), {stats['failed']} invalid")
        check_cross_refs(t, objs, example_secrets)
        check_mode(t, objs)
        check_workload_runtime(t, objs)
        if t == "deploy/base/rbac":
            continue  # checked through base and remote-rbac
        if any(o["kind"] in ("Role", "ClusterRole") for o in objs):
            rules = rbac_rules(objs)
            missing, extra = EXPECTED_RBAC - rules, rules - EXPECTED_RBAC
            C.check(not missing, f"RBAC missing: {sorted(missing)}")
            C.check(not extra, f"RBAC grants more than needed: {sorted(extra)}")
            if not rbac_printed and not missing and not extra:
                print_rbac_table(rules)
                rbac_printed = True
    check_compose()
    check_dockerfile()
    check_docs()
    if C.warnings:
        print(f"{len(C.warnings)} warning(s):")
        for w in C.warnings:
            print(f"  - {w}")
    print(f"validate-deploy: {C.passed} passed, {C.failed} failed")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
