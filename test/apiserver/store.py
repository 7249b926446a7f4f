"""In-memory object store of the API-server emulator (thread-safe).

NOTES FOR THE CLUSTER MODULE (cluster.py) -- changes to this API are announced here:
  CHANGES (19:35): store.deepcopy is now a plain recursive dict/list copy (3x faster than
  copy.deepcopy; objects must be JSON-shaped). Watch events carry the previous state
  internally (for selector transitions); subscribe() callbacks are unchanged.
  get_ref()/list_refs() return the stored objects themselves (read-only, no copy) for hot paths.
  * Keys are ``(group, resource)`` tuples, group "" for core: ("", "pods"), ("apps", "deployments"),
    ("metrics.k8s.io" is NOT stored: it is served by Cluster.handle_metrics).
  * ``store.lock`` is an RLock. Hold it for multi-step read-modify-write sequences. Every public
    method takes it itself, so single calls need nothing.
  * get(key, ns, name) -> dict | None                 deep copy
    list(key, ns=None) -> list[dict]                    deep copies, sorted by (namespace, name)
    create(key, obj) -> dict                            assigns uid, resourceVersion, creationTimestamp,
                                                        generation (types that have one), fills
                                                        metadata.name from generateName; 409 AlreadyExists
    update(key, obj, subresource=None) -> dict
        subresource None  : main resource write; for types with a status subresource the stored status
                            is KEPT (like the real server: main writes ignore status). Generation is
                            bumped when anything outside metadata/status changed.
        subresource "status": only .status is taken from obj, everything else is kept.
        subresource "all"   : emulator extension - replace spec AND status in one write (handy for
                            controllers; never exposed over HTTP).
        metadata.resourceVersion present and stale -> ApiError 409 Conflict; absent -> unconditional.
        Removing the last finalizer of an object with deletionTimestamp deletes it.
    delete(key, ns, name) -> (dict, gone)               the last state and True when it is gone; with
                                                        finalizers the object only gets deletionTimestamp
                                                        (and stays: gone False).
                                                        Dependents (ownerReferences uid) are deleted in
                                                        the background style (after the owner).
    All raise ApiError(code, reason, message, details) (``err.status()`` gives the Status object).
  * subscribe(fn): fn(event_type, key, obj) after every committed change, event_type in
    ADDED/MODIFIED/DELETED. It is called WITH store.lock held, in commit order, from the writing
    thread: it must not block (push to your own queue) and must NOT mutate obj (the stored object
    itself, shared, read-only; call get() for a private copy).
  * Objects handed to create/update are copied; you may reuse your dicts.
  * Extra (used by the HTTP layer): resource_version(), watch(), list_page(), compact(),
    register_type()/unregister_type()/type_for(), uid index owners.
"""

import base64
import collections
import json
import queue
import threading
import time
import uuid

from resources import builtin_types


class ApiError(Exception):
    """An error that becomes a meta/v1 Status response."""

    def __init__(self, code, reason, message, details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message, "reason": self.reason}
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def deepcopy(o):
    """Copy of JSON-shaped data (dicts, lists, scalars); 3x faster than copy.deepcopy."""
    if isinstance(o, dict):
        return {k: deepcopy(v) for k, v in o.items()}
    if isinstance(o, list):
        return [deepcopy(v) for v in o]
    return o


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def details_for(rt_or_key, name, uid=None):
    if isinstance(rt_or_key, tuple):
        group, resource = rt_or_key
    else:
        group, resource = rt_or_key.group, rt_or_key.resource
    d = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = resource
    if uid:
        d["uid"] = uid
    return d


def qualified(key):
    return key[1] if not key[0] else "%s.%s" % (key[1], key[0])


def not_found(key, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(key), name),
                    details_for(key, name))


def already_exists(key, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(key), name),
                    details_for(key, name))


def conflict(key, name):
    return ApiError(409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    'please apply your changes to the latest version and try again'
                    % (qualified(key), name), details_for(key, name))


