"""HTTP layer of the API-server emulator: authentication, routing, verbs, watch streaming."""

import collections
import json
import os
import queue
import secrets
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import admission
import discovery
import k8sselectors as sel
import managed
import openapi
import patch as patchmod
import resources
import table
import validation
from faults import Faults
from rbac import Authorizer, User
from store import ApiError, decode_continue, deepcopy, details_for, encode_continue, not_found

JSON = "application/json"
TABLE_MARK = "as=Table"
RETURN_OBJECT_ON_DELETE = {("", "pods"), ("", "services"), ("", "namespaces")}
PATCH_TYPES = {"application/json-patch+json": "json", "application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic",
               "application/apply-patch+yaml": "apply", "application/apply-patch+json": "apply"}
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def dumps(o):
    return json.dumps(o, separators=(",", ":"))


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query            # dict name -> last value
        self.headers = headers
        self.body = body              # bytes
        self.user = None
        self.warnings = []
        self.obj = None               # pre-decoded body (in-process callers)

    def q(self, name, default=None):
        return self.query.get(name, default)

    @property
    def accept(self):
        return self.headers.get("Accept") or ""

    @property
    def wants_table(self):
        first = self.accept.split(",")[0]
        return TABLE_MARK in first and "g=meta.k8s.io" in first

    @property
    def wants_partial(self):
        first = self.accept.split(",")[0]
        return "as=PartialObjectMetadata" in first and "g=meta.k8s.io" in first

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    def manager(self):
        fm = self.q("fieldManager")
        if fm:
            return fm
        ua = self.headers.get("User-Agent") or "unknown"
        return ua.split("/")[0] or "unknown"

    def dry_run(self):
        return self.q("dryRun") == "All"

    def json_body(self):
        if self.obj is not None:
            return deepcopy(self.obj)
        if not self.body:
            raise ApiError(400, "BadRequest", "the body of the request was empty")
        ct = self.content_type
        if ct == "application/vnd.kubernetes.protobuf":
            import kproto
            return kproto.decode(self.body)
        try:
            if "yaml" in ct:
                import yaml
                return yaml.safe_load(self.body.decode())
            return json.loads(self.body.decode())
        except Exception as e:  # noqa: BLE001 - any decode error is a 400
            raise ApiError(400, "BadRequest", "the body of the request could not be decoded: %s"
                           % e)


