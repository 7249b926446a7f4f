"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch."""

import copy

from store import ApiError

# field name -> merge key for strategic merge patch on built-in kinds
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "ports": "containerPort",
    "conditions": "type", "imagePullSecrets": "name", "ownerReferences": "uid",
    "resizePolicy": "resourceName", "volumeDevices": "devicePath", "hostAliases": "ip",
    "envFrom": None, "tolerations": None,
}
# primitive lists merged as sets
SET_LISTS = {"finalizers"}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _bad_patch(msg):
    return ApiError(422, "Invalid", msg)


def _split(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(500, "InternalError", "add operation does not apply: doc is missing path: "
                       + path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts, path):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise ApiError(500, "InternalError",
                               "doc is missing path: \"%s\": missing value" % path)
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise ApiError(500, "InternalError",
                               "doc is missing path: \"%s\": missing value" % path)
        else:
            raise ApiError(500, "InternalError", "doc is missing path: \"%s\"" % path)
    return cur


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type "
                       "jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        path = op.get("path", "")
        parts = _split(path)
        if kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise ApiError(422, "Invalid", "the server rejected our request due to an error "
                               "in our request")
            continue
        if kind in ("move", "copy"):
            fparts = _split(op.get("from", ""))
            val = copy.deepcopy(_walk(doc, fparts, op.get("from")))
            if kind == "move":
                doc = _remove(doc, fparts, op.get("from"))
            doc = _add(doc, parts, val, path)
            continue
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            doc = _remove(doc, parts, path)
        elif kind == "replace":
            _walk(doc, parts, path)
            doc = _remove(doc, parts, path)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        else:
            raise ApiError(500, "InternalError", "Unexpected kind: %s" % kind)
    return doc


def _add(doc, parts, val, path):
    if not parts:
        return val
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = val
    elif isinstance(parent, list):
        if last == "-":
            parent.append(val)
        else:
            try:
                i = int(last)
            except ValueError:
                raise ApiError(500, "InternalError", "add operation does not apply: doc is "
                               "missing path: \"%s\": missing value" % path)
            if i < 0 or i > len(parent):
                raise ApiError(500, "InternalError", "add operation does not apply: doc is "
                               "missing path: \"%s\": missing value" % path)
            parent.insert(i, val)
    else:
        raise ApiError(500, "InternalError", "add operation does not apply: doc is missing "
                       "path: \"%s\": missing value" % path)
    return doc


def _remove(doc, parts, path):
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ApiError(500, "InternalError", "remove operation does not apply: doc is "
                           "missing path: \"%s\": missing value" % path)
        del parent[last]
    elif isinstance(parent, list):
        try:
            del parent[int(last)]
        except (ValueError, IndexError):
            raise ApiError(500, "InternalError", "remove operation does not apply: doc is "
                           "missing path: \"%s\": missing value" % path)
    return doc


def strategic_merge(target, patch, field=None):
    """Strategic merge patch for built-in kinds (merge keys from MERGE_KEYS)."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        if patch.get("$patch") == "delete":
            return None
        out = dict(target) if isinstance(target, dict) else {}
        retain = patch.get("$retainKeys")
        for k, v in patch.items():
            if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
                continue
            if k.startswith("$deleteFromPrimitiveList/"):
                f = k.split("/", 1)[1]
                if isinstance(out.get(f), list):
                    out[f] = [x for x in out[f] if x not in v]
                continue
            if v is None:
                out.pop(k, None)
            else:
                r = strategic_merge(out.get(k), v, k)
                if r is None and isinstance(v, dict) and v.get("$patch") == "delete":
                    out.pop(k, None)
                else:
                    out[k] = r
        if retain is not None:
            out = {k: v for k, v in out.items() if k in retain}
        return out
    if isinstance(patch, list):
        if field in SET_LISTS and isinstance(target, list):
            out = list(target)
            for x in patch:
                if x not in out:
                    out.append(x)
            return out
        key = MERGE_KEYS.get(field)
        if key is None or not isinstance(target, list):
            return [x for x in patch if not (isinstance(x, dict) and x.get("$patch"))]
        if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
            return [x for x in patch if not (isinstance(x, dict) and "$patch" in x)]
        orig = {x.get(key): x for x in target if isinstance(x, dict)}
        used = set()
        out = []
        for item in patch:
            if not isinstance(item, dict):
                out.append(item)
                continue
            k = item.get(key)
            if item.get("$patch") == "delete":
                used.add(k)
                continue
            if k in orig:
                out.append(strategic_merge(orig[k], item))
            else:
                out.append(strategic_merge({}, item))
            used.add(k)
        for x in target:
            if isinstance(x, dict) and x.get(key) in used:
                continue
            out.append(x)
        return out
    return copy.deepcopy(patch)