def encode_continue(rv, start):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(tok):
    try:
        pad = "=" * (-len(tok) % 4)
        d = json.loads(base64.urlsafe_b64decode(tok + pad).decode())
        start = d["start"]
        if start.endswith("\x00"):
            start = start[:-1]
        return int(d["rv"]), start
    except Exception:
        raise ApiError(400, "BadRequest", "continue key is not valid: illegal base64 data")


class Watcher:
    """A registered watch: events are queued as (type, key, obj, rv, prev)."""

    MAX_QUEUE = 500000

    def __init__(self, store, key, ns):
        self.store = store
        self.key = key
        self.ns = ns
        self.q = queue.SimpleQueue()
        self.size = 0
        self.closed = False

    def offer(self, ev):
        if self.closed:
            return
        self.size += 1
        if self.size > self.MAX_QUEUE:
            self.closed = True
            self.q.put(None)
            return
        self.q.put(ev)

    def get(self, timeout):
        """Next event, or None when closed; raises queue.Empty after timeout."""
        ev = self.q.get(timeout=timeout)
        self.size -= 1
        return ev

    def close(self):
        self.closed = True
        self.store._remove_watcher(self)
        self.q.put(None)


class Store:
    def __init__(self, history=10000, start_rv=1000):
        self.lock = threading.RLock()
        self._rv = start_rv
        self._objs = {}               # key -> {(ns, name): obj}
        self._sorted = {}             # key -> sorted list of (ns, name) or None (dirty)
        self._types = {}
        self._subs = []
        self._watchers = set()
        self._history = collections.deque()
        self._history_max = max(1, history)
        self._window_start = start_rv  # every event with rv > window_start is in history
        self._owners = collections.defaultdict(set)  # owner uid -> {(key, ns, name)}
        self.managed_fields_hook = None  # fn(old, new, manager, operation, subresource, rt)
        for rt in builtin_types():
            self.register_type(rt)

    # ---------------------------------------------------------------- types
    def register_type(self, rt):
        with self.lock:
            self._types[rt.key] = rt
            self._objs.setdefault(rt.key, {})
            self._sorted.setdefault(rt.key, None)

    def unregister_type(self, key):
        with self.lock:
            self._types.pop(key, None)
            objs = self._objs.pop(key, {})
            self._sorted.pop(key, None)
            for obj in list(objs.values()):
                self._emit("DELETED", key, obj, self._next_rv_for_delete(obj))

    def type_for(self, key):
        return self._types.get(key)

    def types(self):
        with self.lock:
            return list(self._types.values())

    # ---------------------------------------------------------------- basics
    def resource_version(self):
        with self.lock:
            return self._rv

    def window_start(self):
        with self.lock:
            return self._window_start

    def subscribe(self, fn):
        with self.lock:
            self._subs.append(fn)

    def _rt(self, key):
        rt = self._types.get(key)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {})
        return rt

    def _bump(self):
        self._rv += 1
        return self._rv

    def _next_rv_for_delete(self, obj):
        return self._bump()

    def _emit(self, etype, key, obj, rv, prev=None):
        """Record and fan out one event; prev is the object's previous state (or None)."""
        self._history.append((rv, etype, key, obj, prev))
        while len(self._history) > self._history_max:
            old = self._history.popleft()
            self._window_start = old[0]
        ns = obj.get("metadata", {}).get("namespace")
        for w in list(self._watchers):
            if w.key == key and (w.ns is None or w.ns == ns):
                w.offer((etype, key, obj, rv, prev))
        for fn in list(self._subs):
            try:
                fn(etype, key, obj)
            except Exception:  # a subscriber bug must not break a commit
                import traceback
                traceback.print_exc()

    def compact(self):
        """Forget the whole event history (fault injection: expire resourceVersions)."""
        with self.lock:
            self._history.clear()
            self._window_start = self._rv

    # ---------------------------------------------------------------- reads
    def get(self, key, ns, name):
        with self.lock:
            obj = self._objs.get(key, {}).get((ns or "", name))
            return deepcopy(obj) if obj is not None else None

    def get_ref(self, key, ns, name):
        """The stored object itself (read-only!)."""
        with self.lock:
            return self._objs.get(key, {}).get((ns or "", name))

    def _sorted_keys(self, key):
        ks = self._sorted.get(key)
        if ks is None:
            ks = sorted(self._objs.get(key, {}).keys())
            self._sorted[key] = ks
        return ks

    def list(self, key, ns=None):
        with self.lock:
            return [deepcopy(o) for o in self.list_refs(key, ns)]

    def list_refs(self, key, ns=None):
        """Stored objects (read-only!), sorted by (namespace, name)."""
        with self.lock:
            objs = self._objs.get(key, {})
            out = []
            for k in self._sorted_keys(key):
                if ns is None or k[0] == ns:
                    out.append(objs[k])
            return out

    def list_page(self, key, ns, match, limit, start_after):
        """One page of stored objects (read-only refs) matching match(obj).

        start_after is the (ns, name) of the last item of the previous page or None.
        Returns (items, rv, last_key or None when complete, remaining_count)."""
        import bisect
        with self.lock:
            rv = self._rv
            objs = self._objs.get(key, {})
            ks = self._sorted_keys(key)
            i = 0
            if start_after is not None:
                i = bisect.bisect_right(ks, start_after)
            elif ns is not None:
                i = bisect.bisect_left(ks, (ns, ""))
            items = []
            last = None
            n = len(ks)
            while i < n:
                k = ks[i]
                i += 1
                if ns is not None and k[0] != ns:
                    if k[0] > ns:
                        break
                    continue
                o = objs[k]
                if match is not None and not match(o):
                    continue
                if limit and len(items) >= limit:
                    last = items[-1]
                    i -= 1
                    break
                items.append(o)
            if last is None:
                return items, rv, None, 0
            # count remaining matches (the real server only reports a count when there is
            # no selector; without one it is a bisect away)
            if match is None:
                end = n if ns is None else bisect.bisect_left(ks, (ns + "\x00", ""))
                lm = last["metadata"]
                return items, rv, (lm.get("namespace", ""), lm["name"]), max(0, end - i)
            remaining = 0
            while i < n:
                k = ks[i]
                i += 1
                if ns is not None and k[0] != ns:
                    if k[0] > ns:
                        break
                    continue
                if match is None or match(objs[k]):
                    remaining += 1
            lm = last["metadata"]
            return items, rv, (lm.get("namespace", ""), lm["name"]), remaining

    # ---------------------------------------------------------------- watch
    def watch(self, key, ns, rv):
        """Register a watcher. rv None/"0"/"" -> synthetic ADDED for current objects first.

        Returns (watcher, initial_events). Raises ApiError 410 if rv is older than the history."""
        with self.lock:
            w = Watcher(self, key, ns)
            initial = []
            if rv in (None, "", "0"):
                for o in self.list_refs(key, ns):
                    initial.append(("ADDED", key, o, int(o["metadata"]["resourceVersion"]),
                                    None))
            else:
                try:
                    r = int(rv)
                except ValueError:
                    raise ApiError(400, "BadRequest",
                                   'invalid resource version "%s"' % rv)
                if r < self._window_start:
                    raise ApiError(410, "Expired", "too old resource version: %d (%d)"
                                   % (r, self._window_start + 1))
                for ev in self._history:
                    if ev[0] > r and ev[2] == key:
                        o = ev[3]
                        if ns is None or o.get("metadata", {}).get("namespace") == ns:
                            initial.append((ev[1], key, o, ev[0], ev[4]))
            self._watchers.add(w)
            return w, initial

    def _remove_watcher(self, w):
        with self.lock:
            self._watchers.discard(w)

    def close_all_watchers(self):
        with self.lock:
            ws = list(self._watchers)
        for w in ws:
            w.close()

    # ---------------------------------------------------------------- writes
    def _index_owners(self, key, obj, add):
        md = obj.get("metadata", {})
        ref = (key, md.get("namespace", ""), md.get("name"))
        for o in md.get("ownerReferences") or []:
            uid = o.get("uid")
            if not uid:
                continue
            if add:
                self._owners[uid].add(ref)
            else:
                s = self._owners.get(uid)
                if s is not None:
                    s.discard(ref)
                    if not s:
                        del self._owners[uid]

    def create(self, key, obj, dry_run=False, manager=None):
        with self.lock:
            rt = self._rt(key)
            obj = deepcopy(obj)
            md = obj.setdefault("metadata", {})
            if not md.get("name"):
                if md.get("generateName"):
                    md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
                else:
                    raise ApiError(422, "Invalid",
                                   "%s.%s \"\" is invalid: metadata.name: Required value: name or "
                                   "generateName is required" % (rt.kind, rt.group)
                                   if rt.group else
                                   "%s \"\" is invalid: metadata.name: Required value: name or "
                                   "generateName is required" % rt.kind,
                                   {"kind": rt.kind, "causes": [
                                       {"reason": "FieldValueRequired",
                                        "message": "Required value: name or generateName is required",
                                        "field": "metadata.name"}]})
            if rt.namespaced:
                if not md.get("namespace"):
                    md["namespace"] = "default"
                ns = md["namespace"]
            else:
                md.pop("namespace", None)
                ns = ""
            k = (ns, md["name"])
            if k in self._objs[key]:
                raise already_exists(key, md["name"])
            obj.setdefault("apiVersion", rt.api_version)
            obj.setdefault("kind", rt.kind)
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            for f in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
                md.pop(f, None)
            if rt.generation:
                md["generation"] = 1
            else:
                md.pop("generation", None)
            if manager and self.managed_fields_hook:
                self.managed_fields_hook(None, obj, manager, "Update", None, rt)
            if dry_run:
                return obj
            rv = self._bump()
            md["resourceVersion"] = str(rv)
            self._objs[key][k] = obj
            self._sorted[key] = None
            self._index_owners(key, obj, True)
            self._emit("ADDED", key, obj, rv)
            return deepcopy(obj)

    @staticmethod
    def _body(obj):
        return {k: v for k, v in obj.items()
                if k not in ("metadata", "status", "apiVersion", "kind")}

    def update(self, key, obj, subresource=None, dry_run=False, manager=None,
               operation="Update"):
        with self.lock:
            rt = self._rt(key)
            obj = deepcopy(obj)
            md = obj.setdefault("metadata", {})
            ns = md.get("namespace", "") if rt.namespaced else ""
            if rt.namespaced and not ns:
                ns = "default"
            name = md.get("name")
            old = self._objs[key].get((ns, name))
            if old is None:
                raise not_found(key, name)
            omd = old["metadata"]
            want_rv = md.get("resourceVersion")
            if want_rv and want_rv != omd["resourceVersion"]:
                raise conflict(key, name)
            if subresource == "status":
                new = deepcopy(old)
                if "status" in obj:
                    new["status"] = obj["status"]
                else:
                    new.pop("status", None)
            else:
                new = obj
                new["apiVersion"] = old.get("apiVersion", rt.api_version)
                new["kind"] = old.get("kind", rt.kind)
                if rt.status_subresource and subresource != "all":
                    if "status" in old:
                        new["status"] = deepcopy(old["status"])
                    else:
                        new.pop("status", None)
                nmd = new["metadata"]
                for f in ("uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation"):
                    if f in omd:
                        nmd[f] = omd[f]
                    else:
                        nmd.pop(f, None)
                nmd["name"] = omd["name"]
                if rt.namespaced:
                    nmd["namespace"] = omd["namespace"]
                else:
                    nmd.pop("namespace", None)
                if "managedFields" not in nmd and "managedFields" in omd:
                    nmd["managedFields"] = deepcopy(omd["managedFields"])
                if rt.generation and self._body(new) != self._body(old):
                    nmd["generation"] = omd.get("generation", 0) + 1
            nmd = new["metadata"]
            nmd["resourceVersion"] = omd["resourceVersion"]
            if manager and self.managed_fields_hook:
                self.managed_fields_hook(old, new, manager, operation, subresource, rt)
            if new == old:
                # no-op write: the real server does not bump resourceVersion
                return deepcopy(old)
            if dry_run:
                return new
            rv = self._bump()
            nmd["resourceVersion"] = str(rv)
            self._index_owners(key, old, False)
            if nmd.get("deletionTimestamp") and not nmd.get("finalizers"):
                nmd.pop("finalizers", None)
                del self._objs[key][(ns, name)]
                self._sorted[key] = None
                self._emit("DELETED", key, new, rv, old)
                self._cascade(key, new)
                return deepcopy(new)
            self._objs[key][(ns, name)] = new
            self._index_owners(key, new, True)
            self._emit("MODIFIED", key, new, rv, old)
            return deepcopy(new)

    def delete(self, key, ns, name, dry_run=False, propagation="Background", preconditions=None):
        """Delete; returns (last_state, gone) where gone is False when finalizers keep it."""
        with self.lock:
            rt = self._rt(key)
            ns = (ns or "") if rt.namespaced else ""
            old = self._objs[key].get((ns, name))
            if old is None:
                raise not_found(key, name)
            if preconditions:
                if preconditions.get("uid") and preconditions["uid"] != old["metadata"]["uid"]:
                    raise ApiError(409, "Conflict",
                                   'Operation cannot be fulfilled on %s "%s": Precondition failed: '
                                   'UID in precondition: %s, UID in object meta: %s'
                                   % (qualified(key), name, preconditions["uid"],
                                      old["metadata"]["uid"]), details_for(key, name))
                if preconditions.get("resourceVersion") and \
                        preconditions["resourceVersion"] != old["metadata"]["resourceVersion"]:
                    raise conflict(key, name)
            if old["metadata"].get("finalizers"):
                if old["metadata"].get("deletionTimestamp"):
                    return deepcopy(old), False
                new = deepcopy(old)
                md = new["metadata"]
                md["deletionTimestamp"] = now_rfc3339()
                md["deletionGracePeriodSeconds"] = 0
                if rt.generation:
                    md["generation"] = md.get("generation", 0) + 1
                if dry_run:
                    return new, False
                rv = self._bump()
                md["resourceVersion"] = str(rv)
                self._objs[key][(ns, name)] = new
                self._emit("MODIFIED", key, new, rv, old)
                if propagation == "Orphan":
                    self._orphan(new)
                return deepcopy(new), False
            if dry_run:
                return deepcopy(old), True
            del self._objs[key][(ns, name)]
            self._sorted[key] = None
            self._index_owners(key, old, False)
            rv = self._bump()
            last = deepcopy(old)
            last["metadata"]["resourceVersion"] = str(rv)
            self._emit("DELETED", key, last, rv, old)
            if propagation == "Orphan":
                self._orphan(old)
            else:
                self._cascade(key, old)
            if key == ("", "namespaces"):
                self._delete_namespace_contents(name)
            return deepcopy(last), True

    def _cascade(self, key, owner):
        uid = owner["metadata"].get("uid")
        deps = list(self._owners.get(uid, ()))
        for (dkey, dns, dname) in deps:
            try:
                self.delete(dkey, dns, dname)
            except ApiError:
                pass

    def _orphan(self, owner):
        uid = owner["metadata"].get("uid")
        for (dkey, dns, dname) in list(self._owners.get(uid, ())):
            o = self.get(dkey, dns, dname)
            if o is None:
                continue
            refs = [r for r in o["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
            if refs:
                o["metadata"]["ownerReferences"] = refs
            else:
                o["metadata"].pop("ownerReferences", None)
            o["metadata"].pop("resourceVersion", None)
            self.update(dkey, o, subresource="all")

    def _delete_namespace_contents(self, ns):
        for key, rt in list(self._types.items()):
            if not rt.namespaced:
                continue
            for k in [k for k in self._objs.get(key, {}) if k[0] == ns]:
                try:
                    self.delete(key, k[0], k[1])
                except ApiError:
                    pass