class Response:
    def __init__(self, status, body=None, ctype=JSON, headers=None, raw=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = headers or {}
        self.raw = raw


class App:
    """Everything behind the HTTP handler; also usable directly from tests."""

    def __init__(self, store, state_dir, cluster=None, bookmark_interval=60.0):
        self.store = store
        self.dir = state_dir
        self.cluster = cluster
        self.port = 0
        self.bookmark_interval = bookmark_interval
        self.discovery = discovery.Discovery(store, metrics=cluster is not None)
        self.authz = Authorizer(store)
        self.faults = Faults(store)
        self.admin_token = None
        self.tokens = {}               # token -> User
        self.tokens_lock = threading.Lock()
        self.stopping = threading.Event()
        self.active_watches = 0
        self._ev_cache = collections.OrderedDict()
        self._ev_lock = threading.Lock()
        store.subscribe(self._on_event)

    # ------------------------------------------------------------ bookkeeping hooks
    def _on_event(self, etype, key, obj):
        if key == CRD_KEY:
            if etype == "DELETED":
                rt = resources.from_crd(obj)
                if rt is not None:
                    self.store.unregister_type(rt.key)
            else:
                rt = resources.from_crd(obj)
                if rt is not None:
                    self.store.register_type(rt)
        elif key == ("", "serviceaccounts"):
            md = obj["metadata"]
            if etype == "ADDED":
                self._sa_token(md["namespace"], md["name"])
            elif etype == "DELETED":
                self._drop_sa_tokens(md["namespace"], md["name"])
        elif key == ("", "namespaces") and etype == "ADDED":
            name = obj["metadata"]["name"]
            threading.Thread(target=self._default_sa, args=(name,), daemon=True).start()

    def _default_sa(self, ns):
        try:
            self.store.create(("", "serviceaccounts"), {
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns}})
        except ApiError:
            pass

    def _sa_token(self, ns, name):
        token = "sa-" + secrets.token_hex(24)
        with self.tokens_lock:
            self.tokens[token] = User("system:serviceaccount:%s:%s" % (ns, name),
                                      ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                                       "system:authenticated"], sa=(ns, name))
        if self.dir:
            d = os.path.join(self.dir, "tokens")
            os.makedirs(d, exist_ok=True)
            p = os.path.join(d, "%s.%s.token" % (ns, name))
            tmp = p + ".tmp"
            with open(tmp, "w") as f:
                f.write(token)
            os.replace(tmp, p)
        return token

    def _drop_sa_tokens(self, ns, name):
        with self.tokens_lock:
            for t, u in list(self.tokens.items()):
                if u.sa == (ns, name):
                    del self.tokens[t]
        if self.dir:
            try:
                os.unlink(os.path.join(self.dir, "tokens", "%s.%s.token" % (ns, name)))
            except OSError:
                pass

    def set_admin_token(self, token):
        self.admin_token = token
        with self.tokens_lock:
            self.tokens[token] = User("mbcas-admin", ["system:masters", "system:authenticated"])

    # ------------------------------------------------------------ authentication
    def authenticate(self, req, peercert):
        auth = req.headers.get("Authorization")
        if auth:
            parts = auth.split(" ", 1)
            if len(parts) == 2 and parts[0].lower() == "bearer":
                with self.tokens_lock:
                    u = self.tokens.get(parts[1].strip())
                if u is not None:
                    return u
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if peercert:
            cn, orgs = None, []
            for rdn in peercert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            if cn:
                return User(cn, orgs + ["system:authenticated"])
        return User("system:anonymous", ["system:unauthenticated"])

    # ------------------------------------------------------------ entry point
    def handle(self, req, peercert=None, stream=None):
        """Serve one request. stream(status, headers) -> writer is used for watches."""
        try:
            req.user = self.authenticate(req, peercert)
            return self._route(req, stream)
        except ApiError as e:
            return Response(e.code, e.status(), headers=dict(e.headers))
        except Exception:  # noqa: BLE001 - report as a 500 Status like the real server
            tb = traceback.format_exc()
            print(tb, flush=True)
            e = ApiError(500, "InternalError", "Internal error occurred: %s"
                         % tb.strip().splitlines()[-1])
            return Response(500, e.status())

    def _route(self, req, stream):
        path = req.path.rstrip("/") or "/"
        if path.startswith("/_emulator/"):
            return self._emulator(req, path)
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]] if path != "/" else []
        # non-resource paths
        if not parts or parts[0] not in ("api", "apis") or \
                (parts[0] == "apis" and len(parts) <= 3) or (parts[0] == "api" and len(parts) <= 2):
            self.authz.check_path(req.user, req.method.lower(), path)
            self.faults.before(req.method, req.method.lower(), path)
            return self._nonresource(req, path, parts)
        if parts[0] == "apis" and parts[1] == "metrics.k8s.io":
            return self._metrics(req, path, parts)
        return self._resource(req, path, parts, stream)

    # ------------------------------------------------------------ non-resource
    def _nonresource(self, req, path, parts):
        agg = "as=APIGroupDiscoveryList" in req.accept and "g=apidiscovery.k8s.io" in req.accept
        if path == "/version":
            return Response(200, self.discovery.version())
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, raw=b"ok", ctype="text/plain; charset=utf-8")
        if path == "/api":
            if agg:
                return Response(200, self.discovery.aggregated(core=True),
                                ctype=discovery.AGG_CT)
            self.discovery.port = self.port
            return Response(200, self.discovery.api_versions())
        if path == "/apis":
            if agg:
                return Response(200, self.discovery.aggregated(core=False),
                                ctype=discovery.AGG_CT)
            return Response(200, self.discovery.group_list())
        if len(parts) == 2 and parts[0] == "api":
            doc = self.discovery.resource_list("", parts[1])
            if doc:
                return Response(200, doc)
        if len(parts) == 2 and parts[0] == "apis":
            doc = self.discovery.api_group(parts[1])
            if doc:
                return Response(200, doc)
        if len(parts) == 3 and parts[0] == "apis":
            doc = self.discovery.resource_list(parts[1], parts[2])
            if doc:
                return Response(200, doc)
        if path == "/openapi/v2":
            if "protobuf" in req.accept:
                return Response(200, raw=openapi.v2_protobuf(),
                                ctype="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return Response(200, openapi.v2_document(self.store))
        if path == "/openapi/v3":
            return Response(200, openapi.v3_index(self.store),
                            ctype="text/plain; charset=utf-8")
        if path.startswith("/openapi/v3/"):
            doc = openapi.v3_document(self.store, path[len("/openapi/v3/"):])
            if doc:
                return Response(200, doc)
        return Response(404, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": "the server could not find the "
                              "requested resource", "reason": "NotFound",
                              "details": {}, "code": 404})

    def _metrics(self, req, path, parts):
        if self.cluster is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if len(parts) == 3:
            doc = self.discovery.resource_list("metrics.k8s.io", parts[2])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource", {})
            return Response(200, doc)
        res = parts[-2] if len(parts) >= 5 and parts[-2] in ("pods", "nodes") else parts[-1]
        ns = parts[4] if len(parts) > 4 and parts[3] == "namespaces" else ""
        name = parts[-1] if res != parts[-1] else ""
        self.authz.check(req.user, "get" if name else "list", "metrics.k8s.io", res, "", ns,
                         name)
        status, body = self.cluster.handle_metrics(req.method, path, dict(req.query))
        return Response(status, body)

    def _emulator(self, req, path):
        if not req.user.admin:
            raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s"'
                           % (req.user.name, req.method.lower(), path), {})
        if path == "/_emulator/faults":
            if req.method == "POST":
                self.faults.add(req.json_body())
                return Response(200, {"faults": self.faults.list()})
            if req.method == "DELETE":
                self.faults.clear()
                return Response(200, {"faults": []})
            return Response(200, {"faults": self.faults.list()})
        if path == "/_emulator/metrics":
            if self.cluster is None:
                raise ApiError(404, "NotFound", "the simulated cluster is off", {})
            st, ct, body = self.cluster.handle_prom_scrape()
            return Response(st, raw=body, ctype=ct)
        if path == "/_emulator/compact":
            self.store.compact()
            return Response(200, {"resourceVersion": str(self.store.resource_version())})
        if path == "/_emulator/stats":
            return Response(200, {"resourceVersion": str(self.store.resource_version()),
                                  "watches": self.active_watches})
        raise ApiError(404, "NotFound", "unknown emulator endpoint", {})

    # ------------------------------------------------------------ resource routing
    def _parse_resource_path(self, parts):
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2 and \
                not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns = rest[1]
            rest = rest[2:]
        if not rest:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        resource = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        subpath = "/".join(rest[3:]) if len(rest) > 3 else ""
        return group, version, ns, resource, name, sub, subpath

    def _rt(self, group, version, resource):
        rt = self.store.type_for((group, resource))
        if rt is None or version not in rt.versions:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        return rt

    def _resource(self, req, path, parts, stream):
        group, version, ns, resource, name, sub, subpath = self._parse_resource_path(parts)
        # pod proxy goes to the cluster module
        if group == "" and resource == "pods" and sub == "proxy" and ns:
            pname, _, port = name.partition(":")
            self.authz.check(req.user, req.method.lower() if req.method != "GET" else "get",
                             "", "pods", "proxy", ns, pname)
            if self.cluster is None:
                raise ApiError(503, "ServiceUnavailable", "the simulated cluster is off")
            st, ct, body = self.cluster.handle_proxy(ns, pname, port, subpath, dict(req.query))
            return Response(st, raw=body, ctype=ct)
        rt = self._rt(group, version, resource)
        if ns is not None and not rt.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if rt.namespaced and ns is None and name is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        if sub is not None and sub not in rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        m = req.method
        watch = req.q("watch") in ("1", "true", "True")
        if m == "GET":
            verb = "watch" if watch else ("get" if name else "list")
        elif m == "POST":
            verb = "create"
        elif m == "PUT":
            verb = "update"
        elif m == "PATCH":
            verb = "patch"
        elif m == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                           "requested resource")
        authz_name = name or ""
        if verb == "watch" and req.q("fieldSelector", "").startswith("metadata.name="):
            authz_name = req.q("fieldSelector")[len("metadata.name="):]
        self.authz.check(req.user, verb, group, resource, sub or "", ns or "", authz_name)
        target = None
        if verb in ("update", "patch") and name:
            target = (rt.key, name)
        self.faults.before(m, verb, path, target)
        rns = ns or ""
        if verb == "get":
            return self._get(req, rt, version, rns, name, sub)
        if verb == "list":
            return self._list(req, rt, version, ns)
        if verb == "watch":
            return self._watch(req, rt, version, ns, stream)
        if verb == "create":
            if name and sub:
                return self._create_sub(req, rt, version, rns, name, sub)
            if name:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            return self._create(req, rt, version, rns)
        if verb == "update":
            return self._update(req, rt, version, rns, name, sub)
        if verb == "patch":
            return self._patch(req, rt, version, rns, name, sub)
        if verb == "delete":
            return self._delete(req, rt, rns, name)
        return self._deletecollection(req, rt, version, ns)

    # ------------------------------------------------------------ helpers
    def _out(self, rt, version, obj):
        """Present a stored object at the requested version."""
        if rt.crd is not None or len(rt.versions) > 1:
            obj = dict(obj)
            obj["apiVersion"] = version if not rt.group else "%s/%s" % (rt.group, version)
        return obj

    def _maybe_table(self, req, rt, version, obj):
        if req.wants_partial:
            return table.partial(obj)
        if req.wants_table:
            rv = obj.get("metadata", {}).get("resourceVersion", "")
            return table.table(rt, version, [obj], rv,
                               include_object=req.q("includeObject", "Metadata"))
        return obj

    def _ns_exists(self, ns):
        if self.store.get_ref(("", "namespaces"), "", ns) is None:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                           {"name": ns, "kind": "namespaces"})

    def _scale_of(self, rt, obj):
        md = obj["metadata"]
        smd = {"name": md["name"]}
        if md.get("namespace"):
            smd["namespace"] = md["namespace"]
        smd.update({"uid": md["uid"], "resourceVersion": md["resourceVersion"],
                    "creationTimestamp": md["creationTimestamp"]})
        _f, spec_r = validation.get_path(obj, rt.scale["spec"])
        _f, stat_r = validation.get_path(obj, rt.scale["status"])
        status = {"replicas": stat_r if isinstance(stat_r, int) else 0}
        if rt.scale.get("selector") == "builtin":
            s = sel.selector_string((obj.get("spec") or {}).get("selector"))
            if s:
                status["selector"] = s
        elif rt.scale.get("selector"):
            _f, s = validation.get_path(obj, rt.scale["selector"])
            if s:
                status["selector"] = s
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": smd,
                "spec": {"replicas": spec_r if isinstance(spec_r, int) else 0},
                "status": status}

    def _get_obj(self, rt, ns, name):
        obj = self.store.get(rt.key, ns, name)
        if obj is None:
            raise not_found(rt.key, name)
        return obj

    # ------------------------------------------------------------ GET
    def _get(self, req, rt, version, ns, name, sub):
        obj = self._get_obj(rt, ns, name)
        if sub == "scale":
            return Response(200, self._scale_of(rt, obj))
        if sub not in (None, "status", "resize"):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on "
                           "the requested resource")
        return Response(200, self._maybe_table(req, rt, version, self._out(rt, version, obj)))

    # ------------------------------------------------------------ LIST
    def _selectors(self, req, rt, version):
        lreqs = sel.parse_label_selector(req.q("labelSelector"))
        freqs = sel.parse_field_selector(req.q("fieldSelector"))
        sel.validate_field_selector(rt.key, rt.kind, freqs, version)

        def match(o):
            return sel.matches_labels(lreqs, o) and sel.matches_fields(freqs, o)
        return match if (lreqs or freqs) else None

    def _list(self, req, rt, version, ns):
        match = self._selectors(req, rt, version)
        rvq = req.q("resourceVersion")
        if rvq not in (None, "", "0"):
            try:
                r = int(rvq)
            except ValueError:
                raise ApiError(400, "BadRequest", "invalid resource version: %s" % rvq)
            if r < self.store.window_start() and req.q("resourceVersionMatch") == "Exact":
                raise ApiError(410, "Expired", "The resourceVersion for the provided list is "
                               "too old.")
            if r > self.store.resource_version():
                raise ApiError(504, "Timeout", "Too large resource version: %d, current: %d"
                               % (r, self.store.resource_version()),
                               {"causes": [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}],
                                "retryAfterSeconds": 1})
        limit = int(req.q("limit", "0") or 0)
        start = None
        list_rv = None
        if req.q("continue"):
            list_rv, key = decode_continue(req.q("continue"))
            if ns is not None:
                start = (ns, key)
            else:
                a, _, b = key.partition("/")
                start = (a, b) if rt.namespaced else ("", a)
            if list_rv < self.store.window_start():
                raise ApiError(410, "Expired", "The provided continue parameter is too old to "
                               "display a consistent list result. You can start a new list "
                               "without the continue parameter, or use the continue token in "
                               "this response to retrieve the remainder of the results. "
                               "Continuing with the provided token results in an inconsistent "
                               "list - objects that were created, modified, or deleted between "
                               "the time the first chunk was returned and now may show up in "
                               "the list.")
        # stored objects are never modified in place, so they can be serialized after
        # the lock is released
        with self.store.lock:
            items, rv, last, remaining = self.store.list_page(rt.key, ns, match, limit, start)
        if list_rv is None:
            list_rv = rv
        md = {}
        cont = ""
        if match is not None:
            remaining = 0  # not reported with selectors, like the real server
        if last is not None:
            k = last[1] if (ns is not None or not rt.namespaced) else "%s/%s" % last
            cont = encode_continue(list_rv, k)
        if req.wants_table:
            body = table.table(rt, version, items, list_rv, cont or None,
                               remaining if last is not None else None,
                               include_object=req.q("includeObject", "Metadata"))
            return Response(200, raw=dumps(body).encode())
        if req.wants_partial:
            md["resourceVersion"] = str(list_rv)
            if cont:
                md["continue"] = cont
            body = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                    "metadata": md, "items": [table.partial(o) for o in items]}
            return Response(200, raw=dumps(body).encode())
        if rt.crd is None:
            # typed lists of built-in kinds carry no apiVersion/kind per item
            out_items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
                         for o in items]
        else:
            out_items = [self._out(rt, version, o) for o in items]
        apiv = version if not rt.group else "%s/%s" % (rt.group, version)
        if rt.crd is not None:
            md["continue"] = cont
            md["resourceVersion"] = str(list_rv)
            if last is not None and remaining:
                md["remainingItemCount"] = remaining
            body = {"apiVersion": apiv, "items": out_items, "kind": rt.list_kind,
                    "metadata": md}
        else:
            md["resourceVersion"] = str(list_rv)
            if cont:
                md["continue"] = cont
            if last is not None and remaining:
                md["remainingItemCount"] = remaining
            body = {"kind": rt.list_kind, "apiVersion": apiv, "metadata": md,
                    "items": out_items}
        return Response(200, raw=dumps(body).encode())

    # ------------------------------------------------------------ WATCH
    def _watch(self, req, rt, version, ns, stream):
        match = self._selectors(req, rt, version)
        timeout = req.q("timeoutSeconds")
        timeout = float(timeout) if timeout else 1800.0
        bookmarks = req.q("allowWatchBookmarks") in ("true", "1")
        rv = req.q("resourceVersion")
        send_initial = req.q("sendInitialEvents") == "true"
        if send_initial:
            rv = None
        wants_table = req.wants_table
        try:
            watcher, initial = self.store.watch(rt.key, ns, rv)
        except ApiError as e:
            if e.code != 410:
                raise
            w = stream(200, {"Content-Type": JSON})
            w.write(dumps({"type": "ERROR", "object": e.status()}).encode() + b"\n")
            w.close()
            return None
        apiv = version if not rt.group else "%s/%s" % (rt.group, version)
        writer = stream(200, {"Content-Type": JSON})
        self.active_watches += 1
        first = [True]
        last_rv = [int(rv) if rv not in (None, "", "0") and rv.isdigit() else
                   self.store.resource_version()]
        progressed = [False]

        def emit(etype, obj, erv, prev=None):
            last_rv[0] = max(last_rv[0], erv)
            if etype != "ADDED" or not send_initial:
                progressed[0] = True
            if match is not None:
                # like the watch cache: an object entering the selection is ADDED, one
                # leaving it is DELETED (with its new state)
                now_in = match(obj)
                was_in = prev is not None and match(prev)
                if etype == "MODIFIED":
                    if now_in and not was_in:
                        etype = "ADDED"
                    elif was_in and not now_in:
                        etype = "DELETED"
                    elif not now_in:
                        return
                elif etype == "DELETED":
                    if not (now_in or was_in):
                        return
                elif not now_in:
                    return
            if wants_table:
                o = table.table(rt, version, [obj], obj["metadata"].get("resourceVersion", ""),
                                include_object=req.q("includeObject", "Metadata"),
                                with_columns=first[0])
                first[0] = False
            else:
                writer.write(self._event_bytes(etype, rt, version, obj))
                return
            writer.write(dumps({"type": etype, "object": o}).encode() + b"\n")

        def bookmark(extra=None):
            md = {"resourceVersion": str(last_rv[0])}
            if extra:
                md["annotations"] = extra
            writer.write(dumps({"type": "BOOKMARK", "object": {
                "apiVersion": apiv, "kind": rt.kind, "metadata": md}}).encode() + b"\n")

        try:
            start = time.monotonic()
            deadline = start + timeout
            for (etype, _k, obj, erv, prev) in initial:
                emit(etype, obj, erv, prev)
            if send_initial:
                last_rv[0] = max(last_rv[0], self.store.resource_version())
                bookmark({"k8s.io/initial-events-end": "true"})
            # events replayed from history (a resumed watch) go out now, not with the
            # next live event
            writer.flush()
            if self.faults.take_watch_drop():
                return None
            final_bm_at = deadline - 2.0 if timeout > 2.0 else None
            final_bm_sent = False
            next_bm = start + self.bookmark_interval
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = deadline - now
                if bookmarks:
                    if final_bm_at is not None and not final_bm_sent:
                        wait = min(wait, max(0.0, final_bm_at - now))
                    wait = min(wait, max(0.0, next_bm - now))
                try:
                    ev = watcher.get(timeout=max(0.01, min(wait, 1.0)))
                except queue.Empty:
                    ev = False
                    if hasattr(writer, "peer_closed") and writer.peer_closed():
                        break
                if ev is None:
                    break
                if ev:
                    emit(ev[0], ev[2], ev[3], ev[4])
                    # drain whatever else is queued without waiting
                    while True:
                        try:
                            ev = watcher.get(timeout=0)
                        except queue.Empty:
                            break
                        if ev is None:
                            return None
                        emit(ev[0], ev[2], ev[3], ev[4])
                    writer.flush()
                now = time.monotonic()
                if bookmarks and progressed[0]:
                    if final_bm_at is not None and not final_bm_sent and now >= final_bm_at:
                        final_bm_sent = True
                        bookmark()
                        writer.flush()
                    elif now >= next_bm:
                        bookmark()
                        writer.flush()
                if now >= next_bm:
                    next_bm = now + self.bookmark_interval
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        finally:
            self.active_watches -= 1
            watcher.close()
            try:
                writer.close()
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                pass
        return None

    def _event_bytes(self, etype, rt, version, obj):
        """Serialized watch event, shared by all watchers of the same object version
        (stored objects are immutable, so id + resourceVersion identify the bytes)."""
        key = (id(obj), obj["metadata"].get("resourceVersion"), etype, version)
        with self._ev_lock:
            hit = self._ev_cache.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = dumps({"type": etype, "object": self._out(rt, version, obj)}).encode() + b"\n"
        with self._ev_lock:
            self._ev_cache[key] = (obj, data)
            while len(self._ev_cache) > 4096:
                self._ev_cache.popitem(last=False)
        return data

    # ------------------------------------------------------------ mutation helpers
    def _prepare_new(self, req, rt, obj, old, field_validation):
        """Type-specific defaulting/validation; returns managed-fields source copy."""
        key = rt.key
        if rt.crd is not None:
            req.warnings += validation.check_custom_resource(rt, obj, field_validation)
        elif key == ("", "pods"):
            if old is None:
                admission.default_pod(obj)
            else:
                admission.default_pod_spec(obj.setdefault("spec", {}))
        elif key == ("apps", "deployments"):
            admission.default_deployment(obj)
        elif key == ("apps", "statefulsets"):
            admission.default_statefulset(obj)
        elif key == CRD_KEY:
            admission.default_crd(obj)
            self._validate_crd(obj)
        elif key == ("", "namespaces"):
            admission.default_namespace(obj)
        return deepcopy(obj)

    def _validate_crd(self, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        name = crd.get("metadata", {}).get("name", "")
        causes = []
        want = "%s.%s" % (names.get("plural"), spec.get("group"))
        if name != want:
            causes.append(validation.Cause("FieldValueInvalid", 'Invalid value: "%s": must be '
                                           'spec.names.plural+"."+spec.group' % name,
                                           "metadata.name"))
        if not spec.get("versions"):
            causes.append(validation.Cause("FieldValueRequired", "Required value: must have "
                                           "exactly one version marked as storage version",
                                           "spec.versions"))
        if causes:
            raise validation.invalid_error("CustomResourceDefinition", "apiextensions.k8s.io",
                                           name, causes)

    def _check_name_ns(self, req, rt, obj, ns, name=None):
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if rt.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                               "match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if name is not None and md.get("name") and md["name"] != name:
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the "
                           "name on the URL (%s)" % (md["name"], name))
        if name is not None:
            md["name"] = name
        apiv = obj.get("apiVersion")
        if apiv and rt.group and apiv.split("/")[0] != rt.group:
            raise ApiError(400, "BadRequest", "the API version in the data (%s) does not match "
                           "the expected API version (%s)" % (apiv, rt.api_version))
        if obj.get("kind") and obj["kind"] != rt.kind:
            raise ApiError(400, "BadRequest", "%s in version \"%s\" cannot be handled as a %s: "
                           "no kind \"%s\" is registered for version \"%s\""
                           % (obj["kind"], rt.version, rt.kind, obj["kind"], rt.api_version))

    def _respond_obj(self, req, rt, version, obj, code):
        h = {}
        if req.warnings:
            h["Warning"] = list(req.warnings)
        return Response(code, self._out(rt, version, obj), headers=h)

    # ------------------------------------------------------------ CREATE
    def _review(self, req, rt, obj):
        """Virtual create-only kinds: access reviews and `kubectl auth whoami`."""
        obj = dict(obj)
        obj.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        if rt.resource == "selfsubjectreviews":
            obj["status"] = {"userInfo": {"username": req.user.name,
                                          "groups": list(req.user.groups)}}
            return Response(201, obj)
        spec = obj.get("spec") or {}
        if rt.resource == "subjectaccessreviews":
            if not req.user.admin:
                self.authz.check(req.user, "create", rt.group, rt.resource, "", "", "")
            user = User(spec.get("user", ""), spec.get("groups") or [])
            if user.name.startswith("system:serviceaccount:"):
                _p, _s, sns, sname = user.name.split(":", 3)
                user.sa = (sns, sname)
        else:
            user = req.user
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            allowed = self.authz.allowed(user, ra.get("verb", ""), ra.get("group", ""),
                                         ra.get("resource", ""), ra.get("subresource", ""),
                                         ra.get("namespace", ""), ra.get("name", ""))
        elif nra:
            allowed = self.authz.allowed_path(user, nra.get("verb", ""), nra.get("path", ""))
        else:
            allowed = False
        obj["status"] = {"allowed": allowed}
        if allowed:
            obj["status"]["reason"] = "RBAC: allowed"
        return Response(201, obj)

    def _create(self, req, rt, version, ns, body=None):
        obj = body if body is not None else req.json_body()
        if rt.group in ("authorization.k8s.io", "authentication.k8s.io"):
            return self._review(req, rt, obj)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        self._check_name_ns(req, rt, obj, ns)
        if rt.namespaced:
            self._ns_exists(ns)
        obj.setdefault("apiVersion", "%s/%s" % (rt.group, version) if rt.group else version)
        obj.setdefault("kind", rt.kind)
        md = obj["metadata"]
        for f in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                  "generation", "managedFields", "selfLink"):
            md.pop(f, None)
        if rt.status_subresource and rt.crd is not None:
            obj.pop("status", None)
        fv = req.q("fieldValidation", "Warn")
        source = self._prepare_new(req, rt, obj, None, fv)
        if not md.get("name") and not md.get("generateName"):
            raise validation.invalid_error(rt.kind, rt.group, "", [validation.Cause(
                "FieldValueRequired", "Required value: name or generateName is required",
                "metadata.name")])
        with self.store.lock:
            if md.get("name") and self.store.get_ref(rt.key, ns, md["name"]) is not None:
                from store import already_exists
                raise already_exists(rt.key, md["name"])
            manager = req.manager()
            managed.update_managed_fields(None, obj, manager, "Update", None,
                                          obj["apiVersion"], rt.crd is None, source)
            if rt.key == ("", "pods"):
                admission.admit_pod(obj)
            elif rt.key == ("", "events"):
                admission.default_event(obj)
            created = self.store.create(rt.key, obj, dry_run=req.dry_run())
            if rt.key == CRD_KEY and not req.dry_run():
                self._establish(created)
        return self._respond_obj(req, rt, version, created, 201)

    def _establish(self, crd):
        new = json.loads(json.dumps(crd))
        new["status"] = admission.established_status(crd)
        new["metadata"].pop("resourceVersion", None)
        rt = self.store.type_for(CRD_KEY)
        managed.update_managed_fields(crd, new, "kube-apiserver", "Update", "status",
                                      "apiextensions.k8s.io/v1", True)
        self.store.update(rt.key, new, subresource="status")
        fresh = self.store.get_ref(rt.key, "", crd["metadata"]["name"])
        if fresh is not None:
            md = dict(fresh["metadata"])
            md["managedFields"] = new["metadata"]["managedFields"]
            o = dict(fresh)
            o["metadata"] = md
            o.pop("status", None)
            o["status"] = new["status"]
            o["metadata"].pop("resourceVersion", None)
            self.store.update(rt.key, o, subresource="all")

    def _create_sub(self, req, rt, version, ns, name, sub):
        if rt.key == ("", "pods") and sub == "binding":
            body = req.json_body()
            node = (body.get("target") or {}).get("name")
            with self.store.lock:
                pod = self._get_obj(rt, ns, name)
                if pod["spec"].get("nodeName"):
                    raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on pods/binding '
                                   '"%s": pod %s is already assigned to node "%s"'
                                   % (name, name, pod["spec"]["nodeName"]),
                                   details_for(("", "pods/binding"), name))
                pod["spec"]["nodeName"] = node
                pod["metadata"].pop("resourceVersion", None)
                self.store.update(rt.key, pod, subresource="all")
            return Response(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Success", "code": 201})
        if rt.key == ("", "serviceaccounts") and sub == "token":
            self._get_obj(rt, ns, name)
            body = req.json_body() if req.body else {}
            token = self._sa_token(ns, name)
            exp = ((body.get("spec") or {}).get("expirationSeconds")) or 3600
            return Response(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                  "metadata": {"name": name, "namespace": ns,
                                               "creationTimestamp": None},
                                  "spec": {"audiences": ["https://kubernetes.default.svc"],
                                           "expirationSeconds": exp, "boundObjectRef": None},
                                  "status": {"token": token, "expirationTimestamp":
                                             time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                           time.gmtime(time.time() + exp))}})
        if rt.key == ("", "pods") and sub == "eviction":
            self._get_obj(rt, ns, name)
            self.store.delete(rt.key, ns, name)
            return Response(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Success", "code": 201})
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource")

    # ------------------------------------------------------------ UPDATE
    def _update(self, req, rt, version, ns, name, sub, body=None, manager=None,
                operation="Update", patched_source=None):
        obj = body if body is not None else req.json_body()
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        manager = manager or req.manager()
        with self.store.lock:
            old = self._get_obj(rt, ns, name)
            if sub == "scale":
                return self._update_scale(req, rt, version, ns, name, old, obj, manager)
            self._check_name_ns(req, rt, obj, ns, name)
            md = obj["metadata"]
            if sub is None and not rt.unconditional_update and not md.get("resourceVersion") \
                    and body is None:
                self._rv_required(rt, name)
            if md.get("resourceVersion") and md["resourceVersion"] != \
                    old["metadata"]["resourceVersion"]:
                from store import conflict
                raise conflict(rt.key, name)
            obj.setdefault("apiVersion", old.get("apiVersion"))
            obj.setdefault("kind", rt.kind)
            fv = req.q("fieldValidation", "Warn")
            if sub == "status":
                new = deepcopy(old)
                if "status" in obj:
                    new["status"] = obj["status"]
                else:
                    new.pop("status", None)
                if rt.kind in managed.STATUS_ANNOTATION_KINDS and rt.crd is None:
                    if md.get("annotations"):
                        new["metadata"]["annotations"] = md["annotations"]
                    else:
                        new["metadata"].pop("annotations", None)
                if rt.crd is not None:
                    req.warnings += validation.check_custom_resource(rt, new, fv)
                source = new
            elif sub == "resize":
                source = json.loads(json.dumps(obj))
                new = admission.apply_resize(old, obj)
                admission.validate_resize(old, new)
                new["metadata"]["resourceVersion"] = md.get("resourceVersion") or \
                    old["metadata"]["resourceVersion"]
            else:
                new = obj
                # keep server-owned metadata
                for f in ("uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation", "managedFields"):
                    if f in old["metadata"]:
                        md[f] = old["metadata"][f]
                    else:
                        md.pop(f, None)
                if rt.status_subresource:
                    if "status" in old:
                        new["status"] = deepcopy(old["status"])
                    else:
                        new.pop("status", None)
                source = self._prepare_new(req, rt, new, old, fv)
                if rt.key == ("", "pods"):
                    # admission-owned fields survive an update that omits them
                    for f in ("serviceAccountName", "serviceAccount", "priority",
                              "preemptionPolicy", "tolerations", "volumes", "nodeName"):
                        if f in old["spec"] and f not in new["spec"]:
                            new["spec"][f] = old["spec"][f]
                    for c, oc in zip(new["spec"].get("containers") or [],
                                     old["spec"].get("containers") or []):
                        if "volumeMounts" in oc and "volumeMounts" not in c:
                            c["volumeMounts"] = oc["volumeMounts"]
                    admission.validate_pod_update(old, new)
            if rt.generation and sub in ("resize",) and \
                    self.store._body(new) != self.store._body(old):
                new["metadata"]["generation"] = old["metadata"].get("generation", 0) + 1
            managed.update_managed_fields(old, new, manager, operation, sub,
                                          old.get("apiVersion"), rt.crd is None,
                                          patched_source if patched_source is not None
                                          else source)
            if sub in ("status",):
                res = self.store.update(rt.key, new, subresource="all", dry_run=req.dry_run())
            elif sub == "resize":
                res = self.store.update(rt.key, new, subresource="all", dry_run=req.dry_run())
            else:
                res = self.store.update(rt.key, new, dry_run=req.dry_run())
            if rt.key == CRD_KEY and not req.dry_run():
                fresh = self.store.get_ref(rt.key, "", name)
                if fresh is not None:
                    r = resources.from_crd(fresh)
                    if r is not None:
                        self.store.register_type(r)
        return self._respond_obj(req, rt, version, res, 200)

    def _rv_required(self, rt, name):
        raise validation.invalid_error(rt.resource if rt.crd is not None else rt.kind, rt.group,
                                       name, [validation.Cause(
                                           "FieldValueInvalid", "Invalid value: 0x0: must be "
                                           "specified for an update",
                                           "metadata.resourceVersion")])

    def _update_scale(self, req, rt, version, ns, name, old, scale, manager):
        smd = scale.get("metadata") or {}
        if smd.get("resourceVersion") and smd["resourceVersion"] != \
                old["metadata"]["resourceVersion"]:
            from store import conflict
            raise conflict(rt.key, name)
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise validation.invalid_error("Scale", "autoscaling", name, [validation.Cause(
                "FieldValueInvalid", "Invalid value: %s: must be greater than or equal to 0"
                % validation.go_value(replicas), "spec.replicas")])
        new = deepcopy(old)
        validation.set_path(new, rt.scale["spec"], replicas)
        if rt.crd is not None:
            req.warnings += validation.check_custom_resource(rt, new, "Ignore")
        if rt.generation and self.store._body(new) != self.store._body(old):
            new["metadata"]["generation"] = old["metadata"].get("generation", 0) + 1
        managed.update_managed_fields(old, new, manager, "Update", "scale",
                                      old.get("apiVersion"), rt.crd is None)
        res = self.store.update(rt.key, new, subresource="all", dry_run=req.dry_run())
        return Response(200, self._scale_of(rt, res))

    # ------------------------------------------------------------ PATCH
    def _patch(self, req, rt, version, ns, name, sub):
        ptype = PATCH_TYPES.get(req.content_type)
        if ptype is None or (ptype == "strategic" and rt.crd is not None and sub != "scale"):
            accepted = "application/json-patch+json, application/merge-patch+json, " \
                "application/apply-patch+yaml"
            if rt.crd is None:
                accepted += ", application/strategic-merge-patch+json"
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: " + accepted)
        try:
            if ptype == "apply":
                import yaml
                p = yaml.safe_load(req.body.decode())
            else:
                p = json.loads(req.body.decode()) if req.body else None
        except Exception as e:  # noqa: BLE001
            raise ApiError(400, "BadRequest", "error decoding patch: %s" % e)
        with self.store.lock:
            cur = self.store.get(rt.key, ns, name)
            if cur is None:
                if ptype == "apply" and sub is None:
                    if not req.q("fieldManager"):
                        raise self._apply_needs_manager()
                    p.setdefault("metadata", {})["name"] = name
                    resp = self._create(req, rt, version, ns, body=p)
                    return resp
                raise not_found(rt.key, name)
            if sub == "scale":
                base = self._scale_of(rt, cur)
            else:
                base = self._out(rt, version, cur)
            if ptype == "merge":
                res = patchmod.merge_patch(base, p)
            elif ptype == "json":
                res = patchmod.json_patch(base, p)
            elif ptype == "strategic":
                res = patchmod.strategic_merge(base, p)
            else:
                if not req.q("fieldManager"):
                    raise self._apply_needs_manager()
                res = patchmod.merge_patch(base, p)
            if not isinstance(res, dict):
                raise ApiError(422, "Invalid", "the patch produced an invalid object")
            # a patch carries the current resourceVersion unless it set one itself
            pmd = p.get("metadata") if isinstance(p, dict) else None
            if sub != "scale":
                if not (isinstance(pmd, dict) and pmd.get("resourceVersion")) and \
                        ptype != "json":
                    res.setdefault("metadata", {})["resourceVersion"] = \
                        cur["metadata"]["resourceVersion"]
            op = "Apply" if ptype == "apply" else "Update"
            return self._update(req, rt, version, ns, name, sub, body=res, operation=op,
                                patched_source=None)

    def _apply_needs_manager(self):
        return ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: '
                        'Required value: is required for apply patch',
                        {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                            {"reason": "FieldValueRequired",
                             "message": "Required value: is required for apply patch",
                             "field": "fieldManager"}]})

    # ------------------------------------------------------------ DELETE
    def _delete_options(self, req):
        opts = {}
        if req.body:
            try:
                opts = json.loads(req.body.decode()) or {}
            except ValueError:
                raise ApiError(400, "BadRequest", "invalid DeleteOptions body")
        prop = req.q("propagationPolicy") or opts.get("propagationPolicy") or "Background"
        if opts.get("orphanDependents") is True or req.q("orphanDependents") == "true":
            prop = "Orphan"
        dry = req.dry_run() or "All" in (opts.get("dryRun") or [])
        return prop, dry, opts.get("preconditions")

    def _delete(self, req, rt, ns, name):
        prop, dry, pre = self._delete_options(req)
        last, gone = self.store.delete(rt.key, ns, name, dry_run=dry, propagation=prop,
                                       preconditions=pre)
        if not gone or rt.key in RETURN_OBJECT_ON_DELETE:
            return Response(200, last)
        details = details_for(rt.key, name, last["metadata"].get("uid"))
        return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Success", "details": details})

    def _deletecollection(self, req, rt, version, ns):
        match = self._selectors(req, rt, version)
        prop, dry, _pre = self._delete_options(req)
        with self.store.lock:
            items = [o for o in self.store.list_refs(rt.key, ns) if match is None or match(o)]
            deleted = []
            for o in items:
                md = o["metadata"]
                try:
                    last, _g = self.store.delete(rt.key, md.get("namespace", ""), md["name"],
                                                 dry_run=dry, propagation=prop)
                    deleted.append(last)
                except ApiError:
                    pass
        apiv = version if not rt.group else "%s/%s" % (rt.group, version)
        return Response(200, {"kind": rt.list_kind, "apiVersion": apiv,
                              "metadata": {"resourceVersion": str(
                                  self.store.resource_version())},
                              "items": deleted})


