#!/usr/bin/env python3
"""A small, strict subset of `kustomize build`, enough for deploy/ in this repo.

No kustomize/kubectl binary is available where CI runs, so this renders our
kustomizations offline. It supports:

  resources          files (multi-document YAML) and directories (recursively
                     built kustomizations); missing paths and URLs are errors
  namespace          sets metadata.namespace on namespaced objects and the
                     namespace of ServiceAccount subjects of bindings that
                     pointed at a ServiceAccount moved by it
  images             name -> newName / newTag / digest on pod-spec containers
  patches            `path:` or inline `patch:` (one document each), optional `target:`;
                     strategic merge (incl. `$patch: delete` of whole objects,
                     `$patch: delete|replace` inside maps/list items, `null`
                     deleting a key, merge keys for the common lists) and
                     JSON6902 (add / remove / replace / test)
  patchesStrategicMerge (legacy list of files)
  commonLabels       metadata + selectors + pod templates (kustomize semantics)
  labels             pairs with includeSelectors / includeTemplates
  commonAnnotations  metadata.annotations

Transformers of a kustomization apply only to the resources it accumulated
(its own files and the output of its sub-kustomizations), as in kustomize.
Anything unsupported (unknown keys, generators, components, remote bases)
fails loudly instead of being ignored.

Usage: kustomize_build.py DIR   -> prints the rendered YAML stream
"""
from __future__ import annotations

import copy
import os
import sys
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

SUPPORTED_KEYS = {
    "apiVersion", "kind", "resources", "namespace", "images", "patches",
    "patchesStrategicMerge", "commonLabels", "labels", "commonAnnotations",
}

CLUSTER_SCOPED_KINDS = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "Node",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "APIService", "IngressClass", "RuntimeClass", "CSIDriver", "VolumeAttachment",
    "ClusterIssuer", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
}

# Strategic-merge keys of the lists we patch (subset of the Kubernetes ones).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "ports": None,  # containerPort for containers, port for Services: see _port_key
    "tolerations": None, "topologySpreadConstraints": "topologyKey",
    "hostAliases": "ip", "conditions": "type",
}

