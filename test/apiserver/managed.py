"""metadata.managedFields (FieldsV1) bookkeeping for Update operations and apply.

The field set of an object is computed structurally: maps recurse, lists are atomic except
the built-in lists keyed by a merge key (containers by name, conditions by type...), which
become `k:{"name":"c"}` entries. A map gets a "." member when the map itself was set by the
manager (custom resources: every nested map; built-in kinds: maps and pointer structs listed
in DOT_FIELDS, approximating Go's struct/pointer distinction). For an Update, the manager's
entry gains every field that changed and the other entries lose them, like the real server.
"""

import json

from store import now_rfc3339

KEYED = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
         "env": "name", "volumes": "name", "volumeMounts": "mountPath",
         "conditions": "type", "imagePullSecrets": "name", "ownerReferences": "uid",
         "resizePolicy": "resourceName"}
# built-in fields that are Go maps or pointer structs (get ".")
DOT_FIELDS = {"labels", "annotations", "data", "binaryData", "stringData", "limits", "requests",
              "resources", "rollingUpdate", "conversion", "nodeSelector", "matchLabels",
              "allocatable", "capacity", "allocatedResources", "scaleTargetRef", "metrics",
              "behavior", "nodeAffinity", "affinity", "podAntiAffinity", "podAffinity",
              "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "httpGet",
              "tcpSocket", "exec", "configMap", "secret", "emptyDir", "projected", "fieldRef",
              "resourceFieldRef", "valueFrom", "configMapKeyRef", "secretKeyRef",
              "persistentVolumeClaim", "hostPath"}
# built-in fields that are atomic structs (leaf)
ATOMIC_FIELDS = {"involvedObject", "selector", "securityContext", "related", "regarding",
                 "roleRef"}
SKIP_META = {"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
             "deletionGracePeriodSeconds", "managedFields", "name", "namespace", "selfLink",
             "generateName"}


def _key_str(item, key):
    return "k:" + json.dumps({key: item.get(key)}, separators=(",", ":"))


STATUS_ANNOTATION_KINDS = {"Deployment", "ReplicaSet"}


def _paths(v, prefix, out, builtin, field, kind=None):
    """Add every owned path of value v (under prefix tuple) to set out."""
    if v is None:
        return
    if field == "finalizers" and prefix[:1] == ("f:metadata",) and isinstance(v, list):
        if v:
            out.add(prefix + (".",))
            for x in v:
                out.add(prefix + ("v:" + json.dumps(x),))
        return
    if isinstance(v, dict):
        if builtin and field in ATOMIC_FIELDS:
            out.add(prefix)
            return
        if prefix and (not builtin or field in DOT_FIELDS or field is None):
            if not (len(prefix) == 1 and prefix[0] == "f:metadata"):
                out.add(prefix + (".",))
        if not v and builtin and field not in DOT_FIELDS:
            out.add(prefix)
            return
        for k, sub in v.items():
            _paths(sub, prefix + ("f:" + k,), out, builtin, k, kind)
    elif isinstance(v, list) and builtin and field in KEYED and \
            all(isinstance(x, dict) for x in v):
        key = KEYED[field]
        if (field == "env" or (field == "conditions" and kind != "CustomResourceDefinition")) \
                and v:
            out.add(prefix + (".",))
        for item in v:
            kp = prefix + (_key_str(item, key),)
            out.add(kp + (".",))
            for k, sub in item.items():
                _paths(sub, kp + ("f:" + k,), out, builtin, k, kind)
    else:
        out.add(prefix)


def field_paths(obj, builtin, part):
    """part: 'main' (everything except status) or 'status'."""
    out = set()
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if part == "status" and k not in ("status", "metadata"):
            continue
        if part == "main" and k == "status":
            continue
        if k == "metadata":
            if part == "status":
                # the deployment controller sets its revision annotation through /status
                if obj.get("kind") in STATUS_ANNOTATION_KINDS and v.get("annotations"):
                    _paths(v["annotations"], ("f:metadata", "f:annotations"), out, builtin,
                           "annotations", obj.get("kind"))
                continue
            for mk, mv in (v or {}).items():
                if mk in SKIP_META:
                    continue
                _paths(mv, ("f:metadata", "f:" + mk), out, builtin, mk, obj.get("kind"))
            continue
        _paths(v, ("f:" + k,), out, builtin, k, obj.get("kind"))
    return out


def to_fields_v1(paths):
    root = {}
    for p in sorted(paths):
        cur = root
        for seg in p:
            cur = cur.setdefault(seg, {})
    return _sort(root)


def _sort(d):
    return {k: _sort(d[k]) for k in sorted(d.keys())}


def from_fields_v1(fv, prefix=()):
    out = set()
    for k, sub in fv.items():
        p = prefix + (k,)
        if k == "." or not sub:
            out.add(p)
        else:
            out |= from_fields_v1(sub, p)
    return out


def _leaf_values(obj, builtin, part):
    """Map each path to its value (for change detection)."""
    vals = {}
    for p in field_paths(obj, builtin, part):
        vals[p] = _lookup(obj, p)
    return vals


def _lookup(obj, path):
    cur = obj
    for seg in path:
        if seg == ".":
            return "<map>"
        if seg.startswith("f:"):
            if not isinstance(cur, dict):
                return None
            cur = cur.get(seg[2:])
        elif seg.startswith("v:"):
            return seg
        elif seg.startswith("k:"):
            kv = json.loads(seg[2:])
            (k, v), = kv.items()
            if not isinstance(cur, list):
                return None
            cur = next((x for x in cur if isinstance(x, dict) and x.get(k) == v), None)
    return json.dumps(cur, sort_keys=True)


def update_managed_fields(old, new, manager, operation, subresource, api_version, builtin,
                          source=None):
    """Set new['metadata']['managedFields'] for a write by manager.

    source: the object as the manager sent it (defaults applied); fields are taken from it
    (admission additions are not attributed). Defaults to new."""
    src = source if source is not None else new
    part = "status" if subresource == "status" else "main"
    new_vals = _leaf_values(src, builtin, part)
    if old is None:
        changed = set(new_vals)
        removed = set()
        entries = []
    else:
        old_vals = _leaf_values(old, builtin, part)
        changed = {p for p, v in new_vals.items() if old_vals.get(p) != v}
        removed = set(old_vals) - set(new_vals)
        entries = json.loads(json.dumps(old["metadata"].get("managedFields") or []))
    mine = None
    out = []
    for e in entries:
        same = (e.get("manager") == manager and e.get("operation") == operation and
                e.get("subresource") == subresource and e.get("apiVersion") == api_version)
        fs = from_fields_v1(e.get("fieldsV1") or {})
        if same:
            mine = e
            fs = (fs - removed) | changed
            e["time"] = now_rfc3339()
            if subresource == "scale":
                e.pop("time", None)
        else:
            fs = fs - changed - removed
        if not fs:
            if same:
                mine = None
            continue
        e["fieldsV1"] = to_fields_v1(_close(fs))
        out.append(e)
    if mine is None and changed:
        e = {"manager": manager, "operation": operation, "apiVersion": api_version}
        if subresource != "scale":
            e["time"] = now_rfc3339()
        e["fieldsType"] = "FieldsV1"
        e["fieldsV1"] = to_fields_v1(_close(changed))
        if subresource:
            e["subresource"] = subresource
        out.append(e)
    if out:
        new["metadata"]["managedFields"] = out
    else:
        new["metadata"].pop("managedFields", None)


def _close(paths):
    """Drop '.' markers whose parent has no other member (keeps structure valid)."""
    return paths