# ==================================================================== HTTP plumbing
class ChunkedWriter:
    def __init__(self, handler):
        self.h = handler
        self.buf = []
        self.closed = False

    def write(self, data):
        self.buf.append(data)
        if sum(len(b) for b in self.buf) > 65536:
            self.flush()

    def flush(self):
        if not self.buf:
            return
        data = b"".join(self.buf)
        self.buf = []
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.h.wfile.flush()

    def peer_closed(self):
        """True when the client has gone away (checked without blocking)."""
        import select
        sock = self.h.connection
        try:
            r, _w, _x = select.select([sock], [], [], 0)
            if not r:
                return False
            sock.settimeout(0)
            try:
                data = sock.recv(1)
            finally:
                sock.settimeout(None)
            return data == b""
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ValueError):
            return True

    def close(self):
        if self.closed:
            return
        self.flush()
        self.closed = True
        self.h.wfile.write(b"0\r\n\r\n")
        self.h.wfile.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mbcas-apiserver-emulator"
    sys_version = ""
    app = None  # set by make_server
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK add ~40 ms to every response on a reused connection.
    disable_nagle_algorithm = True

    def setup(self):
        try:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(30)
                self.request.do_handshake()
                self.request.settimeout(None)
        except (ssl.SSLError, OSError):
            self.request.close()
            raise
        BaseHTTPRequestHandler.setup(self)

    def log_message(self, fmt, *args):  # quiet by default
        if os.environ.get("MBCAS_EMULATOR_LOG"):
            BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def _serve(self):
        u = urllib.parse.urlsplit(self.path)
        query = {}
        for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
            query[k] = v
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
        req = Request(self.command, u.path, query, self.headers, body)
        peercert = None
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                peercert = self.connection.getpeercert()
            except (ValueError, ssl.SSLError):
                peercert = None
        streamed = [None]

        def stream(status, headers):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            w = ChunkedWriter(self)
            streamed[0] = w
            return w

        resp = self.app.handle(req, peercert, stream)
        if resp is None:
            if streamed[0] is not None and not streamed[0].closed:
                try:
                    streamed[0].close()
                except OSError:
                    pass
            return
        pretty = (self.headers.get("User-Agent") or "").startswith("curl")
        if resp.raw is not None:
            data = resp.raw
            if pretty and resp.ctype.startswith(JSON) and data[:1] == b"{":
                data = json.dumps(json.loads(data), indent=2).encode() + b"\n"
        elif pretty:
            # like the real server: indented JSON for curl
            data = json.dumps(resp.body, indent=2).encode() + b"\n"
        else:
            data = dumps(resp.body).encode()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        # Go's net/http sends small bodies with Content-Length and chunks bigger ones
        chunked = len(data) > 2048 and self.command != "HEAD"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in resp.headers.items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.end_headers()
        if chunked:
            for i in range(0, len(data), 65536):
                part = data[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.command != "HEAD":
            self.wfile.write(data)

    def _safe(self):
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _safe


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass


def make_server(app, port, certfile=None, keyfile=None, cafile=None):
    handler = type("BoundHandler", (Handler,), {"app": app})
    srv = Server(("127.0.0.1", port), handler)
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        if cafile:
            ctx.load_verify_locations(cafile)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    app.port = srv.server_address[1]
    app.discovery.port = app.port
    return srv