POD_TEMPLATE_PATHS = {
    # kind -> path to the PodSpec
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------- io

def load_yaml_documents(path: str) -> list[dict]:
    if not os.path.isfile(path):
        raise BuildError(f"{path}: file not found")
    with open(path, encoding="utf-8") as f:
        try:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            raise BuildError(f"{path}: YAML error: {e}") from e
    for d in docs:
        if not isinstance(d, (dict, list)):
            raise BuildError(f"{path}: document is not a mapping or list: {d!r}")
    return docs


def find_kustomization(directory: str) -> str:
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise BuildError(f"{directory}: no kustomization.yaml")


# ------------------------------------------------------------------ identities

def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def res_id(obj: dict) -> tuple[str, str, str, str]:
    md = obj.get("metadata") or {}
    return (group_of(obj.get("apiVersion", "")), obj.get("kind", ""),
            md.get("namespace") or "", md.get("name") or "")


def fmt_id(rid: tuple[str, str, str, str]) -> str:
    g, k, ns, n = rid
    return f"{k}{'.' + g if g else ''} {ns + '/' if ns else ''}{n}"


def _check_object(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise BuildError(f"{where}: resource is not a mapping")
    for key in ("apiVersion", "kind"):
        if not obj.get(key):
            raise BuildError(f"{where}: resource without {key}")
    if not (obj.get("metadata") or {}).get("name"):
        raise BuildError(f"{where}: {obj.get('kind')} without metadata.name")


# ----------------------------------------------------------- strategic merge

def _port_key(items: list) -> str | None:
    sample = next((i for i in items if isinstance(i, dict)), {})
    if "containerPort" in sample:
        return "containerPort"
    if "port" in sample:
        return "port"
    return None


def _merge_key(field: str, base: list, patch: list) -> str | None:
    if field not in MERGE_KEYS:
        return None
    key = MERGE_KEYS[field]
    if field == "ports":
        key = _port_key(base + patch)
    return key


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """Return base merged with patch (new object; inputs untouched)."""
    if isinstance(patch, dict) and isinstance(base, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return None
        if directive not in (None, "merge"):
            raise BuildError(f"unsupported $patch directive {directive!r}")
        out = copy.deepcopy(base)
        for k, v in patch.items():
            if k == "$patch":
                continue
            if v is None:
                out.pop(k, None)
            elif k in out:
                merged = strategic_merge(out[k], v, k)
                if merged is None:
                    out.pop(k)
                else:
                    out[k] = merged
            else:
                out[k] = _strip_directives(v)
        return out
    if isinstance(patch, list) and isinstance(base, list):
        key = _merge_key(field, base, patch)
        if key is None:
            return _strip_directives(patch)  # lists without merge key: replace
        out = copy.deepcopy(base)
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                if isinstance(item, dict) and item.get("$patch") == "replace":
                    return [_strip_directives(i) for i in patch
                            if not (isinstance(i, dict) and i.get("$patch"))]
                raise BuildError(f"list {field!r}: patch item without merge key {key!r}: {item!r}")
            idx = next((i for i, b in enumerate(out)
                        if isinstance(b, dict) and b.get(key) == item[key]), None)
            if item.get("$patch") == "delete":
                if idx is not None:
                    out.pop(idx)
                continue
            if idx is None:
                out.append(_strip_directives(item))
            else:
                out[idx] = strategic_merge(out[idx], item, field)
        return out
    return copy.deepcopy(patch)


def _strip_directives(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if k != "$patch" and x is not None}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v]
    return copy.deepcopy(v)


# ------------------------------------------------------------------ json6902

def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise BuildError(f"JSON patch path must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json6902(obj: dict, ops: list) -> dict:
    out = copy.deepcopy(obj)
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        parent = out
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if kind == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else int(last), op["value"])
            else:
                parent[last] = op["value"]
        elif kind == "replace":
            if isinstance(parent, list):
                parent[int(last)] = op["value"]
            else:
                if last not in parent:
                    raise BuildError(f"JSON patch replace: {op['path']} does not exist")
                parent[last] = op["value"]
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                if last not in parent:
                    raise BuildError(f"JSON patch remove: {op['path']} does not exist")
                del parent[last]
        elif kind == "test":
            cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if cur != op.get("value"):
                raise BuildError(f"JSON patch test failed at {op['path']}")
        else:
            raise BuildError(f"unsupported JSON patch op {kind!r}")
    return out


# ----------------------------------------------------------------- transforms

def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return None
        obj = obj[p]
    return obj


def pod_spec(obj: dict) -> dict | None:
    path = POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    return _get(obj, path) if path else None


def pod_template_metadata(obj: dict) -> dict | None:
    path = POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    if not path or obj.get("kind") == "Pod":
        return None
    tmpl = _get(obj, path[:-1])
    if tmpl is None:
        return None
    return tmpl.setdefault("metadata", {})


def _split_image(image: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def apply_images(objs: list[dict], images: list[dict], where: str) -> None:
    used = set()
    for obj in objs:
        spec = pod_spec(obj)
        if not spec:
            continue
        for field in ("initContainers", "containers", "ephemeralContainers"):
            for c in spec.get(field) or []:
                name, tag, digest = _split_image(c.get("image", ""))
                for rule in images:
                    if rule.get("name") != name:
                        continue
                    used.add(rule["name"])
                    new_name = rule.get("newName", name)
                    if rule.get("digest"):
                        c["image"] = f"{new_name}@{rule['digest']}"
                    else:
                        new_tag = rule.get("newTag", tag)
                        c["image"] = new_name + (f":{new_tag}" if new_tag else "") + \
                            (f"@{digest}" if digest and not rule.get("newTag") else "")
                    break
    for rule in images:
        if "name" not in rule:
            raise BuildError(f"{where}: images entry without name: {rule!r}")


def _add_labels(target: dict, pairs: dict) -> None:
    labels = target.setdefault("labels", {}) or {}
    labels.update({k: str(v) for k, v in pairs.items()})
    target["labels"] = labels


def apply_labels(objs: list[dict], pairs: dict, selectors: bool, templates: bool) -> None:
    for obj in objs:
        _add_labels(obj.setdefault("metadata", {}), pairs)
        kind = obj.get("kind")
        if templates or selectors:
            md = pod_template_metadata(obj)
            if md is not None:
                _add_labels(md, pairs)
            if kind == "CronJob" and _get(obj, ("spec", "jobTemplate")) is not None:
                _add_labels(obj["spec"]["jobTemplate"].setdefault("metadata", {}), pairs)
            if kind == "StatefulSet":
                for vct in _get(obj, ("spec", "volumeClaimTemplates")) or []:
                    _add_labels(vct.setdefault("metadata", {}), pairs)
        if selectors:
            if kind == "Service":
                sel = obj.setdefault("spec", {}).setdefault("selector", {})
                sel.update({k: str(v) for k, v in pairs.items()})
            elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                          "PodDisruptionBudget", "Job"):
                sel = obj.setdefault("spec", {}).setdefault("selector", {})
                sel.setdefault("matchLabels", {}).update({k: str(v) for k, v in pairs.items()})
            elif kind == "NetworkPolicy":
                ps = obj.setdefault("spec", {}).setdefault("podSelector", {})
                ps.setdefault("matchLabels", {}).update({k: str(v) for k, v in pairs.items()})


def apply_namespace(objs: list[dict], namespace: str) -> None:
    moved_sas: set[tuple[str, str]] = set()
    for obj in objs:
        if obj.get("kind") in CLUSTER_SCOPED_KINDS:
            continue
        md = obj.setdefault("metadata", {})
        if obj.get("kind") == "ServiceAccount":
            moved_sas.add((md.get("namespace") or "default", md["name"]))
        md["namespace"] = namespace
    for obj in objs:
        if obj.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
            for s in obj.get("subjects") or []:
                if s.get("kind") == "ServiceAccount" and \
                        (s.get("namespace") or "default", s.get("name")) in moved_sas:
                    s["namespace"] = namespace


def _matches_target(obj: dict, target: dict) -> bool:
    md = obj.get("metadata") or {}
    if "kind" in target and target["kind"] != obj.get("kind"):
        return False
    if "name" in target and target["name"] != md.get("name"):
        return False
    if "namespace" in target and target["namespace"] != (md.get("namespace") or ""):
        return False
    api = obj.get("apiVersion", "")
    if "group" in target and target["group"] != group_of(api):
        return False
    if "version" in target and target["version"] != api.split("/")[-1]:
        return False
    if "labelSelector" in target:
        labels = md.get("labels") or {}
        for term in str(target["labelSelector"]).split(","):
            k, _, v = term.partition("=")
            if labels.get(k.strip()) != v.strip():
                return False
    if "annotationSelector" in target:
        raise BuildError("patch target annotationSelector is not supported")
    return True


def apply_patch_docs(objs: list[dict], docs: list, target: dict | None, where: str) -> list[dict]:
    for doc in docs:
        if isinstance(doc, list):  # JSON6902
            if not target:
                raise BuildError(f"{where}: JSON6902 patch needs a target")
            hits = [i for i, o in enumerate(objs) if _matches_target(o, target)]
            if not hits:
                raise BuildError(f"{where}: patch target {target} matches no resource")
            for i in hits:
                objs[i] = json6902(objs[i], doc)
            continue
        if target:
            hits = [i for i, o in enumerate(objs) if _matches_target(o, target)]
        else:
            _check_object(doc, where)
            pid = res_id(doc)
            hits = [i for i, o in enumerate(objs)
                    if res_id(o)[1] == pid[1] and res_id(o)[3] == pid[3]
                    and (not pid[0] or res_id(o)[0] == pid[0])
                    and (not pid[2] or res_id(o)[2] == pid[2])]
        if not hits:
            what = fmt_id(res_id(doc)) if not target else f"target {target}"
            raise BuildError(f"{where}: patch for {what} matches no resource")
        if len(hits) > 1 and not target:
            raise BuildError(f"{where}: patch for {fmt_id(res_id(doc))} matches several resources")
        if doc.get("$patch") == "delete":
            objs = [o for i, o in enumerate(objs) if i not in hits]
            continue
        for i in hits:
            body = doc
            if target:
                # With a target, the patch's own identity is ignored.
                body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
                md = {k: v for k, v in (doc.get("metadata") or {}).items()
                      if k not in ("name", "namespace")}
                if md:
                    body["metadata"] = md
            objs[i] = strategic_merge(objs[i], body)
    return objs


# ---------------------------------------------------------------------- build

def build(directory: str, _stack: tuple[str, ...] = ()) -> list[dict]:
    directory = os.path.normpath(directory)
    real = os.path.realpath(directory)
    if real in _stack:
        raise BuildError(f"{directory}: cycle in resources")
    kfile = find_kustomization(directory)
    docs = load_yaml_documents(kfile)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise BuildError(f"{kfile}: must contain exactly one mapping")
    k = docs[0]
    unknown = set(k) - SUPPORTED_KEYS
    if unknown:
        raise BuildError(f"{kfile}: unsupported kustomization keys: {sorted(unknown)}")
    if k.get("kind", "Kustomization") != "Kustomization":
        raise BuildError(f"{kfile}: kind must be Kustomization (got {k.get('kind')!r}); "
                         "Components are not supported")

    objs: list[dict] = []
    for entry in k.get("resources") or []:
        if "://" in entry or entry.startswith(("github.com/", "git@")):
            raise BuildError(f"{kfile}: remote resource {entry!r} is not allowed")
        path = os.path.join(directory, entry)
        if os.path.isdir(path):
            objs.extend(build(path, _stack + (real,)))
        elif os.path.isfile(path):
            for d in load_yaml_documents(path):
                if isinstance(d, dict) and d.get("kind", "").endswith("List") and "items" in d:
                    items = d["items"]
                else:
                    items = [d]
                for item in items:
                    _check_object(item, path)
                    objs.append(item)
        else:
            raise BuildError(f"{kfile}: resource {entry!r} not found ({path})")

    seen: dict[tuple, str] = {}
    for o in objs:
        rid = res_id(o)
        if rid in seen:
            raise BuildError(f"{kfile}: duplicate resource {fmt_id(rid)}")
        seen[rid] = kfile

    for p in k.get("patchesStrategicMerge") or []:
        objs = apply_patch_docs(objs, load_yaml_documents(os.path.join(directory, p)), None,
                                os.path.join(directory, p))
    for p in k.get("patches") or []:
        if not isinstance(p, dict) or ("path" in p) == ("patch" in p):
            raise BuildError(f"{kfile}: each patch needs exactly one of path/patch: {p!r}")
        unknown = set(p) - {"path", "patch", "target", "options"}
        if unknown:
            raise BuildError(f"{kfile}: unsupported patch fields {sorted(unknown)}")
        if "path" in p:
            where = os.path.join(directory, p["path"])
            pdocs = load_yaml_documents(where)
        else:
            where = f"{kfile} (inline patch)"
            pdocs = [d for d in yaml.safe_load_all(p["patch"]) if d is not None]
        # kustomize before v5.1 takes one patch per `patches` entry; stay portable.
        if len(pdocs) != 1:
            raise BuildError(f"{where}: a `patches` entry must hold exactly one patch document "
                             f"(found {len(pdocs)}); split it or use one entry per patch")
        objs = apply_patch_docs(objs, pdocs, p.get("target"), where)

    if k.get("namespace"):
        apply_namespace(objs, k["namespace"])
    if k.get("commonLabels"):
        apply_labels(objs, k["commonLabels"], selectors=True, templates=True)
    for entry in k.get("labels") or []:
        unknown = set(entry) - {"pairs", "includeSelectors", "includeTemplates"}
        if unknown:
            raise BuildError(f"{kfile}: unsupported labels fields {sorted(unknown)}")
        apply_labels(objs, entry.get("pairs") or {},
                     selectors=bool(entry.get("includeSelectors")),
                     templates=bool(entry.get("includeTemplates")))
    if k.get("commonAnnotations"):
        for o in objs:
            md = o.setdefault("metadata", {})
            md.setdefault("annotations", {}).update(
                {a: str(b) for a, b in k["commonAnnotations"].items()})
    if k.get("images"):
        apply_images(objs, k["images"], kfile)
    return objs


def dump(objs: list[dict]) -> str:
    return yaml.safe_dump_all(objs, sort_keys=False, default_flow_style=False)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        sys.stdout.write(dump(build(argv[1])))
    except BuildError as e:
        print(f"kustomize_build: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
