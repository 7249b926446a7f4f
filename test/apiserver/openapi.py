"""OpenAPI documents: /openapi/v3 (index + per group-version) and /openapi/v2.

Only custom resources get full schemas (from their CRD); built-in kinds get a permissive
object schema with their GVK, which is enough for kubectl get/describe/apply/explain."""

import hashlib
import json

OBJECT_META_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

OBJECT_META = {
    "description": "ObjectMeta is metadata that all persisted resources must have, which "
                   "includes all objects users must create.",
    "type": "object",
    "properties": {
        "name": {"description": "Name must be unique within a namespace.", "type": "string"},
        "namespace": {"description": "Namespace defines the space within which each name must "
                      "be unique.", "type": "string"},
        "labels": {"description": "Map of string keys and values that can be used to organize "
                   "and categorize (scope and select) objects.", "type": "object",
                   "additionalProperties": {"type": "string", "default": ""}},
        "annotations": {"description": "Annotations is an unstructured key value map stored "
                        "with a resource.", "type": "object",
                        "additionalProperties": {"type": "string", "default": ""}},
        "uid": {"type": "string"}, "resourceVersion": {"type": "string"},
        "generation": {"type": "integer", "format": "int64"},
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "finalizers": {"type": "array", "items": {"type": "string", "default": ""},
                       "x-kubernetes-list-type": "set"},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "generateName": {"type": "string"},
    }}

LIST_META = {"type": "object", "properties": {"continue": {"type": "string"},
                                                "remainingItemCount": {"type": "integer"},
                                                "resourceVersion": {"type": "string"}}}


def _reverse_group(group):
    return ".".join(reversed(group.split("."))) if group else "io.k8s.api.core"


def schema_name(rt, version):
    if rt.crd is not None:
        return "%s.%s.%s" % (_reverse_group(rt.group), version, rt.kind)
    g = rt.group.split(".")[0] if rt.group else "core"
    return "io.k8s.api.%s.%s.%s" % (g, version, rt.kind)


def _crd_schema(rt, version):
    for v in rt.crd.get("spec", {}).get("versions", []):
        if v.get("name") == version:
            return json.loads(json.dumps((v.get("schema") or {}).get("openAPIV3Schema") or {}))
    return {}


def kind_schema(rt, version, v3=True):
    ref = OBJECT_META_REF if v3 else "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    if rt.crd is not None:
        s = _crd_schema(rt, version)
        s.setdefault("type", "object")
    else:
        s = {"type": "object", "description": "%s (schema not modelled by the emulator)"
             % rt.kind, "x-kubernetes-preserve-unknown-fields": True}
    props = s.setdefault("properties", {})
    props["apiVersion"] = {"description": "APIVersion defines the versioned schema of this "
                           "representation of an object.", "type": "string"}
    props["kind"] = {"description": "Kind is a string value representing the REST resource "
                     "this object represents.", "type": "string"}
    props["metadata"] = {"description": "Standard object's metadata. More info: "
                         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                         "api-conventions.md#metadata", "allOf": [{"$ref": ref}]} if v3 else \
        {"$ref": ref}
    s["x-kubernetes-group-version-kind"] = [{"group": rt.group, "kind": rt.kind,
                                             "version": version}]
    return s


def list_schema(rt, version, v3=True):
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    return {"type": "object", "required": ["items"], "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "items": {"type": "array", "items": {"$ref": prefix + schema_name(rt, version)}},
        "metadata": {"$ref": prefix + "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}},
        "x-kubernetes-group-version-kind": [{"group": rt.group, "kind": rt.list_kind,
                                             "version": version}]}


def gv_paths(store):
    out = {}
    for rt in store.types():
        for v in rt.versions:
            p = "api/%s" % v if not rt.group else "apis/%s/%s" % (rt.group, v)
            out.setdefault(p, []).append((rt, v))
    return out


def v3_document(store, gvpath):
    entries = gv_paths(store).get(gvpath)
    if not entries:
        return None
    schemas = {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": OBJECT_META,
               "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta": LIST_META}
    paths = {}
    for rt, v in entries:
        schemas[schema_name(rt, v)] = kind_schema(rt, v)
        schemas[schema_name(rt, v) + "List"] = list_schema(rt, v)
        base = "/" + gvpath + ("/namespaces/{namespace}" if rt.namespaced else "") + \
            "/" + rt.resource
        ref = {"$ref": "#/components/schemas/" + schema_name(rt, v)}
        lref = {"$ref": "#/components/schemas/" + schema_name(rt, v) + "List"}
        gvk = {"group": rt.group, "version": v, "kind": rt.kind}
        paths[base + "/{name}"] = {"get": {
            "description": "read the specified " + rt.kind,
            "operationId": "read" + rt.kind,
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": ref}}}},
            "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}}
        paths[base] = {"get": {
            "description": "list objects of kind " + rt.kind,
            "operationId": "list" + rt.kind,
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": lref}}}},
            "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.13"},
            "paths": paths, "components": {"schemas": schemas}}


def v3_hash(store, gvpath):
    doc = v3_document(store, gvpath)
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()


def v3_index(store):
    out = {}
    for p in sorted(gv_paths(store)):
        out[p] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (p, v3_hash(store, p))}
    return {"paths": out}


def v2_document(store):
    defs = {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": OBJECT_META}
    for rt in store.types():
        for v in rt.versions:
            defs[schema_name(rt, v)] = kind_schema(rt, v, v3=False)
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.13"},
            "paths": {}, "definitions": defs}


# ------------------------------------------------------------------ protobuf (v2)
def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, payload):
    return _varint((num << 3) | 2) + _varint(len(payload)) + payload


def v2_protobuf():
    """A minimal gnostic openapi_v2.Document: swagger "2.0", info, empty paths.

    kubectl then finds no schema for custom resources and uses a JSON merge patch (as it
    does against a real server, where CRD schemas are not used for strategic merge)."""
    info = _field(1, b"Kubernetes") + _field(2, b"v1.33.13")
    return _field(1, b"2.0") + _field(2, info) + _field(8, b"")
