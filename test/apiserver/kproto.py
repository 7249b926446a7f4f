"""Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf).

kubectl's typed clients (`kubectl create configmap|secret|serviceaccount|namespace|role|
rolebinding|clusterrole|clusterrolebinding|token`) send protobuf. The emulator decodes those
few kinds into their JSON form; responses are always JSON (clients accept it). Other kinds
sent as protobuf get 415."""

import base64

from store import ApiError

MAGIC = b"k8s\x00"


def _varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def _fields(b):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, wt, v


def _time(b):
    import time
    secs = 0
    for num, _wt, v in _fields(b):
        if num == 1:
            secs = v
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs))


OWNER = {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"), 5: ("apiVersion", "s"),
         6: ("controller", "b"), 7: ("blockOwnerDeletion", "b")}
META = {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"), 5: ("uid", "s"),
        6: ("resourceVersion", "s"), 7: ("generation", "i"), 8: ("creationTimestamp", "t"),
        11: ("labels", "mss"), 12: ("annotations", "mss"), 13: ("ownerReferences", ["m", OWNER]),
        14: ("finalizers", ["s"])}
OBJREF = {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s"), 4: ("uid", "s"),
          5: ("apiVersion", "s")}
RULE = {1: ("verbs", ["s"]), 2: ("apiGroups", ["s"]), 3: ("resources", ["s"]),
        4: ("resourceNames", ["s"]), 5: ("nonResourceURLs", ["s"])}
SUBJECT = {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")}
ROLEREF = {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")}
ROLE = {1: ("metadata", ("m", META)), 2: ("rules", ["m", RULE])}
BINDING = {1: ("metadata", ("m", META)), 2: ("subjects", ["m", SUBJECT]),
           3: ("roleRef", ("m", ROLEREF))}
RESATTR = {1: ("namespace", "s"), 2: ("verb", "s"), 3: ("group", "s"), 4: ("version", "s"),
           5: ("resource", "s"), 6: ("subresource", "s"), 7: ("name", "s")}
NONRESATTR = {1: ("path", "s"), 2: ("verb", "s")}
SCHEMAS = {
    "SelfSubjectAccessReview": {1: ("metadata", ("m", META)), 2: ("spec", ("m", {
        1: ("resourceAttributes", ("m", RESATTR)),
        2: ("nonResourceAttributes", ("m", NONRESATTR))}))},
    "SubjectAccessReview": {1: ("metadata", ("m", META)), 2: ("spec", ("m", {
        1: ("resourceAttributes", ("m", RESATTR)),
        2: ("nonResourceAttributes", ("m", NONRESATTR)), 3: ("user", "s"),
        4: ("groups", ["s"]), 6: ("uid", "s")}))},
    "SelfSubjectReview": {1: ("metadata", ("m", META))},
    "ConfigMap": {1: ("metadata", ("m", META)), 2: ("data", "mss"), 3: ("binaryData", "msb"),
                  4: ("immutable", "b")},
    "Secret": {1: ("metadata", ("m", META)), 2: ("data", "msb"), 3: ("type", "s"),
               4: ("stringData", "mss"), 5: ("immutable", "b")},
    "ServiceAccount": {1: ("metadata", ("m", META)), 2: ("secrets", ["m", OBJREF]),
                       3: ("imagePullSecrets", ["m", {1: ("name", "s")}]),
                       4: ("automountServiceAccountToken", "b")},
    "Namespace": {1: ("metadata", ("m", META)),
                  2: ("spec", ("m", {1: ("finalizers", ["s"])}))},
    "Role": ROLE, "ClusterRole": ROLE, "RoleBinding": BINDING, "ClusterRoleBinding": BINDING,
    "TokenRequest": {1: ("metadata", ("m", META)),
                     2: ("spec", ("m", {1: ("audiences", ["s"]),
                                        4: ("expirationSeconds", "i")}))},
}


def _scalar(kind, wt, v):
    if kind == "s":
        return v.decode()
    if kind == "i":
        return v
    if kind == "b":
        return bool(v)
    if kind == "t":
        return _time(v)
    raise ValueError(kind)


def _map_entry(v, bytes_value):
    k = val = ""
    for num, _wt, x in _fields(v):
        if num == 1:
            k = x.decode()
        elif num == 2:
            val = base64.b64encode(x).decode() if bytes_value else x.decode()
    return k, val


def decode_message(b, schema):
    out = {}
    for num, wt, v in _fields(b):
        if num not in schema:
            continue
        name, kind = schema[num]
        if isinstance(kind, list):
            item = kind[0]
            if item == "m":
                out.setdefault(name, []).append(decode_message(v, kind[1]))
            else:
                out.setdefault(name, []).append(_scalar(item, wt, v))
        elif isinstance(kind, tuple):
            out[name] = decode_message(v, kind[1])
        elif kind in ("mss", "msb"):
            k, val = _map_entry(v, kind == "msb")
            out.setdefault(name, {})[k] = val
        else:
            out[name] = _scalar(kind, wt, v)
    return out


def decode(body):
    """Protobuf envelope -> JSON-shaped dict; ApiError 415 for kinds it does not know."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "provided protobuf body is missing the k8s prefix")
    api_version = kind = ""
    raw = b""
    for num, _wt, v in _fields(body[4:]):
        if num == 1:
            for n2, _w2, v2 in _fields(v):
                if n2 == 1:
                    api_version = v2.decode()
                elif n2 == 2:
                    kind = v2.decode()
        elif num == 2:
            raw = v
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ApiError(415, "UnsupportedMediaType", "the emulator cannot decode %s sent as "
                       "protobuf; send JSON (application/json)" % (kind or "this object"))
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(raw, schema))
    return obj
